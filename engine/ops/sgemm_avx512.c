/* The AVX-512 sgemm: a 14 x 32 micro-kernel (28 zmm accumulators, two zmm of B and one
 * broadcast of A per step), BLIS loop order with blocks sized for Zen 5's 48 KB L1d and
 * 1 MB L2, and the output split over the engine's worker threads. Used by ops/blas.c; OpenBLAS
 * stays the fallback (CPUs without AVX-512, out of memory). Why our own: OpenBLAS picks its
 * kernels by OPENBLAS_CORETYPE, and where that is pinned to an AVX2 core it runs at 55-60 % of
 * what this CPU can do. */
#include "ops/sgemm_internal.h"

#if NNCW_SGEMM_HAVE_AVX512

#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ops/parallel.h"

enum { MR = NNCW_SGEMM_MR, NR = NNCW_SGEMM_NR };

/*
** KC (sgemm_internal.h) x NR of B (24 KB) stays in L1 while the kernel walks down the MC rows of
*packed A
** (MC x KC = 105 KB, in L2); the packed B block (KC x NC = 1.5 MB) streams from L2/L3 one
** micro-panel at a time. Chosen by measurement on the ResNet-18 conv shapes.
*/
#ifndef NNCW_SGEMM_MC
#define NNCW_SGEMM_MC 140
#endif
#ifndef NNCW_SGEMM_NC
#define NNCW_SGEMM_NC 512
#endif
enum { KC = NNCW_SGEMM_KC, MC = NNCW_SGEMM_MC, NC = NNCW_SGEMM_NC };
_Static_assert(MC % MR == 0 && NC % NR == 0, "blocks are whole micro-panels");

static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;
static bool cpu_has_avx512;

static void probe_cpu(void)
{
    __builtin_cpu_init();
    cpu_has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                     __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                     __builtin_cpu_supports("bmi2");
}

bool nncw_sgemm_avx512_is_supported(void)
{
    pthread_once(&cpu_once, probe_cpu);
    return cpu_has_avx512;
}

static inline __mmask16 lanes(int n)
{
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n > 0 ? n : 0)) - 1u);
}

/* where one MR x NR tile of C goes */
struct tile_out {
    float *c; /* the plan's C */
    size_t ldc;
    int row0;              /* the tile's first row */
    long long half_off[2]; /* offset in C of each 16-column half (row 0), -1: scattered */
    int32_t offs[2][16];   /* for a scattered half: each column's offset (row 0) */
    __mmask16 mask[2];     /* the columns that exist */
    const float *bias;     /* at the tile's first row, or NULL */
    float alpha, beta;
};

NNCW_AVX512_FN static inline void store_half(const struct tile_out *t, int h, int r, __m512 x)
{
    __mmask16 m = t->mask[h];
    if (!m)
        return;
    size_t row = (size_t)(t->row0 + r) * t->ldc;
    if (t->half_off[h] >= 0) {
        float *d = t->c + t->half_off[h] + row;
        if (t->beta != 0.0f)
            x = _mm512_fmadd_ps(_mm512_set1_ps(t->beta), _mm512_maskz_loadu_ps(m, d), x);
        _mm512_mask_storeu_ps(d, m, x);
    } else {
        __m512i o = _mm512_add_epi32(_mm512_loadu_si512(t->offs[h]), _mm512_set1_epi32((int)row));
        if (t->beta != 0.0f)
            x = _mm512_fmadd_ps(_mm512_set1_ps(t->beta),
                                _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, o, t->c, 4), x);
        _mm512_mask_i32scatter_ps(t->c, m, o, x, 4);
    }
}

/*
** The mr x NR tile = alpha * A_panel B_panel + bias + beta * tile (beta 0: C is not read), with
** ROWS >= mr rows computed (a compile-time constant in each caller; the panels are zero-padded
** to MR rows). A tail of few rows (a 16-channel layer is 14 + 2 rows, a pruned one's 24 are
** 14 + 10) then costs its own rows' FMAs rather than a whole MR-row tile's.
*/
NNCW_AVX512_FN static inline __attribute__((always_inline)) void
micro_kernel_rows(int kc, const float *restrict a, const float *restrict b, int mr, int rows,
                  const struct tile_out *t)
{
    __m512 c0[MR], c1[MR];
#pragma GCC unroll 14
    for (int r = 0; r < rows; r++)
        c0[r] = c1[r] = _mm512_setzero_ps();
    /* the tile of C is read or written only at the end: start fetching it now */
    for (int h = 0; h < 2; h++)
        if (t->half_off[h] >= 0 && t->mask[h])
            for (int r = 0; r < mr; r++)
                _mm_prefetch((const char *)(t->c + t->half_off[h] + (size_t)(t->row0 + r) * t->ldc),
                             _MM_HINT_T0);
    for (int p = 0; p < kc; p++, a += MR, b += NR) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 14
        for (int r = 0; r < rows; r++) {
            __m512 ar = _mm512_set1_ps(a[r]);
            c0[r] = _mm512_fmadd_ps(ar, b0, c0[r]);
            c1[r] = _mm512_fmadd_ps(ar, b1, c1[r]);
        }
    }
    __m512 va = _mm512_set1_ps(t->alpha);
#pragma GCC unroll 14
    for (int r = 0; r < rows; r++) {
        if (r >= mr)
            break;
        __m512 x0 = c0[r], x1 = c1[r];
        if (t->alpha != 1.0f) {
            x0 = _mm512_mul_ps(x0, va);
            x1 = _mm512_mul_ps(x1, va);
        }
        if (t->bias) {
            __m512 vb = _mm512_set1_ps(t->bias[r]);
            x0 = _mm512_add_ps(x0, vb);
            x1 = _mm512_add_ps(x1, vb);
        }
        store_half(t, 0, r, x0);
        store_half(t, 1, r, x1);
    }
}

/* one instance per even row count: the compiler keeps each one's accumulators in registers */
#define NNCW_MICRO_KERNEL(rows)                                                                    \
    NNCW_AVX512_FN static void micro_kernel_##rows(int kc, const float *restrict a,                \
                                                   const float *restrict b, int mr,                \
                                                   const struct tile_out *t)                       \
    {                                                                                              \
        micro_kernel_rows(kc, a, b, mr, rows, t);                                                  \
    }
NNCW_MICRO_KERNEL(2)
NNCW_MICRO_KERNEL(4)
NNCW_MICRO_KERNEL(6)
NNCW_MICRO_KERNEL(8)
NNCW_MICRO_KERNEL(10)
NNCW_MICRO_KERNEL(12)
NNCW_MICRO_KERNEL(14)
#undef NNCW_MICRO_KERNEL
_Static_assert(MR == 14, "one micro-kernel instance per even row count up to MR");

typedef void (*micro_kernel_fn)(int kc, const float *restrict a, const float *restrict b, int mr,
                                const struct tile_out *t);
static const micro_kernel_fn micro_kernels[MR / 2] = {
    micro_kernel_2,  micro_kernel_4,  micro_kernel_6,  micro_kernel_8,
    micro_kernel_10, micro_kernel_12, micro_kernel_14,
};

/* the mr x NR tile (1 <= mr <= MR) with the fewest rows computed */
static inline void micro_kernel(int kc, const float *restrict a, const float *restrict b, int mr,
                                const struct tile_out *t)
{
    micro_kernels[(mr - 1) / 2](kc, a, b, mr, t);
}

static int imin(int a, int b)
{
    return a < b ? a : b;
}

static inline __mmask16 lanes_of(int n)
{
    return lanes(n);
}

/* the column side of the tiles whose columns are [j, j + nr) */
static void tile_columns(const struct nncw_sgemm_plan *pl, int j, int nr, struct tile_out *t)
{
    for (int h = 0; h < 2; h++) {
        int j0 = j + 16 * h, cnt = nr - 16 * h;
        t->mask[h] = lanes_of(cnt);
        if (pl->c_group >= pl->n) {
            t->half_off[h] = j0;
            continue;
        }
        int g = j0 / pl->c_group, rem = j0 % pl->c_group;
        if (cnt <= 0 || rem + imin(cnt, 16) <= pl->c_group) {
            t->half_off[h] = (long long)g * pl->c_group_stride + rem;
            continue;
        }
        t->half_off[h] = -1;
        for (int l = 0; l < 16; l++) {
            int jj = j0 + (l < cnt ? l : 0);
            t->offs[h][l] = (int32_t)((jj / pl->c_group) * pl->c_group_stride + jj % pl->c_group);
        }
    }
}

/*
** A product with a small C and a long k (a convolution's weight gradient: k = every pixel of
** the batch) is split along k instead: split over rows or columns, every part would pack all
** of the long shared operand again, and a C of a few micro-tiles cannot be shared out evenly
** (the CIFAR stem's 64 x 27 gradient: 3 tiles against 2). k is cut into at most KSPLIT_MAX
** chunks of whole KC blocks, chosen from the sizes alone, never from the thread count: chunk 0
** goes into C, the others into buffers added to C in chunk order afterwards, so the result is
** the same bit for bit on any number of threads. Splitting pays once k is twice the longer
** side of C (the buffers then cost less than packing the shared operand again).
*/
enum { KSPLIT_MAX = 4, KSPLIT_MIN_DEPTH = 512 };

struct gemm_job {
    const struct nncw_sgemm_plan *pl;
    bool split_n; /* parts take column ranges (else row ranges) */
    bool whole_a; /* each part packs all of op(A) once, not once per NC columns */
    float *buf;   /* per part: a_floats + b_floats */
    size_t a_floats, b_floats;
    int kparts; /* > 1: parts take chunks of k, chunk q over [kcut[q], kcut[q + 1]) */
    int kcut[KSPLIT_MAX + 1];
    struct nncw_sgemm_plan chunk[KSPLIT_MAX]; /* chunk 0: the plan; others: into a buffer */
};

/*
** With many columns (a convolution's pixels) the same blocks of A would be packed again for
** every NC of them; when all of op(A) fits in WHOLE_A_FLOATS it is packed once instead (the
** weights of ResNet-18's widest layer are 2.4 M floats).
*/
enum { WHOLE_A_FLOATS = 4 << 20 };

/* rows [i0, i1) x columns [j0, j1) of C over depths [k0, k1), with packing space abuf and
 * bbuf */
static void gemm_block(const struct nncw_sgemm_plan *pl, bool whole_a, int i0, int i1, int j0,
                       int j1, int k0, int k1, float *abuf, float *bbuf)
{
    const size_t rows = (size_t)(i1 - i0 + MR - 1) / MR * MR;
    struct tile_out t = {.c = pl->c, .ldc = (size_t)pl->ldc, .alpha = pl->alpha};
    for (int jc = j0; jc < j1; jc += NC) {
        int nc = imin(NC, j1 - jc);
        for (int pc = k0; pc < k1; pc += KC) {
            int kc = imin(KC, k1 - pc);
            /* the first pass over k adds the bias and scales C; the others accumulate */
            t.beta = pc == k0 ? pl->beta : 1.0f;
            for (int ic = i0; ic < i1; ic += MC) {
                int mc = imin(MC, i1 - ic);
                const float *ablk;
                if (pl->a_packed) {
                    ablk = pl->a_packed + nncw_sgemm_packed_a_offset(pl->m, ic, pc, kc);
                } else {
                    float *dst = whole_a ? abuf + rows * (pc - k0) + (size_t)(ic - i0) * kc : abuf;
                    if (!whole_a || jc == j0)
                        pl->pack_a(pl, ic, mc, pc, kc, dst);
                    ablk = dst;
                }
                for (int jr = 0; jr < nc; jr += NR) {
                    /* B is packed panel by panel on the first pass over the rows, so each
                     * panel is still in L1 when the kernel first reads it */
                    if (ic == i0)
                        pl->pack_b(pl, pc, kc, jc + jr, imin(NR, nc - jr), bbuf + (size_t)jr * kc);
                    tile_columns(pl, jc + jr, imin(NR, nc - jr), &t);
                    for (int ir = 0; ir < mc; ir += MR) {
                        t.row0 = ic + ir;
                        t.bias = pc == k0 && pl->bias ? pl->bias + ic + ir : NULL;
                        micro_kernel(kc, ablk + (size_t)ir * kc, bbuf + (size_t)jr * kc,
                                     imin(MR, mc - ir), &t);
                    }
                }
            }
        }
    }
}

static void gemm_part(void *arg, int i, int n)
{
    const struct gemm_job *g = arg;
    const struct nncw_sgemm_plan *pl = g->pl;
    float *abuf = g->buf + (size_t)i * (g->a_floats + g->b_floats), *bbuf = abuf + g->a_floats;
    if (g->kparts > 1) {
        for (int q = g->kparts * i / n; q < g->kparts * (i + 1) / n; q++)
            gemm_block(&g->chunk[q], g->whole_a, 0, pl->m, 0, pl->n, g->kcut[q], g->kcut[q + 1],
                       abuf, bbuf);
        return;
    }
    int unit = g->split_n ? NR : MR, size = g->split_n ? pl->n : pl->m;
    int units = (size + unit - 1) / unit;
    int lo = imin(size, (int)((long)units * i / n) * unit);
    int hi = imin(size, (int)((long)units * (i + 1) / n) * unit);
    if (lo >= hi)
        return;
    if (g->split_n)
        gemm_block(pl, g->whole_a, 0, pl->m, lo, hi, 0, pl->k, abuf, bbuf);
    else
        gemm_block(pl, false, lo, hi, 0, pl->n, 0, pl->k, abuf, bbuf);
}

/* ---- scratch: growing buffers per calling thread, freed when the thread exits ---- */

static _Thread_local float *tls_buf[NNCW_SGEMM_SPACE_COUNT];
static _Thread_local size_t tls_cap[NNCW_SGEMM_SPACE_COUNT];
static pthread_key_t buf_keys[NNCW_SGEMM_SPACE_COUNT];
static pthread_once_t buf_keys_once = PTHREAD_ONCE_INIT;

static void make_buf_keys(void)
{
    for (int i = 0; i < NNCW_SGEMM_SPACE_COUNT; i++)
        pthread_key_create(&buf_keys[i], free);
}

float *nncw_sgemm_thread_space(enum nncw_sgemm_space slot, size_t floats)
{
    if (tls_cap[slot] >= floats)
        return tls_buf[slot];
    pthread_once(&buf_keys_once, make_buf_keys);
    void *p = NULL;
    if (posix_memalign(&p, 64, floats * sizeof(float)) != 0)
        return NULL;
    free(tls_buf[slot]);
    tls_buf[slot] = p;
    tls_cap[slot] = floats;
    pthread_setspecific(buf_keys[slot], p);
    return p;
}

static size_t round_up(size_t x, size_t to)
{
    return (x + to - 1) / to * to;
}

/* C = beta * C (+ bias), for k == 0 or alpha == 0, on a plain C */
static void scale_c(const struct nncw_sgemm_plan *pl)
{
    for (int i = 0; i < pl->m; i++) {
        float *row = pl->c + (size_t)i * pl->ldc;
        float add = pl->bias ? pl->bias[i] : 0.0f;
        for (int j = 0; j < pl->n; j++)
            row[j] = (pl->beta != 0.0f ? pl->beta * row[j] : 0.0f) + add;
    }
}

/* cuts k into g->kparts chunks of whole KC blocks (as even as that allows); chunks 1.. write
 * plain m x n matrices at bufs, c_floats apart, with beta 0 and no bias */
static void plan_k_chunks(struct gemm_job *g, float *bufs, size_t c_floats)
{
    const struct nncw_sgemm_plan *pl = g->pl;
    int blocks = (pl->k + KC - 1) / KC;
    for (int q = 0; q <= g->kparts; q++)
        g->kcut[q] = imin(pl->k, (int)((long)blocks * q / g->kparts) * KC);
    for (int q = 0; q < g->kparts; q++) {
        g->chunk[q] = *pl;
        if (q == 0)
            continue;
        g->chunk[q].c = bufs + (size_t)(q - 1) * c_floats;
        g->chunk[q].ldc = pl->n;
        g->chunk[q].beta = 0.0f;
        g->chunk[q].bias = NULL;
    }
}

/* C += the chunks' products, in chunk order */
static void add_k_chunks(const struct gemm_job *g)
{
    const struct nncw_sgemm_plan *pl = g->pl;
    for (int q = 1; q < g->kparts; q++) {
        const float *src = g->chunk[q].c;
        for (int i = 0; i < pl->m; i++) {
            float *row = pl->c + (size_t)i * pl->ldc;
            const float *s = src + (size_t)i * pl->n;
            for (int j = 0; j < pl->n; j++)
                row[j] += s[j];
        }
    }
}

bool nncw_sgemm_run(const struct nncw_sgemm_plan *pl)
{
    if (pl->m <= 0 || pl->n <= 0)
        return true;
    if ((pl->k <= 0 || pl->alpha == 0.0f) && pl->c_group >= pl->n) {
        scale_c(pl);
        return true;
    }
    struct gemm_job g = {.pl = pl, .kparts = 1};
    int m = pl->m, n = pl->n, k = pl->k > 0 ? pl->k : 1;
    /* each part packs all of the operand it shares: share the smaller one */
    g.split_n = m <= n;
    int units = g.split_n ? (n + NR - 1) / NR : (m + MR - 1) / MR;
    if (pl->c_group >= n && !pl->a_packed)
        g.kparts = imin(KSPLIT_MAX, imin(k / KSPLIT_MIN_DEPTH, k / (2 * (m > n ? m : n))));
    if (g.kparts > 1)
        units = g.kparts;
    else
        g.kparts = 1;
    int parts = nncw_parallel_width(2.0 * m * n * k);
    parts = parts < units ? parts : units;
    /* sized for any split, as the pool may run fewer parts than asked */
    size_t kc = (size_t)imin(KC, k);
    g.a_floats = round_up((size_t)imin(MC, (int)round_up((size_t)m, MR)) * kc, 16);
    size_t whole = round_up(round_up((size_t)m, MR) * (size_t)k, 16);
    g.whole_a = g.split_n && n > NC * parts && whole <= WHOLE_A_FLOATS && !pl->a_packed;
    if (g.kparts > 1) { /* a part packs its chunks' op(A) once each, not once per NC columns */
        int blocks = (k + KC - 1) / KC, longest = (blocks + g.kparts - 1) / g.kparts * KC;
        whole = round_up(round_up((size_t)m, MR) * (size_t)imin(longest, k), 16);
        g.whole_a = n > NC && whole <= WHOLE_A_FLOATS;
    }
    if (g.whole_a)
        g.a_floats = whole;
    g.b_floats = round_up((size_t)imin(NC, (int)round_up((size_t)n, NR)) * kc, 16);
    size_t pack_floats = (size_t)parts * (g.a_floats + g.b_floats);
    size_t c_floats = round_up((size_t)m * n, 16);
    g.buf = nncw_sgemm_thread_space(NNCW_SGEMM_SPACE_PACKING,
                                    pack_floats + (size_t)(g.kparts - 1) * c_floats);
    if (!g.buf)
        return false;
    if (g.kparts > 1)
        plan_k_chunks(&g, g.buf + pack_floats, c_floats);
    nncw_parallel_run(gemm_part, &g, parts);
    if (g.kparts > 1)
        add_k_chunks(&g);
    return true;
}

/* ---- plain matrices ---- */

struct matrices {
    bool ta, tb;
    const float *a, *b;
    int lda, ldb;
};

static void pack_a_matrix(const struct nncw_sgemm_plan *pl, int i0, int mc, int p0, int kc,
                          float *dst)
{
    const struct matrices *x = pl->ctx;
    nncw_sgemm_pack_a(x->ta, x->a, x->lda, i0, mc, p0, kc, dst);
}

static void pack_b_matrix(const struct nncw_sgemm_plan *pl, int p0, int kc, int j0, int nc,
                          float *dst)
{
    const struct matrices *x = pl->ctx;
    nncw_sgemm_pack_b(x->tb, x->b, x->ldb, p0, kc, j0, nc, dst);
}

bool nncw_sgemm_avx512_packed_a(const float *a_packed, bool trans_b, int m, int n, int k,
                                float alpha, const float *b, int ldb, float beta, float *c, int ldc)
{
    struct matrices x = {false, trans_b, NULL, b, 0, ldb};
    struct nncw_sgemm_plan pl = {.m = m,
                                 .n = n,
                                 .k = k,
                                 .alpha = alpha,
                                 .beta = beta,
                                 .a_packed = a_packed,
                                 .pack_a = pack_a_matrix,
                                 .pack_b = pack_b_matrix,
                                 .ctx = &x,
                                 .c = c,
                                 .ldc = ldc,
                                 .c_group = n};
    return nncw_sgemm_run(&pl);
}

bool nncw_sgemm_avx512(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                       int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    struct matrices x = {trans_a, trans_b, a, b, lda, ldb};
    struct nncw_sgemm_plan pl = {.m = m,
                                 .n = n,
                                 .k = k,
                                 .alpha = alpha,
                                 .beta = beta,
                                 .pack_a = pack_a_matrix,
                                 .pack_b = pack_b_matrix,
                                 .ctx = &x,
                                 .c = c,
                                 .ldc = ldc,
                                 .c_group = n};
    return nncw_sgemm_run(&pl);
}

#else

bool nncw_sgemm_avx512_is_supported(void)
{
    return false;
}

bool nncw_sgemm_run(const struct nncw_sgemm_plan *pl)
{
    (void)pl;
    return false;
}

float *nncw_sgemm_thread_space(enum nncw_sgemm_space slot, size_t floats)
{
    (void)slot, (void)floats;
    return NULL;
}

bool nncw_sgemm_avx512_packed_a(const float *a_packed, bool trans_b, int m, int n, int k,
                                float alpha, const float *b, int ldb, float beta, float *c, int ldc)
{
    (void)a_packed, (void)trans_b, (void)m, (void)n, (void)k, (void)alpha, (void)b, (void)ldb;
    (void)beta, (void)c, (void)ldc;
    return false;
}

void nncw_sgemm_pack_a_all(bool trans_a, const float *a, int lda, int m, int k, float *dst)
{
    (void)trans_a, (void)a, (void)lda, (void)m, (void)k, (void)dst;
}

bool nncw_sgemm_avx512(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                       int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)alpha, (void)a, (void)lda;
    (void)b, (void)ldb, (void)beta, (void)c, (void)ldc;
    return false;
}

#endif
