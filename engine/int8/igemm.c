/*
** The integer GEMM driver: walks output pixels in chunks, computes where each reads and writes,
** and hands the chunk to the ISA kernel; plus the scalar epilogue the kernels share for tails.
*/
#include "int8/igemm.h"

#include "core/common.h"
#include "ops/fake_quantize.h"

int32_t nncw_igemm_residual_code(const struct nncw_igemm_residual *r, int32_t code, uint8_t res)
{
    float v = ((float)code - r->zp) * r->step + ((float)res - r->res_zp) * r->res_step;
    v = v < r->res_lo ? r->res_lo : v;
    v = v > r->res_hi ? r->res_hi : v;
    float f = r->res_mul * v + r->res_add;
    f = f < (float)r->res_qmin ? (float)r->res_qmin : f;
    f = f > (float)r->res_qmax ? (float)r->res_qmax : f;
    return (int32_t)nncw_round_even(f);
}

void nncw_igemm_store_scalar(const struct nncw_igemm_epi *e, void *out, int64_t idx, int m,
                             int32_t acc, const uint8_t *res)
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
    int32_t code = (int32_t)nncw_round_even(f);
    if (e->r.res)
        code = nncw_igemm_residual_code(&e->r, code, *res);
    ((uint8_t *)out)[idx] = (uint8_t)code;
}

/* Pixels per chunk: the offsets of a chunk are computed once and reused by every block of
 * output channels, whose weights stay in L2 while the chunk's activations stay in L1/L2. */
enum { IGEMM_CHUNK = 192 };

void nncw_igemm_run(nncw_igemm_chunk_fn fn, const struct nncw_igemm_weights *w,
                    const struct nncw_igemm_geom *g, const struct nncw_igemm_epi *e, int64_t p0,
                    int64_t p1)
{
    int64_t aoff[IGEMM_CHUNK], ooff[IGEMM_CHUNK], roff[IGEMM_CHUNK];
    int64_t plane = (int64_t)g->oh * g->ow;
    struct nncw_igemm_chunk c = {.w = w,
                                 .e = e,
                                 .in = g->in,
                                 .taps = g->taps,
                                 .tap_dwords = g->tap_dwords ? g->tap_dwords : w->kc4,
                                 .tap_off = g->tap_off,
                                 .aoff = aoff,
                                 .ooff = ooff,
                                 .roff = e->r.res ? roff : NULL,
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
            if (c.roff)
                roff[j] = i * g->res_img + y * g->res_row + x * g->res_pix;
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
