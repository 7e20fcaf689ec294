/* Conv (ONNX semantics, 2-D NCHW): im2col + one sgemm per group over a chunk of images, a
 * direct path for 1x1 stride-1 convolutions, and the direct-loop reference kernel. */
#include "ops/conv.h"

#include <limits.h>
#include <string.h>

#include "core/common.h"
#include "ops/blas.h"
#include "ops/ops_internal.h"
#include "ops/window.h"

/* Images are processed in chunks of about this many output pixels: one image when its output
 * plane is large (the sgemm then writes NCHW directly), several when it is small so the sgemm
 * stays wide (layer4 of ResNet-18 has 4x4 planes). Measured on the CNN and ResNet-18 shapes. */
#ifndef CONV_CHUNK_COLS
#define CONV_CHUNK_COLS 2048
#endif
#ifndef CONV_SINGLE_IMAGE_COLS
#define CONV_SINGLE_IMAGE_COLS 512
#endif

/* ---- reference kernel ---- */

void nncw_kernel_conv2d_f32_ref(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                                const float *b, float *y)
{
    int cg = g->c / g->group, mg = g->m / g->group;
    for (int n = 0; n < g->n; n++)
        for (int m = 0; m < g->m; m++) {
            int grp = m / mg;
            for (int oh = 0; oh < g->oh; oh++)
                for (int ow = 0; ow < g->ow; ow++) {
                    double acc = b ? b[m] : 0.0;
                    for (int ci = 0; ci < cg; ci++) {
                        int c = grp * cg + ci;
                        for (int ki = 0; ki < g->kh; ki++) {
                            int ih = oh * g->sh - g->pt + ki * g->dh;
                            if (ih < 0 || ih >= g->h)
                                continue;
                            for (int kj = 0; kj < g->kw; kj++) {
                                int iw = ow * g->sw - g->pl + kj * g->dw;
                                if (iw < 0 || iw >= g->w)
                                    continue;
                                double xv = x[(((size_t)n * g->c + c) * g->h + ih) * g->w + iw];
                                double wv = w[(((size_t)m * cg + ci) * g->kh + ki) * g->kw + kj];
                                acc += xv * wv;
                            }
                        }
                    }
                    y[(((size_t)n * g->m + m) * g->oh + oh) * g->ow + ow] = (float)acc;
                }
        }
}

/* ---- im2col / col2im ---- */

/* the outputs ow in [*lo, *hi) whose input column ow * stride + off lies inside [0, size) */
static void valid_range(int off, int stride, int size, int n_out, int *lo, int *hi)
{
    int a = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int b = size - 1 - off >= 0 ? (size - 1 - off) / stride + 1 : 0;
    *lo = a < n_out ? a : n_out;
    *hi = b < n_out ? b : n_out;
    if (*hi < *lo)
        *hi = *lo;
}

void nncw_kernel_im2col_f32(const struct nncw_conv2d_geom *g, const float *x, int cnt, float *col)
{
    const size_t hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow, ncols = cnt * ohw;
    const int ow_n = g->ow, sw = g->sw;
    for (int c = 0; c < g->c; c++)
        for (int ki = 0; ki < g->kh; ki++)
            for (int kj = 0; kj < g->kw; kj++) {
                float *row = col + ((size_t)(c * g->kh + ki) * g->kw + kj) * ncols;
                int off = kj * g->dw - g->pl, lo, hi;
                valid_range(off, sw, g->w, ow_n, &lo, &hi);
                for (int i = 0; i < cnt; i++) {
                    const float *plane = x + ((size_t)i * g->c + c) * hw;
                    for (int oh = 0; oh < g->oh; oh++) {
                        float *dst = row + i * ohw + (size_t)oh * ow_n;
                        int ih = oh * g->sh - g->pt + ki * g->dh;
                        if (ih < 0 || ih >= g->h) {
                            memset(dst, 0, (size_t)ow_n * sizeof *dst);
                            continue;
                        }
                        const float *src = plane + (size_t)ih * g->w + off;
                        for (int ow = 0; ow < lo; ow++)
                            dst[ow] = 0.0f;
                        if (sw == 1)
                            memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof *dst);
                        else
                            for (int ow = lo; ow < hi; ow++)
                                dst[ow] = src[ow * sw];
                        for (int ow = hi; ow < ow_n; ow++)
                            dst[ow] = 0.0f;
                    }
                }
            }
}

void nncw_kernel_col2im_f32(const struct nncw_conv2d_geom *g, const float *col, int cnt, float *dx)
{
    const size_t hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow, ncols = cnt * ohw;
    const int ow_n = g->ow, sw = g->sw;
    for (int c = 0; c < g->c; c++)
        for (int ki = 0; ki < g->kh; ki++)
            for (int kj = 0; kj < g->kw; kj++) {
                const float *row = col + ((size_t)(c * g->kh + ki) * g->kw + kj) * ncols;
                int off = kj * g->dw - g->pl, lo, hi;
                valid_range(off, sw, g->w, ow_n, &lo, &hi);
                for (int i = 0; i < cnt; i++) {
                    float *plane = dx + ((size_t)i * g->c + c) * hw;
                    for (int oh = 0; oh < g->oh; oh++) {
                        int ih = oh * g->sh - g->pt + ki * g->dh;
                        if (ih < 0 || ih >= g->h)
                            continue;
                        const float *src = row + i * ohw + (size_t)oh * ow_n;
                        float *dst = plane + (size_t)ih * g->w + off;
                        if (sw == 1)
                            for (int ow = lo; ow < hi; ow++)
                                dst[ow] += src[ow];
                        else
                            for (int ow = lo; ow < hi; ow++)
                                dst[ow * sw] += src[ow];
                    }
                }
            }
}

/* ---- fast kernels ---- */

/* a 1x1 stride-1 unpadded convolution reads the image itself as its column matrix */
static bool is_pointwise(const struct nncw_conv2d_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
           g->oh == g->h && g->ow == g->w;
}

static int chunk_images(const struct nncw_conv2d_geom *g)
{
    int ohw = g->oh * g->ow;
    if (ohw >= CONV_SINGLE_IMAGE_COLS)
        return 1;
    int cnt = (CONV_CHUNK_COLS + ohw - 1) / ohw;
    return cnt < g->n ? cnt : g->n;
}

static size_t col_rows(const struct nncw_conv2d_geom *g)
{
    return (size_t)g->c * g->kh * g->kw;
}

size_t nncw_kernel_conv2d_f32_scratch(const struct nncw_conv2d_geom *g, bool backward)
{
    (void)backward; /* forward: columns + gemm output; backward: columns + gathered dy */
    int cnt = chunk_images(g);
    size_t p = (size_t)cnt * g->oh * g->ow;
    size_t n = cnt == 1 && is_pointwise(g) ? 0 : col_rows(g) * p;
    if (cnt > 1)
        n += (size_t)g->m * p;
    return n ? n : 1;
}

/* y[m, i, :] of a chunk laid out [m, cnt * ohw] goes to NCHW, plus the bias */
static void scatter_chunk(const struct nncw_conv2d_geom *g, const float *src, int cnt,
                          const float *b, float *y)
{
    size_t ohw = (size_t)g->oh * g->ow, p = cnt * ohw;
    for (int i = 0; i < cnt; i++)
        for (int m = 0; m < g->m; m++) {
            const float *s = src + m * p + i * ohw;
            float *d = y + ((size_t)i * g->m + m) * ohw;
            float bias = b ? b[m] : 0.0f;
            for (size_t j = 0; j < ohw; j++)
                d[j] = s[j] + bias;
        }
}

static void add_bias(const struct nncw_conv2d_geom *g, const float *b, float *y)
{
    size_t ohw = (size_t)g->oh * g->ow;
    for (int m = 0; m < g->m; m++) {
        float *d = y + m * ohw;
        for (size_t j = 0; j < ohw; j++)
            d[j] += b[m];
    }
}

/* one sgemm per group: out[grp] = w[grp] . col[grp] */
static void gemm_groups_forward(const struct nncw_conv2d_geom *g, const float *w, const float *col,
                                int p, float *out)
{
    int mg = g->m / g->group, kg = (g->c / g->group) * g->kh * g->kw;
    for (int grp = 0; grp < g->group; grp++)
        nncw_blas_sgemm(false, false, mg, p, kg, 1.0f, w + (size_t)grp * mg * kg, kg,
                        col + (size_t)grp * kg * p, p, 0.0f, out + (size_t)grp * mg * p, p);
}

void nncw_kernel_conv2d_f32(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                            const float *b, float *y, float *scratch)
{
    const int cnt_max = chunk_images(g);
    const bool direct = cnt_max == 1 && is_pointwise(g);
    const size_t in_img = (size_t)g->c * g->h * g->w, out_img = (size_t)g->m * g->oh * g->ow;
    for (int n0 = 0; n0 < g->n; n0 += cnt_max) {
        int cnt = nncw_imin(cnt_max, g->n - n0);
        int p = cnt * g->oh * g->ow;
        const float *xs = x + n0 * in_img;
        float *ys = y + n0 * out_img;
        const float *col = xs;
        if (!direct) {
            nncw_kernel_im2col_f32(g, xs, cnt, scratch);
            col = scratch;
        }
        if (cnt == 1) {
            gemm_groups_forward(g, w, col, p, ys);
            if (b)
                add_bias(g, b, ys);
        } else {
            float *tmp = scratch + col_rows(g) * p;
            gemm_groups_forward(g, w, col, p, tmp);
            scatter_chunk(g, tmp, cnt, b, ys);
        }
    }
}

/* dy of a chunk from NCHW into [m, cnt * ohw] */
static void gather_chunk(const struct nncw_conv2d_geom *g, const float *dy, int cnt, float *dst)
{
    size_t ohw = (size_t)g->oh * g->ow, p = cnt * ohw;
    for (int i = 0; i < cnt; i++)
        for (int m = 0; m < g->m; m++)
            memcpy(dst + m * p + i * ohw, dy + ((size_t)i * g->m + m) * ohw, ohw * sizeof *dst);
}

/* sum with 16 independent partial sums, so the loop vectorizes without -ffast-math */
static float sum_f32(const float *x, size_t n)
{
    float part[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++)
            part[j] += x[i + j];
    float acc = 0.0f;
    for (; i < n; i++)
        acc += x[i];
    for (int j = 0; j < 16; j++)
        acc += part[j];
    return acc;
}

static void bias_grad(const struct nncw_conv2d_geom *g, const float *dy, int cnt, float *db)
{
    size_t ohw = (size_t)g->oh * g->ow;
    for (int i = 0; i < cnt; i++)
        for (int m = 0; m < g->m; m++)
            db[m] += sum_f32(dy + ((size_t)i * g->m + m) * ohw, ohw);
}

/* dw[grp] += dyc[grp] . col[grp]^T */
static void gemm_groups_dw(const struct nncw_conv2d_geom *g, const float *dyc, const float *col,
                           int p, float *dw)
{
    int mg = g->m / g->group, kg = (g->c / g->group) * g->kh * g->kw;
    for (int grp = 0; grp < g->group; grp++)
        nncw_blas_sgemm(false, true, mg, kg, p, 1.0f, dyc + (size_t)grp * mg * p, p,
                        col + (size_t)grp * kg * p, p, 1.0f, dw + (size_t)grp * mg * kg, kg);
}

/* dcol[grp] = w[grp]^T . dyc[grp] (beta 0), or += when accumulating straight into dx */
static void gemm_groups_dcol(const struct nncw_conv2d_geom *g, const float *w, const float *dyc,
                             int p, float beta, float *dcol)
{
    int mg = g->m / g->group, kg = (g->c / g->group) * g->kh * g->kw;
    for (int grp = 0; grp < g->group; grp++)
        nncw_blas_sgemm(true, false, kg, p, mg, 1.0f, w + (size_t)grp * mg * kg, kg,
                        dyc + (size_t)grp * mg * p, p, beta, dcol + (size_t)grp * kg * p, p);
}

void nncw_kernel_conv2d_backward_f32(const struct nncw_conv2d_geom *g, const float *x,
                                     const float *w, const float *dy, float *dx, float *dw,
                                     float *db, float *scratch)
{
    const int cnt_max = chunk_images(g);
    const bool direct = cnt_max == 1 && is_pointwise(g);
    const size_t in_img = (size_t)g->c * g->h * g->w, out_img = (size_t)g->m * g->oh * g->ow;
    for (int n0 = 0; n0 < g->n; n0 += cnt_max) {
        int cnt = nncw_imin(cnt_max, g->n - n0);
        int p = cnt * g->oh * g->ow;
        const float *xs = x + n0 * in_img, *dys = dy + n0 * out_img;
        if (db)
            bias_grad(g, dys, cnt, db);
        if (!dw && !dx)
            continue;
        const float *dyc = dys;
        if (cnt > 1) {
            float *buf = scratch + col_rows(g) * p;
            gather_chunk(g, dys, cnt, buf);
            dyc = buf;
        }
        if (dw) {
            const float *col = xs;
            if (!direct) {
                nncw_kernel_im2col_f32(g, xs, cnt, scratch);
                col = scratch;
            }
            gemm_groups_dw(g, dyc, col, p, dw);
        }
        if (dx) {
            if (direct) {
                gemm_groups_dcol(g, w, dyc, p, 1.0f, dx + n0 * in_img);
            } else {
                gemm_groups_dcol(g, w, dyc, p, 0.0f, scratch);
                nncw_kernel_col2im_f32(g, scratch, cnt, dx + n0 * in_img);
            }
        }
    }
}

/* ---- the op ---- */

/* reads an ints attribute of exactly `want` values each >= min into v; absent keeps v */
static enum nncw_status get_ints(const struct nncw_node *node, const char *name, int want,
                                 int64_t min, int64_t *v)
{
    const int64_t *a;
    int n = nncw_node_get_attr_ints(node, name, &a);
    if (n < 0)
        return NNCW_OK;
    if (n != want)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "conv '%s': %s has %d values, expected %d",
                         nncw_node_get_name(node), name, n, want);
    for (int i = 0; i < n; i++) {
        if (a[i] < min || a[i] > INT_MAX / 4)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "conv '%s': %s[%d] = %lld is out of range",
                             nncw_node_get_name(node), name, i, (long long)a[i]);
        v[i] = a[i];
    }
    return NNCW_OK;
}

static enum nncw_status check_operands(const struct nncw_node *node, const struct nncw_tensor *x,
                                       const struct nncw_tensor *w, const struct nncw_tensor *b)
{
    const char *name = nncw_node_get_name(node);
    char sx[96], sw[96];
    if (x->dtype != NNCW_DTYPE_F32 || w->dtype != NNCW_DTYPE_F32 ||
        (b && b->dtype != NNCW_DTYPE_F32))
        return NNCW_FAIL(NNCW_ERR_DTYPE, "conv '%s': inputs must be f32", name);
    if (x->ndim != 4 || w->ndim != 4)
        return NNCW_FAIL(x->ndim == w->ndim && x->ndim >= 3 ? NNCW_ERR_UNSUPPORTED : NNCW_ERR_SHAPE,
                         "conv '%s': input %s, weight %s: only 2-D convolution (4-D NCHW) "
                         "is supported",
                         name, nncw_tensor_shape_str(x, sx, sizeof sx),
                         nncw_tensor_shape_str(w, sw, sizeof sw));
    for (int i = 0; i < 4; i++)
        if (x->shape[i] < 1 || x->shape[i] > INT_MAX / 4 || w->shape[i] < 1 ||
            w->shape[i] > INT_MAX / 4)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "conv '%s': input %s, weight %s: bad dimension",
                             name, nncw_tensor_shape_str(x, sx, sizeof sx),
                             nncw_tensor_shape_str(w, sw, sizeof sw));
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        return NNCW_FAIL(NNCW_ERR_SHAPE, "conv '%s': bias %s, expected [%lld] (weight %s)", name,
                         nncw_tensor_shape_str(b, sx, sizeof sx), (long long)w->shape[0],
                         nncw_tensor_shape_str(w, sw, sizeof sw));
    return NNCW_OK;
}

static enum nncw_status check_channels(const struct nncw_node *node, const struct nncw_tensor *x,
                                       const struct nncw_tensor *w, int64_t group)
{
    const char *name = nncw_node_get_name(node);
    if (group < 1 || group > x->shape[1] || x->shape[1] % group || w->shape[0] % group)
        return NNCW_FAIL(NNCW_ERR_SHAPE,
                         "conv '%s': group %lld does not divide %lld input and %lld output "
                         "channels",
                         name, (long long)group, (long long)x->shape[1], (long long)w->shape[0]);
    if (x->shape[1] != w->shape[1] * group)
        return NNCW_FAIL(NNCW_ERR_SHAPE,
                         "conv '%s': input has %lld channels, weight expects %lld (group %lld)",
                         name, (long long)x->shape[1], (long long)(w->shape[1] * group),
                         (long long)group);
    return NNCW_OK;
}

/* resolves H and W windows from the attributes */
static enum nncw_status get_windows(const struct nncw_node *node, const struct nncw_tensor *x,
                                    const struct nncw_tensor *w, struct nncw_window_dim d[2])
{
    const char *name = nncw_node_get_name(node);
    int64_t ks[2] = {w->shape[2], w->shape[3]}, st[2] = {1, 1}, dl[2] = {1, 1};
    int64_t pads[4] = {0, 0, 0, 0};
    NNCW_TRY(get_ints(node, "kernel_shape", 2, 1, ks));
    NNCW_TRY(get_ints(node, "strides", 2, 1, st));
    NNCW_TRY(get_ints(node, "dilations", 2, 1, dl));
    NNCW_TRY(get_ints(node, "pads", 4, 0, pads));
    if (ks[0] != w->shape[2] || ks[1] != w->shape[3])
        return NNCW_FAIL(NNCW_ERR_SHAPE, "conv '%s': kernel_shape %lldx%lld, weight has %lldx%lld",
                         name, (long long)ks[0], (long long)ks[1], (long long)w->shape[2],
                         (long long)w->shape[3]);
    enum nncw_auto_pad ap;
    const char *aps = nncw_node_get_attr_string(node, "auto_pad", "NOTSET");
    if (!nncw_auto_pad_parse(aps, &ap))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "conv '%s': unknown auto_pad '%s'", name, aps);
    for (int i = 0; i < 2; i++) {
        d[i] = (struct nncw_window_dim){.in = x->shape[2 + i], .k = ks[i], .stride = st[i],
                                        .dil = dl[i], .pad_lo = pads[i], .pad_hi = pads[2 + i]};
        if (!nncw_window_dim_resolve(&d[i], ap, false) || d[i].out > INT_MAX / 4)
            return NNCW_FAIL(NNCW_ERR_SHAPE,
                             "conv '%s': %s: kernel %lld (dilation %lld) does not fit input %lld "
                             "with pads %lld+%lld",
                             name, i == 0 ? "height" : "width", (long long)ks[i],
                             (long long)dl[i], (long long)d[i].in, (long long)d[i].pad_lo,
                             (long long)d[i].pad_hi);
    }
    return NNCW_OK;
}

static enum nncw_status conv_geom_get(const struct nncw_node *node, const struct nncw_tensor *x,
                                      const struct nncw_tensor *w, const struct nncw_tensor *b,
                                      struct nncw_conv2d_geom *g)
{
    NNCW_TRY(check_operands(node, x, w, b));
    int64_t group = nncw_node_get_attr_int(node, "group", 1);
    NNCW_TRY(check_channels(node, x, w, group));
    struct nncw_window_dim d[2];
    NNCW_TRY(get_windows(node, x, w, d));
    if ((double)d[0].out * d[1].out > INT_MAX / 4 ||
        (double)x->shape[1] * w->shape[2] * w->shape[3] > INT_MAX / 4)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "conv '%s': too large for 32-bit sgemm sizes",
                         nncw_node_get_name(node));
    *g = (struct nncw_conv2d_geom){
        .n = (int)x->shape[0], .c = (int)x->shape[1], .h = (int)x->shape[2],
        .w = (int)x->shape[3], .m = (int)w->shape[0], .group = (int)group,
        .kh = (int)d[0].k, .kw = (int)d[1].k, .sh = (int)d[0].stride, .sw = (int)d[1].stride,
        .dh = (int)d[0].dil, .dw = (int)d[1].dil, .pt = (int)d[0].pad_lo,
        .pl = (int)d[1].pad_lo, .oh = (int)d[0].out, .ow = (int)d[1].out};
    return NNCW_OK;
}

static const struct nncw_tensor *opt_bias(const struct nncw_tensor *const in[], int n_in)
{
    return n_in > 2 ? in[2] : NULL;
}

static enum nncw_status conv_infer(const struct nncw_node *node,
                                   const struct nncw_tensor *const in[], int n_in,
                                   struct nncw_tensor out[])
{
    struct nncw_conv2d_geom g;
    NNCW_TRY(conv_geom_get(node, in[0], in[1], opt_bias(in, n_in), &g));
    int64_t shape[4] = {g.n, g.m, g.oh, g.ow};
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, 4, shape, NULL);
    return NNCW_OK;
}

static float *data_or_null(const struct nncw_tensor *t)
{
    return t ? nncw_tensor_f32(t) : NULL;
}

static enum nncw_status conv_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[])
{
    struct nncw_conv2d_geom g;
    NNCW_TRY(conv_geom_get(node, in[0], in[1], n_in > 2 ? in[2] : NULL, &g));
    size_t nfloats = nncw_kernel_conv2d_f32_scratch(&g, false);
    float *scratch = nncw_op_ctx_scratch(ctx, nfloats * sizeof(float));
    if (!scratch)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "conv '%s': cannot allocate %zu bytes of scratch",
                         nncw_node_get_name(node), nfloats * sizeof(float));
    nncw_kernel_conv2d_f32(&g, nncw_tensor_f32(in[0]), nncw_tensor_f32(in[1]),
                           data_or_null(n_in > 2 ? in[2] : NULL), nncw_tensor_f32(out[0]),
                           scratch);
    return NNCW_OK;
}

static enum nncw_status conv_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                      struct nncw_tensor *const in[], int n_in,
                                      struct nncw_tensor *const out[],
                                      struct nncw_tensor *const grad_out[],
                                      struct nncw_tensor *const grad_in[])
{
    (void)out;
    if (!grad_out[0])
        return NNCW_OK;
    struct nncw_conv2d_geom g;
    NNCW_TRY(conv_geom_get(node, in[0], in[1], n_in > 2 ? in[2] : NULL, &g));
    size_t nfloats = nncw_kernel_conv2d_f32_scratch(&g, true);
    float *scratch = nncw_op_ctx_scratch(ctx, nfloats * sizeof(float));
    if (!scratch)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "conv '%s': cannot allocate %zu bytes of scratch",
                         nncw_node_get_name(node), nfloats * sizeof(float));
    nncw_kernel_conv2d_backward_f32(&g, nncw_tensor_f32(in[0]), nncw_tensor_f32(in[1]),
                                    nncw_tensor_f32(grad_out[0]), data_or_null(grad_in[0]),
                                    data_or_null(grad_in[1]),
                                    data_or_null(n_in > 2 ? grad_in[2] : NULL), scratch);
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_conv = {
    "Conv", "Conv", 2, 3, 1, conv_infer, conv_forward, conv_backward,
};
