/*
 * Batch-normalisation kernels behind BatchNormalization, kept apart from the graph so they can
 * be tested alone. Data is viewed as [n, c, s]: batch, channels, and the product of the spatial
 * dimensions (1 for [N, C] input), contiguous.
 *
 *     nncw_kernel_batchnorm_stats_f32(n, c, s, x, mean, var);          // biased variance
 *     for (int64_t k = 0; k < c; k++)
 *         inv_std[k] = 1.0f / sqrtf(var[k] + eps);
 *     nncw_kernel_batchnorm_f32(n, c, s, x, mean, inv_std, scale, bias, y);
 *
 * The `_ref` versions follow the textbook formulas element by element and are the test oracle;
 * results agree to float rounding, not bit for bit.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* per-channel mean and biased variance (sums in double, two passes) */
void nncw_kernel_batchnorm_stats_f32(int64_t n, int64_t c, int64_t s, const float *x, float *mean,
                                     float *var);
void nncw_kernel_batchnorm_stats_f32_ref(int64_t n, int64_t c, int64_t s, const float *x,
                                         float *mean, float *var);

/* y = (x - mean) * inv_std * scale + bias, per channel */
void nncw_kernel_batchnorm_f32(int64_t n, int64_t c, int64_t s, const float *x, const float *mean,
                               const float *inv_std, const float *scale, const float *bias,
                               float *y);
void nncw_kernel_batchnorm_f32_ref(int64_t n, int64_t c, int64_t s, const float *x,
                                   const float *mean, const float *inv_std, const float *scale,
                                   const float *bias, float *y);

/* Writes the per-channel sums sum_gy[k] = sum(gy) and sum_gy_xhat[k] = sum(gy * xhat), with
 * xhat = (x - mean) * inv_std, and, if gx is not NULL, ACCUMULATES the input gradient into it.
 * batch_stats: mean and inv_std were computed from this x (training), so the gradient also flows
 * through them; otherwise they are constants (running statistics). */
void nncw_kernel_batchnorm_backward_f32(int64_t n, int64_t c, int64_t s, const float *x,
                                        const float *gy, const float *mean, const float *inv_std,
                                        const float *scale, bool batch_stats, float *gx,
                                        float *sum_gy, float *sum_gy_xhat);
void nncw_kernel_batchnorm_backward_f32_ref(int64_t n, int64_t c, int64_t s, const float *x,
                                            const float *gy, const float *mean,
                                            const float *inv_std, const float *scale,
                                            bool batch_stats, float *gx, float *sum_gy,
                                            float *sum_gy_xhat);

/* The output pass of a convolution followed by batch normalisation, a residual Add and a ReLU,
 * in one pass over memory (graph/exec_fold_bn.c): y = x * scale[k] + shift[k] (scale and shift
 * NULL: x itself), plus resid when not NULL, then max(0, .) when relu (NaN passes, as Relu's).
 * y may be x (in place). The arithmetic is the one BatchNormalization, Add and Relu do, so the
 * result equals theirs bit for bit. */
void nncw_kernel_scale_shift_add_relu_f32(int64_t n, int64_t c, int64_t s, const float *x,
                                          const float *scale, const float *shift,
                                          const float *resid, bool relu, float *y);
void nncw_kernel_scale_shift_add_relu_f32_ref(int64_t n, int64_t c, int64_t s, const float *x,
                                              const float *scale, const float *shift,
                                              const float *resid, bool relu, float *y);
