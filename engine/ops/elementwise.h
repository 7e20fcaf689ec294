/*
 * Broadcasting binary kernels behind Add, Sub and Mul, kept apart from the graph so they can be
 * tested and benchmarked alone.
 *
 *     // y[2, 3] = a[2, 3] + b[3]: b is read with stride 0 along the broadcast dimension
 *     int64_t shape[] = {2, 3}, sa[] = {3, 1}, sb[] = {0, 1};
 *     nncw_kernel_add_f32(2, shape, a, sa, b, sb, y);
 *
 * `shape` is the output's; a and b are read through element strides that are 0 on broadcast
 * dimensions; y is contiguous. The fast kernels merge dimensions and run tight inner loops; the
 * `_ref` versions walk every output index and are the test oracle (forward results are equal
 * bit for bit, since both do one float operation per element).
 */
#pragma once

#include <stdint.h>

void nncw_kernel_add_f32(int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                         const float *b, const int64_t *sb, float *y);
void nncw_kernel_sub_f32(int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                         const float *b, const int64_t *sb, float *y);
void nncw_kernel_mul_f32(int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                         const float *b, const int64_t *sb, float *y);
void nncw_kernel_add_f32_ref(int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                             const float *b, const int64_t *sb, float *y);
void nncw_kernel_sub_f32_ref(int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                             const float *b, const int64_t *sb, float *y);
void nncw_kernel_mul_f32_ref(int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                             const float *b, const int64_t *sb, float *y);

/* The gradient of one operand: ga[...] += sign * gy * w[...], summed over the dimensions where
 * ga's stride is 0 (the operand was broadcast there). gy is contiguous with the output shape;
 * w is the other operand of a Mul (NULL for Add and Sub, meaning 1). */
void nncw_kernel_broadcast_backward_f32(int ndim, const int64_t *shape, const float *gy, float *ga,
                                        const int64_t *sga, const float *w, const int64_t *sw,
                                        float sign);
void nncw_kernel_broadcast_backward_f32_ref(int ndim, const int64_t *shape, const float *gy,
                                            float *ga, const int64_t *sga, const float *w,
                                            const int64_t *sw, float sign);
