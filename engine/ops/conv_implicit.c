/* Implicit-GEMM convolution on the AVX-512 sgemm driver (ops/sgemm_avx512.c).
 *
 * The im2col matrix col[c * kh * kw][n * oh * ow] is never built: the B packer reads each
 * 16-pixel run of a col row from the image, with one masked load when the run's window
 * corners are consecutive in memory (stride 1, rows as wide as the output: ResNet's 3x3
 * convs) and a masked gather otherwise; the masks zero the taps that fall in the padding.
 * That removes the im2col pass and its memory traffic (9x the input for 3x3 kernels), and the
 * whole batch becomes one GEMM, so the threads split it without per-chunk scratch.
 *
 *   forward       y  = W [m x c*kk] . col                   (C written into NCHW y)
 *   weight grad   dW += dy [m x pixels] . col^T             (A read from NCHW dy)
 *   input grad    dx += W' . col(dy), a stride-1 convolution of dy with W' the kernel flipped
 *                 and transposed (c <-> m), padded by (k - 1) * dilation - pad
 */
#include "ops/conv_implicit.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>

#include "ops/blas.h"
#include "ops/sgemm_internal.h"

/*
** Where the im2col path wins, measured on the small CNN: with fewer than MIN_DEPTH rows of col
** (a 3x3 kernel over one channel) the per-block set-up costs more than the product; and the
** input gradient is a product with c rows, which wastes too much of the 14-row micro-tiles
** below MIN_INPUT_GRAD_CHANNELS (32 channels: 42 rows computed for 32).
*/
enum { MAX_TAPS = 64, MIN_DEPTH = 16, MIN_INPUT_GRAD_CHANNELS = 48 };

static bool fits_int(double floats)
{
    return floats < (double)INT_MAX / 2;
}

bool nncw_conv2d_implicit_applies(const struct nncw_conv2d_geom *g)
{
    return NNCW_SGEMM_HAVE_AVX512 && nncw_blas_get_backend() == NNCW_BLAS_BACKEND_NNCW_AVX512 &&
           g->group == 1 && g->kh * g->kw <= MAX_TAPS && g->c * g->kh * g->kw >= MIN_DEPTH &&
           fits_int((double)g->n * g->c * g->h * g->w) &&
           fits_int((double)g->n * g->m * g->oh * g->ow) &&
           fits_int(((double)g->kh * g->dh + g->pt) * g->w + (double)g->kw * g->dw + g->pl);
}

bool nncw_conv2d_implicit_input_grad_applies(const struct nncw_conv2d_geom *g)
{
    return nncw_conv2d_implicit_applies(g) && g->c >= MIN_INPUT_GRAD_CHANNELS && g->sh == 1 &&
           g->sw == 1 && g->pt <= (g->kh - 1) * g->dh && g->pl <= (g->kw - 1) * g->dw &&
           fits_int(((double)g->kh * g->dh) * g->ow + (double)g->kw * g->dw);
}

#if NNCW_SGEMM_HAVE_AVX512

enum { MR = NNCW_SGEMM_MR, NR = NNCW_SGEMM_NR };

/* col of images x under geometry g, read where needed */
struct virtual_cols {
    const struct nncw_conv2d_geom *g;
    const float *x;
    int taps, ohw, npix, hw, img;
    int32_t shift[MAX_TAPS]; /* offset of tap (ki, kj) from the window's top-left */
    uint64_t row_first;      /* bit t: tap t is the first of its kernel row (kj = 0) */
    int row_span;            /* floats a kernel row of 16 pixels in one output row reads */
};

static void virtual_cols_init(struct virtual_cols *vc, const struct nncw_conv2d_geom *g,
                              const float *x)
{
    vc->g = g;
    vc->x = x;
    vc->taps = g->kh * g->kw;
    vc->ohw = g->oh * g->ow;
    vc->npix = g->n * vc->ohw;
    vc->hw = g->h * g->w;
    vc->img = g->c * vc->hw;
    vc->row_span = 15 * g->sw + (g->kw - 1) * g->dw + 1;
    vc->row_first = 0;
    for (int ki = 0; ki < g->kh; ki++) {
        vc->row_first |= (uint64_t)1 << (ki * g->kw);
        for (int kj = 0; kj < g->kw; kj++)
            vc->shift[ki * g->kw + kj] = ki * g->dh * g->w + kj * g->dw;
    }
}

/*
** 16 consecutive pixels (columns of col). Their windows' top-left corners come in runs along
** output rows: lane l of run s starts at off[s] + stride * l. Up to MAX_RUNS runs of stride 1
** or 2 are read with masked loads (stride 2: two loads and a permute that keeps the even
** elements); anything else takes a gather.
*/
enum { MAX_RUNS = 4 };

struct pixel_block {
    int runs; /* 0: gather */
    int stride;
    int32_t off[MAX_RUNS];     /* lane l of run s reads off[s] + stride * l (+ the tap shift) */
    __mmask16 lanes[MAX_RUNS]; /* the lanes of each run */
    int32_t base[16];          /* for a gather: each lane's window top-left (may be < 0) */
    __mmask16 tap[MAX_TAPS];   /* lanes that exist and whose tap lies inside the image */
    uint32_t tap2[MAX_TAPS];   /* stride 2: tap's lanes spread to the even elements read */
    bool ahead_ok;             /* the packer's next block of pixels exists: */
    int32_t ahead;             /* the window top-left of its first pixel */
};

/* the window top-left (in x) of pixel j's first tap */
static int32_t window_at(const struct virtual_cols *vc, int j)
{
    const struct nncw_conv2d_geom *g = vc->g;
    int i = j / vc->ohw, pix = j % vc->ohw;
    return i * vc->img + (pix / g->ow * g->sh - g->pt) * g->w + pix % g->ow * g->sw - g->pl;
}

/* where the block `dist` pixels after j starts, for prefetch_ahead */
static void block_ahead(const struct virtual_cols *vc, int j, int dist, struct pixel_block *b)
{
    b->ahead_ok = j + dist < vc->npix;
    b->ahead = b->ahead_ok ? window_at(vc, j + dist) : 0;
}

/* splits the valid lanes into runs; runs = 0 when that takes more than MAX_RUNS */
static void find_runs(struct pixel_block *b, __mmask16 valid, int stride)
{
    b->runs = 0;
    b->stride = stride;
    if (stride != 1 && stride != 2)
        return;
    int n = 0;
    for (int l = 0; l < 16; l++) {
        if (!(valid >> l & 1))
            continue;
        if (n == 0 || b->base[l] != b->base[l - 1] + stride || !(valid >> (l - 1) & 1)) {
            if (n == MAX_RUNS) {
                b->runs = 0;
                return;
            }
            b->off[n] = b->base[l] - stride * l;
            b->lanes[n++] = 0;
        }
        b->lanes[n - 1] |= (__mmask16)(1u << l);
    }
    b->runs = n;
}

/* the taps' masks from each lane's window top-left (vih, viw) */
NNCW_AVX512_FN static inline void pixel_block_masks(const struct virtual_cols *vc, __mmask16 valid,
                                                    __m512i vih, __m512i viw, struct pixel_block *b)
{
    const struct nncw_conv2d_geom *g = vc->g;
    __m512i vh = _mm512_set1_epi32(g->h), vw = _mm512_set1_epi32(g->w);
    /* unsigned compares: a negative coordinate is out of range too; the column masks are
     * computed again for each kernel row rather than kept in an array (reading back masks
     * stored to the stack stalled) */
    for (int ki = 0; ki < g->kh; ki++) {
        __mmask16 row = valid & _mm512_cmplt_epu32_mask(
                                    _mm512_add_epi32(vih, _mm512_set1_epi32(ki * g->dh)), vh);
        for (int kj = 0; kj < g->kw; kj++)
            b->tap[ki * g->kw + kj] =
                row &
                _mm512_cmplt_epu32_mask(_mm512_add_epi32(viw, _mm512_set1_epi32(kj * g->dw)), vw);
    }
    if (b->stride == 2)
        for (int t = 0; t < vc->taps; t++)
            b->tap2[t] = _pdep_u32(b->tap[t], 0x55555555u);
}

/* the pixels [j, j + 16) clipped to [j, end) */
NNCW_AVX512_FN static void pixel_block_init(const struct virtual_cols *vc, int j, int end,
                                            struct pixel_block *b)
{
    const struct nncw_conv2d_geom *g = vc->g;
    int32_t ih0[16], iw0[16];
    int i = j / vc->ohw, pix = j % vc->ohw, oh = pix / g->ow, ow = pix % g->ow;
    __mmask16 valid = nncw_sgemm_lanes(end - j);
    __m512i vih, viw;
    if (ow + (end - j < 16 ? end - j : 16) <= g->ow && (g->sw == 1 || g->sw == 2)) {
        /* all in one output row (the usual case from 16 pixels a row): one run, no lane by
         * lane bookkeeping (which cost the CIFAR stem's forward 15 % of its time) */
        int ih = oh * g->sh - g->pt, iw = ow * g->sw - g->pl;
        b->runs = 1;
        b->stride = g->sw;
        b->off[0] = i * vc->img + ih * g->w + iw;
        b->lanes[0] = valid;
        const __m512i iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        vih = _mm512_set1_epi32(ih);
        viw = _mm512_add_epi32(_mm512_set1_epi32(iw),
                               _mm512_mullo_epi32(iota, _mm512_set1_epi32(g->sw)));
        pixel_block_masks(vc, valid, vih, viw, b);
        return;
    }
    for (int l = 0; l < 16; l++) {
        if (!(valid >> l & 1)) {
            ih0[l] = iw0[l] = b->base[l] = 0;
            continue;
        }
        ih0[l] = oh * g->sh - g->pt;
        iw0[l] = ow * g->sw - g->pl;
        b->base[l] = i * vc->img + ih0[l] * g->w + iw0[l];
        if (++ow == g->ow) {
            ow = 0;
            if (++oh == g->oh) {
                oh = 0;
                i++;
            }
        }
    }
    find_runs(b, valid, g->sw);
    vih = _mm512_loadu_si512(ih0);
    viw = _mm512_loadu_si512(iw0);
    pixel_block_masks(vc, valid, vih, viw, b);
}

/* row (c, t) of col over the block's 16 pixels; 0 where padding or past the end */
NNCW_AVX512_FN static inline __m512 read_cols(const struct virtual_cols *vc,
                                              const struct pixel_block *b, int c, int t)
{
    const float *plane = vc->x + (size_t)c * vc->hw + vc->shift[t];
    __mmask16 m = b->tap[t];
    if (b->runs == 1 && b->stride == 1)
        return _mm512_maskz_loadu_ps(m, plane + b->off[0]);
    if (b->runs == 0)
        return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, _mm512_loadu_si512(b->base), plane,
                                        4);
    if (b->runs == 1 && b->stride == 2) { /* nncw_sgemm_load_even with the masks ready */
        const __m512i even =
            _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
        const float *src = plane + b->off[0];
        __m512 lo = _mm512_maskz_loadu_ps((__mmask16)b->tap2[t], src);
        __m512 hi = _mm512_maskz_loadu_ps((__mmask16)(b->tap2[t] >> 16), src + 16);
        return _mm512_maskz_permutex2var_ps(m, lo, even, hi);
    }
    __m512 v = _mm512_setzero_ps();
    for (int s = 0; s < b->runs; s++) {
        __mmask16 ms = m & b->lanes[s];
        if (!ms)
            continue;
        if (b->stride == 1)
            v = _mm512_mask_loadu_ps(v, ms, plane + b->off[s]);
        else
            v = nncw_sgemm_load_even(v, ms, plane + b->off[s]);
    }
    return v;
}

/* ---- forward: A = weights [m][c * taps], B = col ---- */

struct forward_ctx {
    struct virtual_cols vc;
    const float *w;
};

static void pack_weights(const struct nncw_sgemm_plan *pl, int i0, int mc, int p0, int kc,
                         float *dst)
{
    const struct forward_ctx *f = pl->ctx;
    nncw_sgemm_pack_a(false, f->w, pl->k, i0, mc, p0, kc, dst);
}

/*
** Packing walks every channel plane a block of pixels at a time (a panel of NR for the
** forward, KC for the weight gradient): one stream per channel, too many for the hardware
** prefetchers once the planes outgrow L2 (the packers then waited on memory most of their
** time), so each kernel row's lines of the block ahead are fetched into L2 while this one is
** multiplied. Always inlined: GCC 12 takes a separate function whose only effect is a
** prefetch for one without effects, and drops the call.
*/
NNCW_AVX512_FN static inline __attribute__((always_inline)) void
prefetch_ahead(const struct virtual_cols *vc, const struct pixel_block *b, int c, int t)
{
    if (!b->ahead_ok || b->runs == 0 || !(vc->row_first >> t & 1))
        return;
    /* the 16 pixels' span along the kernel row, in whole lines (addresses as integers: the
     * window may start in the padding, before the plane) */
    intptr_t at = (intptr_t)(vc->x + (size_t)c * vc->hw + vc->shift[t]) + (intptr_t)b->ahead * 4;
    intptr_t lo = at & -64, hi = at + (intptr_t)vc->row_span * 4;
    for (intptr_t q = lo; q < hi; q += 64)
        _mm_prefetch((const char *)q, _MM_HINT_T1);
}

/* col rows [p0, p0 + kc), pixels [j0, j0 + nc): one 16-pixel block per panel half */
NNCW_AVX512_FN static void pack_cols(const struct nncw_sgemm_plan *pl, int p0, int kc, int j0,
                                     int nc, float *dst)
{
    const struct virtual_cols *vc = &((const struct forward_ctx *)pl->ctx)->vc;
    struct pixel_block b;
    for (int c0 = 0; c0 < nc; c0 += NR, dst += (size_t)kc * NR)
        for (int h = 0; h < 2; h++) {
            pixel_block_init(vc, j0 + c0 + 16 * h, j0 + nc, &b);
            block_ahead(vc, j0 + c0 + 16 * h, NR, &b);
            float *d = dst + 16 * h;
            int c = p0 / vc->taps, t = p0 % vc->taps;
            for (int p = 0; p < kc; p++, d += NR) {
                prefetch_ahead(vc, &b, c, t);
                _mm512_store_ps(d, read_cols(vc, &b, c, t));
                if (++t == vc->taps) {
                    t = 0;
                    c++;
                }
            }
        }
}

static bool run_forward(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                        const float *b, float beta, float *y)
{
    struct forward_ctx f = {.w = w};
    virtual_cols_init(&f.vc, g, x);
    struct nncw_sgemm_plan pl = {.m = g->m,
                                 .n = f.vc.npix,
                                 .k = g->c * f.vc.taps,
                                 .alpha = 1.0f,
                                 .beta = beta,
                                 .bias = b,
                                 .pack_a = pack_weights,
                                 .pack_b = pack_cols,
                                 .ctx = &f,
                                 .c = y,
                                 .ldc = f.vc.ohw,
                                 .c_group = f.vc.ohw,
                                 .c_group_stride = (long long)g->m * f.vc.ohw};
    return nncw_sgemm_run(&pl);
}

bool nncw_conv2d_implicit_forward(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                                  const float *b, float beta, float *y)
{
    return nncw_conv2d_implicit_applies(g) && run_forward(g, x, w, b, beta, y);
}

/* ---- weight gradient: A = dy as [m][pixels], B = col^T ---- */

struct weight_grad_ctx {
    struct virtual_cols vc;
    const float *dy;
    unsigned long id; /* tells this product's cached pixel blocks from an earlier one's */
};

static atomic_ulong next_product_id;

/* the pixel blocks of the last pixel range each thread packed: B is packed one panel at a
 * time, and every panel of a block of pixels needs the same blocks */
static _Thread_local struct {
    unsigned long id;
    int p0, kc;
    struct pixel_block blocks[NNCW_SGEMM_KC / 16];
} pixel_cache;

/* dy rows [i0, i0 + mc) (channels), pixels [p0, p0 + kc): 16 pixels x 16 channels at a time,
 * transposed into the A panels */
NNCW_AVX512_FN static void pack_dy(const struct nncw_sgemm_plan *pl, int i0, int mc, int p0, int kc,
                                   float *dst)
{
    const struct weight_grad_ctx *wg = pl->ctx;
    const struct virtual_cols *vc = &wg->vc;
    const int ohw = vc->ohw, m_all = vc->g->m;
    for (int q = 0; q < kc; q += 16) {
        int cols = kc - q < 16 ? kc - q : 16;
        /* the 16 pixels' offsets in dy, in runs split where an image ends */
        struct pixel_block b;
        int j = p0 + q, i = j / ohw, pix = j % ohw;
        for (int l = 0; l < 16; l++) {
            b.base[l] = l < cols ? i * m_all * ohw + pix : 0;
            if (l < cols && ++pix == ohw) {
                pix = 0;
                i++;
            }
        }
        __mmask16 valid = nncw_sgemm_lanes(cols);
        find_runs(&b, valid, 1);
        for (int r0 = 0; r0 < mc; r0 += MR) {
            int mr = mc - r0 < MR ? mc - r0 : MR;
            __m512 r[16];
            for (int l = 0; l < 16; l++) {
                const float *row = wg->dy + (size_t)(i0 + r0 + l) * ohw;
                r[l] = _mm512_setzero_ps();
                if (l >= mr)
                    continue;
                if (b.runs == 1) {
                    /* see prefetch_ahead */
                    _mm_prefetch((const char *)(row + b.off[0] + NNCW_SGEMM_KC), _MM_HINT_T1);
                    _mm_prefetch((const char *)(row + b.off[0] + NNCW_SGEMM_KC + 15), _MM_HINT_T1);
                }
                if (b.runs == 0)
                    r[l] =
                        _mm512_mask_i32gather_ps(r[l], valid, _mm512_loadu_si512(b.base), row, 4);
                for (int s = 0; s < b.runs; s++)
                    r[l] = _mm512_mask_loadu_ps(r[l], b.lanes[s], row + b.off[s]);
            }
            nncw_sgemm_transpose16(r);
            float *d = dst + (size_t)(r0 / MR) * kc * MR + (size_t)q * MR;
            for (int qq = 0; qq < cols; qq++)
                _mm512_mask_storeu_ps(d + (size_t)qq * MR, nncw_sgemm_lanes(MR), r[qq]);
        }
    }
}

/* col^T rows [p0, p0 + kc) (pixels), columns [j0, j0 + nc) (col rows): 16 col rows x 16 pixels
 * at a time, transposed into the B panels */
NNCW_AVX512_FN static void pack_cols_t(const struct nncw_sgemm_plan *pl, int p0, int kc, int j0,
                                       int nc, float *dst)
{
    const struct weight_grad_ctx *wg = pl->ctx;
    const struct virtual_cols *vc = &wg->vc;
    if (pixel_cache.id != wg->id || pixel_cache.p0 != p0 || pixel_cache.kc != kc) {
        for (int q = 0; q < kc; q += 16) {
            pixel_block_init(vc, p0 + q, p0 + (kc - q < 16 ? kc : q + 16),
                             &pixel_cache.blocks[q / 16]);
            block_ahead(vc, p0 + q, NNCW_SGEMM_KC, &pixel_cache.blocks[q / 16]);
        }
        pixel_cache.id = wg->id;
        pixel_cache.p0 = p0;
        pixel_cache.kc = kc;
    }
    for (int q = 0; q < kc; q += 16) {
        int cols = kc - q < 16 ? kc - q : 16;
        const struct pixel_block *b = &pixel_cache.blocks[q / 16];
        for (int c0 = 0; c0 < nc; c0 += NR)
            for (int h = 0; h < 2; h++) {
                int kk = j0 + c0 + 16 * h, rows = j0 + nc - kk;
                int c = kk / vc->taps, t = kk % vc->taps;
                __m512 r[16];
                for (int l = 0; l < 16; l++) {
                    if (l < rows)
                        prefetch_ahead(vc, b, c, t);
                    r[l] = l < rows ? read_cols(vc, b, c, t) : _mm512_setzero_ps();
                    if (++t == vc->taps) {
                        t = 0;
                        c++;
                    }
                }
                nncw_sgemm_transpose16(r);
                float *d = dst + (size_t)(c0 / NR) * kc * NR + (size_t)q * NR + 16 * h;
                for (int qq = 0; qq < cols; qq++)
                    _mm512_store_ps(d + (size_t)qq * NR, r[qq]);
            }
    }
}

bool nncw_conv2d_implicit_weight_grad(const struct nncw_conv2d_geom *g, const float *x,
                                      const float *dy, float *dw)
{
    if (!nncw_conv2d_implicit_applies(g))
        return false;
    struct weight_grad_ctx wg = {.dy = dy, .id = atomic_fetch_add(&next_product_id, 1) + 1};
    virtual_cols_init(&wg.vc, g, x);
    int kcols = g->c * wg.vc.taps;
    struct nncw_sgemm_plan pl = {.m = g->m,
                                 .n = kcols,
                                 .k = wg.vc.npix,
                                 .alpha = 1.0f,
                                 .beta = 1.0f,
                                 .pack_a = pack_dy,
                                 .pack_b = pack_cols_t,
                                 .ctx = &wg,
                                 .c = dw,
                                 .ldc = kcols,
                                 .c_group = kcols};
    return nncw_sgemm_run(&pl);
}

/* ---- input gradient ---- */

bool nncw_conv2d_implicit_input_grad(const struct nncw_conv2d_geom *g, const float *w,
                                     const float *dy, float *dx, float *scratch)
{
    if (!nncw_conv2d_implicit_input_grad_applies(g))
        return false;
    /* W'[c][m][kh - 1 - ki][kw - 1 - kj] = W[m][c][ki][kj] */
    const int taps = g->kh * g->kw;
    for (int m = 0; m < g->m; m++)
        for (int c = 0; c < g->c; c++) {
            const float *src = w + ((size_t)m * g->c + c) * taps;
            float *dst = scratch + ((size_t)c * g->m + m) * taps;
            for (int t = 0; t < taps; t++)
                dst[taps - 1 - t] = src[t];
        }
    struct nncw_conv2d_geom t = {.n = g->n,
                                 .c = g->m,
                                 .h = g->oh,
                                 .w = g->ow,
                                 .m = g->c,
                                 .group = 1,
                                 .kh = g->kh,
                                 .kw = g->kw,
                                 .sh = 1,
                                 .sw = 1,
                                 .dh = g->dh,
                                 .dw = g->dw,
                                 .pt = (g->kh - 1) * g->dh - g->pt,
                                 .pl = (g->kw - 1) * g->dw - g->pl,
                                 .oh = g->h,
                                 .ow = g->w};
    return run_forward(&t, dy, scratch, NULL, 1.0f, dx);
}

#else

bool nncw_conv2d_implicit_forward(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                                  const float *b, float beta, float *y)
{
    (void)g, (void)x, (void)w, (void)b, (void)beta, (void)y;
    return false;
}

bool nncw_conv2d_implicit_weight_grad(const struct nncw_conv2d_geom *g, const float *x,
                                      const float *dy, float *dw)
{
    (void)g, (void)x, (void)dy, (void)dw;
    return false;
}

bool nncw_conv2d_implicit_input_grad(const struct nncw_conv2d_geom *g, const float *w,
                                     const float *dy, float *dx, float *scratch)
{
    (void)g, (void)w, (void)dy, (void)dx, (void)scratch;
    return false;
}

#endif
