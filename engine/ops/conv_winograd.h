/*
 * Winograd convolution: 3x3 kernels, stride 1, dilation 1, pad 1, even planes that the
 * convolution keeps (ResNet's 3x3 convs), on nncw's AVX-512 sgemm. F(4x4, 3x3) (4x fewer
 * multiply-adds than the direct product) where its 4x4 tiles fit the plane, F(2x2, 3x3)
 * (2.25x fewer) where they would stick out too far. Each entry returns false, having touched
 * nothing, when it does not apply (other geometry, under 16 channels, no AVX-512, OpenBLAS
 * forced, no memory); ops/conv.c then takes the implicit-GEMM path.
 *
 *     if (!nncw_conv2d_winograd_forward(&g, x, w, b, 0.0f, y))
 *         ... implicit GEMM ...
 */
#pragma once

#include <stdbool.h>

#include "ops/conv.h"

bool nncw_conv2d_winograd_applies(const struct nncw_conv2d_geom *g);
/* y = conv(x, w) + b + beta * y (b may be NULL) */
bool nncw_conv2d_winograd_forward(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                                  const float *b, float beta, float *y);
/* dx += the input gradient from dy (a convolution of dy with the rotated, transposed kernel) */
bool nncw_conv2d_winograd_input_grad(const struct nncw_conv2d_geom *g, const float *w,
                                     const float *dy, float *dx);
