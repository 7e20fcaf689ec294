/* Winograd F(2x2, 3x3) for 3x3, stride-1, pad-1 convolutions that keep the plane size (the
 * bulk of ResNet's work), forward and, through the flipped kernel, input gradient.
 *
 * Each 2x2 block of outputs ("tile") comes from a 4x4 patch of input d and the 3x3 kernel g
 * as Y = A^T [(G g G^T) .* (B^T d B)] A: 16 products per tile and channel pair instead of 36,
 * so the 16 GEMMs (one per position xi of the 4x4 transformed tile) do 2.25x fewer
 * operations than the direct convolution; the transforms are adds, vectorized over 16 tiles.
 *
 *   U[xi][m][c] = (G g[m][c] G^T)[xi]         G   = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]
 *   V[xi][c][t] = (B^T d[c][t] B)[xi]         B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   M[xi]       = U[xi] . V[xi]               (sgemm, m x c times c x tiles)
 *   y[m][t]     = A^T M[..][m][t] A            A^T = [1 1 1 0; 0 1 -1 -1]
 *
 * Tiles go in chunks sized so that V and M (about 128 KB each, at least 32 tiles: one
 * micro-panel of the sgemm) stay in a core's L2 between the transforms and the products
 * (ResNet-18 inference: 4-5 % less CPU time than with 512 KB); the chunks are split over the
 * threads, each running its 16 products on its own. Rounding differs from the direct sum by a few
 * ulps (the transforms are exact in binary except G's halves, which are exact too). */
#include "ops/conv_winograd.h"

#include <stdint.h>

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
enum { MIN_CHANNELS = NNCW_WINOGRAD_MIN_CHANNELS, CHUNK_FLOATS = 1 << 15, MIN_CHUNK = 32 };
enum { XI_PAD = 16 }; /* floats after each of the 16 V and M matrices, see winograd_run */

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

/* one call: images x [n][c][h][w], transformed kernels u [16][m][c], output y [n][m][h][w] */
struct wino {
    const struct nncw_conv2d_geom *g;
    const float *x, *bias;
    const float *u;
    const float *u_packed; /* each U[xi] packed for the sgemm, u_packed_floats apart */
    size_t u_packed_floats;
    float *space_u_packed; /* the same, writable while packing */
    float *y;
    float beta;
    int tiles, tiles_w, tiles_img, chunk;
    float *space; /* per thread: V [16][c][chunk] then M [16][m][chunk] */
    size_t space_floats;
    size_t v_xi, m_xi; /* floats from V[xi] to V[xi + 1], M[xi] to M[xi + 1] */
};

/* ---- the kernel transform, vectorized over 16 input channels ---- */

struct kernel_src {
    const float *w;
    size_t out_stride, in_stride; /* floats between kernels of consecutive out / in channels */
    bool flip;                    /* rotate by 180 degrees (the input gradient's kernel) */
};

/* U[xi][o][i] for outputs [o0, o1) of outs */
NNCW_AVX512_FN static void transform_kernels(const struct kernel_src *s, int o0, int o1, int outs,
                                             int ins, float *u)
{
    const __m512 half = _mm512_set1_ps(0.5f);
    for (int o = o0; o < o1; o++)
        for (int i0 = 0; i0 < ins; i0 += 16) {
            __mmask16 m = nncw_sgemm_lanes(ins - i0);
            __m512i idx = _mm512_mullo_epi32(
                _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                _mm512_set1_epi32((int)s->in_stride));
            const float *base = s->w + (size_t)o * s->out_stride + (size_t)i0 * s->in_stride;
            __m512 g[9];
            for (int k = 0; k < 9; k++)
                g[s->flip ? 8 - k : k] = _mm512_mask_i32gather_ps(
                    _mm512_setzero_ps(), m, _mm512_add_epi32(idx, _mm512_set1_epi32(k)), base, 4);
            /* t = G g (4 x 3), then U = t G^T (4 x 4) */
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
                __m512 v[4] = {a, _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(a, b), c)),
                               _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(a, b), c)), c};
                for (int q = 0; q < 4; q++)
                    _mm512_mask_storeu_ps(u + ((size_t)(r * 4 + q) * outs + o) * ins + i0, m, v[q]);
            }
        }
}

/* ---- input transform ---- */

/*
** 16 tiles from t0. Tiles along a row of tiles read patches two input columns apart and write
** outputs two columns apart, so each run of them takes four loads and four permutes per patch
** row (patch_row) and an interleaving store per output row, where a gather (scatter) would be
** far slower; with more than MAX_RUNS runs (planes under 8 pixels wide) gathers it is.
*/
enum { MAX_RUNS = 4 };

struct tile_block {
    int32_t base[16];          /* each patch's top-left in x (may be < 0) */
    int32_t out[16];           /* each tile's top-left in y, channel 0 */
    int runs;                  /* 0: gathers and scatters */
    __mmask16 lanes[MAX_RUNS]; /* the lanes of each run */
    int32_t in_off[MAX_RUNS];  /* lane l of run s: patch at in_off[s] + 2 l */
    int32_t out_off[MAX_RUNS]; /* and tile at out_off[s] + 2 l */
    __mmask16 row[4], col[4];  /* lanes whose patch row / column is inside the image */
    /* per run: which of the patch row's elements k = 2 l + q (run-relative, see patch_row)
     * lie in the image: k = 0, 1 .. 16, 17 .. 32 and 33 */
    __mmask16 row_loads[MAX_RUNS][4];
};

/* the masks of tile_block.row_loads, from the lanes' column masks */
static void row_load_masks(struct tile_block *b)
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

NNCW_AVX512_FN static void tile_block_init(const struct wino *w, int t0, int t1,
                                           struct tile_block *b)
{
    const struct nncw_conv2d_geom *g = w->g;
    const int32_t plane = g->h * g->w;
    int32_t iy[16], ix[16];
    __mmask16 valid = nncw_sgemm_lanes(t1 - t0);
    int img = t0 / w->tiles_img, r = t0 % w->tiles_img, ty = r / w->tiles_w, tx = r % w->tiles_w;
    b->runs = 0;
    for (int l = 0; l < 16; l++) {
        iy[l] = 2 * ty - 1;
        ix[l] = 2 * tx - 1;
        bool in = l < t1 - t0;
        b->base[l] = in ? (img * g->c * g->h + iy[l]) * g->w + ix[l] : 0;
        b->out[l] = in ? img * g->m * plane + 2 * ty * g->w + 2 * tx : 0;
        if (in && (l == 0 || tx == 0)) {
            if (b->runs < MAX_RUNS + 1)
                b->runs++;
            if (b->runs <= MAX_RUNS) {
                b->lanes[b->runs - 1] = 0;
                b->in_off[b->runs - 1] = b->base[l] - 2 * l;
                b->out_off[b->runs - 1] = b->out[l] - 2 * l;
            }
        }
        if (in && b->runs <= MAX_RUNS)
            b->lanes[b->runs - 1] |= (__mmask16)(1u << l);
        if (++tx == w->tiles_w) {
            tx = 0;
            if (++ty == g->h / 2) {
                ty = 0;
                img++;
            }
        }
    }
    if (b->runs > MAX_RUNS)
        b->runs = 0;
    __m512i viy = _mm512_loadu_si512(iy), vix = _mm512_loadu_si512(ix);
    for (int k = 0; k < 4; k++) {
        __m512i dk = _mm512_set1_epi32(k);
        b->row[k] =
            valid & _mm512_cmplt_epu32_mask(_mm512_add_epi32(viy, dk), _mm512_set1_epi32(g->h));
        b->col[k] =
            valid & _mm512_cmplt_epu32_mask(_mm512_add_epi32(vix, dk), _mm512_set1_epi32(g->w));
    }
    row_load_masks(b);
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
** Row r of the 4x4 patches of a block whose tiles come in runs: lane l of run s needs
** elements k = 2 l + q (q = 0..3) from the run's start. Elements 1 .. 32 come in two loads
** starting one past the patch's left column, which on planes whose width is a multiple of 16
** start at cache lines (loads across lines, masked ones above all, are slow); their even and
** odd halves are columns 1 and 2, and columns 0 and 3 are those shifted by one lane, with
** elements 0 and 33 loaded alone. patch_element would take two loads and a permute per
** column instead.
*/
NNCW_AVX512_FN static inline void patch_row(const struct tile_block *b, const float *xc, int w,
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
NNCW_AVX512_FN static void transform_input(const struct wino *w, int t0, int t1,
                                           const struct tile_block *blocks, float *v)
{
    const struct nncw_conv2d_geom *g = w->g;
    const size_t plane = (size_t)g->h * g->w;
    for (int c = 0; c < g->c; c++) {
        const float *xc = w->x + (size_t)c * plane;
        for (int ts = t0; ts < t1; ts += 16) {
            const struct tile_block *b = &blocks[(ts - t0) / 16];
            __m512 d[4][4];
            for (int r = 0; r < 4; r++) {
                if (b->runs) {
                    patch_row(b, xc, g->w, r, d[r]);
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

/* ---- output transform ---- */

NNCW_AVX512_FN static void transform_output(const struct wino *w, int t0, int t1,
                                            const struct tile_block *blocks, const float *mm)
{
    const struct nncw_conv2d_geom *g = w->g;
    const size_t xi_stride = w->m_xi, plane = (size_t)g->h * g->w;
    for (int oc = 0; oc < g->m; oc++) {
        __m512 bias = _mm512_set1_ps(w->bias ? w->bias[oc] : 0.0f);
        float *yc = w->y + (size_t)oc * plane;
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

/* ---- chunks ---- */

/* part i of n: its share of the chunks, in its own slice of the space */
static void wino_part(void *arg, int i, int n)
{
    const struct wino *w = arg;
    const struct nncw_conv2d_geom *g = w->g;
    int chunks = (w->tiles + w->chunk - 1) / w->chunk;
    float *v = w->space + (size_t)i * w->space_floats;
    float *mm = v + 16 * w->v_xi;
    for (int k = chunks * i / n; k < chunks * (i + 1) / n; k++) {
        int t0 = k * w->chunk, t1 = t0 + w->chunk < w->tiles ? t0 + w->chunk : w->tiles;
        struct tile_block blocks[MAX_CHUNK_BLOCKS];
        chunk_blocks(w, t0, t1, blocks);
        transform_input(w, t0, t1, blocks, v);
        for (int xi = 0; xi < 16; xi++) {
            const float *vx = v + xi * w->v_xi;
            float *mx = mm + xi * w->m_xi;
            if (!nncw_sgemm_avx512_packed_a(w->u_packed + (size_t)xi * w->u_packed_floats, false,
                                            g->m, t1 - t0, g->c, 1.0f, vx, w->chunk, 0.0f, mx,
                                            w->chunk))
                nncw_blas_sgemm(false, false, g->m, t1 - t0, g->c, 1.0f,
                                w->u + (size_t)xi * g->m * g->c, g->c, vx, w->chunk, 0.0f, mx,
                                w->chunk);
        }
        transform_output(w, t0, t1, blocks, mm);
    }
}

struct kernel_job {
    const struct kernel_src *src;
    int outs, ins;
    float *u;
};

static void kernels_part(void *arg, int64_t o0, int64_t o1)
{
    const struct kernel_job *j = arg;
    transform_kernels(j->src, (int)o0, (int)o1, j->outs, j->ins, j->u);
}

/* the products of every chunk share U[xi]: packed once here, not once per chunk */
static void pack_u_part(void *arg, int64_t x0, int64_t x1)
{
    const struct wino *w = arg;
    const struct nncw_conv2d_geom *g = w->g;
    for (int64_t xi = x0; xi < x1; xi++)
        nncw_sgemm_pack_a_all(false, w->u + (size_t)xi * g->m * g->c, g->c, g->m, g->c,
                              w->space_u_packed + (size_t)xi * w->u_packed_floats);
}

static bool winograd_run(const struct nncw_conv2d_geom *g, const float *x,
                         const struct kernel_src *ks, const float *bias, float beta, float *y)
{
    struct wino w = {.g = g, .x = x, .bias = bias, .y = y, .beta = beta};
    w.tiles_w = g->w / 2;
    w.tiles_img = g->h / 2 * w.tiles_w;
    w.tiles = g->n * w.tiles_img;
    int threads = nncw_parallel_width(2.0 * g->m * g->c * 16 * w.tiles);
    int widest = g->c > g->m ? g->c : g->m;
    /* whole micro-panels of tiles: a chunk of 48 would run its second panel half empty */
    int chunk = CHUNK_FLOATS / (16 * widest) / NNCW_SGEMM_NR * NNCW_SGEMM_NR;
    int share = (w.tiles + threads - 1) / threads;
    share = (share + NNCW_SGEMM_NR - 1) / NNCW_SGEMM_NR * NNCW_SGEMM_NR;
    w.chunk = chunk < MIN_CHUNK ? MIN_CHUNK : chunk;
    w.chunk = w.chunk < share ? w.chunk : share;
    /* one cache line between the 16 matrices: the transforms write (read) all 16 at the same
     * offset, and with strides a multiple of 4 KB (16 channels x 128 tiles) every line would
     * go to one L1 set, and the loads of the input would wait on stores they only alias */
    w.v_xi = (size_t)g->c * w.chunk + XI_PAD;
    w.m_xi = (size_t)g->m * w.chunk + XI_PAD;
    w.space_floats = 16 * (w.v_xi + w.m_xi);
    size_t u_floats = (size_t)16 * g->m * g->c;
    w.u_packed_floats = (nncw_sgemm_packed_a_floats(g->m, g->c) + 15) / 16 * 16;
    size_t packed = 16 * w.u_packed_floats;
    float *space = nncw_sgemm_thread_space(NNCW_SGEMM_SPACE_WINOGRAD,
                                           u_floats + packed + (size_t)threads * w.space_floats);
    if (!space)
        return false;
    float *u = space;
    w.u = u;
    w.u_packed = w.space_u_packed = space + u_floats;
    w.space = space + u_floats + packed;
    struct kernel_job kj = {ks, g->m, g->c, u};
    nncw_parallel_for(g->m, 1, 40.0 * g->c, kernels_part, &kj);
    nncw_parallel_for(16, 1, 2.0 * g->m * g->c, pack_u_part, &w);
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
