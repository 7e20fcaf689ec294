/*
 * Implicit-GEMM convolution: the AVX-512 sgemm packs its B operand straight from the images
 * (no im2col matrix) and writes C straight into NCHW (no scatter), over the engine's worker
 * threads. Used by ops/conv.c first; each entry returns false, having touched nothing, when
 * it does not apply (no AVX-512, OpenBLAS forced, grouped convolution, over 64 taps, tensors
 * past 32-bit offsets, no packing memory), and the caller then takes the im2col path.
 *
 *     if (!nncw_conv2d_implicit_forward(&g, x, w, b, 0.0f, y))
 *         ... im2col + sgemm ...
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "ops/conv.h"

/* whether the entries below apply to this geometry (the input gradient also needs stride 1
 * and pads no larger than the dilated kernel) */
bool nncw_conv2d_implicit_applies(const struct nncw_conv2d_geom *g);
bool nncw_conv2d_implicit_input_grad_applies(const struct nncw_conv2d_geom *g);

/* y = conv(x, w) + b + beta * y (b may be NULL) */
bool nncw_conv2d_implicit_forward(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                                  const float *b, float beta, float *y);
/* dw += dy (x) x: the weight gradient */
bool nncw_conv2d_implicit_weight_grad(const struct nncw_conv2d_geom *g, const float *x,
                                      const float *dy, float *dw);
/* dx += the input gradient from dy, as a stride-1 convolution of dy with the flipped,
 * transposed kernel; scratch holds m * c * kh * kw floats */
bool nncw_conv2d_implicit_input_grad(const struct nncw_conv2d_geom *g, const float *w,
                                     const float *dy, float *dx, float *scratch);
