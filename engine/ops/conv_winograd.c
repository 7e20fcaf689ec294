/* Winograd F(2x2, 3x3) and F(4x4, 3x3) for 3x3, stride-1, pad-1 convolutions that keep the
 * plane size (the bulk of ResNet's work), forward and, through the flipped kernel, input
 * gradient.
 *
 * Each T x T block of outputs ("tile", T = 2 or 4) comes from a P x P patch of input d
 * (P = T + 2) and the 3x3 kernel g as Y = A^T [(G g G^T) .* (B^T d B)] A: P^2 products per
 * tile and channel pair instead of 9 T^2, so the P^2 GEMMs (one per position xi of the
 * transformed tile) do 2.25x (T = 2) or 4x (T = 4) fewer operations than the direct
 * convolution; the transforms are adds, vectorized over 16 tiles.
 *
 *   U[xi][m][c] = (G g[m][c] G^T)[xi]         (written straight into the sgemm's packed layout)
 *   V[xi][c][t] = (B^T d[c][t] B)[xi]
 *   M[xi]       = U[xi] . V[xi]               (sgemm, m x c times c x tiles)
 *   y[m][t]     = A^T M[..][m][t] A
 *
 * F(2x2): interpolation points 0, 1, -1, inf:
 *   G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   A^T = [1 1 1 0; 0 1 -1 -1]
 * F(4x4): points 0, 1, -1, 2, -2, inf (Lavin and Gray's set; G's sixths and 24ths are the
 * only inexact constants):
 *   G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0;
 *          0 4 0 -5 0 1]
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 *
 * Tiles go in chunks sized so that V and M (about 128 KB each, at least 32 tiles: one
 * micro-panel of the sgemm) stay in a core's L2 between the transforms and the products
 * (ResNet-18 inference: 4-5 % less CPU time than with 512 KB); the chunks are split over the
 * threads, each running its P^2 products on its own. With few tiles and many channels (4x4
 * planes), all tiles go at once instead, and U is made group of rows by group (see
 * winograd_run_whole). F(2x2) rounds within a few ulps of the direct sum (its transforms are
 * exact in binary; 2e-7 to 5e-7 of the largest output on ResNet's scales); F(4x4)'s larger
 * coefficients cost 15-20 times that (3e-6 to 1e-5 measured, tests/engine/
 * test_ops_conv_paths.c), still far below the 1e-2 and more a wrong tile gives. */
#include "ops/conv_winograd.h"

#include <stdint.h>
#include <string.h>

#include "ops/blas.h"
#include "ops/parallel.h"
#include "ops/sgemm_internal.h"

/*
** Below these channel counts the 16 small products lose more to their edges than the 2.25x
** saves. With the sgemm computing only a tile's real rows and chunks of whole micro-panels,
** 16 and 24 channels win too (batch 32, 32x32 and 16x16 planes: 1.2-1.5x over implicit GEMM;
** 8x8 planes: within 10 % either way); overridable to measure again.
*/
#ifndef NNCW_WINOGRAD_MIN_CHANNELS
#define NNCW_WINOGRAD_MIN_CHANNELS 16
#endif
/* to measure the variants against each other: NNCW_WINOGRAD_TILE 2 or 4 forces F(2x2) or
 * F(4x4) (0: tile_size picks); NNCW_WINOGRAD_WHOLE 0 or 1 forces the chunks or all tiles at
 * once (-1: runs_whole picks) */
#ifndef NNCW_WINOGRAD_TILE
#define NNCW_WINOGRAD_TILE 0
#endif
#ifndef NNCW_WINOGRAD_WHOLE
#define NNCW_WINOGRAD_WHOLE (-1)
#endif
enum { MIN_CHANNELS = NNCW_WINOGRAD_MIN_CHANNELS, CHUNK_FLOATS = 1 << 15, MIN_CHUNK = 32 };
enum { XI_PAD = 16 }; /* floats after each of the V and M matrices, see winograd_run */
enum { MAX_XI = 36 }; /* positions of a transformed tile: 16 (F(2x2)) or 36 (F(4x4)) */

bool nncw_conv2d_winograd_applies(const struct nncw_conv2d_geom *g)
{
    return NNCW_SGEMM_HAVE_AVX512 && nncw_blas_get_backend() == NNCW_BLAS_BACKEND_NNCW_AVX512 &&
           g->group == 1 && g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->dh == 1 &&
           g->dw == 1 && g->pt == 1 && g->pl == 1 && g->oh == g->h && g->ow == g->w &&
           g->h % 2 == 0 && g->w % 2 == 0 && g->c >= MIN_CHANNELS && g->m >= MIN_CHANNELS &&
           (double)g->n * g->c * g->h * g->w < (double)INT32_MAX / 2 &&
           (double)g->n * g->m * g->h * g->w < (double)INT32_MAX / 2;
}

#if NNCW_SGEMM_HAVE_AVX512

#include <immintrin.h>

/* one call: images x [n][c][h][w], transformed kernels u [xis][m][c], output y [n][m][h][w] */
struct wino {
    const struct nncw_conv2d_geom *g;
    const float *x, *bias;
    const float *u_packed; /* each U[xi] packed for the sgemm, u_packed_floats apart */
    size_t u_packed_floats;
    float *space_u_packed; /* the same, writable while transforming the kernels */
    float *y;
    float beta;
    int tile, xis; /* T and P^2 */
    int tiles, tiles_w, tiles_h, tiles_img, chunk;
    float *space; /* per thread: V [xis][c][chunk] then M [xis][m][chunk] */
    size_t space_floats;
    size_t v_xi, m_xi; /* floats from V[xi] to V[xi + 1], M[xi] to M[xi + 1] */
    /* all tiles at once (winograd_run_whole): the kernels go group by group of rows */
    const struct kernel_src *ks;
    int group_rows;
    float *pieces; /* per thread: one group's U, piece_xi floats per xi */
    size_t piece_xi, piece_floats;
};

/* ---- the kernel transform, into the packed layout ---- */

struct kernel_src {
    const float *w;
    size_t out_stride, in_stride; /* floats between kernels of consecutive out / in channels */
    bool flip;                    /* rotate by 180 degrees (the input gradient's kernel) */
};

/* u[xi] = (G g G^T)[xi] for F(2x2) */
NNCW_AVX512_FN static inline void kernel_tile2(const __m512 g[9], __m512 u[16])
{
    const __m512 half = _mm512_set1_ps(0.5f);
    __m512 t[4][3];
    for (int j = 0; j < 3; j++) {
        __m512 a = g[j], b = g[3 + j], c = g[6 + j];
        t[0][j] = a;
        t[1][j] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(a, b), c));
        t[2][j] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(a, b), c));
        t[3][j] = c;
    }
    for (int r = 0; r < 4; r++) {
        __m512 a = t[r][0], b = t[r][1], c = t[r][2];
        u[r * 4] = a;
        u[r * 4 + 1] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(a, b), c));
        u[r * 4 + 2] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(a, b), c));
        u[r * 4 + 3] = c;
    }
}

/* G (a, b, c) for F(4x4): (a/4, -(a+b+c)/6, -(a-b+c)/6, (a+2b+4c)/24, (a-2b+4c)/24, c) */
NNCW_AVX512_FN static inline void kernel_g4(__m512 a, __m512 b, __m512 c, __m512 t[6])
{
    const __m512 quarter = _mm512_set1_ps(0.25f), sixth = _mm512_set1_ps(-1.0f / 6.0f);
    const __m512 two = _mm512_set1_ps(2.0f), four = _mm512_set1_ps(4.0f);
    const __m512 twentyfourth = _mm512_set1_ps(1.0f / 24.0f);
    __m512 ac = _mm512_add_ps(a, c), a4c = _mm512_fmadd_ps(four, c, a);
    t[0] = _mm512_mul_ps(quarter, a);
    t[1] = _mm512_mul_ps(sixth, _mm512_add_ps(ac, b));
    t[2] = _mm512_mul_ps(sixth, _mm512_sub_ps(ac, b));
    t[3] = _mm512_mul_ps(twentyfourth, _mm512_fmadd_ps(two, b, a4c));
    t[4] = _mm512_mul_ps(twentyfourth, _mm512_fnmadd_ps(two, b, a4c));
    t[5] = c;
}

NNCW_AVX512_FN static inline void kernel_tile4(const __m512 g[9], __m512 u[36])
{
    __m512 t[3][6]; /* t[j] = G (column j of g) */
    for (int j = 0; j < 3; j++)
        kernel_g4(g[j], g[3 + j], g[6 + j], t[j]);
    for (int r = 0; r < 6; r++)
        kernel_g4(t[0][r], t[1][r], t[2][r], u + 6 * r);
}

/*
** Rows [o0, o0 + rows) of every U[xi], packed as a matrix of `rows` rows (u[xi] at
** u + xi * xi_floats), micro-panels [p0, p1) of them; vectorized over a panel's outputs: the
** packed layout holds them as MR contiguous floats per input channel, so each transformed
** kernel is one store per xi, with no U to write, read and pack again (for 512 channels U[36]
** is 38 MB).
*/
struct kernel_dst {
    int o0, rows;
    float *u;
    size_t xi_floats;
};

/* the 3x3 kernels of input channels [i0, i0 + ni) (ni <= 16) of `rows` (<= 16) outputs stored
** as forward kernels (each output's 9 ni floats contiguous), g[9 i + k] over the outputs: 16
** rows of 16 floats at a time transposed, where gathers would touch 14 cache lines each */
NNCW_AVX512_FN static inline void load_kernel_rows(const float *w0, size_t out_stride, int rows,
                                                   int ni, __m512 g[144])
{
    for (int j = 0; j < 9; j++) {
        __m512 r[16];
        __mmask16 m = nncw_sgemm_lanes(ni * 9 - 16 * j);
        for (int o = 0; o < 16; o++)
            r[o] = o < rows ? _mm512_maskz_loadu_ps(m, w0 + o * out_stride + 16 * j)
                            : _mm512_setzero_ps();
        nncw_sgemm_transpose16(r);
        for (int q = 0; q < 16; q++)
            g[16 * j + q] = r[q];
    }
}

NNCW_AVX512_FN static inline void store_kernel(const struct wino *w, size_t xi_floats,
                                               const __m512 g[9], float *dst)
{
    __m512 u[MAX_XI];
    if (w->tile == 2)
        kernel_tile2(g, u);
    else
        kernel_tile4(g, u);
    /* rows past `rows` are zeros, as the packer pads them */
    for (int xi = 0; xi < w->xis; xi++)
        _mm512_mask_storeu_ps(dst + (size_t)xi * xi_floats, nncw_sgemm_lanes(NNCW_SGEMM_MR), u[xi]);
}

NNCW_AVX512_FN static void transform_kernels(const struct wino *w, const struct kernel_src *s,
                                             const struct kernel_dst *d, int p0, int p1)
{
    const int ins = w->g->c;
    const __m512i lane =
        _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                           _mm512_set1_epi32((int)s->out_stride));
    const bool rows_contiguous = !s->flip && s->in_stride == 9;
    for (int p = p0; p < p1; p++) {
        int r0 = p * NNCW_SGEMM_MR, o0 = d->o0 + r0;
        int rows = d->rows - r0 < NNCW_SGEMM_MR ? d->rows - r0 : NNCW_SGEMM_MR;
        __mmask16 m = nncw_sgemm_lanes(rows);
        for (int k0 = 0; k0 < ins; k0 += NNCW_SGEMM_KC) {
            int kc = ins - k0 < NNCW_SGEMM_KC ? ins - k0 : NNCW_SGEMM_KC;
            float *dst = d->u + nncw_sgemm_packed_a_offset(d->rows, r0, k0, kc);
            if (rows_contiguous) {
                for (int i0 = k0; i0 < k0 + kc; i0 += 16) {
                    int ni = k0 + kc - i0 < 16 ? k0 + kc - i0 : 16;
                    __m512 g[144];
                    load_kernel_rows(s->w + (size_t)o0 * s->out_stride + (size_t)i0 * 9,
                                     s->out_stride, rows, ni, g);
                    for (int i = 0; i < ni; i++)
                        store_kernel(w, d->xi_floats, g + 9 * i,
                                     dst + (size_t)(i0 - k0 + i) * NNCW_SGEMM_MR);
                }
                continue;
            }
            for (int i = k0; i < k0 + kc; i++, dst += NNCW_SGEMM_MR) {
                const float *base = s->w + (size_t)o0 * s->out_stride + (size_t)i * s->in_stride;
                __m512 g[9];
                for (int k = 0; k < 9; k++)
                    g[s->flip ? 8 - k : k] = _mm512_mask_i32gather_ps(
                        _mm512_setzero_ps(), m, _mm512_add_epi32(lane, _mm512_set1_epi32(k)), base,
                        4);
                store_kernel(w, d->xi_floats, g, dst);
            }
        }
    }
}

/* floats between the packed U[xi] of `rows` rows: an odd number of cache lines, as the kernel
 * transform writes all of them at the same offset, and 36 streams a multiple of 4 KB apart
 * would share one L1 set (ResNet-18's layer 4 took 1.6x as long) */
static size_t packed_xi_floats(int rows, int ins)
{
    return ((nncw_sgemm_packed_a_floats(rows, ins) + 15) / 32 * 2 + 1) * 16;
}

/* ---- tiles ---- */

/*
** 16 tiles from t0. Tiles along a row of tiles read patches T input columns apart and write
** outputs T columns apart, so each run of them takes a few loads and permutes per patch row
** (patch_row2, patch_row4) and interleaving stores per output row, where a gather (scatter)
** would be far slower; with more than MAX_RUNS runs (F(2x2) on planes under 8 pixels wide,
** F(4x4) under 16) gathers it is. F(4x4)'s runs hold at most 8 tiles (34 input columns).
*/
enum { MAX_RUNS = 4, MAX_RUN4 = 8 };

struct tile_block {
    int32_t base[16];          /* each patch's top-left in x (may be < 0) */
    int32_t out[16];           /* each tile's top-left in y, channel 0 */
    int runs;                  /* 0: gathers and scatters */
    __mmask16 lanes[MAX_RUNS]; /* the lanes of each run */
    /* F(2x2): lane l of run s: patch at in_off[s] + 2 l, tile at out_off[s] + 2 l;
     * F(4x4): the patch (tile) of the run's first lane, first[s] */
    int32_t in_off[MAX_RUNS];
    int32_t out_off[MAX_RUNS];
    int first[MAX_RUNS];
    __mmask16 row[6], col[6]; /* lanes whose patch row / column is inside the image */
    /* per run: which of the patch row's elements k (run-relative, see patch_row2 and
     * patch_row4) lie in the image: k = 0, 1 .. 16, 17 .. 32 and 33 */
    __mmask16 row_loads[MAX_RUNS][4];
    /* F(4x4), whose last tiles may stick out of the plane: lanes whose output row / column r
     * is inside; per run, its output rows inside (bit r) and columns (bit 4 j + q) */
    __mmask16 out_row[4], out_col[4];
    uint32_t run_out_rows[MAX_RUNS], run_out_cols[MAX_RUNS];
    int32_t in_span[2], out_span[2]; /* see prefetch_read */
};

/* the masks of tile_block.row_loads for F(2x2), from the lanes' column masks */
static void row_load_masks2(struct tile_block *b)
{
    for (int s = 0; s < b->runs; s++) {
        uint64_t k = 0;
        for (int q = 0; q < 4; q++)
            for (int l = 0; l < 16; l++)
                if ((b->col[q] & b->lanes[s]) >> l & 1)
                    k |= 1ull << (2 * l + q);
        b->row_loads[s][0] = (__mmask16)(k & 1);
        b->row_loads[s][1] = (__mmask16)(k >> 1);
        b->row_loads[s][2] = (__mmask16)(k >> 17);
        b->row_loads[s][3] = (__mmask16)(k >> 33 & 1);
    }
}

/* the same for F(4x4), whose runs start at lane first[s]: element k of the run's patch row is
 * column ix + k of the first patch; with len tiles, the run reads k < 4 len + 2; also the
 * output masks */
static void row_load_masks4(struct tile_block *b, const int32_t ix[16], const int32_t iy[16], int w,
                            int h)
{
    for (int s = 0; s < b->runs; s++) {
        int f = b->first[s], len = __builtin_popcount(b->lanes[s]);
        uint64_t k = 0;
        for (int e = 0; e < 4 * len + 2; e++)
            if (ix[f] + e >= 0 && ix[f] + e < w)
                k |= 1ull << e;
        b->row_loads[s][0] = (__mmask16)(k & 1);
        b->row_loads[s][1] = (__mmask16)(k >> 1);
        b->row_loads[s][2] = (__mmask16)(k >> 17);
        b->row_loads[s][3] = (__mmask16)(k >> 33 & 1);
        /* outputs start one past the patch: column ix + 1 + 4 j + q */
        uint32_t cols = 0, rows = 0;
        for (int e = 0; e < 4 * len; e++)
            if (ix[f] + 1 + e < w)
                cols |= 1u << e;
        for (int r = 0; r < 4; r++)
            if (iy[f] + 1 + r < h)
                rows |= 1u << r;
        b->run_out_cols[s] = cols;
        b->run_out_rows[s] = rows;
    }
}

NNCW_AVX512_FN static void tile_block_init(const struct wino *w, int t0, int t1,
                                           struct tile_block *b)
{
    const struct nncw_conv2d_geom *g = w->g;
    const int T = w->tile, max_run = T == 2 ? 16 : MAX_RUN4;
    const int32_t plane = g->h * g->w;
    int32_t iy[16], ix[16];
    __mmask16 valid = nncw_sgemm_lanes(t1 - t0);
    int img = t0 / w->tiles_img, r = t0 % w->tiles_img, ty = r / w->tiles_w, tx = r % w->tiles_w;
    int run_len = 0;
    b->runs = 0;
    for (int l = 0; l < 16; l++) {
        iy[l] = T * ty - 1;
        ix[l] = T * tx - 1;
        bool in = l < t1 - t0;
        b->base[l] = in ? (img * g->c * g->h + iy[l]) * g->w + ix[l] : 0;
        b->out[l] = in ? img * g->m * plane + T * ty * g->w + T * tx : 0;
        if (in && (l == 0 || tx == 0 || run_len == max_run)) {
            run_len = 0;
            if (b->runs < MAX_RUNS + 1)
                b->runs++;
            if (b->runs <= MAX_RUNS) {
                b->lanes[b->runs - 1] = 0;
                b->first[b->runs - 1] = l;
                b->in_off[b->runs - 1] = T == 2 ? b->base[l] - 2 * l : b->base[l];
                b->out_off[b->runs - 1] = T == 2 ? b->out[l] - 2 * l : b->out[l];
            }
        }
        run_len++;
        if (in && b->runs <= MAX_RUNS)
            b->lanes[b->runs - 1] |= (__mmask16)(1u << l);
        if (++tx == w->tiles_w) {
            tx = 0;
            if (++ty == w->tiles_h) {
                ty = 0;
                img++;
            }
        }
    }
    if (b->runs > MAX_RUNS)
        b->runs = 0;
    int last = (t1 - t0) - 1, reach = T + 2;
    b->in_span[0] = b->base[0] < 0 ? 0 : b->base[0];
    b->in_span[1] = b->base[last] + (reach - 1) * g->w + reach;
    b->out_span[0] = b->out[0];
    b->out_span[1] = b->out[last] + (T - 1) * g->w + T;
    /* within the first tile's image plane (the last patches reach below it) */
    int img0 = t0 / w->tiles_img;
    int32_t in_end = (img0 * g->c + 1) * plane, out_end = (img0 * g->m + 1) * plane;
    b->in_span[1] = b->in_span[1] < in_end ? b->in_span[1] : in_end;
    b->out_span[1] = b->out_span[1] < out_end ? b->out_span[1] : out_end;
    if (b->in_span[1] - b->in_span[0] > plane)
        b->in_span[1] = b->in_span[0];
    if (b->out_span[1] - b->out_span[0] > plane)
        b->out_span[1] = b->out_span[0];
    __m512i viy = _mm512_loadu_si512(iy), vix = _mm512_loadu_si512(ix);
    for (int k = 0; k < T + 2; k++) {
        __m512i dk = _mm512_set1_epi32(k);
        b->row[k] =
            valid & _mm512_cmplt_epu32_mask(_mm512_add_epi32(viy, dk), _mm512_set1_epi32(g->h));
        b->col[k] =
            valid & _mm512_cmplt_epu32_mask(_mm512_add_epi32(vix, dk), _mm512_set1_epi32(g->w));
    }
    if (T == 2) {
        row_load_masks2(b);
        return;
    }
    for (int k = 0; k < 4; k++) {
        b->out_row[k] = b->row[k + 1];
        b->out_col[k] = b->col[k + 1];
    }
    row_load_masks4(b, ix, iy, g->w, g->h);
}

/* patch element (r, q) of a gathered block's 16 tiles in one channel plane (0 outside the
 * image) */
NNCW_AVX512_FN static inline __m512 patch_element(const struct tile_block *b, const float *xc,
                                                  int w, int r, int q)
{
    return _mm512_mask_i32gather_ps(
        _mm512_setzero_ps(), b->row[r] & b->col[q],
        _mm512_add_epi32(_mm512_loadu_si512(b->base), _mm512_set1_epi32(r * w + q)), xc, 4);
}

/*
** The tile blocks of one chunk (at most CHUNK_FLOATS / (16 * 16) tiles: MIN_CHANNELS >= 16).
** The transforms walk channel by channel and, within a channel, block by block: a plane is
** then read (written) in order, where block by block across all channels would visit each
** plane's rows at the same offset, planes 4 KB apart on 32x32 images, and lose them to L1's
** set conflicts before the next row of tiles reads them again.
*/
enum { MAX_CHUNK_BLOCKS = CHUNK_FLOATS / (16 * 16) / 16 };
_Static_assert(MIN_CHANNELS >= 16, "a chunk's tile blocks fit in MAX_CHUNK_BLOCKS");

NNCW_AVX512_FN static void chunk_blocks(const struct wino *w, int t0, int t1,
                                        struct tile_block *blocks)
{
    for (int ts = t0; ts < t1; ts += 16)
        tile_block_init(w, ts, t1 < ts + 16 ? t1 : ts + 16, &blocks[(ts - t0) / 16]);
}

/*
** The floats [lo, hi) of a channel plane that a block's tiles read (write) are fetched a few
** channels ahead: on 32x32 images each plane is a page of its own, where the hardware's
** prefetchers stop, and the transforms of ResNet-18's first stage waited on memory half their
** time (with this: 1.4x faster). Nothing when the block spans two images.
*/
enum { AHEAD = 2 };

static inline void prefetch_read(const float *p, const int32_t span[2])
{
    for (int32_t o = span[0] & ~15; o < span[1]; o += 16)
        __builtin_prefetch(p + o, 0, 3);
}

static inline void prefetch_write(float *p, const int32_t span[2])
{
    for (int32_t o = span[0] & ~15; o < span[1]; o += 16)
        __builtin_prefetch(p + o, 1, 3);
}

/* ---- F(2x2): input and output transforms ---- */

/*
** Row r of the 4x4 patches of a block whose tiles come in runs: lane l of run s needs
** elements k = 2 l + q (q = 0..3) from the run's start. Elements 1 .. 32 come in two loads
** starting one past the patch's left column, which on planes whose width is a multiple of 16
** start at cache lines (loads across lines, masked ones above all, are slow); their even and
** odd halves are columns 1 and 2, and columns 0 and 3 are those shifted by one lane, with
** elements 0 and 33 loaded alone. patch_element would take two loads and a permute per
** column instead.
*/
NNCW_AVX512_FN static inline void patch_row2(const struct tile_block *b, const float *xc, int w,
                                             int r, __m512 d[4])
{
    const __m512i even =
        _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (int q = 0; q < 4; q++)
        d[q] = _mm512_setzero_ps();
    for (int s = 0; s < b->runs; s++) {
        if (!(b->row[r] & b->lanes[s]))
            continue;
        const float *p = xc + b->in_off[s] + r * w; /* element 0 */
        const __mmask16 *m = b->row_loads[s];
        __m512 lo = _mm512_maskz_loadu_ps(m[1], p + 1), hi = _mm512_maskz_loadu_ps(m[2], p + 17);
        /* element 0 in lane 15, element 33 in lane 0 */
        __m512i first = _mm512_castps_si512(_mm512_maskz_loadu_ps(m[0] << 15, p - 15));
        __m512i last = _mm512_castps_si512(_mm512_maskz_loadu_ps(m[3], p + 33));
        __m512 v1 = _mm512_permutex2var_ps(lo, even, hi), v2 = _mm512_permutex2var_ps(lo, odd, hi);
        __m512 v[4] = {_mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(v2), first, 15)),
                       v1, v2,
                       _mm512_castsi512_ps(_mm512_alignr_epi32(last, _mm512_castps_si512(v1), 1))};
        for (int q = 0; q < 4; q++)
            d[q] = b->runs == 1 ? v[q] : _mm512_mask_mov_ps(d[q], b->lanes[s], v[q]);
    }
}

/* V[xi][c][t - t0] for the chunk's tiles [t0, t1) */
NNCW_AVX512_FN static void transform_input2(const struct wino *w, int t0, int t1,
                                            const struct tile_block *blocks, float *v)
{
    const struct nncw_conv2d_geom *g = w->g;
    const size_t plane = (size_t)g->h * g->w;
    for (int c = 0; c < g->c; c++) {
        const float *xc = w->x + (size_t)c * plane;
        if (c + AHEAD < g->c)
            for (int ts = t0; ts < t1; ts += 16)
                prefetch_read(xc + AHEAD * plane, blocks[(ts - t0) / 16].in_span);
        for (int ts = t0; ts < t1; ts += 16) {
            const struct tile_block *b = &blocks[(ts - t0) / 16];
            __m512 d[4][4];
            for (int r = 0; r < 4; r++) {
                if (b->runs) {
                    patch_row2(b, xc, g->w, r, d[r]);
                    continue;
                }
                for (int q = 0; q < 4; q++)
                    d[r][q] = patch_element(b, xc, g->w, r, q);
            }
            /* t = B^T d, then V = t B */
            __m512 t[4][4];
            for (int q = 0; q < 4; q++) {
                t[0][q] = _mm512_sub_ps(d[0][q], d[2][q]);
                t[1][q] = _mm512_add_ps(d[1][q], d[2][q]);
                t[2][q] = _mm512_sub_ps(d[2][q], d[1][q]);
                t[3][q] = _mm512_sub_ps(d[1][q], d[3][q]);
            }
            __mmask16 m = nncw_sgemm_lanes(t1 - ts);
            float *dst = v + (size_t)c * w->chunk + (ts - t0);
            const size_t xi_stride = w->v_xi;
            for (int r = 0; r < 4; r++) {
                __m512 o[4] = {_mm512_sub_ps(t[r][0], t[r][2]), _mm512_add_ps(t[r][1], t[r][2]),
                               _mm512_sub_ps(t[r][2], t[r][1]), _mm512_sub_ps(t[r][1], t[r][3])};
                for (int q = 0; q < 4; q++)
                    _mm512_mask_storeu_ps(dst + (size_t)(r * 4 + q) * xi_stride, m, o[q]);
            }
        }
    }
}

NNCW_AVX512_FN static void transform_output2(const struct wino *w, int t0, int t1,
                                             const struct tile_block *blocks, const float *mm)
{
    const struct nncw_conv2d_geom *g = w->g;
    const size_t xi_stride = w->m_xi, plane = (size_t)g->h * g->w;
    for (int oc = 0; oc < g->m; oc++) {
        __m512 bias = _mm512_set1_ps(w->bias ? w->bias[oc] : 0.0f);
        float *yc = w->y + (size_t)oc * plane;
        if (oc + AHEAD < g->m)
            for (int ts = t0; ts < t1; ts += 16)
                prefetch_write(yc + AHEAD * plane, blocks[(ts - t0) / 16].out_span);
        for (int ts = t0; ts < t1; ts += 16) {
            const struct tile_block *b = &blocks[(ts - t0) / 16];
            __mmask16 m = nncw_sgemm_lanes(t1 - ts);
            const float *src = mm + (size_t)oc * w->chunk + (ts - t0);
            __m512 s[4][4];
            for (int xi = 0; xi < 16; xi++)
                s[xi / 4][xi % 4] = _mm512_maskz_loadu_ps(m, src + (size_t)xi * xi_stride);
            /* t = A^T M (2 x 4), then y = t A (2 x 2) */
            __m512 t[2][4];
            for (int q = 0; q < 4; q++) {
                t[0][q] = _mm512_add_ps(_mm512_add_ps(s[0][q], s[1][q]), s[2][q]);
                t[1][q] = _mm512_sub_ps(_mm512_sub_ps(s[1][q], s[2][q]), s[3][q]);
            }
            for (int r = 0; r < 2; r++) {
                __m512 y0 =
                    _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(t[r][0], t[r][1]), t[r][2]), bias);
                __m512 y1 =
                    _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(t[r][1], t[r][2]), t[r][3]), bias);
                if (b->runs) {
                    for (int k = 0; k < b->runs; k++)
                        nncw_sgemm_store_pairs(yc + b->out_off[k] + r * g->w, b->lanes[k], y0, y1,
                                               w->beta);
                    continue;
                }
                __m512i o0 =
                    _mm512_add_epi32(_mm512_loadu_si512(b->out), _mm512_set1_epi32(r * g->w));
                __m512i o1 = _mm512_add_epi32(o0, _mm512_set1_epi32(1));
                if (w->beta != 0.0f) {
                    __m512 vb = _mm512_set1_ps(w->beta);
                    y0 = _mm512_fmadd_ps(vb, _mm512_mask_i32gather_ps(y0, m, o0, yc, 4), y0);
                    y1 = _mm512_fmadd_ps(vb, _mm512_mask_i32gather_ps(y1, m, o1, yc, 4), y1);
                }
                _mm512_mask_i32scatter_ps(yc, m, o0, y0, 4);
                _mm512_mask_i32scatter_ps(yc, m, o1, y1, 4);
            }
        }
    }
}

/* ---- F(4x4): input and output transforms ---- */

/*
** Row r of the 6x6 patches of a block whose tiles come in runs of at most 8: lane first + j
** of a run needs elements k = 4 j + q (q = 0..5) from the run's start. As in patch_row2,
** elements 1 .. 32 come in two loads from one past the patch's left column and a permute
** picks each column; the two elements the permutes cannot reach (k = 0 for the first tile's
** column 0, k = 33 for the eighth tile's column 5) are loaded alone.
*/
NNCW_AVX512_FN static inline void patch_row4(const struct tile_block *b, const float *xc, int w,
                                             int r, __m512 d[6])
{
    /* lane first + j: 4 j - 1 (mod 32), the index of element 4 j in (lo, hi) */
    const __m512i step =
        _mm512_set_epi32(59, 55, 51, 47, 43, 39, 35, 31, 27, 23, 19, 15, 11, 7, 3, -1);
    for (int q = 0; q < 6; q++)
        d[q] = _mm512_setzero_ps();
    for (int s = 0; s < b->runs; s++) {
        if (!(b->row[r] & b->lanes[s]))
            continue;
        const float *p = xc + b->in_off[s] + r * w; /* element 0 */
        const __mmask16 *m = b->row_loads[s];
        const int f = b->first[s];
        __m512 lo = _mm512_maskz_loadu_ps(m[1], p + 1), hi = _mm512_maskz_loadu_ps(m[2], p + 17);
        __m512i idx = _mm512_sub_epi32(step, _mm512_set1_epi32(4 * f));
        __m512 v[6];
        for (int q = 0; q < 6; q++)
            v[q] = _mm512_permutex2var_ps(lo, _mm512_add_epi32(idx, _mm512_set1_epi32(q)), hi);
        v[0] = _mm512_mask_mov_ps(v[0], (__mmask16)(1u << f), _mm512_set1_ps(m[0] ? p[0] : 0.0f));
        if (b->lanes[s] >> (f + 7) & 1)
            v[5] = _mm512_mask_mov_ps(v[5], (__mmask16)(1u << (f + 7)),
                                      _mm512_set1_ps(m[3] ? p[33] : 0.0f));
        for (int q = 0; q < 6; q++)
            d[q] = b->runs == 1 ? v[q] : _mm512_mask_mov_ps(d[q], b->lanes[s], v[q]);
    }
}

/* B^T (d0 .. d5) for F(4x4) */
NNCW_AVX512_FN static inline void input_b4(const __m512 d[6], __m512 o[6])
{
    const __m512 two = _mm512_set1_ps(2.0f), four = _mm512_set1_ps(4.0f);
    const __m512 five = _mm512_set1_ps(5.0f);
    __m512 a = _mm512_fnmadd_ps(four, d[2], d[4]); /* d4 - 4 d2 */
    __m512 b = _mm512_fnmadd_ps(four, d[1], d[3]); /* d3 - 4 d1 */
    __m512 c = _mm512_sub_ps(d[4], d[2]);
    __m512 e = _mm512_mul_ps(two, _mm512_sub_ps(d[3], d[1]));
    o[0] = _mm512_fmadd_ps(four, d[0], _mm512_fnmadd_ps(five, d[2], d[4]));
    o[1] = _mm512_add_ps(a, b);
    o[2] = _mm512_sub_ps(a, b);
    o[3] = _mm512_add_ps(c, e);
    o[4] = _mm512_sub_ps(c, e);
    o[5] = _mm512_fmadd_ps(four, d[1], _mm512_fnmadd_ps(five, d[3], d[5]));
}

NNCW_AVX512_FN static void transform_input4(const struct wino *w, int t0, int t1,
                                            const struct tile_block *blocks, float *v)
{
    const struct nncw_conv2d_geom *g = w->g;
    const size_t plane = (size_t)g->h * g->w, xi_stride = w->v_xi;
    for (int c = 0; c < g->c; c++) {
        const float *xc = w->x + (size_t)c * plane;
        if (c + AHEAD < g->c)
            for (int ts = t0; ts < t1; ts += 16)
                prefetch_read(xc + AHEAD * plane, blocks[(ts - t0) / 16].in_span);
        for (int ts = t0; ts < t1; ts += 16) {
            const struct tile_block *b = &blocks[(ts - t0) / 16];
            /* e = d B, row by row, then V = B^T e, column by column */
            __m512 e[6][6];
            for (int r = 0; r < 6; r++) {
                __m512 d[6];
                if (b->runs)
                    patch_row4(b, xc, g->w, r, d);
                else
                    for (int q = 0; q < 6; q++)
                        d[q] = patch_element(b, xc, g->w, r, q);
                input_b4(d, e[r]);
            }
            __mmask16 m = nncw_sgemm_lanes(t1 - ts);
            float *dst = v + (size_t)c * w->chunk + (ts - t0);
            for (int q = 0; q < 6; q++) {
                __m512 col[6] = {e[0][q], e[1][q], e[2][q], e[3][q], e[4][q], e[5][q]}, o[6];
                input_b4(col, o);
                for (int r = 0; r < 6; r++)
                    _mm512_mask_storeu_ps(dst + (size_t)(r * 6 + q) * xi_stride, m, o[r]);
            }
        }
    }
}

/* A^T (m0 .. m5) for F(4x4) */
NNCW_AVX512_FN static inline void output_a4(const __m512 s[6], __m512 y[4])
{
    const __m512 two = _mm512_set1_ps(2.0f), four = _mm512_set1_ps(4.0f);
    const __m512 eight = _mm512_set1_ps(8.0f);
    __m512 s12 = _mm512_add_ps(s[1], s[2]), d12 = _mm512_sub_ps(s[1], s[2]);
    __m512 s34 = _mm512_add_ps(s[3], s[4]), d34 = _mm512_sub_ps(s[3], s[4]);
    y[0] = _mm512_add_ps(_mm512_add_ps(s[0], s12), s34);
    y[1] = _mm512_fmadd_ps(two, d34, d12);
    y[2] = _mm512_fmadd_ps(four, s34, s12);
    y[3] = _mm512_add_ps(_mm512_fmadd_ps(eight, d34, d12), s[5]);
}

/* lanes first .. first + 7 of y0 .. y3 interleaved (y0[f], y1[f], y2[f], y3[f], y0[f + 1],
 * ...) to dst, the 32 floats' bits of cols only; with beta != 0, adds beta times what was
 * there */
NNCW_AVX512_FN static inline void store_quads(float *dst, int f, uint32_t cols, const __m512 y[4],
                                              float beta)
{
    const __m512i pairs = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i lo = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
    const __m512i hi = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
    __m512i idx = _mm512_add_epi32(pairs, _mm512_set1_epi32(f));
    __m512d p01 = _mm512_castps_pd(_mm512_permutex2var_ps(y[0], idx, y[1]));
    __m512d p23 = _mm512_castps_pd(_mm512_permutex2var_ps(y[2], idx, y[3]));
    __m512 x0 = _mm512_castpd_ps(_mm512_permutex2var_pd(p01, lo, p23));
    __m512 x1 = _mm512_castpd_ps(_mm512_permutex2var_pd(p01, hi, p23));
    __mmask16 m0 = (__mmask16)cols, m1 = (__mmask16)(cols >> 16);
    if (beta != 0.0f) {
        __m512 vb = _mm512_set1_ps(beta);
        x0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, dst), x0);
        x1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, dst + 16), x1);
    }
    _mm512_mask_storeu_ps(dst, m0, x0);
    _mm512_mask_storeu_ps(dst + 16, m1, x1);
}

NNCW_AVX512_FN static void transform_output4(const struct wino *w, int t0, int t1,
                                             const struct tile_block *blocks, const float *mm)
{
    const struct nncw_conv2d_geom *g = w->g;
    const size_t xi_stride = w->m_xi, plane = (size_t)g->h * g->w;
    for (int oc = 0; oc < g->m; oc++) {
        __m512 bias = _mm512_set1_ps(w->bias ? w->bias[oc] : 0.0f);
        float *yc = w->y + (size_t)oc * plane;
        if (oc + AHEAD < g->m)
            for (int ts = t0; ts < t1; ts += 16)
                prefetch_write(yc + AHEAD * plane, blocks[(ts - t0) / 16].out_span);
        for (int ts = t0; ts < t1; ts += 16) {
            const struct tile_block *b = &blocks[(ts - t0) / 16];
            __mmask16 m = nncw_sgemm_lanes(t1 - ts);
            const float *src = mm + (size_t)oc * w->chunk + (ts - t0);
            /* t = A^T M (4 x 6), column by column, then y = t A (4 x 4), row by row */
            __m512 t[6][4];
            for (int q = 0; q < 6; q++) {
                __m512 s[6];
                for (int r = 0; r < 6; r++)
                    s[r] = _mm512_maskz_loadu_ps(m, src + (size_t)(r * 6 + q) * xi_stride);
                output_a4(s, t[q]);
            }
            for (int r = 0; r < 4; r++) {
                __m512 row[6] = {t[0][r], t[1][r], t[2][r], t[3][r], t[4][r], t[5][r]}, y[4];
                output_a4(row, y);
                for (int q = 0; q < 4; q++)
                    y[q] = _mm512_add_ps(y[q], bias);
                if (b->runs) {
                    for (int k = 0; k < b->runs; k++)
                        if (b->run_out_rows[k] >> r & 1)
                            store_quads(yc + b->out_off[k] + r * g->w, b->first[k],
                                        b->run_out_cols[k], y, w->beta);
                    continue;
                }
                __m512i o =
                    _mm512_add_epi32(_mm512_loadu_si512(b->out), _mm512_set1_epi32(r * g->w));
                for (int q = 0; q < 4; q++) {
                    __mmask16 mq = m & b->out_row[r] & b->out_col[q];
                    __m512i oq = _mm512_add_epi32(o, _mm512_set1_epi32(q));
                    if (w->beta != 0.0f)
                        y[q] = _mm512_fmadd_ps(_mm512_set1_ps(w->beta),
                                               _mm512_mask_i32gather_ps(y[q], mq, oq, yc, 4), y[q]);
                    _mm512_mask_i32scatter_ps(yc, mq, oq, y[q], 4);
                }
            }
        }
    }
}

/* ---- chunks ---- */

/* M = U V straight from the packed U, when the sgemm could not get its packing memory: slow,
 * but the same sums */
static void product_from_packed(const float *up, int m, int n, int k, const float *v, int ldv,
                                float *mm, int ldm)
{
    for (int i = 0; i < m; i++)
        memset(mm + (size_t)i * ldm, 0, (size_t)n * sizeof *mm);
    for (int k0 = 0; k0 < k; k0 += NNCW_SGEMM_KC) {
        int kc = k - k0 < NNCW_SGEMM_KC ? k - k0 : NNCW_SGEMM_KC;
        for (int i = 0; i < m; i++) {
            const float *a = up + nncw_sgemm_packed_a_offset(m, i - i % NNCW_SGEMM_MR, k0, kc) +
                             i % NNCW_SGEMM_MR;
            for (int p = 0; p < kc; p++) {
                float ap = a[(size_t)p * NNCW_SGEMM_MR];
                const float *vp = v + (size_t)(k0 + p) * ldv;
                for (int j = 0; j < n; j++)
                    mm[(size_t)i * ldm + j] += ap * vp[j];
            }
        }
    }
}

/* part i of n: its share of the chunks, in its own slice of the space */
static void wino_part(void *arg, int i, int n)
{
    const struct wino *w = arg;
    const struct nncw_conv2d_geom *g = w->g;
    int chunks = (w->tiles + w->chunk - 1) / w->chunk;
    float *v = w->space + (size_t)i * w->space_floats;
    float *mm = v + w->xis * w->v_xi;
    for (int k = chunks * i / n; k < chunks * (i + 1) / n; k++) {
        int t0 = k * w->chunk, t1 = t0 + w->chunk < w->tiles ? t0 + w->chunk : w->tiles;
        struct tile_block blocks[MAX_CHUNK_BLOCKS];
        chunk_blocks(w, t0, t1, blocks);
        if (w->tile == 2)
            transform_input2(w, t0, t1, blocks, v);
        else
            transform_input4(w, t0, t1, blocks, v);
        for (int xi = 0; xi < w->xis; xi++) {
            const float *vx = v + xi * w->v_xi, *ux = w->u_packed + xi * w->u_packed_floats;
            float *mx = mm + xi * w->m_xi;
            if (!nncw_sgemm_avx512_packed_a(ux, false, g->m, t1 - t0, g->c, 1.0f, vx, w->chunk,
                                            0.0f, mx, w->chunk))
                product_from_packed(ux, g->m, t1 - t0, g->c, vx, w->chunk, mx, w->chunk);
        }
        if (w->tile == 2)
            transform_output2(w, t0, t1, blocks, mm);
        else
            transform_output4(w, t0, t1, blocks, mm);
    }
}

struct kernel_job {
    const struct wino *w;
    const struct kernel_src *src;
    struct kernel_dst dst;
};

static void kernels_part(void *arg, int64_t p0, int64_t p1)
{
    const struct kernel_job *j = arg;
    transform_kernels(j->w, j->src, &j->dst, (int)p0, (int)p1);
}

/*
** F(4x4) unless its tiles stick out of the plane too far. Per output it does 36 / 16 products
** times the tiles' area over the plane's, F(2x2) 16 / 4; F(4x4)'s larger transforms and
** fewer, larger products make up the rest. Measured against F(2x2) (batch 32, one thread,
** CPU time, forward / input gradient): ResNet-18's 64 channels on 32x32 1.49 / 1.50x faster,
** 128 on 16x16 1.48 / 1.44x, 256 on 8x8 1.14 / 0.96x, 512 on 4x4 1.32 / 1.25x (both with all
** tiles at once); ResNet-20's 16, 32 and 64 channels 1.54, 1.46 and 1.36x. It is taken while
** the tiles' area stays within 4/3 of the plane's (10x12: 1.2; 6x6: 1.8, F(2x2)).
*/
static int tile_size(const struct nncw_conv2d_geom *g)
{
    if (NNCW_WINOGRAD_TILE)
        return NNCW_WINOGRAD_TILE;
    double tiled = (double)((g->h + 3) / 4 * 4) * ((g->w + 3) / 4 * 4);
    return 3.0 * tiled < 4.0 * g->h * g->w ? 4 : 2;
}

/* ---- all tiles at once: few tiles, many channels ---- */

/* tiles [t0, t1) of the whole-batch V (M) in sub-ranges of MAX_CHUNK_BLOCKS blocks */
static void whole_tiles(const struct wino *w, int i, int n, bool input)
{
    int blocks = (w->tiles + 15) / 16;
    for (int b0 = blocks * i / n, b1 = blocks * (i + 1) / n; b0 < b1; b0 += MAX_CHUNK_BLOCKS) {
        int t0 = b0 * 16, t1 = (b0 + MAX_CHUNK_BLOCKS < b1 ? b0 + MAX_CHUNK_BLOCKS : b1) * 16;
        t1 = t1 < w->tiles ? t1 : w->tiles;
        struct tile_block bl[MAX_CHUNK_BLOCKS];
        chunk_blocks(w, t0, t1, bl);
        if (input && w->tile == 2)
            transform_input2(w, t0, t1, bl, w->space + t0);
        else if (input)
            transform_input4(w, t0, t1, bl, w->space + t0);
        else if (w->tile == 2)
            transform_output2(w, t0, t1, bl, w->space + w->xis * w->v_xi + t0);
        else
            transform_output4(w, t0, t1, bl, w->space + w->xis * w->v_xi + t0);
    }
}

static void whole_input_part(void *arg, int i, int n)
{
    whole_tiles(arg, i, n, true);
}

static void whole_output_part(void *arg, int i, int n)
{
    whole_tiles(arg, i, n, false);
}

/* groups of output rows: each group's U (a few MB, so it stays in the last-level cache) is
 * made and used right away, all tiles in one product per xi */
static void whole_products_part(void *arg, int i, int n)
{
    const struct wino *w = arg;
    const struct nncw_conv2d_geom *g = w->g;
    const float *v = w->space;
    float *mm = w->space + w->xis * w->v_xi, *u = w->pieces + (size_t)i * w->piece_floats;
    int groups = (g->m + w->group_rows - 1) / w->group_rows;
    for (int k = groups * i / n; k < groups * (i + 1) / n; k++) {
        int o0 = k * w->group_rows, rows = g->m - o0 < w->group_rows ? g->m - o0 : w->group_rows;
        struct kernel_dst d = {o0, rows, u, w->piece_xi};
        transform_kernels(w, w->ks, &d, 0, (rows + NNCW_SGEMM_MR - 1) / NNCW_SGEMM_MR);
        for (int xi = 0; xi < w->xis; xi++) {
            const float *vx = v + xi * w->v_xi, *ux = u + xi * w->piece_xi;
            float *mx = mm + xi * w->m_xi + (size_t)o0 * w->chunk;
            if (!nncw_sgemm_avx512_packed_a(ux, false, rows, w->tiles, g->c, 1.0f, vx, w->chunk,
                                            0.0f, mx, w->chunk))
                product_from_packed(ux, rows, w->tiles, g->c, vx, w->chunk, mx, w->chunk);
        }
    }
}

/* floats of U per group of rows: a few MB, within the last-level cache (1 << 18 .. 1 << 21 all
 * measured within noise of each other on ResNet-18's layer 4) */
enum { PIECE_FLOATS = 1 << 20 };

static bool winograd_run_whole(struct wino *w, int threads)
{
    const struct nncw_conv2d_geom *g = w->g;
    w->chunk = w->tiles;
    w->v_xi = (size_t)g->c * w->chunk + XI_PAD;
    w->m_xi = (size_t)g->m * w->chunk + XI_PAD;
    int rows = PIECE_FLOATS / (w->xis * g->c) / NNCW_SGEMM_MR * NNCW_SGEMM_MR;
    int share = (g->m + threads - 1) / threads;
    share = (share + NNCW_SGEMM_MR - 1) / NNCW_SGEMM_MR * NNCW_SGEMM_MR;
    rows = rows < share ? rows : share;
    w->group_rows = rows < NNCW_SGEMM_MR ? NNCW_SGEMM_MR : rows;
    w->piece_xi = packed_xi_floats(w->group_rows, g->c);
    w->piece_floats = w->xis * w->piece_xi;
    size_t vm = w->xis * (w->v_xi + w->m_xi);
    float *space =
        nncw_sgemm_thread_space(NNCW_SGEMM_SPACE_WINOGRAD, vm + threads * w->piece_floats);
    if (!space)
        return false;
    w->space = space;
    w->pieces = space + vm;
    int groups = (g->m + w->group_rows - 1) / w->group_rows;
    nncw_parallel_run(whole_input_part, w, threads);
    nncw_parallel_run(whole_products_part, w, threads < groups ? threads : groups);
    nncw_parallel_run(whole_output_part, w, threads);
    return true;
}

/* all tiles at once when U would outweigh V and M (ResNet-18's 4x4 planes at batch 32: 1.5x
 * faster forward, 1.25x input gradient than in chunks); written whole, U would go to memory
 * and back */
static bool runs_whole(const struct nncw_conv2d_geom *g, int tiles)
{
    if (NNCW_WINOGRAD_WHOLE >= 0)
        return NNCW_WINOGRAD_WHOLE;
    return (double)g->m * g->c > (double)(g->c + g->m) * tiles;
}

static bool winograd_run(const struct nncw_conv2d_geom *g, const float *x,
                         const struct kernel_src *ks, const float *bias, float beta, float *y)
{
    struct wino w = {.g = g, .x = x, .bias = bias, .y = y, .beta = beta, .ks = ks};
    w.tile = tile_size(g);
    w.xis = (w.tile + 2) * (w.tile + 2);
    w.tiles_w = (g->w + w.tile - 1) / w.tile;
    w.tiles_h = (g->h + w.tile - 1) / w.tile;
    w.tiles_img = w.tiles_h * w.tiles_w;
    w.tiles = g->n * w.tiles_img;
    int threads = nncw_parallel_width(2.0 * g->m * g->c * w.xis * w.tiles);
    if (runs_whole(g, w.tiles))
        return winograd_run_whole(&w, threads);
    int widest = g->c > g->m ? g->c : g->m;
    /* whole micro-panels of tiles: a chunk of 48 would run its second panel half empty */
    int chunk = CHUNK_FLOATS / (w.xis * widest) / NNCW_SGEMM_NR * NNCW_SGEMM_NR;
    int share = (w.tiles + threads - 1) / threads;
    share = (share + NNCW_SGEMM_NR - 1) / NNCW_SGEMM_NR * NNCW_SGEMM_NR;
    w.chunk = chunk < MIN_CHUNK ? MIN_CHUNK : chunk;
    w.chunk = w.chunk < share ? w.chunk : share;
    /* one cache line between the matrices: the transforms write (read) all of them at the
     * same offset, and with strides a multiple of 4 KB (16 channels x 128 tiles) every line
     * would go to one L1 set, and the loads of the input would wait on stores they only
     * alias */
    w.v_xi = (size_t)g->c * w.chunk + XI_PAD;
    w.m_xi = (size_t)g->m * w.chunk + XI_PAD;
    w.space_floats = w.xis * (w.v_xi + w.m_xi);
    w.u_packed_floats = packed_xi_floats(g->m, g->c);
    size_t packed = w.xis * w.u_packed_floats;
    float *space =
        nncw_sgemm_thread_space(NNCW_SGEMM_SPACE_WINOGRAD, packed + threads * w.space_floats);
    if (!space)
        return false;
    w.u_packed = w.space_u_packed = space;
    w.space = space + packed;
    struct kernel_job kj = {&w, ks, {0, g->m, space, w.u_packed_floats}};
    int panels = (g->m + NNCW_SGEMM_MR - 1) / NNCW_SGEMM_MR;
    nncw_parallel_for(panels, 1, 40.0 * NNCW_SGEMM_MR * g->c * w.xis / 16, kernels_part, &kj);
    nncw_parallel_run(wino_part, &w, threads);
    return true;
}

bool nncw_conv2d_winograd_forward(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                                  const float *b, float beta, float *y)
{
    if (!nncw_conv2d_winograd_applies(g))
        return false;
    struct kernel_src ks = {w, (size_t)g->c * 9, 9, false};
    return winograd_run(g, x, &ks, b, beta, y);
}

bool nncw_conv2d_winograd_input_grad(const struct nncw_conv2d_geom *g, const float *w,
                                     const float *dy, float *dx)
{
    if (!nncw_conv2d_winograd_applies(g))
        return false;
    /* dx += conv(dy, W') with W'[c][m] = W[m][c] rotated: same plane, pad 1 */
    struct nncw_conv2d_geom t = *g;
    t.c = g->m;
    t.m = g->c;
    struct kernel_src ks = {w, 9, (size_t)g->c * 9, true};
    return winograd_run(&t, dy, &ks, NULL, 1.0f, dx);
}

#else

bool nncw_conv2d_winograd_forward(const struct nncw_conv2d_geom *g, const float *x, const float *w,
                                  const float *b, float beta, float *y)
{
    (void)g, (void)x, (void)w, (void)b, (void)beta, (void)y;
    return false;
}

bool nncw_conv2d_winograd_input_grad(const struct nncw_conv2d_geom *g, const float *w,
                                     const float *dy, float *dx)
{
    (void)g, (void)w, (void)dy, (void)dx;
    return false;
}

#endif
