/* Conv (ONNX semantics, 2-D NCHW). Kernel rows and columns that read only padding for every
 * output pixel (small planes: torchvision's ResNet-18 fed 32x32 images ends on 1x1 planes) are
 * cropped away first (ops/conv_crop.c). Where nncw's AVX-512 sgemm runs, 3x3 stride-1 pad-1
 * convolutions go through Winograd F(4x4, 3x3) or F(2x2, 3x3) (ops/conv_winograd.c), the
 * other ungrouped ones through implicit GEMM (ops/conv_implicit.c); everything else, and the fallback, is
 * im2col + one sgemm per group over a chunk of images (the backward pass recomputes the
 * columns rather than keeping them), a direct path for 1x1 stride-1 convolutions, direct loops
 * for depthwise ones, and the reference kernel. */
#include "ops/conv.h"

#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "core/common.h"
#include "ops/blas.h"
#include "ops/conv_crop.h"
#include "ops/conv_direct_input_grad.h"
#include "ops/conv_implicit.h"
#include "ops/conv_winograd.h"
#include "ops/ops_internal.h"
#include "ops/parallel.h"
#include "ops/window.h"

/* Images go through im2col and sgemm in chunks of about CONV_CHUNK_COLS output pixels: wide
 * enough for an efficient sgemm on small planes (ResNet-18's 4x4 layer gets the whole batch of
 * 32 in one), small enough that the columns stay in cache (ResNet-18's 3x3 convs: 2.4-4.7 MB).
 * Measured on the CNN and ResNet-18 shapes: 2048 to 8192 are within 2 % of each other; 4096
 * beats one image per sgemm by 6 % on 32x32 planes. A 1x1 stride-1 convolution on a plane of
 * at least CONV_POINTWISE_COLS pixels reads each image as its own column matrix instead. */
#ifndef CONV_CHUNK_COLS
#define CONV_CHUNK_COLS 4096
#endif
enum { CONV_POINTWISE_COLS = 1024 };

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

/* ---- fast kernels ---- */

/* depthwise (one input channel per group) runs as direct loops over planes: im2col would copy
 * 9x the input for 2 FLOPs per copied value */
static bool is_depthwise(const struct nncw_conv2d_geom *g)
{
    return g->group > 1 && g->group == g->c;
}

/* a 1x1 stride-1 unpadded convolution reads the image itself as its column matrix */
static bool is_pointwise(const struct nncw_conv2d_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
           g->oh == g->h && g->ow == g->w;
}

static int chunk_images(const struct nncw_conv2d_geom *g)
{
    int ohw = g->oh * g->ow;
    if (is_pointwise(g) && ohw >= CONV_POINTWISE_COLS)
        return 1;
    int cnt = (CONV_CHUNK_COLS + ohw - 1) / ohw;
    return cnt < g->n ? cnt : g->n;
}

static size_t col_rows(const struct nncw_conv2d_geom *g)
{
    return (size_t)g->c * g->kh * g->kw;
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

/* ---- depthwise ----
 * Each plane is first copied into a zero-padded buffer, so the taps need no bounds checks.
 * With equal strides s the output is computed wide (rows as long as the padded width): output
 * J of tap t then reads padded pixel s * J + t. Splitting the padded plane into s phases
 * (pixel q goes to phase q % s, slot q / s) makes that a contiguous run, so every tap is one
 * vectorized multiply-add over the whole plane instead of a loop per output row (3x faster on
 * 16x16 planes, more with stride 2). Unequal strides take row loops. */

/* sum of a[j] * b[j * bstride], with 8 partial sums so it vectorizes or at least pipelines */
static float dot_f32(const float *a, const float *b, int bstride, int n)
{
    float part[8] = {0}, acc = 0.0f;
    int j = 0;
    if (bstride == 1)
        for (; j + 8 <= n; j += 8)
            for (int k = 0; k < 8; k++)
                part[k] += a[j + k] * b[j + k];
    else
        for (; j + 8 <= n; j += 8)
            for (int k = 0; k < 8; k++)
                part[k] += a[j + k] * b[(size_t)(j + k) * bstride];
    for (; j < n; j++)
        acc += a[j] * b[(size_t)j * bstride];
    for (int k = 0; k < 8; k++)
        acc += part[k];
    return acc;
}

enum { DW_MAX_TAPS = 49 };

struct dw_layout {
    int hp, wp;              /* padded plane */
    int st;                  /* the stride when both are equal (phases), else 0 */
    size_t np, lp;           /* floats of the padded plane (with slack) and of one phase */
    size_t nw;               /* floats of the wide output */
    size_t tap[DW_MAX_TAPS]; /* with phases: where each tap's run starts */
};

/* where padded pixel q lives: phase q % s, slot q / s */
static size_t dw_slot(const struct dw_layout *l, size_t q)
{
    return l->st ? (q % l->st) * l->lp + q / l->st : q;
}

static void dw_layout_get(const struct nncw_conv2d_geom *g, struct dw_layout *l)
{
    l->hp = (g->oh - 1) * g->sh + (g->kh - 1) * g->dh + 1;
    l->wp = (g->ow - 1) * g->sw + (g->kw - 1) * g->dw + 1;
    l->st = g->sh == g->sw && g->kh * g->kw <= DW_MAX_TAPS ? g->sw : 0;
    /* the wide output's extra columns read up to s rows past the plane */
    l->np = (size_t)(l->hp + g->sh) * l->wp;
    l->lp = l->st ? (l->np + l->st - 1) / l->st : l->np;
    l->nw = (size_t)g->oh * l->wp;
    for (int ki = 0; l->st && ki < g->kh; ki++)
        for (int kj = 0; kj < g->kw; kj++)
            l->tap[ki * g->kw + kj] = dw_slot(l, (size_t)ki * g->dh * l->wp + kj * g->dw);
}

/* padded input, its phases, padded input gradient (phases too) and the wide output */
static size_t dw_scratch(const struct nncw_conv2d_geom *g)
{
    struct dw_layout l;
    dw_layout_get(g, &l);
    size_t ph = l.st ? l.st * l.lp : l.np;
    return l.np + 2 * ph + l.nw;
}

/* xp = the zero-padded plane; xq = its phases (xp itself for stride 1 or row loops) */
static const float *dw_pad_plane(const struct nncw_conv2d_geom *g, const struct dw_layout *l,
                                 const float *x, float *xp, float *xq)
{
    int ih1 = nncw_imin(g->h, l->hp - g->pt), iw1 = nncw_imin(g->w, l->wp - g->pl);
    memset(xp, 0, l->np * sizeof *xp);
    for (int ih = 0; ih < ih1 && iw1 > 0; ih++)
        memcpy(xp + (size_t)(ih + g->pt) * l->wp + g->pl, x + (size_t)ih * g->w,
               (size_t)iw1 * sizeof *xp);
    if (l->st <= 1)
        return xp;
    const size_t st = (size_t)l->st, lp = l->lp, full = l->np / st;
    memset(xq, 0, st * lp * sizeof *xq);
    if (st == 2) /* constant stride: vectorizes */
        for (size_t k = 0; k < full; k++) {
            xq[k] = xp[2 * k];
            xq[lp + k] = xp[2 * k + 1];
        }
    else
        for (size_t r = 0; r < st; r++)
            for (size_t k = 0; k < full; k++)
                xq[r * lp + k] = xp[r + k * st];
    for (size_t q = full * st; q < l->np; q++)
        xq[(q % st) * lp + q / st] = xp[q];
    return xq;
}

/* dx += the padded gradient's interior */
static void dw_unpad_grad(const struct nncw_conv2d_geom *g, const struct dw_layout *l,
                          const float *dq, float *dx)
{
    int ih1 = nncw_imin(g->h, l->hp - g->pt), iw1 = nncw_imin(g->w, l->wp - g->pl);
    for (int ih = 0; ih < ih1; ih++) {
        size_t q = (size_t)(ih + g->pt) * l->wp + g->pl;
        float *d = dx + (size_t)ih * g->w;
        if (l->st <= 1) {
            for (int iw = 0; iw < iw1; iw++)
                d[iw] += dq[q + iw];
            continue;
        }
        size_t r = q % l->st, k = q / l->st; /* walk the phases without dividing */
        for (int iw = 0; iw < iw1; iw++) {
            d[iw] += dq[r * l->lp + k];
            if (++r == (size_t)l->st) {
                r = 0;
                k++;
            }
        }
    }
}

/* y = bias + taps of w over the padded plane (phases xq when l->st); wide: l->nw floats */
static void dw_forward_plane(const struct nncw_conv2d_geom *g, const struct dw_layout *l,
                             const float *xq, const float *w, float bias, float *wide, float *y)
{
    const size_t nw = l->nw;
    if (l->st) {
        /* three taps per pass over the output: a third of the load-add-store traffic */
        const int nt = g->kh * g->kw;
        int t = 0;
        memset(wide, 0, nw * sizeof *wide);
        for (; t + 3 <= nt; t += 3) {
            const float *s0 = xq + l->tap[t], *s1 = xq + l->tap[t + 1], *s2 = xq + l->tap[t + 2];
            float w0 = w[t], w1 = w[t + 1], w2 = w[t + 2];
            for (size_t j = 0; j < nw; j++)
                wide[j] += w0 * s0[j] + w1 * s1[j] + w2 * s2[j];
        }
        for (; t < nt; t++) {
            const float *src = xq + l->tap[t];
            float wv = w[t];
            for (size_t j = 0; j < nw; j++)
                wide[j] += wv * src[j];
        }
        for (int oh = 0; oh < g->oh; oh++)
            for (int ow = 0; ow < g->ow; ow++)
                y[oh * g->ow + ow] = bias + wide[(size_t)oh * l->wp + ow];
        return;
    }
    for (size_t j = 0; j < (size_t)g->oh * g->ow; j++)
        y[j] = bias;
    for (int oh = 0; oh < g->oh; oh++)
        for (int ki = 0; ki < g->kh; ki++)
            for (int kj = 0; kj < g->kw; kj++) {
                const float *src = xq + (size_t)(oh * g->sh + ki * g->dh) * l->wp + kj * g->dw;
                float wv = w[ki * g->kw + kj], *dst = y + (size_t)oh * g->ow;
                for (int ow = 0; ow < g->ow; ow++)
                    dst[ow] += wv * src[(size_t)ow * g->sw];
            }
}

/* dq += taps of w spread back from dy and dw[tap] += dy . (input under the tap), over the
 * padded plane (phases when l->st); wide: l->nw floats */
static void dw_backward_plane(const struct nncw_conv2d_geom *g, const struct dw_layout *l,
                              const float *xq, const float *w, const float *dy, float *wide,
                              float *dq, float *dw)
{
    const size_t nw = l->nw;
    if (l->st) { /* dy spread to the wide layout, zeros in the extra columns */
        memset(wide, 0, nw * sizeof *wide);
        for (int oh = 0; oh < g->oh; oh++)
            memcpy(wide + (size_t)oh * l->wp, dy + (size_t)oh * g->ow, g->ow * sizeof *wide);
    }
    for (int ki = 0; ki < g->kh; ki++)
        for (int kj = 0; kj < g->kw; kj++) {
            float wv = w[ki * g->kw + kj], acc = 0.0f;
            size_t tap = (size_t)ki * g->dh * l->wp + kj * g->dw;
            if (l->st) {
                size_t at = l->tap[ki * g->kw + kj];
                if (dw)
                    acc = dot_f32(wide, xq + at, 1, (int)nw);
                if (dq) {
                    float *d = dq + at;
                    for (size_t j = 0; j < nw; j++)
                        d[j] += wv * wide[j];
                }
            } else {
                for (int oh = 0; oh < g->oh; oh++) {
                    size_t at = tap + (size_t)oh * g->sh * l->wp;
                    const float *e = dy + (size_t)oh * g->ow;
                    if (dw)
                        acc += dot_f32(e, xq + at, g->sw, g->ow);
                    if (dq)
                        for (int ow = 0; ow < g->ow; ow++)
                            dq[at + (size_t)ow * g->sw] += wv * e[ow];
                }
            }
            if (dw)
                dw[ki * g->kw + kj] += acc;
        }
}

static void depthwise_forward(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                              const float *b, float *y, float *scratch)
{
    const size_t hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow, kk = (size_t)g->kh * g->kw;
    const int mg = g->m / g->group;
    struct dw_layout l;
    dw_layout_get(g, &l);
    size_t ph = l.st ? l.st * l.lp : l.np;
    float *xp = scratch, *xq = xp + l.np, *wide = xq + 2 * ph;
    for (int n = 0; n < g->n; n++)
        for (int c = 0; c < g->c; c++) {
            const float *planes = dw_pad_plane(g, &l, x + ((size_t)n * g->c + c) * hw, xp, xq);
            for (int m = c * mg; m < (c + 1) * mg; m++)
                dw_forward_plane(g, &l, planes, w + m * kk, b ? b[m] : 0.0f, wide,
                                 y + ((size_t)n * g->m + m) * ohw);
        }
}

static void depthwise_backward(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                               const float *dy, float *dx, float *dw, float *scratch)
{
    const size_t hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow, kk = (size_t)g->kh * g->kw;
    const int mg = g->m / g->group;
    struct dw_layout l;
    dw_layout_get(g, &l);
    size_t ph = l.st ? l.st * l.lp : l.np;
    float *xp = scratch, *xq = xp + l.np, *dq = xq + ph, *wide = dq + ph;
    for (int n = 0; n < g->n; n++)
        for (int c = 0; c < g->c; c++) {
            size_t xi = ((size_t)n * g->c + c) * hw;
            const float *planes = dw_pad_plane(g, &l, x + xi, xp, xq);
            if (dx)
                memset(dq, 0, ph * sizeof *dq);
            for (int m = c * mg; m < (c + 1) * mg; m++)
                dw_backward_plane(g, &l, planes, w + m * kk, dy + ((size_t)n * g->m + m) * ohw,
                                  wide, dx ? dq : NULL, dw ? dw + m * kk : NULL);
            if (dx)
                dw_unpad_grad(g, &l, dq, dx + xi);
        }
}

/* ---- entry points ---- */

/* forward: columns + the chunk's sgemm output; backward: columns + the chunk's gathered dy */
static size_t scratch_uncropped(const struct nncw_conv2d_geom *g)
{
    if (is_depthwise(g))
        return dw_scratch(g);
    int cnt = chunk_images(g);
    size_t p = (size_t)cnt * g->oh * g->ow;
    size_t n = cnt == 1 && is_pointwise(g) ? 0 : col_rows(g) * p;
    if (cnt > 1)
        n += (size_t)g->m * p;
    /* the implicit input gradient's flipped kernel; the im2col path stays the fallback, and
     * pages it never touches cost no memory */
    size_t flipped = (size_t)g->m * col_rows(g);
    if (nncw_conv2d_implicit_input_grad_applies(g) && flipped > n)
        n = flipped;
    return n ? n : 1;
}

static void forward_uncropped(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                              const float *b, float *y, float *scratch)
{
    if (is_depthwise(g)) {
        depthwise_forward(g, x, w, b, y, scratch);
        return;
    }
    if (nncw_conv2d_winograd_forward(g, x, w, b, 0.0f, y) ||
        nncw_conv2d_implicit_forward(g, x, w, b, 0.0f, y))
        return;
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

struct gather_job {
    const struct nncw_conv2d_geom *g;
    const float *dy;
    int cnt;
    float *dst;
};

static void gather_channels(void *arg, int64_t m0, int64_t m1)
{
    const struct gather_job *j = arg;
    size_t ohw = (size_t)j->g->oh * j->g->ow, p = j->cnt * ohw;
    for (int i = 0; i < j->cnt; i++)
        for (int m = (int)m0; m < (int)m1; m++)
            memcpy(j->dst + m * p + i * ohw, j->dy + ((size_t)i * j->g->m + m) * ohw,
                   ohw * sizeof *j->dst);
}

/* dy of a chunk from NCHW into [m, cnt * ohw], channels over the threads (as im2col) */
static void gather_chunk(const struct nncw_conv2d_geom *g, const float *dy, int cnt, float *dst)
{
    struct gather_job j = {g, dy, cnt, dst};
    nncw_parallel_for(g->m, 1, (double)cnt * g->oh * g->ow, gather_channels, &j);
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

/* im2col per chunk of images: dw += dy . col^T, dcol = W^T dy then col2im into dx */
static void backward_im2col(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                            const float *dy, float *dx, float *dw, float *db, float *scratch)
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

static void backward_uncropped(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                               const float *dy, float *dx, float *dw, float *db, float *scratch)
{
    if (is_depthwise(g)) {
        if (db)
            bias_grad(g, dy, g->n, db);
        if (dx || dw)
            depthwise_backward(g, x, w, dy, dx, dw, scratch);
        return;
    }
    if (db && nncw_conv2d_implicit_applies(g)) {
        bias_grad(g, dy, g->n, db);
        db = NULL;
    }
    if (dw && nncw_conv2d_implicit_weight_grad(g, x, dy, dw))
        dw = NULL;
    if (dx && (nncw_conv2d_direct_input_grad(g, w, dy, dx) ||
               nncw_conv2d_winograd_input_grad(g, w, dy, dx) ||
               nncw_conv2d_implicit_input_grad(g, w, dy, dx, scratch)))
        dx = NULL;
    if (dx || dw || db)
        backward_im2col(g, x, w, dy, dx, dw, db, scratch);
}

/* ---- the entry points: kernels cropped to the taps that read the input ----
 * Scratch then holds the cropped kernel, its gradient, and the cropped convolution's scratch. */

size_t nncw_kernel_conv2d_f32_scratch(const struct nncw_conv2d_geom *g)
{
    struct nncw_conv2d_crop k;
    if (!nncw_conv2d_crop_get(g, &k))
        return scratch_uncropped(g);
    return 2 * nncw_conv2d_crop_weight_count(&k) + scratch_uncropped(&k.g);
}

void nncw_kernel_conv2d_f32(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                            const float *b, float *y, float *scratch)
{
    struct nncw_conv2d_crop k;
    if (!nncw_conv2d_crop_get(g, &k)) {
        forward_uncropped(g, x, w, b, y, scratch);
        return;
    }
    size_t nw = nncw_conv2d_crop_weight_count(&k);
    nncw_conv2d_crop_weights(g, &k, w, scratch);
    forward_uncropped(&k.g, x, scratch, b, y, scratch + 2 * nw);
}

void nncw_kernel_conv2d_backward_f32(const struct nncw_conv2d_geom *g, const float *x,
                                     const float *w, const float *dy, float *dx, float *dw,
                                     float *db, float *scratch)
{
    struct nncw_conv2d_crop k;
    if (!nncw_conv2d_crop_get(g, &k)) {
        backward_uncropped(g, x, w, dy, dx, dw, db, scratch);
        return;
    }
    size_t nw = nncw_conv2d_crop_weight_count(&k);
    float *wc = scratch, *dwc = dw ? scratch + nw : NULL;
    if (dx)
        nncw_conv2d_crop_weights(g, &k, w, wc);
    if (dwc)
        memset(dwc, 0, nw * sizeof *dwc);
    backward_uncropped(&k.g, x, wc, dy, dx, dwc, db, scratch + 2 * nw);
    if (dwc)
        nncw_conv2d_crop_add_grad(g, &k, dwc, dw);
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
        return NNCW_FAIL(NNCW_ERR_DTYPE, "conv '%s': inputs must be float32", name);
    if (x->ndim != 4 || w->ndim != 4)
        return NNCW_FAIL(x->ndim == w->ndim && x->ndim >= 3 ? NNCW_ERR_UNSUPPORTED : NNCW_ERR_SHAPE,
                         "conv '%s': input %s, weight %s: only 2-D convolution (4-D NCHW) "
                         "is supported",
                         name, nncw_tensor_shape_str(x, sx, sizeof sx),
                         nncw_tensor_shape_str(w, sw, sizeof sw));
    for (int i = 0; i < 4; i++)
        if (x->shape[i] < 1 || x->shape[i] > INT_MAX / 4 || w->shape[i] < 1 ||
            w->shape[i] > INT_MAX / 4)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "conv '%s': input %s, weight %s: bad dimension", name,
                             nncw_tensor_shape_str(x, sx, sizeof sx),
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
        return NNCW_FAIL(
            NNCW_ERR_SHAPE, "conv '%s': input has %lld channels, weight expects %lld (group %lld)",
            name, (long long)x->shape[1], (long long)(w->shape[1] * group), (long long)group);
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
        d[i] = (struct nncw_window_dim){.in = x->shape[2 + i],
                                        .k = ks[i],
                                        .stride = st[i],
                                        .dil = dl[i],
                                        .pad_lo = pads[i],
                                        .pad_hi = pads[2 + i]};
        if (!nncw_window_dim_resolve(&d[i], ap, false) || d[i].out > INT_MAX / 4)
            return NNCW_FAIL(NNCW_ERR_SHAPE,
                             "conv '%s': %s: kernel %lld (dilation %lld) does not fit input %lld "
                             "with pads %lld+%lld",
                             name, i == 0 ? "height" : "width", (long long)ks[i], (long long)dl[i],
                             (long long)d[i].in, (long long)d[i].pad_lo, (long long)d[i].pad_hi);
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
    *g = (struct nncw_conv2d_geom){.n = (int)x->shape[0],
                                   .c = (int)x->shape[1],
                                   .h = (int)x->shape[2],
                                   .w = (int)x->shape[3],
                                   .m = (int)w->shape[0],
                                   .group = (int)group,
                                   .kh = (int)d[0].k,
                                   .kw = (int)d[1].k,
                                   .sh = (int)d[0].stride,
                                   .sw = (int)d[1].stride,
                                   .dh = (int)d[0].dil,
                                   .dw = (int)d[1].dil,
                                   .pt = (int)d[0].pad_lo,
                                   .pl = (int)d[1].pad_lo,
                                   .oh = (int)d[0].out,
                                   .ow = (int)d[1].out};
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
    size_t nfloats = nncw_kernel_conv2d_f32_scratch(&g);
    float *scratch = nncw_op_ctx_scratch(ctx, nfloats * sizeof(float));
    if (!scratch)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "conv '%s': cannot allocate %zu bytes of scratch",
                         nncw_node_get_name(node), nfloats * sizeof(float));
    nncw_kernel_conv2d_f32(&g, nncw_tensor_f32(in[0]), nncw_tensor_f32(in[1]),
                           data_or_null(n_in > 2 ? in[2] : NULL), nncw_tensor_f32(out[0]), scratch);
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
    size_t nfloats = nncw_kernel_conv2d_f32_scratch(&g);
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
