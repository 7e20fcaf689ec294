/*
** Weight packing for the integer GEMM (layout in int8/igemm.h): once per model, with the
** per-channel weight sums the zero-point correction needs.
*/
#include "int8/igemm.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

enum nncw_status nncw_igemm_weights_pack(struct nncw_igemm_weights *pw, int m, int c, int taps,
                                         const int8_t *w, int64_t sm, int64_t sc, int64_t st)
{
    memset(pw, 0, sizeof *pw);
    if (m < 1 || c < 1 || taps < 1)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "int8 weights: %d x %d x %d is empty", m, c, taps);
    /* |acc| <= K * 255 * 128 must fit int32 */
    int64_t k = (int64_t)taps * ((c + 3) / 4 * 4);
    if (k > INT32_MAX / (255 * 128))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "int8 weights: %lld products per output could overflow int32",
                         (long long)k);
    pw->m = m;
    pw->blocks = (m + NNCW_IGEMM_BLOCK - 1) / NNCW_IGEMM_BLOCK;
    pw->taps = taps;
    pw->kc4 = (c + 3) / 4;
    int64_t rows = (int64_t)taps * pw->kc4;
    size_t bytes = (size_t)pw->blocks * (size_t)rows * NNCW_IGEMM_BLOCK * 4;
    pw->data = nncw_calloc(1, bytes);
    pw->sum = nncw_calloc((size_t)pw->blocks * NNCW_IGEMM_BLOCK, sizeof *pw->sum);
    if (!pw->data || !pw->sum) {
        nncw_igemm_weights_fini(pw);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "int8 weights: cannot allocate %zu bytes", bytes);
    }
    pw->s16_safe = true;
    for (int b = 0; b < pw->blocks; b++) {
        int64_t ks;
        int8_t *dst = (int8_t *)nncw_igemm_block(pw, b, &ks);
        for (int l = 0; l < NNCW_IGEMM_BLOCK; l++) {
            int mi = b * NNCW_IGEMM_BLOCK + l;
            if (mi >= m)
                break;
            int32_t sum = 0;
            for (int t = 0; t < taps; t++)
                for (int ci = 0; ci < c; ci++) {
                    int8_t v = w[mi * sm + ci * sc + t * st];
                    int64_t row = (int64_t)t * pw->kc4 + ci / 4;
                    dst[row * ks + l * 4 + ci % 4] = v;
                    sum += v;
                }
            pw->sum[mi] = sum;
            /* vpmaddubsw adds the products of bytes 0-1 and 2-3 of a dword in int16 */
            for (int64_t row = 0; row < rows; row++) {
                const int8_t *d = dst + row * ks + l * 4;
                if (abs(d[0]) + abs(d[1]) > 128 || abs(d[2]) + abs(d[3]) > 128)
                    pw->s16_safe = false;
            }
        }
    }
    return NNCW_OK;
}

void nncw_igemm_weights_fini(struct nncw_igemm_weights *pw)
{
    nncw_free(pw->data);
    nncw_free(pw->sum);
    memset(pw, 0, sizeof *pw);
}
