/*
** Binarization (NNCF's binarization algorithm, fact sheet 6): nncw's own ops, exported as
** 2-level FakeQuantize (onnx/export_quant.c).
**
** XNORBinarize (w) and DoReFaBinarize (w), a conv weight [C_out, ...]:
**   y = sign(w) * m,  sign(w) = +1 where w > 0, -1 elsewhere (0 included, as NNCF's (w > 0)*2-1)
**   XNOR:   m = mean |w[c, ...]| per output filter c
**   DoReFa: m = mean |w| over the whole tensor
** Backward is NNCF's straight-through estimator: dL/dw = dL/dy (the identity), not the
** derivative of the forward (0 almost everywhere for the sign).
**
** ActivationBinarize (x, scale, threshold), x [N, C, ...]: NNCF's ActivationBinarization-
** ScaleThreshold with its parameterisation inside the op: scale holds log s (one value) and
** threshold the logits of t (C values, shaped [C] or [1, C, 1, ...]):
**   y = s where x > s * t_c, else 0      s = exp(scale), t_c = sigmoid(threshold_c)
** Backward is NNCF's estimator, with g = dL/dy and mask = [x <= s]:
**   dL/dx   = g * [x >= 0] * mask
**   dL/ds   = sum g * (mask ? (y - x) / s : 1)
**   dL/dt_c = -sum_{all but c} g * [0 < x < s]
** then through the parameterisation: dL/dscale = dL/ds * s, dL/dthreshold = dL/dt * t (1 - t).
** Where x > s the estimator is the exact derivative (y = s there); elsewhere it is NNCF's rule.
**
** All three take the attribute enabled (int, default 1): 0 makes the op an identity (the
** staged scheduler switches binarization on at given epochs), with dL/dx = dL/dy.
*/
#include "ops/binarize.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "ops/ops_internal.h"

static bool is_enabled(const struct nncw_node *node)
{
    return nncw_node_get_attr_int(node, "enabled", 1) != 0;
}

/* ---- weights ---- */

static enum nncw_status weight_infer(const struct nncw_node *node,
                                     const struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor out[])
{
    (void)n_in;
    const char *name = nncw_node_get_name(node), *op = nncw_op_name(nncw_node_get_op(node));
    if (!in[0])
        return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': the weight input is missing", op, name);
    if (in[0]->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "%s '%s': the weight is %s, expected float32", op, name,
                         nncw_dtype_name(in[0]->dtype));
    if (in[0]->ndim < 1 || nncw_tensor_numel(in[0]) == 0) {
        char s[96];
        return NNCW_FAIL(NNCW_ERR_SHAPE,
                         "%s '%s': the weight is %s, expected at least one output filter", op, name,
                         nncw_tensor_shape_str(in[0], s, sizeof s));
    }
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, in[0]->ndim, in[0]->shape, NULL);
    return NNCW_OK;
}

void nncw_binarize_weight_scales(const struct nncw_tensor *w, bool per_filter, float *m)
{
    int64_t n = nncw_tensor_numel(w);
    int64_t filters = per_filter ? w->shape[0] : 1, inner = n / filters;
    const float *x = nncw_tensor_f32(w);
    for (int64_t c = 0; c < filters; c++) {
        double sum = 0;
        for (int64_t i = 0; i < inner; i++)
            sum += fabsf(x[c * inner + i]);
        m[c] = (float)(sum / (double)inner);
    }
}

void nncw_kernel_binarize_weight_ref(const float *w, int64_t filters, int64_t inner, const float *m,
                                     float *y)
{
    for (int64_t c = 0; c < filters; c++)
        for (int64_t i = 0; i < inner; i++)
            y[c * inner + i] = w[c * inner + i] > 0.0f ? m[c] : -m[c];
}

static enum nncw_status weight_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                       struct nncw_tensor *const in[], int n_in,
                                       struct nncw_tensor *const out[])
{
    (void)n_in;
    int64_t n = nncw_tensor_numel(in[0]);
    if (!is_enabled(node)) {
        memcpy(out[0]->data, in[0]->data, (size_t)n * sizeof(float));
        return NNCW_OK;
    }
    bool per_filter = nncw_node_get_op(node) == NNCW_OP_XNOR_BINARIZE;
    int64_t filters = per_filter ? in[0]->shape[0] : 1;
    float *m = nncw_op_ctx_scratch(ctx, (size_t)filters * sizeof(float));
    if (!m)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "%s '%s': out of memory",
                         nncw_op_name(nncw_node_get_op(node)), nncw_node_get_name(node));
    nncw_binarize_weight_scales(in[0], per_filter, m);
    nncw_kernel_binarize_weight_ref(nncw_tensor_f32(in[0]), filters, n / filters, m,
                                    nncw_tensor_f32(out[0]));
    return NNCW_OK;
}

/* the straight-through estimator (and the identity's gradient when disabled) */
static enum nncw_status pass_through_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                              struct nncw_tensor *const in[], int n_in,
                                              struct nncw_tensor *const out[],
                                              struct nncw_tensor *const grad_out[],
                                              struct nncw_tensor *const grad_in[])
{
    (void)ctx;
    (void)node;
    (void)n_in;
    (void)out;
    if (!grad_out[0] || !grad_in[0])
        return NNCW_OK;
    const float *g = nncw_tensor_f32(grad_out[0]);
    float *gx = nncw_tensor_f32(grad_in[0]);
    for (int64_t i = 0, n = nncw_tensor_numel(in[0]); i < n; i++)
        gx[i] += g[i];
    return NNCW_OK;
}

/* ---- activations ---- */

static enum nncw_status act_infer(const struct nncw_node *node,
                                  const struct nncw_tensor *const in[], int n_in,
                                  struct nncw_tensor out[])
{
    (void)n_in;
    const char *name = nncw_node_get_name(node);
    static const char *const what[] = {"input", "scale", "threshold"};
    for (int i = 0; i < 3; i++) {
        if (!in[i])
            return NNCW_FAIL(NNCW_ERR_SHAPE, "ActivationBinarize '%s': the %s input is missing",
                             name, what[i]);
        if (in[i]->dtype != NNCW_DTYPE_F32)
            return NNCW_FAIL(NNCW_ERR_DTYPE, "ActivationBinarize '%s': %s is %s, expected float32",
                             name, what[i], nncw_dtype_name(in[i]->dtype));
    }
    char a[96], b[96];
    if (in[0]->ndim < 2)
        return NNCW_FAIL(NNCW_ERR_SHAPE,
                         "ActivationBinarize '%s': the input is %s, expected [N, C, ...]", name,
                         nncw_tensor_shape_str(in[0], a, sizeof a));
    if (nncw_tensor_numel(in[1]) != 1)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "ActivationBinarize '%s': scale is %s, expected one value",
                         name, nncw_tensor_shape_str(in[1], a, sizeof a));
    if (nncw_tensor_numel(in[2]) != in[0]->shape[1])
        return NNCW_FAIL(NNCW_ERR_SHAPE,
                         "ActivationBinarize '%s': threshold is %s, expected one value per "
                         "channel of the input %s",
                         name, nncw_tensor_shape_str(in[2], a, sizeof a),
                         nncw_tensor_shape_str(in[0], b, sizeof b));
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, in[0]->ndim, in[0]->shape, NULL);
    return NNCW_OK;
}

static float sigmoid(float z)
{
    return 1.0f / (1.0f + expf(-z));
}

/* x as [outer, C, inner] */
struct act_view {
    int64_t outer, channels, inner;
    float s;
};

static struct act_view act_view(struct nncw_tensor *const in[])
{
    struct act_view v = {1, in[0]->shape[1], 1, expf(nncw_tensor_f32(in[1])[0])};
    v.outer = in[0]->shape[0];
    for (int d = 2; d < in[0]->ndim; d++)
        v.inner *= in[0]->shape[d];
    return v;
}

void nncw_kernel_binarize_activation_ref(const float *x, int64_t outer, int64_t channels,
                                         int64_t inner, float s, const float *t, float *y)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < channels; c++) {
            float cut = s * t[c];
            const float *xr = x + (o * channels + c) * inner;
            float *yr = y + (o * channels + c) * inner;
            for (int64_t i = 0; i < inner; i++)
                yr[i] = xr[i] > cut ? s : 0.0f;
        }
}

/* the thresholds t_c = sigmoid(threshold_c) in scratch memory */
static float *thresholds(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                         const struct nncw_tensor *p, int64_t channels)
{
    float *t = nncw_op_ctx_scratch(ctx, (size_t)channels * sizeof(float));
    if (!t) {
        NNCW_FAIL(NNCW_ERR_NOMEM, "ActivationBinarize '%s': out of memory",
                  nncw_node_get_name(node));
        return NULL;
    }
    for (int64_t c = 0; c < channels; c++)
        t[c] = sigmoid(nncw_tensor_f32(p)[c]);
    return t;
}

static enum nncw_status act_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[])
{
    (void)n_in;
    if (!is_enabled(node)) {
        memcpy(out[0]->data, in[0]->data, (size_t)nncw_tensor_numel(in[0]) * sizeof(float));
        return NNCW_OK;
    }
    struct act_view v = act_view(in);
    float *t = thresholds(ctx, node, in[2], v.channels);
    if (!t)
        return NNCW_ERR_NOMEM;
    nncw_kernel_binarize_activation_ref(nncw_tensor_f32(in[0]), v.outer, v.channels, v.inner, v.s,
                                        t, nncw_tensor_f32(out[0]));
    return NNCW_OK;
}

static enum nncw_status act_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[],
                                     struct nncw_tensor *const grad_out[],
                                     struct nncw_tensor *const grad_in[])
{
    if (!grad_out[0])
        return NNCW_OK;
    if (!is_enabled(node)) /* parameters of an identity get no gradient */
        return pass_through_backward(ctx, node, in, n_in, out, grad_out, grad_in);
    struct act_view v = act_view(in);
    float *t = thresholds(ctx, node, in[2], v.channels);
    if (!t)
        return NNCW_ERR_NOMEM;
    const float *x = nncw_tensor_f32(in[0]), *g = nncw_tensor_f32(grad_out[0]);
    float *gx = grad_in[0] ? nncw_tensor_f32(grad_in[0]) : NULL;
    double gs = 0;
    for (int64_t c = 0; c < v.channels; c++) {
        double gt = 0;
        float cut = v.s * t[c];
        for (int64_t o = 0; o < v.outer; o++) {
            int64_t base = (o * v.channels + c) * v.inner;
            for (int64_t i = 0; i < v.inner; i++) {
                float xi = x[base + i], gi = g[base + i];
                float yi = xi > cut ? v.s : 0.0f;
                bool lower = xi <= v.s;
                if (gx && lower && xi >= 0.0f)
                    gx[base + i] += gi;
                gs += lower ? gi * (yi - xi) / v.s : gi;
                if (xi > 0.0f && xi < v.s)
                    gt -= gi;
            }
        }
        if (grad_in[2])
            nncw_tensor_f32(grad_in[2])[c] += (float)gt * t[c] * (1.0f - t[c]);
    }
    if (grad_in[1])
        nncw_tensor_f32(grad_in[1])[0] += (float)gs * v.s;
    return NNCW_OK;
}

/* the k-th largest of v[0 .. n) (k >= 1), reordering v (Hoare's quickselect) */
static float kth_largest(float *v, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1, want = k - 1;
    while (lo < hi) {
        float pivot = v[lo + (hi - lo) / 2];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] > pivot)
                i++;
            while (v[j] < pivot)
                j--;
            if (i <= j) {
                float tmp = v[i];
                v[i++] = v[j];
                v[j--] = tmp;
            }
        }
        if (want <= j)
            hi = j;
        else if (want >= i)
            lo = i;
        else
            break;
    }
    return v[want];
}

enum nncw_status nncw_binarize_initial_scale(const float *x, int64_t n, float *out)
{
    if (n <= 0)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "activation binarization: no activations to "
                                               "initialise the scale from");
    /* NNCF: the smallest of the top 0.1 % (at least one) of the activations */
    int64_t k = (int64_t)llround((double)n * 0.001);
    k = k < 1 ? 1 : k;
    float *v = nncw_malloc((size_t)n * sizeof(float));
    if (!v)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "activation binarization: out of memory");
    memcpy(v, x, (size_t)n * sizeof(float));
    *out = kth_largest(v, n, k);
    nncw_free(v);
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_xnor_binarize = {
    "XNORBinarize", NULL, 1, 1, 1, weight_infer, weight_forward, pass_through_backward,
};

const struct nncw_op_def nncw_op_def_dorefa_binarize = {
    "DoReFaBinarize", NULL, 1, 1, 1, weight_infer, weight_forward, pass_through_backward,
};

const struct nncw_op_def nncw_op_def_activation_binarize = {
    "ActivationBinarize", NULL, 3, 3, 1, act_infer, act_forward, act_backward,
};
