/*
 * Binarization arithmetic behind the XNORBinarize, DoReFaBinarize and ActivationBinarize ops
 * (NNCF's binarization), shared with the binarization algorithm (scale initialisation,
 * statistics) and ONNX export (2-level FakeQuantize ranges).
 *
 *     float m[64];                                       // one per output filter
 *     nncw_binarize_weight_scales(w, true, m);          // XNOR: mean |w| per filter
 *     float s;
 *     nncw_binarize_initial_scale(acts, n, &s);         // activation scale from a batch
 *
 * Op semantics and the straight-through estimators are described in ops/binarize.c.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "tensor/tensor.h"

/* mean |w| per output filter (per_filter: w.shape[0] values, XNOR) or over the whole tensor
 * (one value, DoReFa) into m */
void nncw_binarize_weight_scales(const struct nncw_tensor *w, bool per_filter, float *m);

/* y = (w > 0 ? m[c] : -m[c]) for w viewed as [filters, inner] */
void nncw_kernel_binarize_weight_ref(const float *w, int64_t filters, int64_t inner, const float *m,
                                     float *y);

/* y = x > s * t[c] ? s : 0 for x viewed as [outer, channels, inner] */
void nncw_kernel_binarize_activation_ref(const float *x, int64_t outer, int64_t channels,
                                         int64_t inner, float s, const float *t, float *y);

/* NNCF's initial activation scale: the smallest of the largest 0.1 % (at least one) of x.
 * NNCW_ERR_INVALID_ARG for n <= 0, NNCW_ERR_NOMEM */
enum nncw_status nncw_binarize_initial_scale(const float *x, int64_t n, float *out);
