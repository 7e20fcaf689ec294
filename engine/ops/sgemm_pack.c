/* Packing for the AVX-512 sgemm: copies of op(A) and op(B) blocks into the micro-panel order
 * the micro-kernel reads linearly. The two layouts that need a transpose (A as stored, B
 * transposed) go through 16 x 16 in-register transposes, so that the dW GEMM of a
 * convolution (B transposed, K = pixels) packs at memory speed rather than element by
 * element. Edges are zero-padded with masked loads. */
#include "ops/sgemm_internal.h"

#if NNCW_SGEMM_HAVE_AVX512

#include <immintrin.h>
#include <stdint.h>

enum { MR = NNCW_SGEMM_MR, NR = NNCW_SGEMM_NR };

static inline __mmask16 lanes(int n)
{
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n > 0 ? n : 0)) - 1u);
}

/*
** Reads `rows` (<= 16) rows of src, `cols` (<= 16) floats each, and writes them transposed:
** column q of the block goes to dst + q * dst_stride as `width` floats (rows past `rows` as
** zeros). width is MR for A panels and 16 for each half of a B panel.
*/
NNCW_AVX512_FN static inline void transpose_block(const float *src, size_t src_stride, int rows,
                                                  int cols, float *dst, int dst_stride, int width)
{
    __m512 r[16];
    __mmask16 m = lanes(cols);
    for (int i = 0; i < 16; i++)
        r[i] = i < rows ? _mm512_maskz_loadu_ps(m, src + i * src_stride) : _mm512_setzero_ps();
    nncw_sgemm_transpose16(r);
    __mmask16 w = lanes(width);
    for (int q = 0; q < cols; q++)
        _mm512_mask_storeu_ps(dst + (size_t)q * dst_stride, w, r[q]);
}

NNCW_AVX512_FN void nncw_sgemm_pack_a(bool trans_a, const float *a, int lda, int i0, int mc, int p0,
                                      int kc, float *dst)
{
    for (int r0 = 0; r0 < mc; r0 += MR, dst += (size_t)kc * MR) {
        int mr = mc - r0 < MR ? mc - r0 : MR;
        if (trans_a) {
            /* op(A)[i][p] = a[p * lda + i]: each p is a contiguous run of the panel's rows */
            __mmask16 m = lanes(mr), w = lanes(MR);
            const float *src = a + (size_t)p0 * lda + i0 + r0;
            for (int p = 0; p < kc; p++)
                _mm512_mask_storeu_ps(dst + (size_t)p * MR, w,
                                      _mm512_maskz_loadu_ps(m, src + (size_t)p * lda));
        } else {
            const float *src = a + (size_t)(i0 + r0) * lda + p0;
            for (int p = 0; p < kc; p += 16)
                transpose_block(src + p, (size_t)lda, mr, kc - p < 16 ? kc - p : 16,
                                dst + (size_t)p * MR, MR, MR);
        }
    }
}

void nncw_sgemm_pack_a_all(bool trans_a, const float *a, int lda, int m, int k, float *dst)
{
    for (int p0 = 0; p0 < k; p0 += NNCW_SGEMM_KC) {
        int kc = k - p0 < NNCW_SGEMM_KC ? k - p0 : NNCW_SGEMM_KC;
        nncw_sgemm_pack_a(trans_a, a, lda, 0, m, p0, kc,
                          dst + nncw_sgemm_packed_a_offset(m, 0, p0, kc));
    }
}

NNCW_AVX512_FN void nncw_sgemm_pack_b(bool trans_b, const float *b, int ldb, int p0, int kc, int j0,
                                      int nc, float *dst)
{
    for (int c0 = 0; c0 < nc; c0 += NR, dst += (size_t)kc * NR) {
        int nr = nc - c0 < NR ? nc - c0 : NR;
        if (!trans_b) {
            __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16);
            const float *src = b + (size_t)p0 * ldb + j0 + c0;
            for (int p = 0; p < kc; p++, src += ldb) {
                _mm512_store_ps(dst + (size_t)p * NR, _mm512_maskz_loadu_ps(m0, src));
                _mm512_store_ps(dst + (size_t)p * NR + 16, _mm512_maskz_loadu_ps(m1, src + 16));
            }
        } else {
            /* op(B)[p][j] = b[j * ldb + p]: transpose 16 columns x 16 p at a time */
            for (int h = 0; h < 2; h++) {
                int rows = nr - 16 * h;
                const float *src = b + (size_t)(j0 + c0 + 16 * h) * ldb + p0;
                for (int p = 0; p < kc; p += 16)
                    transpose_block(src + p, (size_t)ldb, rows > 0 ? rows : 0,
                                    kc - p < 16 ? kc - p : 16, dst + (size_t)p * NR + 16 * h, NR,
                                    16);
            }
        }
    }
}

#else

/* ISO C wants something in every translation unit */
typedef int nncw_sgemm_pack_unavailable;

#endif
