#include "compression/quantization/range_run.h"

#include "compression/quantization/range_init.h"

#include <math.h>
#include <string.h>

#include "compression/compression_internal.h"
#include "core/alloc.h"
#include "ops/fake_quantize.h"
#include "ops/ops.h"

struct range_pass {
    struct nncw_graph *g;
    const struct nncw_quantizer *q;
    int nq;
    struct nncw_range_collector **col; /* per quantizer; NULL for weights */
    int64_t *quota;                    /* per quantizer: batches still wanted */
    int *of_node;                      /* per node: quantizer index, -1 */
};

/* after a quantize node ran, its input is still alive: feed it to that quantizer's collector */
static enum nncw_status observe(void *user, struct nncw_exec *ex, int node_index)
{
    struct range_pass *p = user;
    int k = p->of_node[node_index];
    if (k < 0 || !p->col[k] || p->quota[k] <= 0)
        return NNCW_OK;
    p->quota[k]--;
    return nncw_range_collector_add(p->col[k], nncw_exec_get_value(ex, p->q[k].input));
}

static enum nncw_status set_enabled(struct nncw_graph *g, const struct nncw_quantizer *q, int nq,
                                    bool on)
{
    for (int k = 0; k < nq; k++)
        NNCW_TRY(nncw_node_set_attr_int(nncw_graph_get_node(g, q[k].node), "enabled", on));
    return NNCW_OK;
}

/* low/high of every member of a unified group, merged (min of lows, max of highs) */
static void merge_group(const struct nncw_quantizer *q, int nq, int k, float *low, float *high,
                        float *const *lows, float *const *highs)
{
    for (int j = 0; j < nq; j++)
        if (j != k && q[j].param0 == q[k].param0 && lows[j])
            for (int64_t c = 0; c < q[k].channels; c++) {
                low[c] = fminf(low[c], lows[j][c]);
                high[c] = fmaxf(high[c], highs[j][c]);
            }
}

/* writes a quantizer's parameters and, if its signedness came from the data, its levels */
static enum nncw_status apply(struct nncw_graph *g, struct nncw_quantizer *q, const float *low,
                              const float *high)
{
    struct nncw_node *n = nncw_graph_get_node(g, q->node);
    struct nncw_quantizer_init qi = {.asymmetric = q->asymmetric,
                                     .signedness = q->signedness,
                                     .logarithm_scale =
                                         nncw_node_get_attr_int(n, "logarithm_scale", 0) != 0};
    float *p0 = nncw_tensor_f32(nncw_graph_get_value_tensor(g, q->param0));
    float *p1 = q->param1 >= 0 ? nncw_tensor_f32(nncw_graph_get_value_tensor(g, q->param1)) : NULL;
    bool is_signed;
    enum nncw_status s =
        nncw_quantizer_params_from_range(&qi, q->channels, low, high, p0, p1, &is_signed);
    if (s != NNCW_OK)
        return NNCW_FAIL(s, "range initialisation of '%s': %s", nncw_node_get_name(n),
                         nncw_last_error());
    int64_t lo, hi;
    nncw_quantizer_levels_for(q->bits, q->asymmetric, is_signed, q->half_range, &lo, &hi);
    NNCW_TRY(nncw_node_set_attr_int(n, "level_low", lo));
    NNCW_TRY(nncw_node_set_attr_int(n, "level_high", hi));
    q->signedness = is_signed;
    return NNCW_OK;
}

enum nncw_status nncw_quantizers_init_ranges(struct nncw_graph *g, struct nncw_quantizer *q, int nq,
                                             const struct nncw_range_run *run)
{
    int nodes = nncw_graph_count_nodes(g);
    struct range_pass p = {.g = g, .q = q, .nq = nq};
    p.col = nncw_calloc((size_t)(nq ? nq : 1), sizeof *p.col);
    p.quota = nncw_calloc((size_t)(nq ? nq : 1), sizeof *p.quota);
    p.of_node = nncw_malloc((size_t)(nodes ? nodes : 1) * sizeof *p.of_node);
    float **lows = nncw_calloc((size_t)(nq ? nq : 1), sizeof *lows);
    float **highs = nncw_calloc((size_t)(nq ? nq : 1), sizeof *highs);
    enum nncw_status s = NNCW_OK;
    if (!p.col || !p.quota || !p.of_node || !lows || !highs)
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "range initialisation: out of memory");
    for (int i = 0; i < nodes && s == NNCW_OK; i++)
        p.of_node[i] = -1;
    int64_t max_samples = 0;
    for (int k = 0; k < nq && s == NNCW_OK; k++) {
        const struct nncw_range_setting *rs = &run->per_quantizer[k];
        p.of_node[q[k].node] = k;
        s = nncw_range_collector_new(&rs->params, q[k].axis, q[k].channels, q[k].is_weight,
                                     q[k].asymmetric, &p.col[k]);
        if (s != NNCW_OK)
            break;
        if (q[k].is_weight) {
            /* weights: one "batch", the tensor itself (NNCF uses a single batch for them) */
            s = nncw_range_collector_add(p.col[k], nncw_graph_get_value_tensor(g, q[k].input));
        } else {
            p.quota[k] = (rs->num_init_samples + run->batch_size - 1) / run->batch_size;
            if (rs->num_init_samples > max_samples)
                max_samples = rs->num_init_samples;
        }
    }
    /* activations see the float network: every quantizer is an identity during the pass */
    if (s == NNCW_OK && max_samples > 0) {
        s = set_enabled(g, q, nq, false);
        struct nncw_exec_options eo = {.seed = run->seed};
        if (s == NNCW_OK)
            s = nncw_forward_samples(g, run->data, max_samples, run->batch_size, run->seed, &eo,
                                     NULL, observe, &p);
        enum nncw_status r = set_enabled(g, q, nq, true);
        if (s == NNCW_OK)
            s = r;
    }
    for (int k = 0; k < nq && s == NNCW_OK; k++) {
        if (nncw_range_collector_count(p.col[k]) == 0)
            continue; /* num_init_samples 0: keep the defaults */
        lows[k] = nncw_malloc((size_t)q[k].channels * sizeof(float));
        highs[k] = nncw_malloc((size_t)q[k].channels * sizeof(float));
        if (!lows[k] || !highs[k])
            s = NNCW_FAIL(NNCW_ERR_NOMEM, "range initialisation: out of memory");
        else
            s = nncw_range_collector_result(p.col[k], lows[k], highs[k]);
        if (s != NNCW_OK)
            s = NNCW_FAIL(s, "range initialisation of '%s': %s",
                          nncw_node_get_name(nncw_graph_get_node(g, q[k].node)), nncw_last_error());
    }
    for (int k = 0; k < nq && s == NNCW_OK; k++) {
        if (!lows[k] || !q[k].owns_params)
            continue;
        merge_group(q, nq, k, lows[k], highs[k], lows, highs);
        s = apply(g, &q[k], lows[k], highs[k]);
        /* the group's other members share the parameters; their levels follow */
        for (int j = 0; j < nq && s == NNCW_OK; j++)
            if (j != k && q[j].param0 == q[k].param0) {
                struct nncw_node *n = nncw_graph_get_node(g, q[j].node);
                int64_t lo, hi;
                q[j].signedness = q[k].signedness;
                nncw_quantizer_levels_for(q[j].bits, q[j].asymmetric, q[j].signedness == 1,
                                          q[j].half_range, &lo, &hi);
                s = nncw_node_set_attr_int(n, "level_low", lo);
                if (s == NNCW_OK)
                    s = nncw_node_set_attr_int(n, "level_high", hi);
            }
    }
    for (int k = 0; k < nq; k++) {
        if (p.col)
            nncw_range_collector_free(p.col[k]);
        if (lows)
            nncw_free(lows[k]);
        if (highs)
            nncw_free(highs[k]);
    }
    nncw_free(p.col);
    nncw_free(p.quota);
    nncw_free(p.of_node);
    nncw_free(lows);
    nncw_free(highs);
    return s;
}
