/* MaxPool, AveragePool and GlobalAveragePool (ONNX semantics, 2-D NCHW). Max pooling saves
 * the argmax of every window in forward so backward routes each gradient to it. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "core/common.h"
#include "ops/ops_internal.h"
#include "ops/parallel.h"
#include "ops/window.h"

struct pool_geom {
    int64_t planes; /* batch * channels */
    int h, w, oh, ow;
    int kh, kw, sh, sw, dh, dw;
    int pt, pl, pb, pr; /* pads: top, left, bottom, right */
    bool include_pad;   /* average pooling divides by taps inside the padded input too */
};

/* taps t in [*a, *b) of a window starting at `start` with dilation `dil` that land in
 * [lo, hi) */
static void tap_range(int start, int dil, int k, int lo, int hi, int *a, int *b)
{
    int first = start >= lo ? 0 : (lo - start + dil - 1) / dil;
    int end = hi - start <= 0 ? 0 : (hi - start + dil - 1) / dil;
    *a = nncw_imin(first, k);
    *b = nncw_imax(*a, nncw_imin(end, k));
}

/* ---- max pooling ---- */

/* Max pooling keeps (best, at) and lets v at position vat replace it when v is larger or NaN
 * (so NaN propagates, as in PyTorch). The choice goes through bit masks, not branches: after a
 * ReLU the comparisons are coin flips, and mispredicted branches made max pooling cost most of
 * what the convolution before it did. */
static inline void max_update(float v, int vat, float *best, int *at)
{
    uint32_t m = -(uint32_t)((v > *best) | (v != v)), vb, bb;
    memcpy(&vb, &v, sizeof vb);
    memcpy(&bb, best, sizeof bb);
    bb = (bb & ~m) | (vb & m);
    memcpy(best, &bb, sizeof bb);
    *at = (int)(((uint32_t)*at & ~m) | ((uint32_t)vat & m));
}

/* y and idx (flat position of the argmax in the plane, -1 for a window over padding only) of
 * one plane */
static void maxpool_plane(const struct pool_geom *g, const float *x, float *y, int32_t *idx)
{
    for (int oh = 0; oh < g->oh; oh++) {
        int hs = oh * g->sh - g->pt, ka, kb;
        tap_range(hs, g->dh, g->kh, 0, g->h, &ka, &kb);
        for (int ow = 0; ow < g->ow; ow++) {
            int ws = ow * g->sw - g->pl, ja, jb;
            tap_range(ws, g->dw, g->kw, 0, g->w, &ja, &jb);
            int best_at = -1;
            float best = 0.0f;
            if (ka < kb && ja < jb) {
                best_at = (hs + ka * g->dh) * g->w + ws + ja * g->dw;
                best = x[best_at];
            }
            for (int ki = ka; ki < kb; ki++) {
                int row = (hs + ki * g->dh) * g->w;
                for (int kj = ja; kj < jb; kj++) {
                    int at = row + ws + kj * g->dw;
                    max_update(x[at], at, &best, &best_at);
                }
            }
            y[oh * g->ow + ow] = best;
            idx[oh * g->ow + ow] = best_at;
        }
    }
}

/* The common 2x2 stride-2 window without padding or dilation, in two passes that vectorize:
 * the larger of each vertical pair and where it sits, for a block of output rows; then the
 * larger of each horizontal pair of those, over the whole block at once (rows are short: 13
 * outputs in the CNN). A tie between the rows keeps the top one, between the columns the left
 * one. */
enum { POOL_2X2_BLOCK = 2048 };

/* v[j] = the larger of r0[j] and r1[j] (NaN wins), at[j] = its position in the plane */
static void pairs_down(const float *restrict r0, const float *restrict r1, int n, int32_t base,
                       int32_t w, float *restrict v, int32_t *restrict at)
{
    for (int j = 0; j < n; j++) {
        float a = r0[j], b = r1[j];
        bool t = (b > a) | (b != b);
        v[j] = t ? b : a;
        at[j] = base + j + (t ? w : 0);
    }
}

static void maxpool_plane_2x2(const struct pool_geom *g, const float *x, float *y, int32_t *idx)
{
    /* locals: the int32_t stores below could alias the struct's ints */
    const int w = g->w, ow_n = g->ow, oh_n = g->oh, n2 = 2 * ow_n;
    const int rows = nncw_imax(1, POOL_2X2_BLOCK / n2);
    float v[POOL_2X2_BLOCK];
    int32_t at[POOL_2X2_BLOCK];
    for (int oh0 = 0; oh0 < oh_n; oh0 += rows) {
        int nr = nncw_imin(rows, oh_n - oh0);
        for (int r = 0; r < nr; r++) {
            const float *r0 = x + (size_t)2 * (oh0 + r) * w;
            pairs_down(r0, r0 + w, n2, 2 * (oh0 + r) * w, w, v + r * n2, at + r * n2);
        }
        float *yb = y + (size_t)oh0 * ow_n;
        int32_t *ib = idx + (size_t)oh0 * ow_n;
        for (int j = 0; j < nr * ow_n; j++) {
            float a = v[2 * j], b = v[2 * j + 1];
            bool t = (b > a) | (b != b);
            yb[j] = t ? b : a;
            ib[j] = t ? at[2 * j + 1] : at[2 * j];
        }
    }
}

static bool is_plain_2x2(const struct pool_geom *g)
{
    return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->dh == 1 && g->dw == 1 &&
           g->pt == 0 && g->pl == 0 && 2 * g->oh <= g->h && 2 * g->ow <= g->w &&
           2 * g->ow <= POOL_2X2_BLOCK;
}

/* one call's arguments, shared by the worker threads; each takes a range of planes */
struct max_job {
    const struct pool_geom *g;
    const float *x, *dy;
    float *y, *dx;
    int32_t *idx;          /* forward: the argmax written */
    const int32_t *argmax; /* backward: the argmax read */
};

static void maxpool_forward_part(void *arg, int64_t p0, int64_t p1)
{
    const struct max_job *j = arg;
    const struct pool_geom *g = j->g;
    size_t in_plane = (size_t)g->h * g->w, out_plane = (size_t)g->oh * g->ow;
    bool fast = is_plain_2x2(g);
    for (int64_t p = p0; p < p1; p++) {
        if (fast)
            maxpool_plane_2x2(g, j->x + p * in_plane, j->y + p * out_plane, j->idx + p * out_plane);
        else
            maxpool_plane(g, j->x + p * in_plane, j->y + p * out_plane, j->idx + p * out_plane);
    }
}

/* a window's taps cost about one operation each */
static double plane_cost(const struct pool_geom *g)
{
    return (double)g->oh * g->ow * g->kh * g->kw + (double)g->h * g->w;
}

static void maxpool_forward_f32(const struct pool_geom *g, const float *x, float *y, int32_t *idx)
{
    struct max_job j = {.g = g, .x = x, .y = y, .idx = idx};
    nncw_parallel_for(g->planes, 1, plane_cost(g), maxpool_forward_part, &j);
}

static void maxpool_backward_part(void *arg, int64_t p0, int64_t p1)
{
    const struct max_job *j = arg;
    const struct pool_geom *g = j->g;
    const int32_t *idx = j->argmax;
    const float *dy = j->dy;
    float *dx = j->dx;
    size_t in_plane = (size_t)g->h * g->w, out_plane = (size_t)g->oh * g->ow;
    for (int64_t p = p0; p < p1; p++) {
        const int32_t *ip = idx + p * out_plane;
        const float *dp = dy + p * out_plane;
        float *xp = dx + p * in_plane;
        for (size_t o = 0; o < out_plane; o++)
            if (ip[o] >= 0)
                xp[ip[o]] += dp[o];
    }
}

static void maxpool_backward_f32(const struct pool_geom *g, const int32_t *idx, const float *dy,
                                 float *dx)
{
    struct max_job j = {.g = g, .dy = dy, .dx = dx, .argmax = idx};
    nncw_parallel_for(g->planes, 1, (double)g->oh * g->ow + (double)g->h * g->w,
                      maxpool_backward_part, &j);
}

/* ---- average pooling ---- */

/* what a window's sum is divided by: its taps inside the input, or with count_include_pad
 * its taps inside the padded input (taps past the end padding, possible with ceil_mode,
 * never count; PyTorch and onnxruntime agree) */
static int avg_divisor(const struct pool_geom *g, int hs, int ws, int nh, int nw)
{
    if (!g->include_pad)
        return nh * nw;
    int a, bh, bw;
    tap_range(hs, g->dh, g->kh, -g->pt, g->h + g->pb, &a, &bh);
    bh -= a;
    tap_range(ws, g->dw, g->kw, -g->pl, g->w + g->pr, &a, &bw);
    bw -= a;
    return bh * bw;
}

/* forward (dx NULL: y = mean of each window) or backward (dx += dy / divisor over each
 * window) of one plane */
static void avgpool_plane(const struct pool_geom *g, const float *x, float *y, const float *dy,
                          float *dx)
{
    for (int oh = 0; oh < g->oh; oh++) {
        int hs = oh * g->sh - g->pt, ka, kb;
        tap_range(hs, g->dh, g->kh, 0, g->h, &ka, &kb);
        for (int ow = 0; ow < g->ow; ow++) {
            int ws = ow * g->sw - g->pl, ja, jb;
            tap_range(ws, g->dw, g->kw, 0, g->w, &ja, &jb);
            int div = avg_divisor(g, hs, ws, kb - ka, jb - ja);
            float scale = div > 0 ? 1.0f / (float)div : 0.0f;
            if (dx) {
                float d = dy[oh * g->ow + ow] * scale;
                for (int ki = ka; ki < kb; ki++) {
                    float *row = dx + (size_t)(hs + ki * g->dh) * g->w + ws;
                    for (int kj = ja; kj < jb; kj++)
                        row[kj * g->dw] += d;
                }
            } else {
                float acc = 0.0f;
                for (int ki = ka; ki < kb; ki++) {
                    const float *row = x + (size_t)(hs + ki * g->dh) * g->w + ws;
                    for (int kj = ja; kj < jb; kj++)
                        acc += row[kj * g->dw];
                }
                y[oh * g->ow + ow] = acc * scale;
            }
        }
    }
}

static void avgpool_f32(const struct pool_geom *g, const float *x, float *y, const float *dy,
                        float *dx)
{
    size_t in_plane = (size_t)g->h * g->w, out_plane = (size_t)g->oh * g->ow;
    for (int64_t p = 0; p < g->planes; p++)
        avgpool_plane(g, x ? x + p * in_plane : NULL, y ? y + p * out_plane : NULL,
                      dy ? dy + p * out_plane : NULL, dx ? dx + p * in_plane : NULL);
}

/* ---- attributes and shapes ---- */

static enum nncw_status check_input(const char *op, const struct nncw_node *node,
                                    const struct nncw_tensor *x, int min_ndim, int max_ndim)
{
    char s[96];
    if (x->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "%s '%s': input is %s, expected float32", op,
                         nncw_node_get_name(node), nncw_dtype_name(x->dtype));
    if (x->ndim < min_ndim || x->ndim > max_ndim)
        return NNCW_FAIL(x->ndim >= 3 ? NNCW_ERR_UNSUPPORTED : NNCW_ERR_SHAPE,
                         "%s '%s': input %s: only 2-D pooling (4-D NCHW) is supported", op,
                         nncw_node_get_name(node), nncw_tensor_shape_str(x, s, sizeof s));
    for (int i = 0; i < x->ndim; i++)
        if (x->shape[i] < 1 || x->shape[i] > INT_MAX / 4)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': input %s has a bad dimension", op,
                             nncw_node_get_name(node), nncw_tensor_shape_str(x, s, sizeof s));
    return NNCW_OK;
}

/* an ints attribute of exactly `want` values each in [min, INT_MAX / 4]; absent keeps v */
static enum nncw_status get_ints(const char *op, const struct nncw_node *node, const char *name,
                                 int want, int64_t min, int64_t *v)
{
    const int64_t *a;
    int n = nncw_node_get_attr_ints(node, name, &a);
    if (n < 0)
        return NNCW_OK;
    if (n != want)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s '%s': %s has %d values, expected %d", op,
                         nncw_node_get_name(node), name, n, want);
    for (int i = 0; i < n; i++) {
        if (a[i] < min || a[i] > INT_MAX / 4)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s '%s': %s[%d] = %lld is out of range", op,
                             nncw_node_get_name(node), name, i, (long long)a[i]);
        v[i] = a[i];
    }
    return NNCW_OK;
}

static enum nncw_status pool_geom_get(const char *op, const struct nncw_node *node,
                                      const struct nncw_tensor *x, struct pool_geom *g)
{
    const char *name = nncw_node_get_name(node);
    NNCW_TRY(check_input(op, node, x, 4, 4));
    if (x->shape[2] * x->shape[3] > INT_MAX)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "%s '%s': planes of %lldx%lld are too large", op,
                         name, (long long)x->shape[2], (long long)x->shape[3]);
    if (!nncw_node_has_attr(node, "kernel_shape"))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s '%s': kernel_shape is required", op, name);
    int64_t ks[2], st[2] = {1, 1}, dl[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
    NNCW_TRY(get_ints(op, node, "kernel_shape", 2, 1, ks));
    NNCW_TRY(get_ints(op, node, "strides", 2, 1, st));
    NNCW_TRY(get_ints(op, node, "dilations", 2, 1, dl));
    NNCW_TRY(get_ints(op, node, "pads", 4, 0, pads));
    enum nncw_auto_pad ap;
    const char *aps = nncw_node_get_attr_string(node, "auto_pad", "NOTSET");
    if (!nncw_auto_pad_parse(aps, &ap))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s '%s': unknown auto_pad '%s'", op, name, aps);
    bool ceil_mode = nncw_node_get_attr_int(node, "ceil_mode", 0) != 0;
    struct nncw_window_dim d[2];
    for (int i = 0; i < 2; i++) {
        d[i] = (struct nncw_window_dim){.in = x->shape[2 + i],
                                        .k = ks[i],
                                        .stride = st[i],
                                        .dil = dl[i],
                                        .pad_lo = pads[i],
                                        .pad_hi = pads[2 + i]};
        if (!nncw_window_dim_resolve(&d[i], ap, ceil_mode) || d[i].out > INT_MAX / 4)
            return NNCW_FAIL(NNCW_ERR_SHAPE,
                             "%s '%s': %s: kernel %lld (dilation %lld) does not fit input %lld "
                             "with pads %lld+%lld",
                             op, name, i == 0 ? "height" : "width", (long long)ks[i],
                             (long long)dl[i], (long long)d[i].in, (long long)d[i].pad_lo,
                             (long long)d[i].pad_hi);
    }
    *g = (struct pool_geom){.planes = x->shape[0] * x->shape[1],
                            .h = (int)d[0].in,
                            .w = (int)d[1].in,
                            .oh = (int)d[0].out,
                            .ow = (int)d[1].out,
                            .kh = (int)d[0].k,
                            .kw = (int)d[1].k,
                            .sh = (int)d[0].stride,
                            .sw = (int)d[1].stride,
                            .dh = (int)d[0].dil,
                            .dw = (int)d[1].dil,
                            .pt = (int)d[0].pad_lo,
                            .pl = (int)d[1].pad_lo,
                            .pb = (int)d[0].pad_hi,
                            .pr = (int)d[1].pad_hi,
                            .include_pad =
                                nncw_node_get_attr_int(node, "count_include_pad", 0) != 0};
    return NNCW_OK;
}

static void set_pool_out(const struct nncw_tensor *x, int oh, int ow, struct nncw_tensor *out)
{
    int64_t shape[4] = {x->shape[0], x->shape[1], oh, ow};
    nncw_tensor_init_borrowed(out, NNCW_DTYPE_F32, 4, shape, NULL);
}

/* ---- MaxPool ---- */

static enum nncw_status maxpool_infer(const struct nncw_node *node,
                                      const struct nncw_tensor *const in[], int n_in,
                                      struct nncw_tensor out[])
{
    (void)n_in;
    struct pool_geom g;
    NNCW_TRY(pool_geom_get("maxpool", node, in[0], &g));
    set_pool_out(in[0], g.oh, g.ow, &out[0]);
    return NNCW_OK;
}

static int32_t *saved_indices(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                              const struct nncw_tensor *y)
{
    return nncw_op_ctx_saved(ctx, node, (size_t)nncw_tensor_numel(y) * sizeof(int32_t));
}

static enum nncw_status maxpool_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                        struct nncw_tensor *const in[], int n_in,
                                        struct nncw_tensor *const out[])
{
    (void)n_in;
    struct pool_geom g;
    NNCW_TRY(pool_geom_get("maxpool", node, in[0], &g));
    int32_t *idx = saved_indices(ctx, node, out[0]);
    if (!idx)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "maxpool '%s': no memory for the argmax indices",
                         nncw_node_get_name(node));
    maxpool_forward_f32(&g, nncw_tensor_f32(in[0]), nncw_tensor_f32(out[0]), idx);
    return NNCW_OK;
}

static enum nncw_status maxpool_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                         struct nncw_tensor *const in[], int n_in,
                                         struct nncw_tensor *const out[],
                                         struct nncw_tensor *const grad_out[],
                                         struct nncw_tensor *const grad_in[])
{
    (void)n_in;
    if (!grad_out[0] || !grad_in[0])
        return NNCW_OK;
    struct pool_geom g;
    NNCW_TRY(pool_geom_get("maxpool", node, in[0], &g));
    /* same size as in forward, so this is forward's buffer */
    int32_t *idx = saved_indices(ctx, node, out[0]);
    if (!idx)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "maxpool '%s': no memory for the argmax indices",
                         nncw_node_get_name(node));
    maxpool_backward_f32(&g, idx, nncw_tensor_f32(grad_out[0]), nncw_tensor_f32(grad_in[0]));
    return NNCW_OK;
}

/* ---- AveragePool ---- */

static enum nncw_status avgpool_infer(const struct nncw_node *node,
                                      const struct nncw_tensor *const in[], int n_in,
                                      struct nncw_tensor out[])
{
    (void)n_in;
    struct pool_geom g;
    NNCW_TRY(pool_geom_get("avgpool", node, in[0], &g));
    set_pool_out(in[0], g.oh, g.ow, &out[0]);
    return NNCW_OK;
}

static enum nncw_status avgpool_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                        struct nncw_tensor *const in[], int n_in,
                                        struct nncw_tensor *const out[])
{
    (void)ctx;
    (void)n_in;
    struct pool_geom g;
    NNCW_TRY(pool_geom_get("avgpool", node, in[0], &g));
    avgpool_f32(&g, nncw_tensor_f32(in[0]), nncw_tensor_f32(out[0]), NULL, NULL);
    return NNCW_OK;
}

static enum nncw_status avgpool_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                         struct nncw_tensor *const in[], int n_in,
                                         struct nncw_tensor *const out[],
                                         struct nncw_tensor *const grad_out[],
                                         struct nncw_tensor *const grad_in[])
{
    (void)ctx;
    (void)n_in;
    (void)out;
    if (!grad_out[0] || !grad_in[0])
        return NNCW_OK;
    struct pool_geom g;
    NNCW_TRY(pool_geom_get("avgpool", node, in[0], &g));
    avgpool_f32(&g, NULL, NULL, nncw_tensor_f32(grad_out[0]), nncw_tensor_f32(grad_in[0]));
    return NNCW_OK;
}

/* ---- GlobalAveragePool: any N, C, spatial... input; spatial dims become 1 ---- */

static int64_t spatial_size(const struct nncw_tensor *x)
{
    int64_t n = 1;
    for (int i = 2; i < x->ndim; i++)
        n *= x->shape[i];
    return n;
}

static enum nncw_status gap_infer(const struct nncw_node *node,
                                  const struct nncw_tensor *const in[], int n_in,
                                  struct nncw_tensor out[])
{
    (void)n_in;
    const struct nncw_tensor *x = in[0];
    NNCW_TRY(check_input("globalavgpool", node, x, 3, NNCW_MAX_DIMS));
    int64_t shape[NNCW_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++)
        shape[i] = i < 2 ? x->shape[i] : 1;
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, x->ndim, shape, NULL);
    return NNCW_OK;
}

static enum nncw_status gap_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[])
{
    (void)ctx;
    (void)n_in;
    NNCW_TRY(check_input("globalavgpool", node, in[0], 3, NNCW_MAX_DIMS));
    int64_t planes = in[0]->shape[0] * in[0]->shape[1], hw = spatial_size(in[0]);
    const float *x = nncw_tensor_f32(in[0]);
    float *y = nncw_tensor_f32(out[0]);
    float scale = 1.0f / (float)hw;
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = x + p * hw;
        float acc = 0.0f;
        for (int64_t i = 0; i < hw; i++)
            acc += xp[i];
        y[p] = acc * scale;
    }
    return NNCW_OK;
}

static enum nncw_status gap_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[],
                                     struct nncw_tensor *const grad_out[],
                                     struct nncw_tensor *const grad_in[])
{
    (void)ctx;
    (void)n_in;
    (void)out;
    if (!grad_out[0] || !grad_in[0])
        return NNCW_OK;
    NNCW_TRY(check_input("globalavgpool", node, in[0], 3, NNCW_MAX_DIMS));
    int64_t planes = in[0]->shape[0] * in[0]->shape[1], hw = spatial_size(in[0]);
    const float *dy = nncw_tensor_f32(grad_out[0]);
    float *dx = nncw_tensor_f32(grad_in[0]);
    float scale = 1.0f / (float)hw;
    for (int64_t p = 0; p < planes; p++) {
        float d = dy[p] * scale;
        float *xp = dx + p * hw;
        for (int64_t i = 0; i < hw; i++)
            xp[i] += d;
    }
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_maxpool = {
    "MaxPool", "MaxPool", 1, 1, 1, maxpool_infer, maxpool_forward, maxpool_backward,
};
const struct nncw_op_def nncw_op_def_avgpool = {
    "AveragePool", "AveragePool", 1, 1, 1, avgpool_infer, avgpool_forward, avgpool_backward,
};
const struct nncw_op_def nncw_op_def_globalavgpool = {
    "GlobalAveragePool", "GlobalAveragePool", 1, 1, 1, gap_infer, gap_forward, gap_backward,
};
