/*
** The integer GEMM with AVX2: vpmaddubsw multiplies u8 activations by s8 weights and adds
** adjacent pairs into int16 with saturation, vpmaddwd by ones widens the pairs into int32.
**
** The int16 pair sum saturates when 255 * (|w0| + |w1|) > 32767, which 8-bit weights reach
** (NNCF trains CPU weights on 7 bits for this reason: |w| <= 64 never saturates). Weights packed
** with s16_safe unset take the exact path: each activation is split into its low 7 bits
** (127 * 256 fits) and its top bit (128 * [-256, 254] fits), two vpmaddubsw instead of one.
**
** The tile is 4 pixels by one block of 16 channels (two ymm): 8 accumulators, as named
** variables (see igemm_vnni.c). Compiled for AVX2 + FMA and only called when the CPU has them.
*/
#include "int8/igemm.h"

#if defined(__x86_64__)

#ifdef __clang__
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx2,fma")
#endif

#include <immintrin.h>
#include <string.h>

enum { TILE_P = 4 };

static inline int32_t load32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* the epilogue of 16 channels m0.. of one pixel, from two 8-lane accumulators */
static inline void store16(const struct nncw_igemm_chunk *c, __m256i lo, __m256i hi, int m0, int j)
{
    const struct nncw_igemm_epi *e = c->e;
    int left = c->w->m - m0;
    int64_t off = c->ooff[j];
    /* a residual Add takes the scalar epilogue (this kernel is the fallback for CPUs without
     * AVX-512) */
    if (c->out_ch != 1 || left < 16 || e->mode != NNCW_IGEMM_OUT_U8 || c->roff) {
        int32_t lane[16];
        _mm256_storeu_si256((__m256i *)lane, lo);
        _mm256_storeu_si256((__m256i *)(lane + 8), hi);
        for (int l = 0; l < 16 && l < left; l++)
            nncw_igemm_store_scalar(e, c->out, off + (int64_t)(m0 + l) * c->out_ch, m0 + l, lane[l],
                                    c->roff ? e->r.res + c->roff[j] + m0 + l : NULL);
        return;
    }
    __m256 qmin = _mm256_set1_ps((float)e->qmin), qmax = _mm256_set1_ps((float)e->qmax);
    __m256i v[2] = {lo, hi};
    for (int h = 0; h < 2; h++) {
        __m256i s =
            _mm256_sub_epi32(v[h], _mm256_loadu_si256((const __m256i *)(e->corr + m0 + 8 * h)));
        __m256 f = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_loadu_ps(e->mul + m0 + 8 * h),
                                   _mm256_loadu_ps(e->add + m0 + 8 * h));
        f = _mm256_min_ps(_mm256_max_ps(f, qmin), qmax);
        v[h] = _mm256_cvtps_epi32(f); /* round half to even (MXCSR default) */
    }
    /* int32 -> int16 -> u8, undoing the per-128-bit-lane interleave of the packs */
    __m256i p16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(v[0], v[1]), 0xD8);
    __m128i b = _mm_packus_epi16(_mm256_castsi256_si128(p16), _mm256_extracti128_si256(p16, 1));
    _mm_storeu_si128((__m128i *)((uint8_t *)c->out + off + m0), b);
}

#define ACC(j) __m256i c##j##l = _mm256_setzero_si256(), c##j##h = c##j##l
/* exact when s16_safe: one vpmaddubsw per half */
#define STEP_FAST(j)                                                                               \
    do {                                                                                           \
        __m256i av = _mm256_set1_epi32(load32(p##j + k));                                          \
        c##j##l =                                                                                  \
            _mm256_add_epi32(c##j##l, _mm256_madd_epi16(_mm256_maddubs_epi16(av, w0), ones));      \
        c##j##h =                                                                                  \
            _mm256_add_epi32(c##j##h, _mm256_madd_epi16(_mm256_maddubs_epi16(av, w1), ones));      \
    } while (0)
/* always exact: low 7 bits and top bit of the activations separately */
#define STEP_SPLIT(j)                                                                              \
    do {                                                                                           \
        int32_t v = load32(p##j + k);                                                              \
        __m256i al = _mm256_set1_epi32(v & 0x7F7F7F7F);                                            \
        __m256i ah = _mm256_set1_epi32((int32_t)((uint32_t)v & 0x80808080u));                      \
        c##j##l = _mm256_add_epi32(                                                                \
            c##j##l, _mm256_add_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(al, w0), ones),       \
                                      _mm256_madd_epi16(_mm256_maddubs_epi16(ah, w0), ones)));     \
        c##j##h = _mm256_add_epi32(                                                                \
            c##j##h, _mm256_add_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(al, w1), ones),       \
                                      _mm256_madd_epi16(_mm256_maddubs_epi16(ah, w1), ones)));     \
    } while (0)
#define STORE(j)                                                                                   \
    do {                                                                                           \
        if (j < np)                                                                                \
            store16(c, c##j##l, c##j##h, m0, j0 + j);                                              \
    } while (0)

#define TILE_BODY(STEP)                                                                            \
    do {                                                                                           \
        for (int t = 0; t < c->taps; t++) {                                                        \
            int64_t to = c->tap_off[t];                                                            \
            const uint8_t *p0 = a[0] + to, *p1 = a[1] + to, *p2 = a[2] + to, *p3 = a[3] + to;      \
            for (int k = 0; k < kb; k += 4) {                                                      \
                __m256i w0 = _mm256_loadu_si256((const __m256i *)wp);                              \
                __m256i w1 = _mm256_loadu_si256((const __m256i *)(wp + 32));                       \
                wp += ks;                                                                          \
                STEP(0);                                                                           \
                STEP(1);                                                                           \
                STEP(2);                                                                           \
                STEP(3);                                                                           \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static void tile(const struct nncw_igemm_chunk *c, int b, int j0, int np)
{
    const struct nncw_igemm_weights *w = c->w;
    int64_t ks;
    const int8_t *wp = nncw_igemm_block(w, b, &ks);
    const uint8_t *a[TILE_P];
    for (int j = 0; j < TILE_P; j++)
        a[j] = c->in + c->aoff[j0 + (j < np ? j : 0)];
    const __m256i ones = _mm256_set1_epi16(1);
    ACC(0);
    ACC(1);
    ACC(2);
    ACC(3);
    int kb = c->tap_dwords * 4;
    if (w->s16_safe)
        TILE_BODY(STEP_FAST);
    else
        TILE_BODY(STEP_SPLIT);
    int m0 = b * NNCW_IGEMM_BLOCK;
    STORE(0);
    STORE(1);
    STORE(2);
    STORE(3);
}

void nncw_kernel_igemm_u8s8_avx2(const struct nncw_igemm_chunk *c)
{
    for (int b = 0; b < c->w->blocks; b++)
        for (int j = 0; j < c->np; j += TILE_P)
            tile(c, b, j, c->np - j < TILE_P ? c->np - j : TILE_P);
}

#ifdef __clang__
#pragma clang attribute pop
#endif

#endif /* __x86_64__ */
