/* nncw's own sgemm (AVX-512 kernels, packing, threads), the implicit-GEMM and Winograd
 * convolutions built on it, and the worker pool, each against a slow obvious oracle. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/common.h"
#include "core/rng.h"
#include "nncwt.h"
#include "ops/blas.h"
#include "ops/conv.h"
#include "ops/conv_implicit.h"
#include "ops/conv_winograd.h"
#include "ops/parallel.h"
#include "ops/sgemm_internal.h"

static float *rand_floats(size_t n, uint64_t seed)
{
    float *p = nncw_malloc((n ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    struct nncw_rng r;
    nncw_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        p[i] = 2.0f * nncw_rng_uniform(&r) - 1.0f;
    return p;
}

/* one product with leading dimensions wider than the matrices; checks every element of C,
 * including the columns past n that must stay untouched */
static void check_product(bool ta, bool tb, int m, int n, int k, float alpha, float beta,
                          uint64_t seed)
{
    int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 7;
    float *a = rand_floats((size_t)(ta ? k : m) * lda, seed);
    float *b = rand_floats((size_t)(tb ? n : k) * ldb, seed + 1);
    float *c = rand_floats((size_t)m * ldc, seed + 2);
    float *want = nncw_malloc((size_t)m * ldc * sizeof *want);
    memcpy(want, c, (size_t)m * ldc * sizeof *c);
    nncw_blas_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    nncw_blas_sgemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc);
    /* one assertion per product: Check records every passing one, which costs */
    double tol = 1e-5 * (k + 1);
    int bad_i = -1, bad_j = -1;
    for (int i = 0; i < m && bad_i < 0; i++)
        for (int j = 0; j < ldc; j++) {
            float got = c[(size_t)i * ldc + j], ref = want[(size_t)i * ldc + j];
            if (j >= n ? got != ref : !(fabs(got - ref) <= tol)) {
                bad_i = i;
                bad_j = j;
                break;
            }
        }
    ck_assert_msg(bad_i < 0, "%c%c %dx%dx%d alpha %g beta %g: C[%d][%d] = %g, expected %g%s",
                  ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, beta, bad_i, bad_j,
                  bad_i < 0 ? 0.0 : c[(size_t)bad_i * ldc + bad_j],
                  bad_i < 0 ? 0.0 : want[(size_t)bad_i * ldc + bad_j],
                  bad_j >= n ? " (past n: must stay untouched)" : "");
    nncw_free(a);
    nncw_free(b);
    nncw_free(c);
    nncw_free(want);
}

/* sizes around the micro-tile (14 x 32) and the 16-lane vectors, and the transposes */
static void check_edge_sizes(void)
{
    static const int sizes[] = {1, 2, 13, 14, 15, 16, 17, 31, 32, 33, 45, 70};
    uint64_t seed = 1;
    for (int t = 0; t < 4; t++)
        for (int i = 0; i < (int)NNCW_ARRAY_LEN(sizes); i += 2)
            for (int j = 1; j < (int)NNCW_ARRAY_LEN(sizes); j += 2)
                for (int l = 0; l < (int)NNCW_ARRAY_LEN(sizes); l += 3)
                    check_product(t & 1, t >> 1, sizes[i], sizes[j], sizes[l], l % 2 ? 0.5f : 1.0f,
                                  j % 3 == 0 ? 0.0f : -0.75f, seed++);
}

START_TEST(test_sgemm_edge_sizes_match_ref)
{
    nncw_blas_set_threads(2);
    check_edge_sizes();
}
END_TEST

/* several KC, MC and NC blocks, on one thread and on two (rows split and columns split; A
 * packed once for all columns; the last three split along k, in 4 and 2 chunks, as a weight
 * gradient is, the last with each chunk's A packed once for all columns) */
START_TEST(test_sgemm_blocked_sizes_match_ref)
{
    static const int shapes[][3] = {{20, 2100, 60},  {300, 40, 200}, {30, 70, 450},
                                    {24, 1200, 420}, {40, 27, 5000}, {130, 70, 1500},
                                    {20, 600, 2600}};
    nncw_blas_set_threads(_i + 1);
    for (int s = 0; s < (int)NNCW_ARRAY_LEN(shapes); s++)
        for (int t = 0; t < 4; t++)
            check_product(t & 1, t >> 1, shapes[s][0], shapes[s][1], shapes[s][2], 1.0f,
                          t == 2 ? 1.0f : 0.0f, 100 + (uint64_t)s * 4 + (uint64_t)t);
}
END_TEST

/* the split over threads changes nothing, bit for bit: over rows or columns, and over k
 * (loop 1: a small C and a long k) */
START_TEST(test_sgemm_threads_give_identical_results)
{
    int m = _i ? 64 : 97, n = _i ? 27 : 530, k = _i ? 9000 : 333;
    float *a = rand_floats((size_t)m * k, 1), *b = rand_floats((size_t)k * n, 2);
    float *c1 = nncw_calloc((size_t)m * n, sizeof(float)), *c2 = nncw_calloc((size_t)m * n, 4);
    nncw_blas_set_threads(1);
    nncw_blas_sgemm(false, false, m, n, k, 1.0f, a, k, b, n, 0.0f, c1, n);
    nncw_blas_set_threads(2);
    nncw_blas_sgemm(false, false, m, n, k, 1.0f, a, k, b, n, 0.0f, c2, n);
    ck_assert_int_eq(memcmp(c1, c2, (size_t)m * n * sizeof(float)), 0);
    nncw_free(a);
    nncw_free(b);
    nncw_free(c1);
    nncw_free(c2);
}
END_TEST

/* k = 0 or alpha = 0 leaves beta * C */
START_TEST(test_sgemm_empty_k_scales_c)
{
    float a[1] = {7.0f}, b[1] = {9.0f}, c[6] = {1, 2, 3, 4, 5, 6};
    nncw_blas_sgemm(false, false, 2, 3, 0, 1.0f, a, 1, b, 3, 0.5f, c, 3);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(c[i], 0.5f * (float)(i + 1));
    float a2[2] = {1, 2}, b2[3] = {3, 4, 5};
    nncw_blas_sgemm(false, false, 2, 3, 1, 0.0f, a2, 1, b2, 3, 0.0f, c, 3);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(c[i], 0.0f);
}
END_TEST

/* the portable path (OpenBLAS) when forced, and the backend reported as what runs */
START_TEST(test_sgemm_forced_openblas_matches_ref)
{
    nncw_blas_set_backend(NNCW_BLAS_BACKEND_OPENBLAS);
    ck_assert_int_eq(nncw_blas_get_backend(), NNCW_BLAS_BACKEND_OPENBLAS);
    check_product(false, true, 33, 47, 29, 1.0f, 0.0f, 7);
    check_product(true, false, 20, 64, 100, 0.5f, 1.0f, 8);
    nncw_blas_set_backend(NNCW_BLAS_BACKEND_AUTO);
    ck_assert_int_eq(nncw_blas_get_backend(), nncw_sgemm_avx512_is_supported()
                                                  ? NNCW_BLAS_BACKEND_NNCW_AVX512
                                                  : NNCW_BLAS_BACKEND_OPENBLAS);
}
END_TEST

/* the AVX-512 entry itself: declines without the CPU feature, computes with it */
START_TEST(test_sgemm_avx512_entry)
{
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1}, c[4] = {9, 9, 9, 9};
    bool ran = nncw_sgemm_avx512(false, false, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2);
    ck_assert(ran == nncw_sgemm_avx512_is_supported());
    if (ran) {
        ck_assert_float_eq(c[0], 4.0f);
        ck_assert_float_eq(c[1], 5.0f);
        ck_assert_float_eq(c[2], 10.0f);
        ck_assert_float_eq(c[3], 11.0f);
    } else {
        ck_assert_float_eq(c[0], 9.0f);
    }
}
END_TEST

/* ---- implicit-GEMM convolutions against the im2col path ---- */

static const struct nncw_conv2d_geom conv_cases[] = {
    /* ResNet-like: 3x3 pad 1 stride 1, rows as wide as the output (contiguous loads) */
    {.n = 3,
     .c = 5,
     .h = 8,
     .w = 8,
     .m = 17,
     .group = 1,
     .kh = 3,
     .kw = 3,
     .sh = 1,
     .sw = 1,
     .dh = 1,
     .dw = 1,
     .pt = 1,
     .pl = 1,
     .oh = 8,
     .ow = 8},
    /* unpadded, planes of 121 pixels: 16-pixel runs cross rows and images (gathers, scattered
     * stores) */
    {.n = 2,
     .c = 3,
     .h = 13,
     .w = 13,
     .m = 30,
     .group = 1,
     .kh = 3,
     .kw = 3,
     .sh = 1,
     .sw = 1,
     .dh = 1,
     .dw = 1,
     .pt = 0,
     .pl = 0,
     .oh = 11,
     .ow = 11},
    /* stride 2, asymmetric pads (input gradient falls back to im2col) */
    {.n = 2,
     .c = 4,
     .h = 9,
     .w = 10,
     .m = 6,
     .group = 1,
     .kh = 3,
     .kw = 3,
     .sh = 2,
     .sw = 2,
     .dh = 1,
     .dw = 1,
     .pt = 1,
     .pl = 0,
     .oh = 5,
     .ow = 5},
    /* dilation, 5x2 kernel, pads on one side */
    {.n = 2,
     .c = 3,
     .h = 11,
     .w = 9,
     .m = 4,
     .group = 1,
     .kh = 5,
     .kw = 2,
     .sh = 1,
     .sw = 1,
     .dh = 2,
     .dw = 3,
     .pt = 3,
     .pl = 0,
     .oh = 6,
     .ow = 6},
    /* 1x1 over 4x4 planes, a batch larger than one panel */
    {.n = 9,
     .c = 20,
     .h = 4,
     .w = 4,
     .m = 33,
     .group = 1,
     .kh = 1,
     .kw = 1,
     .sh = 1,
     .sw = 1,
     .dh = 1,
     .dw = 1,
     .pt = 0,
     .pl = 0,
     .oh = 4,
     .ow = 4},
    /* enough input channels for the implicit input gradient: 3x2 kernel, pads 2 (top) and
     * 1 (bottom, right), 40-pixel planes */
    {.n = 3,
     .c = 49,
     .h = 7,
     .w = 5,
     .m = 16,
     .group = 1,
     .kh = 3,
     .kw = 2,
     .sh = 1,
     .sw = 1,
     .dh = 1,
     .dw = 1,
     .pt = 2,
     .pl = 0,
     .oh = 8,
     .ow = 5},
    /* the same, dilated, over 8x8 planes */
    {.n = 2,
     .c = 64,
     .h = 8,
     .w = 8,
     .m = 30,
     .group = 1,
     .kh = 3,
     .kw = 3,
     .sh = 1,
     .sw = 1,
     .dh = 2,
     .dw = 2,
     .pt = 2,
     .pl = 2,
     .oh = 8,
     .ow = 8},
    /* enough channels for several KC blocks in every product */
    {.n = 2,
     .c = 40,
     .h = 6,
     .w = 6,
     .m = 24,
     .group = 1,
     .kh = 3,
     .kw = 3,
     .sh = 1,
     .sw = 1,
     .dh = 1,
     .dw = 1,
     .pt = 1,
     .pl = 1,
     .oh = 6,
     .ow = 6},
};

static size_t numel_x(const struct nncw_conv2d_geom *g)
{
    return (size_t)g->n * g->c * g->h * g->w;
}

static size_t numel_y(const struct nncw_conv2d_geom *g)
{
    return (size_t)g->n * g->m * g->oh * g->ow;
}

static size_t numel_w(const struct nncw_conv2d_geom *g)
{
    return (size_t)g->m * g->c * g->kh * g->kw;
}

static void assert_close(const float *got, const float *want, size_t n, double tol,
                         const char *what)
{
    size_t i = 0;
    while (i < n && fabs(got[i] - want[i]) <= tol * (1.0 + fabs(want[i])))
        i++;
    ck_assert_msg(i == n, "%s[%zu] = %g, expected %g", what, i, i < n ? got[i] : 0.0,
                  i < n ? want[i] : 0.0);
}

START_TEST(test_conv_implicit_forward_matches_ref)
{
    const struct nncw_conv2d_geom *g = &conv_cases[_i];
    if (!nncw_conv2d_implicit_applies(g)) {
        float y = 0;
        ck_assert(!nncw_conv2d_implicit_forward(g, &y, &y, NULL, 0.0f, &y));
        return;
    }
    nncw_blas_set_threads(2);
    float *x = rand_floats(numel_x(g), 1), *w = rand_floats(numel_w(g), 2);
    float *b = rand_floats((size_t)g->m, 3), *y = rand_floats(numel_y(g), 4);
    float *want = nncw_malloc(numel_y(g) * sizeof *want);
    nncw_kernel_conv2d_f32_ref(g, x, w, b, want);
    /* beta 1 adds to what y held */
    for (size_t i = 0; i < numel_y(g); i++)
        want[i] += y[i];
    ck_assert(nncw_conv2d_implicit_forward(g, x, w, b, 1.0f, y));
    assert_close(y, want, numel_y(g), 1e-4, "y");
    nncw_free(x);
    nncw_free(w);
    nncw_free(b);
    nncw_free(y);
    nncw_free(want);
}
END_TEST

/* the kernel's backward (implicit where it applies) against the im2col path on OpenBLAS */
START_TEST(test_conv_implicit_backward_matches_im2col)
{
    const struct nncw_conv2d_geom *g = &conv_cases[_i];
    nncw_blas_set_threads(2);
    float *x = rand_floats(numel_x(g), 1), *w = rand_floats(numel_w(g), 2);
    float *dy = rand_floats(numel_y(g), 3);
    float *dx[2], *dw[2], *db[2];
    for (int pass = 0; pass < 2; pass++) {
        nncw_blas_set_backend(pass ? NNCW_BLAS_BACKEND_OPENBLAS : NNCW_BLAS_BACKEND_AUTO);
        /* accumulates into what was there */
        dx[pass] = rand_floats(numel_x(g), 4);
        dw[pass] = rand_floats(numel_w(g), 5);
        db[pass] = rand_floats((size_t)g->m, 6);
        float *scratch = nncw_malloc(nncw_kernel_conv2d_f32_scratch(g) * sizeof(float));
        nncw_kernel_conv2d_backward_f32(g, x, w, dy, dx[pass], dw[pass], db[pass], scratch);
        nncw_free(scratch);
    }
    nncw_blas_set_backend(NNCW_BLAS_BACKEND_AUTO);
    assert_close(dx[0], dx[1], numel_x(g), 1e-4, "dx");
    assert_close(dw[0], dw[1], numel_w(g), 1e-4, "dw");
    assert_close(db[0], db[1], (size_t)g->m, 1e-5, "db");
    for (int pass = 0; pass < 2; pass++) {
        nncw_free(dx[pass]);
        nncw_free(dw[pass]);
        nncw_free(db[pass]);
    }
    nncw_free(x);
    nncw_free(w);
    nncw_free(dy);
}
END_TEST

/* ---- Winograd (F(4x4, 3x3) and F(2x2, 3x3)) ---- */

/* 3x3 pad 1 stride 1 over even planes with at least 32 channels: planes 16 wide (one run of
 * tiles per 16), 8 wide (two runs), 4 wide (gathers and scatters), tiles crossing images,
 * a partial last block of 16 tiles, and several chunks */
static const struct nncw_conv2d_geom wino_cases[] = {
    {.n = 2,
     .c = 33,
     .h = 6,
     .w = 16,
     .m = 40,
     .group = 1,
     .kh = 3,
     .kw = 3,
     .sh = 1,
     .sw = 1,
     .dh = 1,
     .dw = 1,
     .pt = 1,
     .pl = 1,
     .oh = 6,
     .ow = 16},
    {.n = 3,
     .c = 32,
     .h = 6,
     .w = 8,
     .m = 35,
     .group = 1,
     .kh = 3,
     .kw = 3,
     .sh = 1,
     .sw = 1,
     .dh = 1,
     .dw = 1,
     .pt = 1,
     .pl = 1,
     .oh = 6,
     .ow = 8},
    {.n = 5,
     .c = 40,
     .h = 4,
     .w = 4,
     .m = 32,
     .group = 1,
     .kh = 3,
     .kw = 3,
     .sh = 1,
     .sw = 1,
     .dh = 1,
     .dw = 1,
     .pt = 1,
     .pl = 1,
     .oh = 4,
     .ow = 4},
    {.n = 9,
     .c = 32,
     .h = 10,
     .w = 12,
     .m = 48,
     .group = 1,
     .kh = 3,
     .kw = 3,
     .sh = 1,
     .sw = 1,
     .dh = 1,
     .dw = 1,
     .pt = 1,
     .pl = 1,
     .oh = 10,
     .ow = 12},
};

START_TEST(test_conv_winograd_forward_matches_ref)
{
    const struct nncw_conv2d_geom *g = &wino_cases[_i];
    ck_assert(nncw_conv2d_winograd_applies(g) == nncw_sgemm_avx512_is_supported());
    if (!nncw_conv2d_winograd_applies(g))
        return;
    nncw_blas_set_threads(2);
    float *x = rand_floats(numel_x(g), 1), *w = rand_floats(numel_w(g), 2);
    float *b = rand_floats((size_t)g->m, 3), *y = rand_floats(numel_y(g), 4);
    float *want = nncw_malloc(numel_y(g) * sizeof *want);
    nncw_kernel_conv2d_f32_ref(g, x, w, b, want);
    ck_assert(nncw_conv2d_winograd_forward(g, x, w, b, 0.0f, y));
    assert_close(y, want, numel_y(g), 1e-4, "y");
    /* beta 1 adds to what y held */
    for (size_t i = 0; i < numel_y(g); i++)
        want[i] += y[i];
    ck_assert(nncw_conv2d_winograd_forward(g, x, w, b, 1.0f, y));
    assert_close(y, want, numel_y(g), 1e-4, "y (beta 1)");
    nncw_free(x);
    nncw_free(w);
    nncw_free(b);
    nncw_free(y);
    nncw_free(want);
}
END_TEST

/* the input gradient against the im2col path on OpenBLAS */
START_TEST(test_conv_winograd_input_grad_matches_im2col)
{
    const struct nncw_conv2d_geom *g = &wino_cases[_i];
    if (!nncw_conv2d_winograd_applies(g))
        return;
    nncw_blas_set_threads(2);
    float *w = rand_floats(numel_w(g), 2), *dy = rand_floats(numel_y(g), 3);
    float *dx = rand_floats(numel_x(g), 4), *want = rand_floats(numel_x(g), 4);
    ck_assert(nncw_conv2d_winograd_input_grad(g, w, dy, dx));
    nncw_blas_set_backend(NNCW_BLAS_BACKEND_OPENBLAS);
    float *scratch = nncw_malloc(nncw_kernel_conv2d_f32_scratch(g) * sizeof(float));
    float *x = rand_floats(numel_x(g), 5);
    nncw_kernel_conv2d_backward_f32(g, x, w, dy, want, NULL, NULL, scratch);
    nncw_free(x);
    nncw_blas_set_backend(NNCW_BLAS_BACKEND_AUTO);
    assert_close(dx, want, numel_x(g), 1e-4, "dx");
    nncw_free(scratch);
    nncw_free(w);
    nncw_free(dy);
    nncw_free(dx);
    nncw_free(want);
}
END_TEST

/* not 3x3 / stride 1 / pad 1 / even planes / 16 channels: the other paths */
START_TEST(test_conv_winograd_declines)
{
    struct nncw_conv2d_geom g = wino_cases[0];
    g.c = 15;
    ck_assert(!nncw_conv2d_winograd_applies(&g));
    g = wino_cases[0];
    g.h = g.oh = 7;
    ck_assert(!nncw_conv2d_winograd_applies(&g));
    ck_assert(!nncw_conv2d_winograd_applies(&conv_cases[2]));
    nncw_blas_set_backend(NNCW_BLAS_BACKEND_OPENBLAS);
    float v = 0;
    ck_assert(!nncw_conv2d_winograd_forward(&wino_cases[0], &v, &v, NULL, 0.0f, &v));
    nncw_blas_set_backend(NNCW_BLAS_BACKEND_AUTO);
}
END_TEST

/* what the implicit path declines: grouped or shallow convolutions, OpenBLAS forced, and
 * (input gradient) strides or few input channels */
START_TEST(test_conv_implicit_declines)
{
    struct nncw_conv2d_geom g = conv_cases[0];
    ck_assert(nncw_conv2d_implicit_input_grad_applies(&conv_cases[5]) ==
              nncw_sgemm_avx512_is_supported());
    ck_assert(nncw_conv2d_implicit_applies(&conv_cases[0]) == nncw_sgemm_avx512_is_supported());
    /* strides; few input channels */
    ck_assert(!nncw_conv2d_implicit_input_grad_applies(&conv_cases[2]));
    ck_assert(!nncw_conv2d_implicit_input_grad_applies(&conv_cases[0]));
    /* one input channel, 3x3: too shallow */
    g.c = 1;
    ck_assert(!nncw_conv2d_implicit_applies(&g));
    g.c = 5;
    g.group = 5;
    g.c = 5;
    g.m = 15;
    ck_assert(!nncw_conv2d_implicit_applies(&g));
    nncw_blas_set_backend(NNCW_BLAS_BACKEND_OPENBLAS);
    ck_assert(!nncw_conv2d_implicit_applies(&conv_cases[0]));
    nncw_blas_set_backend(NNCW_BLAS_BACKEND_AUTO);
}
END_TEST

/* a thread that ran products and exits takes its scratch with it (the ASan build's leak
 * checker fails the test otherwise) */
static void *products_on_a_thread(void *arg)
{
    (void)arg;
    check_product(false, false, 40, 700, 50, 1.0f, 0.0f, 3);
    const struct nncw_conv2d_geom *g = &wino_cases[0];
    float *x = rand_floats(numel_x(g), 1), *w = rand_floats(numel_w(g), 2);
    float *y = rand_floats(numel_y(g), 3), *want = nncw_malloc(numel_y(g) * sizeof *want);
    nncw_kernel_conv2d_f32_ref(g, x, w, NULL, want);
    float *scratch = nncw_malloc(nncw_kernel_conv2d_f32_scratch(g) * sizeof(float));
    nncw_kernel_conv2d_f32(g, x, w, NULL, y, scratch);
    assert_close(y, want, numel_y(g), 1e-4, "y");
    nncw_free(scratch);
    nncw_free(x);
    nncw_free(w);
    nncw_free(y);
    nncw_free(want);
    return NULL;
}

START_TEST(test_sgemm_scratch_goes_with_the_thread)
{
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, products_on_a_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
}
END_TEST

/* ---- the worker pool ---- */

struct part_log {
    int calls[8];
    int seen_n;
};

static void log_part(void *arg, int i, int n)
{
    struct part_log *log = arg;
    log->calls[i]++;
    log->seen_n = n;
}

START_TEST(test_parallel_runs_every_part_once)
{
    nncw_parallel_set_threads(2);
    ck_assert_int_eq(nncw_parallel_get_threads(), 2);
    struct part_log log = {{0}, 0};
    nncw_parallel_run(log_part, &log, 2);
    ck_assert_int_eq(log.seen_n, 2);
    ck_assert_int_eq(log.calls[0], 1);
    ck_assert_int_eq(log.calls[1], 1);
    /* more parts than threads: clamped to the thread count */
    memset(&log, 0, sizeof log);
    nncw_parallel_run(log_part, &log, 5);
    ck_assert_int_eq(log.seen_n, 2);
    ck_assert_int_eq(log.calls[0] + log.calls[1], 2);
    ck_assert_int_eq(log.calls[2], 0);
}
END_TEST

static void nested_part(void *arg, int i, int n)
{
    (void)n;
    struct part_log *logs = arg;
    /* the pool is busy: this inner job runs on this thread alone */
    nncw_parallel_run(log_part, &logs[1 + i], 2);
}

START_TEST(test_parallel_nested_jobs_run_inline)
{
    nncw_parallel_set_threads(2);
    struct part_log logs[3];
    memset(logs, 0, sizeof logs);
    nncw_parallel_run(nested_part, logs, 2);
    for (int i = 1; i < 3; i++) {
        ck_assert_int_eq(logs[i].calls[0], 1);
        ck_assert_int_eq(logs[i].calls[1], 1);
    }
}
END_TEST

START_TEST(test_parallel_thread_count_is_clamped)
{
    nncw_parallel_set_threads(0);
    ck_assert_int_eq(nncw_parallel_get_threads(), 1);
    nncw_parallel_set_threads(100000);
    ck_assert_int_eq(nncw_parallel_get_threads(), NNCW_PARALLEL_MAX_THREADS);
    ck_assert_int_eq(nncw_parallel_width(10.0), 1);
    nncw_parallel_set_threads(2);
    ck_assert_int_eq(nncw_parallel_width(1e9), 2);
}
END_TEST

/* a child forked after the workers started gets workers of its own */
START_TEST(test_parallel_works_after_fork)
{
    nncw_parallel_set_threads(2);
    struct part_log log = {{0}, 0};
    nncw_parallel_run(log_part, &log, 2);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct part_log child = {{0}, 0};
        nncw_parallel_run(log_part, &child, 2);
        _exit(child.calls[0] == 1 && child.calls[1] == 1 ? 0 : 1);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

static Suite *sgemm_suite(void)
{
    Suite *s = suite_create("sgemm");
    TCase *tc = tcase_create("products");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_sgemm_edge_sizes_match_ref);
    tcase_add_loop_test(tc, test_sgemm_blocked_sizes_match_ref, 0, 2);
    tcase_add_loop_test(tc, test_sgemm_threads_give_identical_results, 0, 2);
    tcase_add_test(tc, test_sgemm_empty_k_scales_c);
    suite_add_tcase(s, tc);
    tc = tcase_create("backends");
    tcase_add_test(tc, test_sgemm_forced_openblas_matches_ref);
    tcase_add_test(tc, test_sgemm_avx512_entry);
    suite_add_tcase(s, tc);
    tc = tcase_create("implicit_conv");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_conv_implicit_forward_matches_ref, 0,
                        (int)NNCW_ARRAY_LEN(conv_cases));
    tcase_add_loop_test(tc, test_conv_implicit_backward_matches_im2col, 0,
                        (int)NNCW_ARRAY_LEN(conv_cases));
    tcase_add_test(tc, test_conv_implicit_declines);
    tcase_add_loop_test(tc, test_conv_winograd_forward_matches_ref, 0,
                        (int)NNCW_ARRAY_LEN(wino_cases));
    tcase_add_loop_test(tc, test_conv_winograd_input_grad_matches_im2col, 0,
                        (int)NNCW_ARRAY_LEN(wino_cases));
    tcase_add_test(tc, test_conv_winograd_declines);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_add_test(tc, test_parallel_runs_every_part_once);
    tcase_add_test(tc, test_parallel_nested_jobs_run_inline);
    tcase_add_test(tc, test_parallel_thread_count_is_clamped);
    tcase_add_test(tc, test_parallel_works_after_fork);
    tcase_add_test(tc, test_sgemm_scratch_goes_with_the_thread);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(sgemm_suite());
}
