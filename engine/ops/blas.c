#include "ops/blas.h"

#include <cblas.h>

void nncw_blas_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                     int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0)
        return;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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

void nncw_blas_set_threads(int n)
{
    openblas_set_num_threads(n);
}

int nncw_blas_get_threads(void)
{
    return openblas_get_num_threads();
}
