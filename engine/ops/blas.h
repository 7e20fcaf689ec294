/*
 * The one door to BLAS: row-major single-precision GEMM and the thread count.
 *
 *     // C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C
 *     nncw_blas_sgemm(false, true, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
 */
#pragma once

#include <stdbool.h>

void nncw_blas_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                     int lda, const float *b, int ldb, float beta, float *c, int ldc);
/* the reference (triple loop) the fast path is tested against */
void nncw_blas_sgemm_ref(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta, float *c,
                         int ldc);
void nncw_blas_set_threads(int n);
int nncw_blas_get_threads(void);
