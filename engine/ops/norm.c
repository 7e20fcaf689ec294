/*
** BatchNormalization (ONNX opset 9-13): inputs X [N, C, ...], scale, B, input_mean, input_var
** (each [C]); attributes epsilon (1e-5) and momentum (0.9, ONNX meaning: running = running *
** momentum + batch * (1 - momentum), i.e. PyTorch's momentum 0.1).
**
** Training mode normalises with the batch mean and biased variance, updates the running
** statistics in place in input_mean / input_var (the variance with the unbiased batch variance,
** as PyTorch does), and keeps mean and 1/std per node for backward. Eval mode uses the running
** statistics, which backward then treats as inputs like any other (X, scale, B, and the
** statistics themselves if someone made them trainable).
*/
#include "ops/norm.h"

#include <math.h>

#include "ops/ops_internal.h"
#include "ops/parallel.h"

/* ---- kernels ---- */

/* sum of n floats in eight independent lanes (vectorisable without -ffast-math) */
static double sum_row(int64_t n, const float *x)
{
    float lane[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            lane[k] += x[i + k];
    double acc = 0;
    for (int k = 0; k < 8; k++)
        acc += lane[k];
    for (; i < n; i++)
        acc += x[i];
    return acc;
}

/* sum of (x - m)^2 */
static double sumsq_row(int64_t n, const float *x, float m)
{
    float lane[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) {
            float d = x[i + k] - m;
            lane[k] += d * d;
        }
    double acc = 0;
    for (int k = 0; k < 8; k++)
        acc += lane[k];
    for (; i < n; i++) {
        double d = (double)x[i] - m;
        acc += d * d;
    }
    return acc;
}

/* adds sum(g) and sum(g * (x - m)) in one pass */
static void grad_sums_row(int64_t n, const float *g, const float *x, float m, double *sg,
                          double *sgd)
{
    float lg[8] = {0}, ld[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) {
            lg[k] += g[i + k];
            ld[k] += g[i + k] * (x[i + k] - m);
        }
    for (int k = 0; k < 8; k++) {
        *sg += lg[k];
        *sgd += ld[k];
    }
    for (; i < n; i++) {
        *sg += g[i];
        *sgd += (double)g[i] * ((double)x[i] - m);
    }
}

/* the arguments of one kernel call, shared by the worker threads; each takes channels */
struct bn_job {
    int64_t n, c, s;
    const float *x, *gy, *mean, *inv_std, *scale, *bias;
    bool batch_stats;
    float *out, *var, *sum_gy, *sum_gy_xhat;
};

/* channels are independent: the kernels split them over the threads (a few operations per
 * element and pass) */
enum { BN_COST = 4 };

static void stats_part(void *arg, int64_t k0, int64_t k1)
{
    const struct bn_job *j = arg;
    const int64_t n = j->n, c = j->c, s = j->s, m = n * s;
    const float *x = j->x;
    for (int64_t k = k0; k < k1; k++) {
        double acc = 0;
        for (int64_t i = 0; i < n; i++)
            acc += sum_row(s, x + (i * c + k) * s);
        float mu = m > 0 ? (float)(acc / (double)m) : 0.0f;
        double acc2 = 0;
        for (int64_t i = 0; i < n; i++)
            acc2 += sumsq_row(s, x + (i * c + k) * s, mu);
        j->out[k] = mu;
        j->var[k] = m > 0 ? (float)(acc2 / (double)m) : 0.0f;
    }
}

void nncw_kernel_batchnorm_stats_f32(int64_t n, int64_t c, int64_t s, const float *x, float *mean,
                                     float *var)
{
    struct bn_job j = {.n = n, .c = c, .s = s, .x = x, .out = mean, .var = var};
    nncw_parallel_for(c, 1, (double)n * s * BN_COST, stats_part, &j);
}

void nncw_kernel_batchnorm_stats_f32_ref(int64_t n, int64_t c, int64_t s, const float *x,
                                         float *mean, float *var)
{
    int64_t total = n * c * s, m = n * s;
    for (int64_t k = 0; k < c; k++) {
        double sum = 0, sumsq = 0;
        for (int64_t i = 0; i < total; i++)
            if ((i / s) % c == k)
                sum += x[i];
        double mu = m > 0 ? sum / (double)m : 0.0;
        for (int64_t i = 0; i < total; i++)
            if ((i / s) % c == k)
                sumsq += ((double)x[i] - mu) * ((double)x[i] - mu);
        mean[k] = (float)mu;
        var[k] = m > 0 ? (float)(sumsq / (double)m) : 0.0f;
    }
}

static void apply_part(void *arg, int64_t k0, int64_t k1)
{
    const struct bn_job *j = arg;
    const int64_t n = j->n, c = j->c, s = j->s;
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = k0; k < k1; k++) {
            /* y = x * a + b with the channel's factors folded once per row */
            const float a = j->inv_std[k] * j->scale[k], b = j->bias[k] - j->mean[k] * a;
            const float *xr = j->x + (i * c + k) * s;
            float *yr = j->out + (i * c + k) * s;
            for (int64_t e = 0; e < s; e++)
                yr[e] = xr[e] * a + b;
        }
}

void nncw_kernel_batchnorm_f32(int64_t n, int64_t c, int64_t s, const float *x, const float *mean,
                               const float *inv_std, const float *scale, const float *bias,
                               float *y)
{
    struct bn_job j = {.n = n,
                       .c = c,
                       .s = s,
                       .x = x,
                       .mean = mean,
                       .inv_std = inv_std,
                       .scale = scale,
                       .bias = bias,
                       .out = y};
    nncw_parallel_for(c, 1, (double)n * s * BN_COST, apply_part, &j);
}

void nncw_kernel_batchnorm_f32_ref(int64_t n, int64_t c, int64_t s, const float *x,
                                   const float *mean, const float *inv_std, const float *scale,
                                   const float *bias, float *y)
{
    int64_t total = n * c * s;
    for (int64_t i = 0; i < total; i++) {
        int64_t k = (i / s) % c;
        y[i] = (x[i] - mean[k]) * inv_std[k] * scale[k] + bias[k];
    }
}

static void backward_part(void *arg, int64_t k0, int64_t k1)
{
    const struct bn_job *j = arg;
    const int64_t n = j->n, c = j->c, s = j->s, m = n * s;
    const float *x = j->x, *gy = j->gy, *scale = j->scale;
    const bool batch_stats = j->batch_stats;
    float *gx = j->out;
    for (int64_t k = k0; k < k1; k++) {
        const float mu = j->mean[k], inv = j->inv_std[k];
        double sg = 0, sgd = 0;
        for (int64_t i = 0; i < n; i++) {
            const float *xr = x + (i * c + k) * s, *gr = gy + (i * c + k) * s;
            grad_sums_row(s, gr, xr, mu, &sg, &sgd);
        }
        j->sum_gy[k] = (float)sg;
        j->sum_gy_xhat[k] = (float)(sgd * inv);
        if (!gx)
            continue;
        const float a = scale[k] * inv;
        /* batch statistics: gx = a * (gy - mean(gy) - xhat * mean(gy * xhat)) */
        const float mg = batch_stats && m > 0 ? (float)(sg / (double)m) : 0.0f;
        const float mgx = batch_stats && m > 0 ? (float)(sgd * inv / (double)m) * inv : 0.0f;
        for (int64_t i = 0; i < n; i++) {
            const float *xr = x + (i * c + k) * s, *gr = gy + (i * c + k) * s;
            float *gxr = gx + (i * c + k) * s;
            for (int64_t e = 0; e < s; e++)
                gxr[e] += a * (gr[e] - mg - (xr[e] - mu) * mgx);
        }
    }
}

void nncw_kernel_batchnorm_backward_f32(int64_t n, int64_t c, int64_t s, const float *x,
                                        const float *gy, const float *mean, const float *inv_std,
                                        const float *scale, bool batch_stats, float *gx,
                                        float *sum_gy, float *sum_gy_xhat)
{
    struct bn_job j = {.n = n,
                       .c = c,
                       .s = s,
                       .x = x,
                       .gy = gy,
                       .mean = mean,
                       .inv_std = inv_std,
                       .scale = scale,
                       .batch_stats = batch_stats,
                       .out = gx,
                       .sum_gy = sum_gy,
                       .sum_gy_xhat = sum_gy_xhat};
    nncw_parallel_for(c, 1, (double)n * s * BN_COST * 2, backward_part, &j);
}

void nncw_kernel_batchnorm_backward_f32_ref(int64_t n, int64_t c, int64_t s, const float *x,
                                            const float *gy, const float *mean,
                                            const float *inv_std, const float *scale,
                                            bool batch_stats, float *gx, float *sum_gy,
                                            float *sum_gy_xhat)
{
    int64_t total = n * c * s, m = n * s;
    for (int64_t k = 0; k < c; k++) {
        double sg = 0, sgx = 0;
        for (int64_t i = 0; i < total; i++)
            if ((i / s) % c == k) {
                sg += gy[i];
                sgx += (double)gy[i] * ((double)x[i] - mean[k]) * inv_std[k];
            }
        sum_gy[k] = (float)sg;
        sum_gy_xhat[k] = (float)sgx;
    }
    if (!gx)
        return;
    for (int64_t i = 0; i < total; i++) {
        int64_t k = (i / s) % c;
        double xhat = ((double)x[i] - mean[k]) * inv_std[k];
        double g = gy[i];
        if (batch_stats)
            g -= (sum_gy[k] + xhat * sum_gy_xhat[k]) / (double)m;
        gx[i] += (float)(scale[k] * inv_std[k] * g);
    }
}

/* ---- the fused output pass of Conv -> BatchNormalization -> Add -> Relu ---- */

struct epilogue_job {
    int64_t c, s;
    const float *x, *scale, *shift, *resid;
    bool relu;
    float *y;
};

/* one row: y = relu?(x * a + b + r); the branches are hoisted so each loop vectorises */
static void epilogue_row(int64_t s, const float *x, const float *a, const float *b,
                         const float *r, bool relu, float *y)
{
    if (a) {
        const float av = *a, bv = *b;
        for (int64_t e = 0; e < s; e++)
            y[e] = x[e] * av + bv;
        x = y;
    }
    if (r && relu) {
        for (int64_t e = 0; e < s; e++) {
            float v = x[e] + r[e];
            y[e] = v < 0.0f ? 0.0f : v;
        }
    } else if (r) {
        for (int64_t e = 0; e < s; e++)
            y[e] = x[e] + r[e];
    } else if (relu) {
        for (int64_t e = 0; e < s; e++)
            y[e] = x[e] < 0.0f ? 0.0f : x[e];
    } else if (x != y) {
        for (int64_t e = 0; e < s; e++)
            y[e] = x[e];
    }
}

static void epilogue_part(void *arg, int64_t r0, int64_t r1)
{
    const struct epilogue_job *j = arg;
    for (int64_t row = r0; row < r1; row++) {
        int64_t k = row % j->c, at = row * j->s;
        epilogue_row(j->s, j->x + at, j->scale ? j->scale + k : NULL,
                     j->shift ? j->shift + k : NULL, j->resid ? j->resid + at : NULL, j->relu,
                     j->y + at);
    }
}

void nncw_kernel_scale_shift_add_relu_f32(int64_t n, int64_t c, int64_t s, const float *x,
                                          const float *scale, const float *shift,
                                          const float *resid, bool relu, float *y)
{
    struct epilogue_job j = {c, s, x, scale, shift, resid, relu, y};
    nncw_parallel_for(n * c, 1, (double)s * BN_COST, epilogue_part, &j);
}

void nncw_kernel_scale_shift_add_relu_f32_ref(int64_t n, int64_t c, int64_t s, const float *x,
                                              const float *scale, const float *shift,
                                              const float *resid, bool relu, float *y)
{
    int64_t total = n * c * s;
    for (int64_t i = 0; i < total; i++) {
        int64_t k = (i / s) % c;
        float v = scale ? x[i] * scale[k] + shift[k] : x[i];
        if (resid)
            v += resid[i];
        y[i] = relu && v < 0.0f ? 0.0f : v;
    }
}

/* ---- the op ---- */

static const char *const input_names[] = {"X", "scale", "B", "input_mean", "input_var"};

static enum nncw_status bn_infer(const struct nncw_node *node, const struct nncw_tensor *const in[],
                                 int n_in, struct nncw_tensor out[])
{
    const struct nncw_tensor *x = in[0];
    const char *name = nncw_node_get_name(node);
    char sx[96], sp[96];
    for (int i = 0; i < n_in; i++)
        if (in[i]->dtype != NNCW_DTYPE_F32)
            return NNCW_FAIL(NNCW_ERR_DTYPE, "batchnorm '%s': %s is %s, only float32 is supported",
                             name, input_names[i], nncw_dtype_name(in[i]->dtype));
    if (x->ndim < 2)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "batchnorm '%s': X is %s, expected [N, C, ...]", name,
                         nncw_tensor_shape_str(x, sx, sizeof sx));
    for (int i = 1; i < n_in; i++)
        if (in[i]->ndim != 1 || in[i]->shape[0] != x->shape[1])
            return NNCW_FAIL(NNCW_ERR_SHAPE, "batchnorm '%s': %s is %s but X %s has %lld channels",
                             name, input_names[i], nncw_tensor_shape_str(in[i], sp, sizeof sp),
                             nncw_tensor_shape_str(x, sx, sizeof sx), (long long)x->shape[1]);
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, x->ndim, x->shape, NULL);
    return NNCW_OK;
}

/* X as [n, c, s] */
static void bn_dims(const struct nncw_tensor *x, int64_t *n, int64_t *c, int64_t *s)
{
    *n = x->shape[0];
    *c = x->shape[1];
    *s = 1;
    for (int d = 2; d < x->ndim; d++)
        *s *= x->shape[d];
}

/* batch statistics into saved = [mean | inv_std], and the running statistics updated */
static enum nncw_status bn_forward_train(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                         struct nncw_tensor *const in[], float eps, float *y)
{
    int64_t n, c, s;
    bn_dims(in[0], &n, &c, &s);
    int64_t m = n * s;
    if (m == 0 || c == 0)
        return NNCW_OK;
    if (m == 1) {
        char sx[96];
        return NNCW_FAIL(NNCW_ERR_SHAPE,
                         "batchnorm '%s': training needs more than one value per channel, X is %s",
                         nncw_node_get_name(node), nncw_tensor_shape_str(in[0], sx, sizeof sx));
    }
    float *saved = nncw_op_ctx_saved(ctx, node, 2 * (size_t)c * sizeof(float));
    if (!saved)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "batchnorm '%s': out of memory for statistics",
                         nncw_node_get_name(node));
    float *mean = saved, *inv = saved + c; /* inv holds the variance until the loop below */
    nncw_kernel_batchnorm_stats_f32(n, c, s, nncw_tensor_f32(in[0]), mean, inv);
    float momentum = nncw_node_get_attr_float(node, "momentum", 0.9f);
    float *run_mean = nncw_tensor_f32(in[3]), *run_var = nncw_tensor_f32(in[4]);
    double unbias = (double)m / (double)(m - 1);
    for (int64_t k = 0; k < c; k++) {
        run_mean[k] = run_mean[k] * momentum + mean[k] * (1.0f - momentum);
        run_var[k] = (float)(run_var[k] * momentum + inv[k] * unbias * (1.0f - momentum));
        inv[k] = 1.0f / sqrtf(inv[k] + eps);
    }
    nncw_kernel_batchnorm_f32(n, c, s, nncw_tensor_f32(in[0]), mean, inv, nncw_tensor_f32(in[1]),
                              nncw_tensor_f32(in[2]), y);
    return NNCW_OK;
}

static enum nncw_status bn_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                   struct nncw_tensor *const in[], int n_in,
                                   struct nncw_tensor *const out[])
{
    (void)n_in;
    float eps = nncw_node_get_attr_float(node, "epsilon", 1e-5f);
    float *y = nncw_tensor_f32(out[0]);
    if (nncw_op_ctx_is_training(ctx))
        return bn_forward_train(ctx, node, in, eps, y);
    int64_t n, c, s;
    bn_dims(in[0], &n, &c, &s);
    float *inv = nncw_op_ctx_scratch(ctx, (size_t)(c ? c : 1) * sizeof(float));
    if (!inv)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "batchnorm '%s': out of memory", nncw_node_get_name(node));
    const float *run_var = nncw_tensor_f32(in[4]);
    for (int64_t k = 0; k < c; k++)
        inv[k] = 1.0f / sqrtf(run_var[k] + eps);
    nncw_kernel_batchnorm_f32(n, c, s, nncw_tensor_f32(in[0]), nncw_tensor_f32(in[3]), inv,
                              nncw_tensor_f32(in[1]), nncw_tensor_f32(in[2]), y);
    return NNCW_OK;
}

static void add_into(struct nncw_tensor *g, const float *v, int64_t c)
{
    if (!g)
        return;
    float *d = nncw_tensor_f32(g);
    for (int64_t k = 0; k < c; k++)
        d[k] += v[k];
}

static enum nncw_status bn_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[],
                                    struct nncw_tensor *const grad_out[],
                                    struct nncw_tensor *const grad_in[])
{
    (void)n_in;
    (void)out;
    if (!grad_out[0])
        return NNCW_OK;
    int64_t n, c, s;
    bn_dims(in[0], &n, &c, &s);
    bool training = nncw_op_ctx_is_training(ctx);
    if (c == 0 || (training && n * s == 0))
        return NNCW_OK;
    /* scratch: sum_gy | sum_gy_xhat | inv_std (eval) */
    float *tmp = nncw_op_ctx_scratch(ctx, 3 * (size_t)(c ? c : 1) * sizeof(float));
    float *saved = training ? nncw_op_ctx_saved(ctx, node, 2 * (size_t)c * sizeof(float)) : NULL;
    if (!tmp || (training && !saved))
        return NNCW_FAIL(NNCW_ERR_NOMEM, "batchnorm '%s': out of memory", nncw_node_get_name(node));
    float *sum_gy = tmp, *sum_gy_xhat = tmp + c;
    const float *mean, *inv;
    if (training) {
        mean = saved;
        inv = saved + c;
    } else {
        float eps = nncw_node_get_attr_float(node, "epsilon", 1e-5f);
        const float *run_var = nncw_tensor_f32(in[4]);
        float *inv_w = tmp + 2 * c;
        for (int64_t k = 0; k < c; k++)
            inv_w[k] = 1.0f / sqrtf(run_var[k] + eps);
        mean = nncw_tensor_f32(in[3]);
        inv = inv_w;
    }
    const float *scale = nncw_tensor_f32(in[1]);
    nncw_kernel_batchnorm_backward_f32(
        n, c, s, nncw_tensor_f32(in[0]), nncw_tensor_f32(grad_out[0]), mean, inv, scale, training,
        grad_in[0] ? nncw_tensor_f32(grad_in[0]) : NULL, sum_gy, sum_gy_xhat);
    add_into(grad_in[1], sum_gy_xhat, c);
    add_into(grad_in[2], sum_gy, c);
    if (training)
        return NNCW_OK; /* the output does not depend on the running statistics */
    for (int64_t k = 0; k < c; k++) {
        if (grad_in[3])
            nncw_tensor_f32(grad_in[3])[k] -= scale[k] * inv[k] * sum_gy[k];
        if (grad_in[4])
            nncw_tensor_f32(grad_in[4])[k] -= 0.5f * scale[k] * inv[k] * inv[k] * sum_gy_xhat[k];
    }
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_batchnorm = {
    "BatchNormalization", "BatchNormalization", 5, 5, 1, bn_infer, bn_forward, bn_backward,
};
