/*
 * Quantizer arithmetic behind the SymmetricQuantize and AsymmetricQuantize ops (NNCF's
 * trainable fake quantizers), shared with ONNX export, range initialisation and the integer
 * executor.
 *
 *     struct nncw_quantizer_attrs a;
 *     if (nncw_quantizer_get_attrs(node, x->ndim, &a) != NNCW_OK) ...  // validated attributes
 *     float low[64], range[64];                                    // one per scale element
 *     nncw_quantizer_get_ranges(node, &a, scale, NULL, low, range);   // what forward uses
 *     // y = round((clamp(x, low, low + range) - low) * s) / s + low,  s = (levels - 1) / range,
 *     // computed so that x = 0 gives exactly 0 (see fake_quantize.c)
 *
 * Node attributes (ints unless said): level_low, level_high (defaults -128/127 symmetric, 0/255
 * asymmetric; level_high - level_low <= 65535), axis (-1: per-tensor, else the channel axis of
 * x), logarithm_scale (the parameter stores log|scale| or log|input_range|), half_range (trained
 * on the 7-bit grid of the CPU saturation fix; only export reads it), enabled (default 1; 0 makes
 * the op an identity, read at every run), eps (float; default 1e-16, 0 with logarithm_scale).
 * Inputs: SymmetricQuantize (x, scale), AsymmetricQuantize (x, input_low, input_range); the
 * parameters hold 1 value (per-tensor) or C = x.shape[axis] values, shaped [1], [C], or x's rank
 * with C at axis and 1 elsewhere.
 *
 * Rounding is half to even, as torch.round.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "tensor/tensor.h"

struct nncw_node;

struct nncw_quantizer_attrs {
    bool asymmetric; /* AsymmetricQuantize */
    int64_t level_low, level_high;
    int axis; /* -1: per-tensor */
    bool logarithm_scale, half_range, enabled;
    float eps;
};

/* levels = level_high - level_low + 1 */
static inline int64_t nncw_quantizer_levels(const struct nncw_quantizer_attrs *a)
{
    return a->level_high - a->level_low + 1;
}

/* Reads and checks the attributes of a SymmetricQuantize or AsymmetricQuantize node; x_ndim is
 * the rank of x to check axis against (-1: unknown, not checked). NNCW_ERR_INVALID_ARG naming the
 * node for level_low >= level_high, a bad axis, a negative eps. */
enum nncw_status nncw_quantizer_get_attrs(const struct nncw_node *n, int x_ndim,
                                          struct nncw_quantizer_attrs *out);

/* The levels of the quantizer for each parameter element (numel(p0) of them): low[c] + k *
 * range[c] / (levels - 1), k = 0 .. levels - 1, one of them exactly 0 (what export writes and
 * the integer executor uses). Symmetric p0 = scale (p1 unused, may be NULL): high = |scale| + eps
 * (exp(scale) + eps with logarithm_scale), low = high * level_low / level_high; asymmetric p0 =
 * input_low, p1 = input_range (same element count): high = input_low + |input_range| + eps, then
 * the zero-point tune. Where the tune leaves 0 between two levels, low is the clamp bound moved by
 * less than half a step onto the grid of 0 (forward clamps at the unmoved bound, rounding to the
 * same level). NNCW_ERR_INVALID_ARG naming the node and channel for an empty or non-finite
 * range. */
enum nncw_status nncw_quantizer_get_ranges(const struct nncw_node *n,
                                           const struct nncw_quantizer_attrs *a,
                                           const struct nncw_tensor *p0,
                                           const struct nncw_tensor *p1, float *low, float *range);

/* NNCF's TuneRange: moves one end of [low, low + range] (widened to include 0) so that 0 falls
 * on a quantization level, keeping the wider of the two choices */
void nncw_quantizer_tune_range(float low, float range, int64_t levels, float *tuned_low,
                               float *tuned_range);

/* The integer form of a range with levels level_low..level_high (ONNX QuantizeLinear):
 * scale = range / (level_high - level_low), zero_point = round((level_low * high - level_high *
 * low) / range) clamped to the levels */
void nncw_quantizer_affine(float low, float range, int64_t level_low, int64_t level_high,
                           float *scale, int32_t *zero_point);

/* round half to even of |t| < 2^22, as torch.round and ONNX QuantizeLinear (vectorisable) */
static inline float nncw_round_even(float t)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23: the sum has no fraction bits */
    return (t + magic) - magic;
}
