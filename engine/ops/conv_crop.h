/*
 * Kernel taps that only ever read padding. On planes smaller than the kernel's reach some
 * kernel rows or columns fall in the padding for every output pixel: torchvision's ResNet-18
 * (ImageNet stem) fed 32x32 images ends on 1x1 planes, where 8 of the 9 taps of each 3x3
 * convolution multiply zeros, and its first stride-2 conv of that stage reads 4 of 9. Such taps add
 * nothing to the output and get a zero weight gradient, so the convolution can run on the kernel
 * cropped to its live window: the same outputs and gradients (up to float summation order) from a
 * fraction of the multiply-adds.
 *
 *     struct nncw_conv2d_crop k;
 *     if (nncw_conv2d_crop_get(&g, &k)) {
 *         nncw_conv2d_crop_weights(&g, &k, w, wc);   // [m, c / group, k.g.kh, k.g.kw]
 *         ... convolve with k.g and wc ...
 *     }
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "ops/conv.h"

struct nncw_conv2d_crop {
    struct nncw_conv2d_geom g; /* the cropped convolution: same input and output planes */
    int r0, c0;                /* the first kept kernel row and column */
};

/* whether some kernel rows or columns never read the input; if so, *k is the cropped
 * convolution (false also when no tap is live at all, or the crop would need negative
 * padding) */
bool nncw_conv2d_crop_get(const struct nncw_conv2d_geom *g, struct nncw_conv2d_crop *k);
/* floats of the cropped kernel */
size_t nncw_conv2d_crop_weight_count(const struct nncw_conv2d_crop *k);
/* the kept taps of w (laid out for g) into wc (laid out for k->g) */
void nncw_conv2d_crop_weights(const struct nncw_conv2d_geom *g, const struct nncw_conv2d_crop *k,
                              const float *w, float *wc);
/* dw += the cropped gradient dwc at the kept taps (the others' gradient is zero) */
void nncw_conv2d_crop_add_grad(const struct nncw_conv2d_geom *g, const struct nncw_conv2d_crop *k,
                               const float *dwc, float *dw);
