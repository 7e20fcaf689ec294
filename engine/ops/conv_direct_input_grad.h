/*
 * The input gradient of an ungrouped convolution over at most 3 input channels with at most 9
 * taps (3x3 stems on grey or RGB images), computed without a GEMM on AVX-512. Returns false,
 * having touched nothing, when the geometry, the CPU or the BLAS backend does not fit (or on
 * out of memory); ops/conv.c then takes the other paths.
 *
 *     if (nncw_conv2d_direct_input_grad(&g, w, dy, dx))   // dx += the input gradient
 *         dx = NULL;
 */
#pragma once

#include <stdbool.h>

#include "ops/conv.h"

bool nncw_conv2d_direct_input_grad_applies(const struct nncw_conv2d_geom *g);
bool nncw_conv2d_direct_input_grad(const struct nncw_conv2d_geom *g, const float *w,
                                   const float *dy, float *dx);
