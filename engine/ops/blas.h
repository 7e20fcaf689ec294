/*
 * The one door to BLAS: row-major single-precision GEMM and the thread count.
 *
 *     // C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C
 *     nncw_blas_sgemm(false, true, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
 *
 * On CPUs with AVX-512 the product runs on nncw's own kernels (ops/sgemm_avx512.c) over the
 * engine's worker threads; elsewhere, and as a fallback, on OpenBLAS.
 */
#pragma once

#include <stdbool.h>

enum nncw_blas_backend {
    NNCW_BLAS_BACKEND_AUTO,        /* the fastest this CPU has (the default) */
    NNCW_BLAS_BACKEND_OPENBLAS,    /* always OpenBLAS (tests and benchmarks compare the two) */
    NNCW_BLAS_BACKEND_NNCW_AVX512, /* nncw's kernels; OpenBLAS where the CPU lacks AVX-512 */
    NNCW_BLAS_BACKEND_COUNT
};

void nncw_blas_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                     int lda, const float *b, int ldb, float beta, float *c, int ldc);
/* the reference (triple loop) the fast path is tested against */
void nncw_blas_sgemm_ref(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta, float *c,
                         int ldc);
/* which implementation nncw_blas_sgemm uses from now on (process-wide) */
void nncw_blas_set_backend(enum nncw_blas_backend backend);
/* the backend actually running the products: OPENBLAS or NNCW_AVX512 */
enum nncw_blas_backend nncw_blas_get_backend(void);
/* threads for OpenBLAS and for the engine's own kernels */
void nncw_blas_set_threads(int n);
int nncw_blas_get_threads(void);
/* OpenBLAS's own default (OPENBLAS_NUM_THREADS, else the core count) */
int nncw_blas_default_threads(void);
