#include "compression/compression_internal.h"

#include <string.h>

#include "core/alloc.h"

enum nncw_status nncw_forward_samples(struct nncw_graph *g, const struct nncw_dataset *data,
                                      int64_t samples, int batch_size, uint64_t seed,
                                      const struct nncw_exec_options *opt, nncw_batch_fn before,
                                      nncw_exec_observer_fn observer, void *user)
{
    if (batch_size < 1 || samples < 1)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "sample pass: %lld samples in batches of %d",
                         (long long)samples, batch_size);
    int64_t count = nncw_dataset_count_samples(data);
    if (count < 1)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "sample pass: the data set is empty");
    /* a model exported with a fixed batch runs at that batch */
    int in0 = nncw_graph_count_inputs(g) > 0 ? nncw_graph_get_input(g, 0) : -1;
    if (in0 >= 0 && !nncw_graph_has_dynamic_batch(g, in0)) {
        const struct nncw_tensor *t = nncw_graph_get_value_tensor(g, in0);
        if (t->ndim > 0 && t->shape[0] > 0)
            batch_size = (int)t->shape[0];
    }
    /* a batch never exceeds the data set, so every batch is full and one executor serves all */
    if (batch_size > count)
        batch_size = (int)count;
    int64_t batches = (samples + batch_size - 1) / batch_size;
    struct nncw_loader_opts lo = {.batch_size = batch_size, .shuffle = true, .seed = seed,
                                  .drop_last = true};
    struct nncw_loader *l = NULL;
    struct nncw_exec *ex = NULL;
    int32_t *labels = nncw_malloc((size_t)batch_size * sizeof *labels);
    enum nncw_status s = labels ? NNCW_OK : NNCW_FAIL(NNCW_ERR_NOMEM, "sample pass: out of memory");
    if (s == NNCW_OK)
        s = nncw_loader_new(data, &lo, &l);
    struct nncw_exec_options eo = *opt;
    eo.batch = batch_size;
    eo.backward = false;
    if (s == NNCW_OK)
        s = nncw_exec_new(g, &eo, &ex);
    if (s == NNCW_OK) {
        const struct nncw_tensor *x = nncw_exec_get_input(ex, 0);
        int64_t per_sample = nncw_tensor_numel(x) / batch_size;
        if (nncw_graph_count_inputs(g) != 1 || x->dtype != NNCW_DTYPE_F32 ||
            per_sample != nncw_dataset_get_sample_numel(data))
            s = NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                          "sample pass: the model's input (%lld values a sample) does not fit "
                          "the data set's samples (%lld values)",
                          (long long)per_sample, (long long)nncw_dataset_get_sample_numel(data));
    }
    if (s == NNCW_OK && observer)
        nncw_exec_set_observer(ex, observer, user);
    int64_t epoch = 0;
    if (s == NNCW_OK)
        nncw_loader_start_epoch(l, epoch);
    for (int64_t k = 0; k < batches && s == NNCW_OK; k++) {
        struct nncw_tensor *x = nncw_exec_get_input(ex, 0);
        int n = 0;
        if (!nncw_loader_next(l, nncw_tensor_f32(x), labels, &n)) {
            nncw_loader_start_epoch(l, ++epoch); /* more samples than the data set: go round */
            if (!nncw_loader_next(l, nncw_tensor_f32(x), labels, &n))
                s = NNCW_FAIL(NNCW_ERR_INTERNAL, "sample pass: the loader gave no batch");
        }
        if (s == NNCW_OK && before)
            s = before(user, ex, k);
        if (s == NNCW_OK)
            s = nncw_exec_forward(ex);
    }
    nncw_exec_free(ex);
    nncw_loader_free(l);
    nncw_free(labels);
    return s;
}
