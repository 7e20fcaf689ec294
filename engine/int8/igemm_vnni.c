/*
** The integer GEMM with AVX-512 VNNI: vpdpbusd multiplies 4 u8 activations by 4 s8 weights and
** adds the 4 products to an int32 lane without intermediate saturation, 64 products per
** instruction (four times an FP32 FMA's 16).
**
** The tile is 6 pixels by 4 blocks of 16 output channels: 24 zmm accumulators, 4 zmm of
** weights per step (256 contiguous bytes of a block group) and one broadcast activation dword
** per pixel, so 24 vpdpbusd share 10 loads. The accumulators are named variables written out
** by macros: GCC keeps an array of vectors on the stack even when every index is constant,
** which halves the speed. A trailing block (fewer than 4 left) uses a 6 x 1 tile.
**
** This file is compiled for AVX-512 (target pragma below) and is only called after
** nncw_int8_isa_supported confirmed the CPU has it.
*/
#include "int8/igemm.h"

#if defined(__x86_64__)

#ifdef __clang__
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))),      \
                             apply_to = function)
#else
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni")
#endif

#include <immintrin.h>
#include <string.h>

enum { TILE_P = 6 };

static inline __m512i bcast32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

/* the per-channel constants of 16 channels, loaded once per tile */
struct epi16 {
    __m512i corr;
    __m512 mul, add;
    __mmask16 mask;
    int m0;
};

static inline struct epi16 epi16_load(const struct nncw_igemm_chunk *c, int m0)
{
    const struct nncw_igemm_epi *e = c->e;
    int left = c->w->m - m0;
    struct epi16 k = {.corr = _mm512_loadu_si512(e->corr + m0),
                      .mul = _mm512_setzero_ps(),
                      .add = _mm512_setzero_ps(),
                      .mask = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u),
                      .m0 = m0};
    if (e->mode != NNCW_IGEMM_OUT_S32) { /* mul and add may be NULL for int32 sums */
        k.mul = _mm512_loadu_ps(e->mul + m0);
        k.add = _mm512_loadu_ps(e->add + m0);
    }
    return k;
}

/* the residual Add of 16 codes q (igemm.h: nncw_igemm_residual), res: their residual codes */
static inline __m512i residual16(const struct nncw_igemm_residual *r, __m512i q, const uint8_t *res,
                                 __mmask16 mask)
{
    __m512 rv = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, res)));
    __m512 v = _mm512_add_ps(
        _mm512_mul_ps(_mm512_sub_ps(_mm512_cvtepi32_ps(q), _mm512_set1_ps(r->zp)),
                      _mm512_set1_ps(r->step)),
        _mm512_mul_ps(_mm512_sub_ps(rv, _mm512_set1_ps(r->res_zp)), _mm512_set1_ps(r->res_step)));
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(r->res_lo)), _mm512_set1_ps(r->res_hi));
    __m512 f =
        _mm512_add_ps(_mm512_mul_ps(v, _mm512_set1_ps(r->res_mul)), _mm512_set1_ps(r->res_add));
    f = _mm512_min_ps(_mm512_max_ps(f, _mm512_set1_ps((float)r->res_qmin)),
                      _mm512_set1_ps((float)r->res_qmax));
    return _mm512_cvtps_epi32(f);
}

/* the epilogue of 16 channels of pixel j of the chunk */
static inline void store16(const struct nncw_igemm_chunk *c, __m512i acc, const struct epi16 *k,
                           int j)
{
    const struct nncw_igemm_epi *e = c->e;
    int m0 = k->m0;
    int64_t off = c->ooff[j];
    if (c->out_ch != 1) {
        int32_t lane[16];
        _mm512_storeu_si512(lane, acc);
        for (int l = 0; l < 16 && m0 + l < c->w->m; l++)
            nncw_igemm_store_scalar(e, c->out, off + (int64_t)(m0 + l) * c->out_ch, m0 + l, lane[l],
                                    c->roff ? e->r.res + c->roff[j] + m0 + l : NULL);
        return;
    }
    __m512i v = _mm512_sub_epi32(acc, k->corr);
    if (e->mode == NNCW_IGEMM_OUT_S32) {
        _mm512_mask_storeu_epi32((int32_t *)c->out + off + m0, k->mask, v);
        return;
    }
    __m512 f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), k->mul, k->add);
    if (e->mode == NNCW_IGEMM_OUT_F32) {
        f = _mm512_min_ps(_mm512_max_ps(f, _mm512_set1_ps(e->lo)), _mm512_set1_ps(e->hi));
        _mm512_mask_storeu_ps((float *)c->out + off + m0, k->mask, f);
        return;
    }
    f = _mm512_min_ps(_mm512_max_ps(f, _mm512_set1_ps((float)e->qmin)),
                      _mm512_set1_ps((float)e->qmax));
    __m512i q = _mm512_cvtps_epi32(f); /* round half to even (MXCSR default) */
    if (c->roff)
        q = residual16(&e->r, q, e->r.res + c->roff[j] + m0, k->mask);
    _mm512_mask_cvtepi32_storeu_epi8((uint8_t *)c->out + off + m0, k->mask, q);
}

/* ---- 6 pixels x 64 channels ---- */

#define ACC4(j)                                                                                    \
    __m512i c##j##0 = _mm512_setzero_si512(), c##j##1 = c##j##0, c##j##2 = c##j##0,                \
            c##j##3 = c##j##0
#define STEP4(j)                                                                                   \
    do {                                                                                           \
        __m512i av = bcast32(p##j + k);                                                            \
        c##j##0 = _mm512_dpbusd_epi32(c##j##0, av, w0);                                            \
        c##j##1 = _mm512_dpbusd_epi32(c##j##1, av, w1);                                            \
        c##j##2 = _mm512_dpbusd_epi32(c##j##2, av, w2);                                            \
        c##j##3 = _mm512_dpbusd_epi32(c##j##3, av, w3);                                            \
    } while (0)
/* the epilogue of block r for every pixel of the tile */
#define STORE4(r)                                                                                  \
    do {                                                                                           \
        struct epi16 k = epi16_load(c, m0 + 16 * r);                                               \
        store16(c, c0##r, &k, j0);                                                                 \
        if (np > 1)                                                                                \
            store16(c, c1##r, &k, j0 + 1);                                                         \
        if (np > 2)                                                                                \
            store16(c, c2##r, &k, j0 + 2);                                                         \
        if (np > 3)                                                                                \
            store16(c, c3##r, &k, j0 + 3);                                                         \
        if (np > 4)                                                                                \
            store16(c, c4##r, &k, j0 + 4);                                                         \
        if (np > 5)                                                                                \
            store16(c, c5##r, &k, j0 + 5);                                                         \
    } while (0)

static void tile4(const struct nncw_igemm_chunk *c, int b, int j0, int np)
{
    const struct nncw_igemm_weights *w = c->w;
    int64_t ks;
    const int8_t *wp = nncw_igemm_block(w, b, &ks);
    const uint8_t *a[TILE_P];
    for (int j = 0; j < TILE_P; j++)
        a[j] = c->in + c->aoff[j0 + (j < np ? j : 0)];
    ACC4(0);
    ACC4(1);
    ACC4(2);
    ACC4(3);
    ACC4(4);
    ACC4(5);
    int kb = c->tap_dwords * 4;
    for (int t = 0; t < c->taps; t++) {
        int64_t to = c->tap_off[t];
        const uint8_t *p0 = a[0] + to, *p1 = a[1] + to, *p2 = a[2] + to, *p3 = a[3] + to,
                      *p4 = a[4] + to, *p5 = a[5] + to;
        for (int k = 0; k < kb; k += 4) {
            __m512i w0 = _mm512_loadu_si512(wp), w1 = _mm512_loadu_si512(wp + 64),
                    w2 = _mm512_loadu_si512(wp + 128), w3 = _mm512_loadu_si512(wp + 192);
            wp += ks;
            STEP4(0);
            STEP4(1);
            STEP4(2);
            STEP4(3);
            STEP4(4);
            STEP4(5);
        }
    }
    int m0 = b * NNCW_IGEMM_BLOCK;
    STORE4(0);
    STORE4(1);
    STORE4(2);
    STORE4(3);
}

/* ---- 6 pixels x 16 channels ---- */

#define STEP1(j) c##j = _mm512_dpbusd_epi32(c##j, bcast32(p##j + k), w0)
#define STORE1(j)                                                                                  \
    do {                                                                                           \
        if (j < np)                                                                                \
            store16(c, c##j, &k, j0 + j);                                                          \
    } while (0)

static void tile1(const struct nncw_igemm_chunk *c, int b, int j0, int np)
{
    const struct nncw_igemm_weights *w = c->w;
    int64_t ks;
    const int8_t *wp = nncw_igemm_block(w, b, &ks);
    const uint8_t *a[TILE_P];
    for (int j = 0; j < TILE_P; j++)
        a[j] = c->in + c->aoff[j0 + (j < np ? j : 0)];
    __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    int kb = c->tap_dwords * 4;
    for (int t = 0; t < c->taps; t++) {
        int64_t to = c->tap_off[t];
        const uint8_t *p0 = a[0] + to, *p1 = a[1] + to, *p2 = a[2] + to, *p3 = a[3] + to,
                      *p4 = a[4] + to, *p5 = a[5] + to;
        for (int k = 0; k < kb; k += 4) {
            __m512i w0 = _mm512_loadu_si512(wp);
            wp += ks;
            STEP1(0);
            STEP1(1);
            STEP1(2);
            STEP1(3);
            STEP1(4);
            STEP1(5);
        }
    }
    struct epi16 k = epi16_load(c, b * NNCW_IGEMM_BLOCK);
    STORE1(0);
    STORE1(1);
    STORE1(2);
    STORE1(3);
    STORE1(4);
    STORE1(5);
}

void nncw_kernel_igemm_u8s8_vnni(const struct nncw_igemm_chunk *c)
{
    int blocks = c->w->blocks, full = blocks / NNCW_IGEMM_GROUP * NNCW_IGEMM_GROUP;
    for (int b = 0; b < full; b += NNCW_IGEMM_GROUP)
        for (int j = 0; j < c->np; j += TILE_P)
            tile4(c, b, j, c->np - j < TILE_P ? c->np - j : TILE_P);
    for (int b = full; b < blocks; b++)
        for (int j = 0; j < c->np; j += TILE_P)
            tile1(c, b, j, c->np - j < TILE_P ? c->np - j : TILE_P);
}

#ifdef __clang__
#pragma clang attribute pop
#endif

#endif /* __x86_64__ */
