/*
** Normalisations with per-sample statistics, on float tensors:
**   InstanceNormalization  X [N, C, ...], scale [C], B [C], epsilon (1e-5): each (n, c) plane is
**                          normalised by its own mean and biased variance;
**   LayerNormalization     (opset 17) X, Scale, optional B, axis (-1), epsilon (1e-5): the
**                          dimensions from axis on are normalised together; Scale and B
**                          broadcast over them; optional outputs Mean and InvStdDev (the
**                          dimensions before axis, then ones);
**   LRN                    size, alpha (1e-4), beta (0.75), bias (1): x / (bias + alpha / size *
**                          sum of x^2 over a window of channels)^beta.
**
** All three see the input as groups of `inner` contiguous elements (a plane, a layer, or, for
** LRN, a pixel across channels) and have exact backward passes.
*/
#include <math.h>
#include <string.h>

#include "ops/ops_internal.h"

static const char *label_of(const struct nncw_node *node)
{
    return nncw_op_name(nncw_node_get_op(node));
}

static enum nncw_status check_f32(const struct nncw_node *node,
                                  const struct nncw_tensor *const in[], int n_in)
{
    for (int i = 0; i < n_in; i++)
        if (in[i] && in[i]->dtype != NNCW_DTYPE_F32)
            return NNCW_FAIL(NNCW_ERR_DTYPE, "%s '%s': input %d is %s, only float32 is supported",
                             label_of(node), nncw_node_get_name(node), i,
                             nncw_dtype_name(in[i]->dtype));
    return NNCW_OK;
}

/* ---- InstanceNormalization ---- */

static enum nncw_status in_infer(const struct nncw_node *node, const struct nncw_tensor *const in[],
                                 int n_in, struct nncw_tensor out[])
{
    const struct nncw_tensor *x = in[0];
    NNCW_TRY(check_f32(node, in, n_in));
    char sx[96];
    if (x->ndim < 3)
        return NNCW_FAIL(NNCW_ERR_SHAPE,
                         "instancenormalization '%s': input %s needs a channel "
                         "and a spatial dimension",
                         nncw_node_get_name(node), nncw_tensor_shape_str(x, sx, sizeof sx));
    for (int i = 1; i < 3; i++)
        if (in[i]->ndim != 1 || in[i]->shape[0] != x->shape[1])
            return NNCW_FAIL(NNCW_ERR_SHAPE, "instancenormalization '%s': input %d must be [%lld]",
                             nncw_node_get_name(node), i, (long long)x->shape[1]);
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, x->ndim, x->shape, NULL);
    return NNCW_OK;
}

/* mean and 1/std of n values */
static void moments(const float *x, int64_t n, float eps, double *mean, double *inv)
{
    double s = 0, ss = 0;
    for (int64_t i = 0; i < n; i++)
        s += x[i];
    double m = n ? s / (double)n : 0;
    for (int64_t i = 0; i < n; i++)
        ss += ((double)x[i] - m) * ((double)x[i] - m);
    *mean = m;
    *inv = 1.0 / sqrt((n ? ss / (double)n : 0) + eps);
}

static enum nncw_status in_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                   struct nncw_tensor *const in[], int n_in,
                                   struct nncw_tensor *const out[])
{
    (void)ctx, (void)n_in;
    const struct nncw_tensor *x = in[0];
    float eps = nncw_node_get_attr_float(node, "epsilon", 1e-5f);
    int64_t c = x->shape[1], planes = x->shape[0] * c,
            inner = nncw_tensor_numel(x) / (planes ? planes : 1);
    const float *s = nncw_tensor_f32(in[1]), *b = nncw_tensor_f32(in[2]);
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = nncw_tensor_f32(x) + p * inner;
        float *yp = nncw_tensor_f32(out[0]) + p * inner;
        double mean, inv;
        moments(xp, inner, eps, &mean, &inv);
        float k = (float)(inv * s[p % c]), o = (float)(b[p % c] - mean * inv * s[p % c]);
        for (int64_t i = 0; i < inner; i++)
            yp[i] = xp[i] * k + o;
    }
    return NNCW_OK;
}

/* gradients of y = xhat * g + b for one group of n values: dx (if gx) and the sums for dg, db */
static void norm_group_backward(const float *x, const float *gy, int64_t n, double mean, double inv,
                                const float *g, int64_t g_stride, float *gx, double *sum_dy_xhat,
                                double *sum_dy)
{
    double a = 0, s = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)gy[i] * g[i * g_stride];
        a += d * ((double)x[i] - mean) * inv;
        s += d;
    }
    if (gx)
        for (int64_t i = 0; i < n; i++) {
            double xhat = ((double)x[i] - mean) * inv;
            double d = (double)gy[i] * g[i * g_stride];
            gx[i] += (float)(inv * (d - s / (double)n - xhat * a / (double)n));
        }
    *sum_dy_xhat = 0;
    *sum_dy = 0;
    for (int64_t i = 0; i < n; i++) {
        *sum_dy_xhat += (double)gy[i] * ((double)x[i] - mean) * inv;
        *sum_dy += gy[i];
    }
}

static enum nncw_status in_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[],
                                    struct nncw_tensor *const grad_out[],
                                    struct nncw_tensor *const grad_in[])
{
    (void)ctx, (void)n_in, (void)out;
    if (!grad_out[0])
        return NNCW_OK;
    const struct nncw_tensor *x = in[0];
    float eps = nncw_node_get_attr_float(node, "epsilon", 1e-5f);
    int64_t c = x->shape[1], planes = x->shape[0] * c,
            inner = nncw_tensor_numel(x) / (planes ? planes : 1);
    const float *s = nncw_tensor_f32(in[1]);
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = nncw_tensor_f32(x) + p * inner;
        const float *gyp = nncw_tensor_f32(grad_out[0]) + p * inner;
        double mean, inv, dxh, dy;
        moments(xp, inner, eps, &mean, &inv);
        norm_group_backward(xp, gyp, inner, mean, inv, &s[p % c], 0,
                            grad_in[0] ? nncw_tensor_f32(grad_in[0]) + p * inner : NULL, &dxh, &dy);
        if (grad_in[1])
            nncw_tensor_f32(grad_in[1])[p % c] += (float)dxh;
        if (grad_in[2])
            nncw_tensor_f32(grad_in[2])[p % c] += (float)dy;
    }
    return NNCW_OK;
}

/* ---- LayerNormalization ---- */

static enum nncw_status ln_axis(const struct nncw_node *node, const struct nncw_tensor *x,
                                int *axis)
{
    int64_t a = nncw_node_get_attr_int(node, "axis", -1);
    if (a < -x->ndim || a >= x->ndim)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "layernormalization '%s': axis %lld is out of range",
                         nncw_node_get_name(node), (long long)a);
    *axis = (int)(a < 0 ? a + x->ndim : a);
    return NNCW_OK;
}

static enum nncw_status ln_infer(const struct nncw_node *node, const struct nncw_tensor *const in[],
                                 int n_in, struct nncw_tensor out[])
{
    const struct nncw_tensor *x = in[0];
    NNCW_TRY(check_f32(node, in, n_in));
    int axis = 0;
    NNCW_TRY(ln_axis(node, x, &axis));
    for (int i = 1; i < n_in; i++) {
        if (!in[i])
            continue;
        /* Scale and B broadcast to the normalised dimensions: same trailing shape or a scalar */
        bool ok = in[i]->ndim <= x->ndim - axis;
        for (int d = 0; ok && d < in[i]->ndim; d++) {
            int64_t v = in[i]->shape[d], want = x->shape[x->ndim - in[i]->ndim + d];
            ok = v == want || v == 1;
        }
        if (!ok) {
            char s[96];
            return NNCW_FAIL(NNCW_ERR_SHAPE,
                             "layernormalization '%s': input %d %s does not "
                             "broadcast to the normalised dimensions",
                             nncw_node_get_name(node), i,
                             nncw_tensor_shape_str(in[i], s, sizeof s));
        }
    }
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, x->ndim, x->shape, NULL);
    int64_t shape[NNCW_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++)
        shape[d] = d < axis ? x->shape[d] : 1;
    for (int o = 1; o < nncw_node_count_outputs(node); o++)
        nncw_tensor_init_borrowed(&out[o], NNCW_DTYPE_F32, x->ndim, shape, NULL);
    return NNCW_OK;
}

/* Scale or B seen over one group of `inner`: value i is t[i % numel] when t holds the trailing
 * dimensions; for a broadcast shape with ones inside, the expansion goes to scratch */
static const float *ln_param(struct nncw_op_ctx *ctx, const struct nncw_tensor *t,
                             const struct nncw_tensor *x, int axis, int64_t inner, float *buf)
{
    if (!t)
        return NULL;
    if (nncw_tensor_numel(t) == inner)
        return nncw_tensor_f32(t);
    (void)ctx;
    /* broadcast: walk the normalised dims */
    int nd = x->ndim - axis;
    int64_t idx[NNCW_MAX_DIMS] = {0};
    for (int64_t i = 0; i < inner; i++) {
        int64_t off = 0, stride = 1;
        for (int d = t->ndim - 1; d >= 0; d--) {
            int64_t v = t->shape[d];
            off += (v == 1 ? 0 : idx[nd - t->ndim + d]) * stride;
            stride *= v;
        }
        buf[i] = nncw_tensor_f32(t)[off];
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < x->shape[axis + d])
                break;
            idx[d] = 0;
        }
    }
    return buf;
}

static enum nncw_status ln_run(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                               struct nncw_tensor *const in[], int n_in,
                               struct nncw_tensor *const out[],
                               struct nncw_tensor *const grad_out[],
                               struct nncw_tensor *const grad_in[])
{
    const struct nncw_tensor *x = in[0];
    int axis = 0;
    NNCW_TRY(ln_axis(node, x, &axis));
    float eps = nncw_node_get_attr_float(node, "epsilon", 1e-5f);
    int64_t inner = 1;
    for (int d = axis; d < x->ndim; d++)
        inner *= x->shape[d];
    int64_t groups = inner ? nncw_tensor_numel(x) / inner : 0;
    float *buf = nncw_op_ctx_scratch(ctx, (size_t)(4 * inner + 1) * sizeof(float));
    if (!buf)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "layernormalization '%s': out of memory",
                         nncw_node_get_name(node));
    const float *s = ln_param(ctx, in[1], x, axis, inner, buf);
    const float *b = ln_param(ctx, n_in > 2 ? in[2] : NULL, x, axis, inner, buf + inner);
    float *gs = grad_in ? buf + 2 * inner : NULL, *gb = grad_in ? buf + 3 * inner : NULL;
    if (gs) {
        memset(gs, 0, (size_t)inner * sizeof *gs);
        memset(gb, 0, (size_t)inner * sizeof *gb);
    }
    for (int64_t gi = 0; gi < groups; gi++) {
        const float *xg = nncw_tensor_f32(x) + gi * inner;
        double mean, inv;
        moments(xg, inner, eps, &mean, &inv);
        if (!grad_out) {
            float *yg = nncw_tensor_f32(out[0]) + gi * inner;
            for (int64_t i = 0; i < inner; i++)
                yg[i] = (float)(((double)xg[i] - mean) * inv) * s[i] + (b ? b[i] : 0.0f);
            if (nncw_node_count_outputs(node) > 1)
                nncw_tensor_f32(out[1])[gi] = (float)mean;
            if (nncw_node_count_outputs(node) > 2)
                nncw_tensor_f32(out[2])[gi] = (float)inv;
            continue;
        }
        if (!grad_out[0])
            return NNCW_OK;
        const float *gy = nncw_tensor_f32(grad_out[0]) + gi * inner;
        double dxh, dy;
        norm_group_backward(xg, gy, inner, mean, inv, s, 1,
                            grad_in[0] ? nncw_tensor_f32(grad_in[0]) + gi * inner : NULL, &dxh,
                            &dy);
        for (int64_t i = 0; i < inner; i++) {
            gs[i] += (float)((double)gy[i] * ((double)xg[i] - mean) * inv);
            gb[i] += gy[i];
        }
    }
    /* reduce the per-element parameter gradients onto the parameters' own shapes */
    for (int k = 1; grad_in && k < n_in && k < 3; k++) {
        if (!grad_in[k])
            continue;
        const float *src = k == 1 ? gs : gb;
        const struct nncw_tensor *t = in[k];
        int64_t n = nncw_tensor_numel(t);
        float *g = nncw_tensor_f32(grad_in[k]);
        if (n == inner) {
            for (int64_t i = 0; i < inner; i++)
                g[i] += src[i];
            continue;
        }
        int nd = x->ndim - axis;
        int64_t idx[NNCW_MAX_DIMS] = {0};
        for (int64_t i = 0; i < inner; i++) {
            int64_t off = 0, stride = 1;
            for (int d = t->ndim - 1; d >= 0; d--) {
                off += (t->shape[d] == 1 ? 0 : idx[nd - t->ndim + d]) * stride;
                stride *= t->shape[d];
            }
            g[off] += src[i];
            for (int d = nd - 1; d >= 0; d--) {
                if (++idx[d] < x->shape[axis + d])
                    break;
                idx[d] = 0;
            }
        }
    }
    return NNCW_OK;
}

static enum nncw_status ln_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                   struct nncw_tensor *const in[], int n_in,
                                   struct nncw_tensor *const out[])
{
    return ln_run(ctx, node, in, n_in, out, NULL, NULL);
}

static enum nncw_status ln_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[],
                                    struct nncw_tensor *const grad_out[],
                                    struct nncw_tensor *const grad_in[])
{
    return ln_run(ctx, node, in, n_in, out, grad_out, grad_in);
}

/* ---- LRN ---- */

struct lrn {
    int64_t size, lo, hi; /* window: channels c - lo .. c + hi */
    float alpha, beta, bias;
};

static enum nncw_status lrn_params(const struct nncw_node *node, struct lrn *p)
{
    p->size = nncw_node_get_attr_int(node, "size", 0);
    if (p->size < 1 || p->size > 1 << 20)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "lrn '%s': size %lld", nncw_node_get_name(node),
                         (long long)p->size);
    p->lo = (p->size - 1) / 2;
    p->hi = p->size - 1 - p->lo;
    p->alpha = nncw_node_get_attr_float(node, "alpha", 1e-4f);
    p->beta = nncw_node_get_attr_float(node, "beta", 0.75f);
    p->bias = nncw_node_get_attr_float(node, "bias", 1.0f);
    return NNCW_OK;
}

static enum nncw_status lrn_infer(const struct nncw_node *node,
                                  const struct nncw_tensor *const in[], int n_in,
                                  struct nncw_tensor out[])
{
    NNCW_TRY(check_f32(node, in, n_in));
    struct lrn p;
    NNCW_TRY(lrn_params(node, &p));
    if (in[0]->ndim < 2)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "lrn '%s': the input needs a channel dimension",
                         nncw_node_get_name(node));
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, in[0]->ndim, in[0]->shape, NULL);
    return NNCW_OK;
}

/* the denominator base of channel c at one pixel: bias + alpha / size * window sum of x^2 */
static double lrn_base(const struct lrn *p, const float *x, int64_t c, int64_t channels,
                       int64_t stride)
{
    double s = 0;
    for (int64_t k = c - p->lo; k <= c + p->hi; k++)
        if (k >= 0 && k < channels)
            s += (double)x[k * stride] * x[k * stride];
    return p->bias + p->alpha / (double)p->size * s;
}

static enum nncw_status lrn_run(const struct nncw_node *node, struct nncw_tensor *const in[],
                                struct nncw_tensor *const out[],
                                struct nncw_tensor *const grad_out[],
                                struct nncw_tensor *const grad_in[])
{
    struct lrn p;
    NNCW_TRY(lrn_params(node, &p));
    const struct nncw_tensor *x = in[0];
    int64_t n = x->shape[0], c = x->shape[1], inner = 1;
    for (int d = 2; d < x->ndim; d++)
        inner *= x->shape[d];
    for (int64_t b = 0; b < n; b++)
        for (int64_t i = 0; i < inner; i++) {
            const float *xp = nncw_tensor_f32(x) + b * c * inner + i;
            if (!grad_out) {
                float *yp = nncw_tensor_f32(out[0]) + b * c * inner + i;
                for (int64_t k = 0; k < c; k++)
                    yp[k * inner] =
                        (float)(xp[k * inner] * pow(lrn_base(&p, xp, k, c, inner), -p.beta));
                continue;
            }
            const float *gy = nncw_tensor_f32(grad_out[0]) + b * c * inner + i;
            float *gx = nncw_tensor_f32(grad_in[0]) + b * c * inner + i;
            /* dy_k/dx_j = [j == k] base_k^-beta - 2 alpha beta / size x_k x_j base_k^(-beta-1)
             * for j in k's window */
            for (int64_t k = 0; k < c; k++) {
                double base = lrn_base(&p, xp, k, c, inner);
                double g = gy[k * inner];
                gx[k * inner] += (float)(g * pow(base, -p.beta));
                double t = -2.0 * p.alpha * p.beta / (double)p.size * g * xp[k * inner] *
                           pow(base, -p.beta - 1);
                for (int64_t j = k - p.lo; j <= k + p.hi; j++)
                    if (j >= 0 && j < c)
                        gx[j * inner] += (float)(t * xp[j * inner]);
            }
        }
    return NNCW_OK;
}

static enum nncw_status lrn_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[])
{
    (void)ctx, (void)n_in;
    return lrn_run(node, in, out, NULL, NULL);
}

static enum nncw_status lrn_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[],
                                     struct nncw_tensor *const grad_out[],
                                     struct nncw_tensor *const grad_in[])
{
    (void)ctx, (void)n_in;
    if (!grad_out[0] || !grad_in[0])
        return NNCW_OK;
    return lrn_run(node, in, out, grad_out, grad_in);
}

const struct nncw_op_def nncw_op_def_instancenorm = {
    "InstanceNormalization", "InstanceNormalization", 3, 3, 1, in_infer, in_forward, in_backward,
};
const struct nncw_op_def nncw_op_def_layernorm = {
    "LayerNormalization", "LayerNormalization", 2, 3, 3, ln_infer, ln_forward, ln_backward,
};
const struct nncw_op_def nncw_op_def_lrn = {
    "LRN", "LRN", 1, 1, 1, lrn_infer, lrn_forward, lrn_backward,
};
