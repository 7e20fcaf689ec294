#include "ops/blas.h"

#include <stdatomic.h>

#include <cblas.h>

#include "ops/parallel.h"
#include "ops/sgemm_internal.h"

/* NNCW_BLAS_BACKEND_* as chosen by nncw_blas_set_backend */
static atomic_int backend_choice = NNCW_BLAS_BACKEND_AUTO;

static void openblas_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                           const float *a, int lda, const float *b, int ldb, float beta, float *c,
                           int ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void nncw_blas_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                     int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0)
        return;
    /* the AVX-512 path declines only when it cannot get packing memory */
    if (nncw_blas_get_backend() == NNCW_BLAS_BACKEND_NNCW_AVX512 &&
        nncw_sgemm_avx512(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))
        return;
    openblas_sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void nncw_blas_sgemm_ref(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta, float *c,
                         int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int p = 0; p < k; p++) {
                float x = trans_a ? a[p * lda + i] : a[i * lda + p];
                float y = trans_b ? b[j * ldb + p] : b[p * ldb + j];
                acc += (double)x * y;
            }
            c[i * ldc + j] = (float)(alpha * acc + (beta != 0.0f ? beta * c[i * ldc + j] : 0.0f));
        }
}

void nncw_blas_set_backend(enum nncw_blas_backend backend)
{
    atomic_store(&backend_choice, (int)backend);
}

enum nncw_blas_backend nncw_blas_get_backend(void)
{
    if (atomic_load(&backend_choice) != NNCW_BLAS_BACKEND_OPENBLAS &&
        nncw_sgemm_avx512_is_supported())
        return NNCW_BLAS_BACKEND_NNCW_AVX512;
    return NNCW_BLAS_BACKEND_OPENBLAS;
}

void nncw_blas_set_threads(int n)
{
    openblas_set_num_threads(n);
    nncw_parallel_set_threads(n);
}

int nncw_blas_get_threads(void)
{
    return nncw_parallel_get_threads();
}

int nncw_blas_default_threads(void)
{
    return openblas_get_num_threads();
}
