/* im2col and its adjoint col2im for the convolutions that take the im2col path (ops/conv.c):
 * whole planes at once where the convolution keeps the width, index maps on tiny planes, row by
 * row otherwise. Channels are shared out over the worker threads: each touches only its own
 * planes, and run alone on the caller these passes would leave the other cores idle between
 * two parallel products (col2im was a fifth of a stride-2 input gradient's time). */
#include "ops/conv.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "ops/parallel.h"

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

/*
** Stride-1 convolutions that keep the width (ow == w: ResNet's 3x3 pad-1 convs) map pixel j of
** a col row to pixel j + shift of the input plane. A tap of one image then copies as one block
** plus zeroed borders, instead of one call per output row (which dominates on 4x4 planes).
*/
static bool keeps_rows(const struct nncw_conv2d_geom *g)
{
    return g->sh == 1 && g->sw == 1 && g->ow == g->w;
}

/* the valid output rows [*r0, *r1) and columns [*c0, *c1) of tap (ki, kj), and its shift */
static ptrdiff_t tap_window(const struct nncw_conv2d_geom *g, int ki, int kj, int *r0, int *r1,
                            int *c0, int *c1)
{
    valid_range(ki * g->dh - g->pt, g->sh, g->h, g->oh, r0, r1);
    valid_range(kj * g->dw - g->pl, g->sw, g->w, g->ow, c0, c1);
    return (ptrdiff_t)(ki * g->dh - g->pt) * g->w + (kj * g->dw - g->pl);
}

/* zeroes the columns outside [c0, c1) of rows [r0, r1) */
static void zero_side_columns(float *dst, int ow, int r0, int r1, int c0, int c1)
{
    if (c0 == 0 && c1 == ow)
        return;
    for (int r = r0; r < r1; r++) {
        float *d = dst + (size_t)r * ow;
        for (int j = 0; j < c0; j++)
            d[j] = 0.0f;
        for (int j = c1; j < ow; j++)
            d[j] = 0.0f;
    }
}

static void im2col_tap_flat(const struct nncw_conv2d_geom *g, const float *plane, int ki, int kj,
                            float *dst)
{
    size_t ohw = (size_t)g->oh * g->ow;
    int r0, r1, c0, c1;
    ptrdiff_t shift = tap_window(g, ki, kj, &r0, &r1, &c0, &c1);
    if (r0 >= r1 || c0 >= c1) {
        memset(dst, 0, ohw * sizeof *dst);
        return;
    }
    size_t start = (size_t)r0 * g->ow + c0, end = (size_t)(r1 - 1) * g->ow + c1;
    memset(dst, 0, start * sizeof *dst);
    memcpy(dst + start, plane + ((ptrdiff_t)start + shift), (end - start) * sizeof *dst);
    memset(dst + end, 0, (ohw - end) * sizeof *dst);
    zero_side_columns(dst, g->ow, r0, r1, c0, c1);
}

/* the adjoint; zeroes the entries of src that belong to padding first */
static void col2im_tap_flat(const struct nncw_conv2d_geom *g, float *src, int ki, int kj,
                            float *plane)
{
    int r0, r1, c0, c1;
    ptrdiff_t shift = tap_window(g, ki, kj, &r0, &r1, &c0, &c1);
    if (r0 >= r1 || c0 >= c1)
        return;
    zero_side_columns(src, g->ow, r0, r1, c0, c1);
    size_t start = (size_t)r0 * g->ow + c0, n = (size_t)(r1 - 1) * g->ow + c1 - start;
    float *d = plane + ((ptrdiff_t)start + shift);
    const float *s = src + start;
    for (size_t j = 0; j < n; j++)
        d[j] += s[j];
}

/* any stride and width: row by row */
static void im2col_tap_rows(const struct nncw_conv2d_geom *g, const float *plane, int ki, int kj,
                            float *dst)
{
    const int ow_n = g->ow, sw = g->sw, off = kj * g->dw - g->pl;
    int lo, hi;
    valid_range(off, sw, g->w, ow_n, &lo, &hi);
    for (int oh = 0; oh < g->oh; oh++, dst += ow_n) {
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

static void col2im_tap_rows(const struct nncw_conv2d_geom *g, const float *src, int ki, int kj,
                            float *plane)
{
    const int ow_n = g->ow, sw = g->sw, off = kj * g->dw - g->pl;
    int lo, hi;
    valid_range(off, sw, g->w, ow_n, &lo, &hi);
    for (int oh = 0; oh < g->oh; oh++, src += ow_n) {
        int ih = oh * g->sh - g->pt + ki * g->dh;
        if (ih < 0 || ih >= g->h)
            continue;
        float *dst = plane + (size_t)ih * g->w + off;
        if (sw == 1)
            for (int ow = lo; ow < hi; ow++)
                dst[ow] += src[ow];
        else
            for (int ow = lo; ow < hi; ow++)
                dst[ow * sw] += src[ow];
    }
}

/*
** Tiny output planes (ResNet's 4x4) spend more on per-row bookkeeping than on copying; there
** each tap gets an index map from output pixel to input pixel (-1: padding), built once and
** reused for every channel and image. Measured: 2x faster on 4x4, slower from 8x8 up.
*/
enum { CONV_MAP_PIXELS = 32, CONV_MAP_TAPS = 49 };

static bool uses_maps(const struct nncw_conv2d_geom *g)
{
    return g->oh * g->ow <= CONV_MAP_PIXELS && g->kh * g->kw <= CONV_MAP_TAPS;
}

/* maps[(ki * kw + kj) * oh * ow + p]: the input pixel output pixel p reads through tap
 * (ki, kj), or -1 */
static void tap_maps(const struct nncw_conv2d_geom *g, int *maps)
{
    for (int ki = 0; ki < g->kh; ki++)
        for (int kj = 0; kj < g->kw; kj++)
            for (int oh = 0; oh < g->oh; oh++) {
                int ih = oh * g->sh - g->pt + ki * g->dh;
                for (int ow = 0; ow < g->ow; ow++) {
                    int iw = ow * g->sw - g->pl + kj * g->dw;
                    bool in = ih >= 0 && ih < g->h && iw >= 0 && iw < g->w;
                    *maps++ = in ? ih * g->w + iw : -1;
                }
            }
}

/* one of the two passes over channels [c0, c1) */
struct col_pass {
    const struct nncw_conv2d_geom *g;
    const float *x; /* im2col: the images */
    float *col;
    float *dx; /* col2im: the gradient images */
    int cnt;
};

/* Rows of col go tap by tap within a channel, so each input plane is read while it is hot. */
static void im2col_channels(void *arg, int64_t c0, int64_t c1)
{
    const struct col_pass *a = arg;
    const struct nncw_conv2d_geom *g = a->g;
    const int cnt = a->cnt;
    const size_t hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow, ncols = cnt * ohw;
    const bool small = uses_maps(g), flat = keeps_rows(g);
    int maps[CONV_MAP_TAPS * CONV_MAP_PIXELS];
    if (small)
        tap_maps(g, maps);
    for (int c = (int)c0; c < (int)c1; c++)
        for (int ki = 0; ki < g->kh; ki++)
            for (int kj = 0; kj < g->kw; kj++) {
                float *row = a->col + ((size_t)(c * g->kh + ki) * g->kw + kj) * ncols;
                const int *map = maps + (size_t)(ki * g->kw + kj) * ohw;
                for (int i = 0; i < cnt; i++) {
                    const float *plane = a->x + ((size_t)i * g->c + c) * hw;
                    float *dst = row + i * ohw;
                    if (small)
                        for (size_t j = 0; j < ohw; j++)
                            dst[j] = map[j] >= 0 ? plane[map[j]] : 0.0f;
                    else if (flat)
                        im2col_tap_flat(g, plane, ki, kj, dst);
                    else
                        im2col_tap_rows(g, plane, ki, kj, dst);
                }
            }
}

static void col2im_channels(void *arg, int64_t c0, int64_t c1)
{
    const struct col_pass *a = arg;
    const struct nncw_conv2d_geom *g = a->g;
    const int cnt = a->cnt;
    const size_t hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow, ncols = cnt * ohw;
    const bool small = uses_maps(g), flat = keeps_rows(g);
    int maps[CONV_MAP_TAPS * CONV_MAP_PIXELS];
    if (small)
        tap_maps(g, maps);
    for (int c = (int)c0; c < (int)c1; c++)
        for (int ki = 0; ki < g->kh; ki++)
            for (int kj = 0; kj < g->kw; kj++) {
                float *row = a->col + ((size_t)(c * g->kh + ki) * g->kw + kj) * ncols;
                const int *map = maps + (size_t)(ki * g->kw + kj) * ohw;
                for (int i = 0; i < cnt; i++) {
                    float *plane = a->dx + ((size_t)i * g->c + c) * hw;
                    float *src = row + i * ohw;
                    if (small) {
                        /* one tap never maps two outputs to one input pixel */
                        for (size_t j = 0; j < ohw; j++)
                            if (map[j] >= 0)
                                plane[map[j]] += src[j];
                    } else if (flat) {
                        col2im_tap_flat(g, src, ki, kj, plane);
                    } else {
                        col2im_tap_rows(g, src, ki, kj, plane);
                    }
                }
            }
}

/* about one operation per element of col, per channel */
static double channel_cost(const struct nncw_conv2d_geom *g, int cnt)
{
    return (double)g->kh * g->kw * cnt * g->oh * g->ow;
}

void nncw_kernel_im2col_f32(const struct nncw_conv2d_geom *g, const float *x, int cnt, float *col)
{
    struct col_pass a = {.g = g, .x = x, .col = col, .cnt = cnt};
    nncw_parallel_for(g->c, 1, channel_cost(g, cnt), im2col_channels, &a);
}

void nncw_kernel_col2im_f32(const struct nncw_conv2d_geom *g, float *col, int cnt, float *dx)
{
    struct col_pass a = {.g = g, .col = col, .dx = dx, .cnt = cnt};
    nncw_parallel_for(g->c, 1, channel_cost(g, cnt), col2im_channels, &a);
}
