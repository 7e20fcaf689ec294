/*
** The integer GEMM driver: walks output pixels in chunks, computes where each reads and writes,
** and hands the chunk to the ISA kernel; plus the scalar epilogue the kernels share for tails.
*/
#include "int8/igemm.h"

#include "core/common.h"
#include "ops/fake_quantize.h"

void nncw_igemm_store_scalar(const struct nncw_igemm_epi *e, void *out, int64_t idx, int m,
                             int32_t acc)
{
    int32_t v = acc - e->corr[m];
    if (e->mode == NNCW_IGEMM_OUT_S32) {
        ((int32_t *)out)[idx] = v;
        return;
    }
    float f = e->mul[m] * (float)v + e->add[m];
    if (e->mode == NNCW_IGEMM_OUT_F32) {
        f = f < e->lo ? e->lo : f;
        ((float *)out)[idx] = f > e->hi ? e->hi : f;
        return;
    }
    /* clamp in float first: the rounding trick needs |f| < 2^22 */
    f = f < (float)e->qmin ? (float)e->qmin : f;
    f = f > (float)e->qmax ? (float)e->qmax : f;
    ((uint8_t *)out)[idx] = (uint8_t)nncw_round_even(f);
}

/* Pixels per chunk: the offsets of a chunk are computed once and reused by every block of
 * output channels, whose weights stay in L2 while the chunk's activations stay in L1/L2. */
enum { IGEMM_CHUNK = 192 };

void nncw_igemm_run(nncw_igemm_chunk_fn fn, const struct nncw_igemm_weights *w,
                    const struct nncw_igemm_geom *g, const struct nncw_igemm_epi *e, int64_t p0,
                    int64_t p1)
{
    int64_t aoff[IGEMM_CHUNK], ooff[IGEMM_CHUNK];
    int64_t plane = (int64_t)g->oh * g->ow;
    struct nncw_igemm_chunk c = {.w = w,
                                 .e = e,
                                 .in = g->in,
                                 .taps = g->taps,
                                 .tap_dwords = g->tap_dwords ? g->tap_dwords : w->kc4,
                                 .tap_off = g->tap_off,
                                 .aoff = aoff,
                                 .ooff = ooff,
                                 .out = g->out,
                                 .out_ch = g->out_ch};
    NNCW_ASSERT((int64_t)c.taps * c.tap_dwords == (int64_t)w->taps * w->kc4);
    int64_t i = p0 / plane, r = p0 % plane;
    int y = (int)(r / g->ow), x = (int)(r % g->ow);
    for (int64_t p = p0; p < p1;) {
        int np = p1 - p < IGEMM_CHUNK ? (int)(p1 - p) : IGEMM_CHUNK;
        for (int j = 0; j < np; j++) {
            aoff[j] = i * g->in_img + y * g->in_row + x * g->in_pix;
            ooff[j] = i * g->out_img + y * g->out_row + x * g->out_pix;
            if (++x == g->ow) {
                x = 0;
                if (++y == g->oh) {
                    y = 0;
                    i++;
                }
            }
        }
        c.np = np;
        fn(&c);
        p += np;
    }
}
