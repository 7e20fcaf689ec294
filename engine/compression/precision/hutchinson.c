/* Hutchinson's Hessian trace estimate with finite-difference Hessian-vector products (see
 * hutchinson.h for the choice of step and its error). */
#include "compression/precision/hutchinson.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "graph/exec.h"
#include "train/train.h"

struct hv_buffers {
    int n;
    int64_t *numel;
    float **w0, **v, **g0; /* weights, the Rademacher vector, the gradient at w0 */
    double *eps;
};

static void buffers_free(struct hv_buffers *b)
{
    for (int i = 0; i < b->n; i++) {
        if (b->w0)
            nncw_free(b->w0[i]);
        if (b->v)
            nncw_free(b->v[i]);
        if (b->g0)
            nncw_free(b->g0[i]);
    }
    nncw_free(b->w0);
    nncw_free(b->v);
    nncw_free(b->g0);
    nncw_free(b->numel);
    nncw_free(b->eps);
}

static enum nncw_status buffers_init(struct nncw_graph *g, int n, const int *params,
                                     struct hv_buffers *b)
{
    *b = (struct hv_buffers){.n = n};
    b->numel = nncw_calloc((size_t)n, sizeof *b->numel);
    b->w0 = nncw_calloc((size_t)n, sizeof *b->w0);
    b->v = nncw_calloc((size_t)n, sizeof *b->v);
    b->g0 = nncw_calloc((size_t)n, sizeof *b->g0);
    b->eps = nncw_calloc((size_t)n, sizeof *b->eps);
    if (!b->numel || !b->w0 || !b->v || !b->g0 || !b->eps)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "Hessian traces: out of memory");
    for (int i = 0; i < n; i++) {
        const struct nncw_tensor *w = nncw_graph_get_value_tensor(g, params[i]);
        b->numel[i] = nncw_tensor_numel(w);
        size_t bytes = (size_t)(b->numel[i] ? b->numel[i] : 1) * sizeof(float);
        b->w0[i] = nncw_malloc(bytes);
        b->v[i] = nncw_malloc(bytes);
        b->g0[i] = nncw_malloc(bytes);
        if (!b->w0[i] || !b->v[i] || !b->g0[i])
            return NNCW_FAIL(NNCW_ERR_NOMEM, "Hessian traces: out of memory");
        const float *x = nncw_tensor_f32(w);
        memcpy(b->w0[i], x, (size_t)b->numel[i] * sizeof(float));
        double ss = 0;
        for (int64_t k = 0; k < b->numel[i]; k++)
            ss += (double)x[k] * x[k];
        double rms = b->numel[i] ? sqrt(ss / (double)b->numel[i]) : 0;
        b->eps[i] = fmax(NNCW_HUTCHINSON_REL_EPS * rms, 1e-4);
    }
    return NNCW_OK;
}

static enum nncw_status check_args(struct nncw_graph *g, int n, const int *params,
                                   const struct nncw_hutchinson_options *o)
{
    if (n < 1 || !params || o->iter_number < 1 || !(o->tolerance >= 0))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "Hessian traces: %d parameters, iter_number %d, tolerance %g", n,
                         o->iter_number, (double)o->tolerance);
    NNCW_TRY(nncw_graph_alloc_grads(g));
    for (int i = 0; i < n; i++) {
        const struct nncw_tensor *w = nncw_graph_get_value_tensor(g, params[i]);
        if (!w || w->dtype != NNCW_DTYPE_F32 || !nncw_graph_is_trainable(g, params[i]) ||
            !nncw_graph_get_value_grad(g, params[i]))
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "Hessian traces: '%s' is not a trainable float parameter",
                             nncw_graph_get_value_name(g, params[i]));
    }
    return NNCW_OK;
}

/* w = w0 + sign e v for every parameter */
static void displace(struct nncw_graph *g, const int *params, const struct hv_buffers *b,
                     double sign)
{
    for (int i = 0; i < b->n; i++) {
        float *w = nncw_tensor_f32(nncw_graph_get_value_tensor(g, params[i]));
        float step = (float)(sign * b->eps[i]);
        for (int64_t k = 0; k < b->numel[i]; k++)
            w[k] = b->w0[i][k] + step * b->v[i][k];
    }
}

static void restore(struct nncw_graph *g, const int *params, const struct hv_buffers *b)
{
    for (int i = 0; i < b->n; i++)
        memcpy(nncw_tensor_f32(nncw_graph_get_value_tensor(g, params[i])), b->w0[i],
               (size_t)b->numel[i] * sizeof(float));
}

/* the gradient at the unperturbed weights, once for all samples */
static enum nncw_status base_gradient(struct nncw_graph *g, const int *params,
                                      struct hv_buffers *b, nncw_hutchinson_grad_fn grad,
                                      void *user)
{
    NNCW_TRY(grad(user));
    for (int i = 0; i < b->n; i++)
        memcpy(b->g0[i], nncw_tensor_f32(nncw_graph_get_value_grad(g, params[i])),
               (size_t)b->numel[i] * sizeof(float));
    return NNCW_OK;
}

/* one Hutchinson sample per parameter: v_i . (H v)_i, with H v_i from the difference of the
 * gradients at w0 + e v and w0 (the per-tensor steps e_i divide out block by block) */
static enum nncw_status one_sample(struct nncw_graph *g, const int *params, struct hv_buffers *b,
                                   nncw_hutchinson_grad_fn grad, void *user, struct nncw_rng *r,
                                   double *sample)
{
    for (int i = 0; i < b->n; i++)
        for (int64_t k = 0; k < b->numel[i]; k++)
            b->v[i][k] = (nncw_rng_u32(r) & 1u) ? 1.0f : -1.0f;
    displace(g, params, b, +1);
    NNCW_TRY(grad(user));
    for (int i = 0; i < b->n; i++) {
        const float *gp = nncw_tensor_f32(nncw_graph_get_value_grad(g, params[i]));
        double acc = 0;
        for (int64_t k = 0; k < b->numel[i]; k++)
            acc += (double)b->v[i][k] * ((double)gp[k] - b->g0[i][k]);
        sample[i] = acc / b->eps[i];
    }
    return NNCW_OK;
}

enum nncw_status nncw_hutchinson_traces(struct nncw_graph *g, int n, const int *params,
                                        nncw_hutchinson_grad_fn grad, void *user,
                                        const struct nncw_hutchinson_options *o, double *traces,
                                        int *iterations)
{
    NNCW_TRY(check_args(g, n, params, o));
    struct hv_buffers b;
    double *sample = nncw_calloc((size_t)n, sizeof *sample);
    double *sum = nncw_calloc((size_t)n, sizeof *sum);
    enum nncw_status s = buffers_init(g, n, params, &b);
    if (s == NNCW_OK && (!sample || !sum))
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "Hessian traces: out of memory");
    struct nncw_rng r;
    nncw_rng_seed(&r, o->seed);
    double prev_mean = 0;
    int it = 0;
    if (s == NNCW_OK)
        s = base_gradient(g, params, &b, grad, user);
    while (s == NNCW_OK && it < o->iter_number) {
        s = one_sample(g, params, &b, grad, user, &r, sample);
        if (s != NNCW_OK)
            break;
        it++;
        double total = 0;
        for (int i = 0; i < n; i++) {
            sum[i] += sample[i];
            total += sum[i];
        }
        double mean = total / it;
        if (o->progress && !o->progress(o->user, it, o->iter_number, mean)) {
            s = NNCW_FAIL(NNCW_ERR_CANCELLED, "Hessian traces: cancelled after %d iterations",
                          it);
            break;
        }
        /* relative to the previous mean's magnitude (NNCF's bug #2155 left the abs out) */
        if (it > 1 && fabs(mean - prev_mean) < o->tolerance * fabs(prev_mean))
            break;
        prev_mean = mean;
    }
    if (b.w0)
        restore(g, params, &b);
    if (s == NNCW_OK) {
        for (int i = 0; i < n; i++)
            traces[i] = b.numel[i] ? sum[i] / it / (double)b.numel[i] : 0;
        *iterations = it;
    }
    buffers_free(&b);
    nncw_free(sample);
    nncw_free(sum);
    return s;
}

/* ---- the cross-entropy of a classifier on batches of a data set ---- */

struct ce_batches {
    struct nncw_graph *g;
    struct nncw_exec *ex;
    int n_batches, batch;
    int64_t sample_numel;
    float *images;
    int32_t *labels;
    struct nncw_tensor dlogits;
    bool have_dlogits;
};

static enum nncw_status ce_grad(void *user)
{
    struct ce_batches *c = user;
    nncw_graph_zero_grads(c->g);
    for (int k = 0; k < c->n_batches; k++) {
        struct nncw_tensor *x = nncw_exec_get_input(c->ex, 0);
        memcpy(nncw_tensor_f32(x), c->images + (int64_t)k * c->batch * c->sample_numel,
               (size_t)(c->batch * c->sample_numel) * sizeof(float));
        NNCW_TRY(nncw_exec_forward(c->ex));
        const struct nncw_tensor *logits = nncw_exec_get_output(c->ex, 0);
        if (!c->have_dlogits) {
            NNCW_TRY(nncw_tensor_init(&c->dlogits, NNCW_DTYPE_F32, logits->ndim, logits->shape));
            c->have_dlogits = true;
        }
        float loss;
        NNCW_TRY(nncw_loss_cross_entropy(logits, c->labels + (int64_t)k * c->batch, &loss,
                                         &c->dlogits));
        /* the mean over all batches: each batch's mean weighs 1 / n_batches */
        float *d = nncw_tensor_f32(&c->dlogits);
        for (int64_t i = 0; i < nncw_tensor_numel(&c->dlogits); i++)
            d[i] /= (float)c->n_batches;
        NNCW_TRY(nncw_exec_backward(c->ex, (const struct nncw_tensor *[]){&c->dlogits}));
    }
    return NNCW_OK;
}

static enum nncw_status ce_load(struct ce_batches *c, const struct nncw_dataset *data,
                                uint64_t seed)
{
    struct nncw_loader_opts lo = {
        .batch_size = c->batch, .shuffle = true, .seed = seed, .drop_last = true};
    struct nncw_loader *l;
    NNCW_TRY(nncw_loader_new(data, &lo, &l));
    nncw_loader_start_epoch(l, 0);
    enum nncw_status s = NNCW_OK;
    for (int k = 0; k < c->n_batches && s == NNCW_OK; k++) {
        int got = 0;
        if (!nncw_loader_next(l, c->images + (int64_t)k * c->batch * c->sample_numel,
                              c->labels + (int64_t)k * c->batch, &got) ||
            got != c->batch)
            s = NNCW_FAIL(NNCW_ERR_INTERNAL, "Hessian traces: the loader gave no batch");
    }
    nncw_loader_free(l);
    return s;
}

enum nncw_status nncw_hutchinson_traces_ce(struct nncw_graph *g, const struct nncw_dataset *data,
                                           int64_t num_data_points, int batch_size, int n,
                                           const int *params,
                                           const struct nncw_hutchinson_options *o,
                                           double *traces, int *iterations)
{
    int64_t count = nncw_dataset_count_samples(data);
    if (count < 1 || batch_size < 1 || num_data_points < 1 || nncw_graph_count_inputs(g) != 1)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "Hessian traces: %lld samples in batches of %d from a data set of %lld "
                         "(the model needs exactly one input)",
                         (long long)num_data_points, batch_size, (long long)count);
    struct ce_batches c = {.g = g};
    c.batch = (int)(batch_size < count ? batch_size : count);
    if (c.batch > num_data_points)
        c.batch = (int)num_data_points;
    int64_t nb = num_data_points / c.batch;
    c.n_batches = (int)(nb < 1 ? 1 : nb > count / c.batch ? count / c.batch : nb);
    c.sample_numel = nncw_dataset_get_sample_numel(data);
    c.images = nncw_malloc((size_t)(c.n_batches * c.batch * c.sample_numel) * sizeof(float));
    c.labels = nncw_malloc((size_t)(c.n_batches * c.batch) * sizeof(int32_t));
    enum nncw_status s = c.images && c.labels
                             ? NNCW_OK
                             : NNCW_FAIL(NNCW_ERR_NOMEM, "Hessian traces: out of memory");
    struct nncw_exec_options eo = {.batch = c.batch, .backward = true, .seed = o->seed};
    if (s == NNCW_OK)
        s = nncw_exec_new(g, &eo, &c.ex);
    if (s == NNCW_OK &&
        nncw_tensor_numel(nncw_exec_get_input(c.ex, 0)) != c.batch * c.sample_numel)
        s = NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                      "Hessian traces: the model's input does not fit the data set's samples "
                      "(%lld values)",
                      (long long)c.sample_numel);
    if (s == NNCW_OK)
        s = ce_load(&c, data, o->seed);
    if (s == NNCW_OK)
        s = nncw_hutchinson_traces(g, n, params, ce_grad, &c, o, traces, iterations);
    if (c.have_dlogits)
        nncw_tensor_fini(&c.dlogits);
    nncw_exec_free(c.ex);
    nncw_free(c.images);
    nncw_free(c.labels);
    return s;
}
