/*
** The integer GEMM in portable C: the reference (the test oracle, one product at a time in
** int64) and a blocked kernel for machines without AVX2, tiled like the SIMD ones (4 pixels by
** 16 output channels in int32 accumulators) so the compiler can vectorise the channel loop.
*/
#include "int8/igemm.h"

#include <string.h>

void nncw_kernel_igemm_u8s8_ref(const struct nncw_igemm_chunk *c)
{
    const struct nncw_igemm_weights *w = c->w;
    for (int j = 0; j < c->np; j++)
        for (int m = 0; m < w->m; m++) {
            int64_t ks;
            const int8_t *blk = nncw_igemm_block(w, m / NNCW_IGEMM_BLOCK, &ks);
            int l = m % NNCW_IGEMM_BLOCK;
            int64_t acc = 0;
            for (int t = 0; t < c->taps; t++) {
                const uint8_t *a = c->in + c->aoff[j] + c->tap_off[t];
                for (int k = 0; k < c->tap_dwords; k++) {
                    const int8_t *wd = blk + ((int64_t)t * c->tap_dwords + k) * ks + l * 4;
                    for (int b = 0; b < 4; b++)
                        acc += (int64_t)a[4 * k + b] * wd[b];
                }
            }
            nncw_igemm_store_scalar(c->e, c->out, c->ooff[j] + m * c->out_ch, m, (int32_t)acc,
                                    c->roff ? c->e->r.res + c->roff[j] + m : NULL);
        }
}

enum { TILE_P = 4 };

/* one block of 16 channels for up to TILE_P pixels */
static void tile_c(const struct nncw_igemm_chunk *c, int b, int j0, int np)
{
    const struct nncw_igemm_weights *w = c->w;
    int64_t ks;
    const int8_t *blk = nncw_igemm_block(w, b, &ks);
    int32_t acc[TILE_P][NNCW_IGEMM_BLOCK];
    memset(acc, 0, sizeof acc);
    for (int t = 0; t < c->taps; t++) {
        const uint8_t *a[TILE_P];
        for (int j = 0; j < TILE_P; j++)
            a[j] = c->in + c->aoff[j0 + (j < np ? j : 0)] + c->tap_off[t];
        for (int k = 0; k < c->tap_dwords; k++) {
            const int8_t *wd = blk + ((int64_t)t * c->tap_dwords + k) * ks;
            for (int j = 0; j < TILE_P; j++) {
                int32_t a0 = a[j][4 * k], a1 = a[j][4 * k + 1], a2 = a[j][4 * k + 2],
                        a3 = a[j][4 * k + 3];
                for (int l = 0; l < NNCW_IGEMM_BLOCK; l++)
                    acc[j][l] += a0 * wd[4 * l] + a1 * wd[4 * l + 1] + a2 * wd[4 * l + 2] +
                                 a3 * wd[4 * l + 3];
            }
        }
    }
    int mend = w->m - b * NNCW_IGEMM_BLOCK;
    mend = mend < NNCW_IGEMM_BLOCK ? mend : NNCW_IGEMM_BLOCK;
    for (int j = 0; j < np; j++)
        for (int l = 0; l < mend; l++) {
            int m = b * NNCW_IGEMM_BLOCK + l;
            nncw_igemm_store_scalar(c->e, c->out, c->ooff[j0 + j] + m * c->out_ch, m, acc[j][l],
                                    c->roff ? c->e->r.res + c->roff[j0 + j] + m : NULL);
        }
}

void nncw_kernel_igemm_u8s8_c(const struct nncw_igemm_chunk *c)
{
    for (int b = 0; b < c->w->blocks; b++)
        for (int j = 0; j < c->np; j += TILE_P)
            tile_c(c, b, j, c->np - j < TILE_P ? c->np - j : TILE_P);
}
