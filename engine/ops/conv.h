/*
 * 2-D convolution kernels behind the Conv op, callable without a graph (tests, benchmarks).
 *
 *     struct nncw_conv2d_geom g = {.n = 64, .c = 1, .h = 28, .w = 28, .m = 32, .group = 1,
 *                                  .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
 *                                  .pt = 0, .pl = 0, .oh = 26, .ow = 26};
 *     float *scratch = nncw_malloc(nncw_kernel_conv2d_f32_scratch(&g) * sizeof(float));
 *     nncw_kernel_conv2d_f32(&g, x, w, b, y, scratch);          // fast: Winograd, implicit
 *                                                               // GEMM or im2col + sgemm
 *     nncw_kernel_conv2d_f32_ref(&g, x, w, b, y_ref);           // slow direct loops (oracle)
 *
 * Tensors are contiguous NCHW: x [n, c, h, w], w [m, c / group, kh, kw], b [m] (may be NULL),
 * y [n, m, oh, ow]. The geometry is trusted: the Conv op validates it first.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct nncw_conv2d_geom {
    int n, c, h, w;     /* input batch, channels, height, width */
    int m, group;       /* output channels; groups (c and m divisible by it) */
    int kh, kw;         /* kernel */
    int sh, sw, dh, dw; /* strides and dilations */
    int pt, pl;         /* top and left padding (bottom and right follow from oh, ow) */
    int oh, ow;         /* output height and width */
};

/* the obvious seven nested loops; y is overwritten */
void nncw_kernel_conv2d_f32_ref(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                                const float *b, float *y);

/* col [c * kh * kw, cnt * oh * ow] from the cnt images starting at x; padding reads as 0 */
void nncw_kernel_im2col_f32(const struct nncw_conv2d_geom *g, const float *x, int cnt, float *col);
/* the adjoint of im2col: ADDS every column entry into the image element it was read from;
 * col is clobbered (entries that stand for padding are zeroed) */
void nncw_kernel_col2im_f32(const struct nncw_conv2d_geom *g, float *col, int cnt, float *dx);

/* floats of scratch either fast kernel needs */
size_t nncw_kernel_conv2d_f32_scratch(const struct nncw_conv2d_geom *g);
/* forward; y is overwritten */
void nncw_kernel_conv2d_f32(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                            const float *b, float *y, float *scratch);
/* backward from dy; ACCUMULATES into dx, dw and db, each skipped when NULL */
void nncw_kernel_conv2d_backward_f32(const struct nncw_conv2d_geom *g, const float *x,
                                     const float *w, const float *dy, float *dx, float *dw,
                                     float *db, float *scratch);
