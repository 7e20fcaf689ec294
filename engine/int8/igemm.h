/*
 * The integer GEMM behind int8 Conv, Gemm and MatMul: u8 activations times s8 weights, summed in
 * int32, then an epilogue that requantizes to u8, dequantizes to float or stores the int32 sums.
 *
 *     struct nncw_igemm_weights w;
 *     nncw_igemm_weights_pack(&w, m, c, taps, wint, c * taps, taps, 1);   // OIHW int8 weights
 *     struct nncw_igemm_geom g = {...};            // where every output pixel reads and writes
 *     struct nncw_igemm_epi e = {.mode = NNCW_IGEMM_OUT_U8, .corr = ..., .mul = ..., ...};
 *     nncw_igemm_run(nncw_igemm_kernel(NNCW_INT8_ISA_AVX512_VNNI), &w, &g, &e, 0, pixels);
 *     nncw_igemm_weights_fini(&w);
 *
 * The convolution is an implicit GEMM over channels-last (NHWC) u8 activations: output pixel p
 * and channel m get sum over taps t and input channels c of in[pixel(p) + tap_off[t] + c] *
 * w[m][t][c], where pixel(p) is the byte offset of the pixel's first tap. Zero padding is a
 * border of zero-point bytes around every image, so no tap needs a bounds check. A Gemm is the
 * case of one tap and one pixel per row.
 *
 * Weights are packed once per model: output channels in blocks of 16, a block's 4 consecutive
 * input channels of one output channel in one dword (the operand of vpdpbusd and of
 * vpmaddubsw + vpmaddwd), blocks grouped by 4 so the AVX-512 tile streams 256 contiguous bytes
 * per step. Any weights in [-128, 127] are exact: the AVX2 kernel splits activations into their
 * low 7 bits and the top bit when a byte pair could saturate vpmaddubsw's int16 sums (weights of
 * 7 bits, NNCF's CPU saturation fix, never can).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "int8/int8_exec.h"

enum {
    NNCW_IGEMM_BLOCK = 16, /* output channels per block */
    NNCW_IGEMM_GROUP = 4,  /* blocks per group */
};

/* packed s8 weights of one layer */
struct nncw_igemm_weights {
    int m;         /* output channels */
    int blocks;    /* ceil(m / 16) */
    int taps, kc4; /* kernel taps; dwords (4 input channels) per tap */
    int8_t *data;  /* groups of blocks, each [taps * kc4][blocks in group * 16][4] */
    int32_t *sum;  /* [blocks * 16]: sum of a channel's weights (the zero-point correction) */
    bool s16_safe; /* no dword holds a pair with |w0| + |w1| > 128 (vpmaddubsw cannot saturate) */
};

/* where the pixels of the output read and write */
struct nncw_igemm_geom {
    int64_t n;  /* images */
    int oh, ow; /* output plane; pixels are p = (i * oh + y) * ow + x */
    const uint8_t
        *in; /* pixel (i, y, x) reads from in + i*in_img + y*in_row + x*in_pix + tap_off */
    int64_t in_img, in_row, in_pix;
    int taps;
    const int64_t *tap_off; /* bytes; each tap reads tap_dwords * 4 bytes from there */
    int tap_dwords;         /* 0: the weights' kc4; more when taps that are adjacent in
                               memory (a kernel row over unpadded channels) merge into one, so
                               taps * tap_dwords = the weights' taps * kc4 */
    void *out;              /* channel m of pixel (i, y, x) is element
                               i*out_img + y*out_row + x*out_pix + m*out_ch */
    int64_t out_img, out_row, out_pix, out_ch;
    /* NNCW_IGEMM_OUT_U8 with a residual (nncw_igemm_epi.res): channel m of pixel (i, y, x)
     * adds the code at res + i*res_img + y*res_row + x*res_pix + m */
    int64_t res_img, res_row, res_pix;
};

enum nncw_igemm_out {
    NNCW_IGEMM_OUT_S32, /* acc - corr */
    NNCW_IGEMM_OUT_F32, /* clamp(mul * (acc - corr) + add, lo, hi) */
    NNCW_IGEMM_OUT_U8,  /* clamp(round_even(mul * (acc - corr) + add), qmin, qmax); out_ch 1 */
    NNCW_IGEMM_OUT_COUNT
};

/* A residual Add after a requantized product (NNCW_IGEMM_OUT_U8 only), as the float model
 * computes it from two fake-quantized values and quantizes the sum again:
 *   v    = (code - zp) * step + (res - res_zp) * res_step        code: the product's u8 code
 *   code = clamp(round(res_mul * clamp(v, res_lo, res_hi) + res_add), res_qmin, res_qmax) */
struct nncw_igemm_residual {
    const uint8_t *res; /* NULL: no residual */
    float zp, step, res_zp, res_step, res_lo, res_hi, res_mul, res_add;
    int32_t res_qmin, res_qmax;
};

/* per output channel arrays hold blocks * 16 entries (zero past m); mul and add may be NULL
 * for NNCW_IGEMM_OUT_S32 */
struct nncw_igemm_epi {
    enum nncw_igemm_out mode;
    const int32_t *corr; /* input zero point * weight sum */
    const float *mul, *add;
    float lo, hi;
    int32_t qmin, qmax;
    struct nncw_igemm_residual r;
};

/* Packs the int8 weight w[mi * sm + ci * sc + t * st] for m output channels, c input channels
 * and taps taps. NNCW_ERR_NOMEM; NNCW_ERR_INVALID_ARG when a sum could overflow int32. */
enum nncw_status nncw_igemm_weights_pack(struct nncw_igemm_weights *pw, int m, int c, int taps,
                                         const int8_t *w, int64_t sm, int64_t sc, int64_t st);
void nncw_igemm_weights_fini(struct nncw_igemm_weights *pw);

/* the dwords of block b: row k (of taps * kc4) at the result + k * *kstride bytes */
static inline const int8_t *nncw_igemm_block(const struct nncw_igemm_weights *w, int b,
                                             int64_t *kstride)
{
    int full = w->blocks / NNCW_IGEMM_GROUP * NNCW_IGEMM_GROUP;
    int64_t rows = (int64_t)w->taps * w->kc4, bsz = rows * NNCW_IGEMM_BLOCK * 4;
    *kstride = b < full ? NNCW_IGEMM_GROUP * NNCW_IGEMM_BLOCK * 4 : NNCW_IGEMM_BLOCK * 4;
    if (b < full)
        return w->data + (b / NNCW_IGEMM_GROUP) * NNCW_IGEMM_GROUP * bsz +
               (b % NNCW_IGEMM_GROUP) * NNCW_IGEMM_BLOCK * 4;
    return w->data + (int64_t)b * bsz;
}

/* Work for one ISA kernel: np pixels, given by the byte offset of each pixel's tap 0 in `in`
 * and the element offset of its channel 0 in `out`; all output channels. */
struct nncw_igemm_chunk {
    const struct nncw_igemm_weights *w;
    const struct nncw_igemm_epi *e;
    const uint8_t *in;
    int taps, tap_dwords;
    const int64_t *tap_off;
    const int64_t *aoff, *ooff;
    const int64_t *roff; /* each pixel's residual codes (epi r.res), NULL without */
    void *out;
    int64_t out_ch;
    int np;
};

typedef void (*nncw_igemm_chunk_fn)(const struct nncw_igemm_chunk *c);

void nncw_kernel_igemm_u8s8_c(const struct nncw_igemm_chunk *c);
void nncw_kernel_igemm_u8s8_avx2(const struct nncw_igemm_chunk *c);
void nncw_kernel_igemm_u8s8_vnni(const struct nncw_igemm_chunk *c);
/* element by element in int64, straight from the packed layout (the test oracle) */
void nncw_kernel_igemm_u8s8_ref(const struct nncw_igemm_chunk *c);

/* the kernel of an ISA (NULL for AUTO or one this build lacks); check support first */
nncw_igemm_chunk_fn nncw_igemm_kernel(enum nncw_int8_isa isa);

/* the epilogue of one value (shared by the kernels' scalar paths); res: the residual code
 * of the element when the epilogue has one (else unused) */
void nncw_igemm_store_scalar(const struct nncw_igemm_epi *e, void *out, int64_t idx, int m,
                             int32_t acc, const uint8_t *res);
/* the residual step of the epilogue on the product's code (scalar form) */
int32_t nncw_igemm_residual_code(const struct nncw_igemm_residual *r, int32_t code, uint8_t res);

/* computes output pixels [p0, p1) of geometry g with kernel fn */
void nncw_igemm_run(nncw_igemm_chunk_fn fn, const struct nncw_igemm_weights *w,
                    const struct nncw_igemm_geom *g, const struct nncw_igemm_epi *e, int64_t p0,
                    int64_t p1);
