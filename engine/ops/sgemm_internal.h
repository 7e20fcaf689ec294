/*
 * nncw's own single-precision GEMM for x86-64 with AVX-512 (used by ops/blas.c when the CPU
 * has it; OpenBLAS otherwise). Row-major, as nncw_blas_sgemm:
 *
 *     if (nncw_sgemm_avx512_is_supported())
 *         nncw_sgemm_avx512(false, true, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
 *
 * The product is computed BLIS-style: op(A) and op(B) are copied ("packed") block by block
 * into micro-panels of NNCW_SGEMM_MR rows and NNCW_SGEMM_NR columns, zero-padded at the
 * edges, and a register-blocked micro-kernel multiplies one pair of micro-panels into an
 * MR x NR tile of C held in 28 zmm registers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum { NNCW_SGEMM_MR = 14, NNCW_SGEMM_NR = 32 };
/* the depth of one packed block: packers are never asked for more rows of op(B) than this */
enum { NNCW_SGEMM_KC = 192 };

/* the AVX-512 code is compiled with a target attribute, not -mavx512f, so the rest of the
 * engine still runs on CPUs without it */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NNCW_SGEMM_HAVE_AVX512 1
#define NNCW_AVX512_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi2")))
#else
#define NNCW_SGEMM_HAVE_AVX512 0
#endif

/* true when the CPU (and the compiler) support the AVX-512 path */
bool nncw_sgemm_avx512_is_supported(void);

/* C = alpha * op(A) op(B) + beta * C; returns false (having done nothing) if it could not
 * get its packing buffers, so the caller can fall back */
bool nncw_sgemm_avx512(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                       int lda, const float *b, int ldb, float beta, float *c, int ldc);

/* the same with op(A) = A packed ahead by nncw_sgemm_pack_a_all (a product repeated over
 * many B, as Winograd's) */
bool nncw_sgemm_avx512_packed_a(const float *a_packed, bool trans_b, int m, int n, int k,
                                float alpha, const float *b, int ldb, float beta, float *c,
                                int ldc);

/* ---- the driver, for products whose operands are not plain matrices ----
** A convolution packs op(B) straight from its images (implicit GEMM) and writes C straight
** into NCHW: column j of C (pixel j % c_group of image j / c_group) goes to
** c + (j / c_group) * c_group_stride + j % c_group, row i at + i * ldc. */
struct nncw_sgemm_plan;
/* rows [i0, i0 + mc), columns [p0, p0 + kc) of op(A) in the layout of nncw_sgemm_pack_a */
typedef void (*nncw_sgemm_pack_a_fn)(const struct nncw_sgemm_plan *pl, int i0, int mc, int p0,
                                     int kc, float *dst);
/* rows [p0, p0 + kc), columns [j0, j0 + nc) of op(B) in the layout of nncw_sgemm_pack_b */
typedef void (*nncw_sgemm_pack_b_fn)(const struct nncw_sgemm_plan *pl, int p0, int kc, int j0,
                                     int nc, float *dst);

struct nncw_sgemm_plan {
    int m, n, k;
    float alpha, beta; /* C = alpha * op(A) op(B) + bias + beta * C */
    const float *bias; /* one per row of C, or NULL */
    /* all of op(A) packed ahead (nncw_sgemm_pack_a_all), reused across calls; or NULL to
     * call pack_a */
    const float *a_packed;
    nncw_sgemm_pack_a_fn pack_a;
    nncw_sgemm_pack_b_fn pack_b;
    const void *ctx; /* the packers' own data */
    float *c;
    int ldc;
    int c_group;              /* columns per group; >= n for a plain matrix */
    long long c_group_stride; /* floats from one group to the next */
    /* when c_group < n, every offset in C must fit in an int (the stores use 32-bit indices) */
};

/* runs the plan over the worker threads; false (nothing done) without packing memory */
bool nncw_sgemm_run(const struct nncw_sgemm_plan *pl);

/* floats of a whole op(A) [m x k] packed for a_packed */
static inline size_t nncw_sgemm_packed_a_floats(int m, int k)
{
    return (size_t)(m + NNCW_SGEMM_MR - 1) / NNCW_SGEMM_MR * NNCW_SGEMM_MR * (size_t)k;
}

/* where rows [i0, ...) of the depth block starting at p0 (kc deep) lie in a packed A: block by
 * block of NNCW_SGEMM_KC, each the whole (padded) height */
static inline size_t nncw_sgemm_packed_a_offset(int m, int i0, int p0, int kc)
{
    return (size_t)(m + NNCW_SGEMM_MR - 1) / NNCW_SGEMM_MR * NNCW_SGEMM_MR * (size_t)p0 +
           (size_t)i0 * kc;
}

/* packs all of op(A) into dst (nncw_sgemm_packed_a_floats) for a plan's a_packed */
void nncw_sgemm_pack_a_all(bool trans_a, const float *a, int lda, int m, int k, float *dst);

/* scratch that lives with the calling thread: grown on demand, kept for the next call (no
 * page faults per product), freed when the thread exits; NULL without memory */
enum nncw_sgemm_space {
    NNCW_SGEMM_SPACE_PACKING,  /* the driver's packed blocks */
    NNCW_SGEMM_SPACE_WINOGRAD, /* ops/conv_winograd.c's transformed tiles */
    NNCW_SGEMM_SPACE_COUNT
};
float *nncw_sgemm_thread_space(enum nncw_sgemm_space slot, size_t floats);

/* ---- packing (sgemm_pack.c); call only when nncw_sgemm_avx512_is_supported() ---- */

/* rows [i0, i0 + mc) and columns [p0, p0 + kc) of op(A) into ceil(mc / MR) micro-panels of
 * kc x MR floats each (row i of a panel at offset p * MR + i) */
void nncw_sgemm_pack_a(bool trans_a, const float *a, int lda, int i0, int mc, int p0, int kc,
                       float *dst);
/* rows [p0, p0 + kc) and columns [j0, j0 + nc) of op(B) into ceil(nc / NR) micro-panels of
 * kc x NR floats each (column j of a panel at offset p * NR + j) */
void nncw_sgemm_pack_b(bool trans_b, const float *b, int ldb, int p0, int kc, int j0, int nc,
                       float *dst);

#if NNCW_SGEMM_HAVE_AVX512
#include <immintrin.h>
#include <stdint.h>

/* the first n lanes of a 16-lane mask (none for n <= 0) */
static inline __mmask16 nncw_sgemm_lanes(int n)
{
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n > 0 ? n : 0)) - 1u);
}

/* r[i] = row i of a 16 x 16 block -> r[j] = column j */
NNCW_AVX512_FN static inline void nncw_sgemm_transpose16(__m512 r[16])
{
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int q = 0; q < 4; q++) {
        __m512d a = _mm512_castps_pd(t[4 * q]), b = _mm512_castps_pd(t[4 * q + 1]);
        __m512d c = _mm512_castps_pd(t[4 * q + 2]), d = _mm512_castps_pd(t[4 * q + 3]);
        u[4 * q] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    /* u[4q + j] holds, in 128-bit lane l, column 4l + j of rows 4q .. 4q + 3 */
    for (int j = 0; j < 4; j++) {
        __m512 v0 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x88);
        __m512 v1 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xdd);
        __m512 w0 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x88);
        __m512 w1 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xdd);
        r[j] = _mm512_shuffle_f32x4(v0, w0, 0x88);
        r[8 + j] = _mm512_shuffle_f32x4(v0, w0, 0xdd);
        r[4 + j] = _mm512_shuffle_f32x4(v1, w1, 0x88);
        r[12 + j] = _mm512_shuffle_f32x4(v1, w1, 0xdd);
    }
}
/* v with lanes m replaced by src[2 l] (lane l); unmasked elements are not read */
NNCW_AVX512_FN static inline __m512 nncw_sgemm_load_even(__m512 v, __mmask16 m, const float *src)
{
    uint32_t m2 = _pdep_u32(m, 0x55555555u);
    __m512 lo = _mm512_maskz_loadu_ps((__mmask16)m2, src);
    __m512 hi = _mm512_maskz_loadu_ps((__mmask16)(m2 >> 16), src + 16);
    const __m512i even =
        _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_mask_mov_ps(v, m, _mm512_permutex2var_ps(lo, even, hi));
}

/* stores lanes m of a and b interleaved (a[0], b[0], a[1], b[1], ...) at dst; with beta != 0,
 * adds beta times what was there */
NNCW_AVX512_FN static inline void nncw_sgemm_store_pairs(float *dst, __mmask16 m, __m512 a,
                                                         __m512 b, float beta)
{
    const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i hi =
        _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    uint32_t m2 = _pdep_u32(m, 0x55555555u);
    m2 |= m2 << 1;
    __m512 x0 = _mm512_permutex2var_ps(a, lo, b), x1 = _mm512_permutex2var_ps(a, hi, b);
    if (beta != 0.0f) {
        __m512 vb = _mm512_set1_ps(beta);
        x0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps((__mmask16)m2, dst), x0);
        x1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps((__mmask16)(m2 >> 16), dst + 16), x1);
    }
    _mm512_mask_storeu_ps(dst, (__mmask16)m2, x0);
    _mm512_mask_storeu_ps(dst + 16, (__mmask16)(m2 >> 16), x1);
}

#endif
