/* The convolution's fast paths against each other and against direct loops in double
 * precision, on the shapes and value scales of real networks: post-ReLU activations, He-scaled
 * weights, small output gradients. Winograd F(2x2, 3x3), implicit GEMM and im2col + sgemm
 * (nncw's and OpenBLAS's) must all give the direct convolution to
 * within float rounding; a path that is wrong for one tile, one channel block or one edge
 * shows as an error orders of magnitude above it (the kind of bug that once cost ResNet-20
 * 1.5 points of accuracy while the small random tests passed). */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/common.h"
#include "core/rng.h"
#include "nncwt.h"
#include "ops/blas.h"
#include "ops/conv.h"

struct path_case {
    int n, c, h, w, m, k, stride, pad, dil;
    const char *what;
};

static const struct path_case cases[] = {
    {4, 16, 32, 32, 16, 3, 1, 1, 1, "ResNet-20 stage 1 (Winograd, 14 + 2 rows)"},
    {4, 32, 16, 16, 32, 3, 1, 1, 1, "ResNet-20 stage 2 (Winograd)"},
    {4, 64, 8, 8, 64, 3, 1, 1, 1, "ResNet-20 stage 3 (Winograd)"},
    {4, 16, 32, 32, 32, 3, 2, 1, 1, "ResNet stride-2 3x3"},
    {4, 32, 16, 16, 64, 1, 2, 0, 1, "ResNet 1x1 stride-2 downsample"},
    {4, 3, 32, 32, 16, 3, 1, 1, 1, "CIFAR stem (im2col: 27 rows)"},
    {6, 1, 28, 28, 32, 3, 1, 0, 1, "the CNN's first conv (im2col: 9 rows)"},
    {3, 48, 10, 14, 40, 3, 1, 1, 1, "Winograd, channels not a multiple of 16"},
    {5, 64, 4, 4, 64, 3, 1, 1, 1, "Winograd on 4x4 planes (gathered tiles)"},
    {3, 40, 7, 9, 56, 3, 1, 1, 1, "odd plane (implicit GEMM)"},
    {2, 2, 19, 70, 5, 5, 1, 2, 1, "few channels, wide rows, 5x5"},
    {2, 3, 15, 21, 7, 3, 1, 3, 2, "few channels, dilation and wide padding"},
    /* the widths filter pruning leaves (multiples of 8): every row count of the sgemm's last
     * micro-tile (m mod 14), Winograd's runs of tiles across rows and chunk ends */
    {4, 24, 16, 16, 24, 3, 1, 1, 1, "pruned ResNet-20 stage 2: 24 channels (14 + 10 rows)"},
    {4, 40, 8, 8, 40, 3, 1, 1, 1, "pruned ResNet-20 stage 3: 40 channels (14 + 14 + 12 rows)"},
    {4, 16, 32, 32, 24, 3, 2, 1, 1, "pruned stride-2 3x3, 16 -> 24 (implicit GEMM)"},
    {4, 24, 16, 16, 40, 1, 2, 0, 1, "pruned 1x1 stride-2 downsample, 24 -> 40"},
    {2, 56, 6, 10, 48, 3, 1, 1, 1, "Winograd, 56 -> 48 channels (14 x 3 + 6 rows)"},
    {2, 48, 8, 8, 56, 3, 1, 1, 1, "Winograd, 48 -> 56 channels (whole micro-tiles)"},
    {2, 16, 6, 36, 32, 3, 1, 1, 1, "Winograd, 18 tiles a row: runs split across rows"},
    {2, 24, 12, 20, 8, 3, 1, 1, 1, "8 output channels (implicit GEMM, an 8-row tile)"},
    {3, 3, 17, 70, 8, 3, 2, 1, 1, "few channels, stride 2, rows over 32 (direct input grad)"},
    {2, 2, 9, 11, 6, 1, 1, 0, 1, "few channels, 1x1 (direct input grad, 1 of 9 taps)"},
    /* planes smaller than the kernel's reach: the kernel is cropped to the taps that read */
    {4, 64, 1, 1, 48, 3, 1, 1, 1, "1x1 plane, 3x3 pad 1: the centre tap (a 1x1 last stage)"},
    {4, 32, 2, 2, 40, 3, 2, 1, 1, "2x2 plane, 3x3 stride 2 to 1x1: 4 of 9 taps"},
    {3, 16, 1, 9, 24, 3, 1, 1, 1, "one-row plane: the middle kernel row"},
    {2, 8, 2, 2, 8, 5, 1, 2, 1, "5x5 pad 2 on a 2x2 plane: the middle 3x3"},
    {2, 6, 1, 1, 8, 3, 1, 2, 2, "dilation 2, pad 2 on a 1x1 plane: the centre tap"},
    /* the weight gradient split along the pixels (4096 of them against 576 kernel rows) */
    {4, 64, 32, 32, 16, 3, 1, 1, 1, "64 -> 16 channels on 32x32: weight gradient split over k"},
    /* Winograd F(4x4, 3x3), taken where its tiles cover the plane within 4/3 of its area: runs
     * of up to 8 tiles (64 wide), runs split within a row (40 wide: 8 + 2), tiles sticking out
     * at the right (30 wide) and bottom (10 high), gathered blocks (12, 8 and 4 wide), all
     * tiles at once (few tiles, many channels) in groups of rows with a partial last one; and
     * F(2x2) all at once on 6x6 and 2x2 planes. F(4x4)'s larger transform coefficients cost
     * precision: 3e-6 to 1e-5 of the largest output on these scales at 16 to 512 channels,
     * against 2e-7 to 5e-7 for F(2x2); TOL holds both, and a wrong tile still shows above 1e-2 */
    {2, 32, 16, 64, 24, 3, 1, 1, 1, "F(4x4), 64 wide: runs of 8 tiles, 4 chunks"},
    {2, 16, 8, 40, 24, 3, 1, 1, 1, "F(4x4), 40 wide: runs split 8 + 2 within a row"},
    {2, 24, 28, 30, 40, 3, 1, 1, 1, "F(4x4), 30 wide: each row's last tile 2 columns out"},
    {3, 40, 10, 12, 24, 3, 1, 1, 1, "F(4x4), 10x12: gathered, the last tile row 2 rows out"},
    {8, 32, 8, 8, 40, 3, 1, 1, 1, "F(4x4) on 8x8 planes, gathered chunks"},
    {20, 16, 4, 4, 24, 3, 1, 1, 1, "F(4x4) on 4x4 planes, gathered chunks"},
    {8, 96, 4, 4, 72, 3, 1, 1, 1, "F(4x4) on 4x4 planes, all tiles at once: 42 + 30 rows"},
    {4, 128, 8, 8, 96, 3, 1, 1, 1, "F(4x4) on 8x8 planes, all at once, 128 -> 96 channels"},
    {2, 96, 6, 6, 64, 3, 1, 1, 1, "F(2x2) on 6x6 planes (F(4x4) would tile 8x8), all at once"},
    {4, 64, 2, 2, 48, 3, 1, 1, 1, "F(2x2) on 2x2 planes: one tile an image, all at once"},
};

struct operands {
    struct nncw_conv2d_geom g;
    float *x, *w, *b, *dy;
    size_t nx, nw, ny;
};

static void fill_normal(float *v, size_t n, float mean, float sd, bool relu, struct nncw_rng *r)
{
    for (size_t i = 0; i < n; i++) {
        float t = mean + sd * nncw_rng_normal(r);
        v[i] = relu && t < 0.0f ? 0.0f : t;
    }
}

static void operands_make(const struct path_case *k, uint64_t seed, struct operands *o)
{
    int oh = (k->h + 2 * k->pad - k->dil * (k->k - 1) - 1) / k->stride + 1;
    int ow = (k->w + 2 * k->pad - k->dil * (k->k - 1) - 1) / k->stride + 1;
    o->g = (struct nncw_conv2d_geom){k->n, k->c, k->h, k->w, k->m, 1, k->k, k->k, k->stride,
                                     k->stride, k->dil, k->dil, k->pad, k->pad, oh, ow};
    o->nx = (size_t)k->n * k->c * k->h * k->w;
    o->nw = (size_t)k->m * k->c * k->k * k->k;
    o->ny = (size_t)k->n * k->m * oh * ow;
    o->x = nncw_malloc(o->nx * sizeof(float));
    o->w = nncw_malloc(o->nw * sizeof(float));
    o->b = nncw_malloc((size_t)k->m * sizeof(float));
    o->dy = nncw_malloc(o->ny * sizeof(float));
    struct nncw_rng r;
    nncw_rng_seed(&r, seed);
    fill_normal(o->x, o->nx, 0.3f, 1.0f, true, &r);
    fill_normal(o->w, o->nw, 0.0f, sqrtf(2.0f / (float)(k->c * k->k * k->k)), false, &r);
    fill_normal(o->b, (size_t)k->m, 0.0f, 0.1f, false, &r);
    fill_normal(o->dy, o->ny, 0.0f, 1e-3f, false, &r);
}

static void operands_free(struct operands *o)
{
    nncw_free(o->x);
    nncw_free(o->w);
    nncw_free(o->b);
    nncw_free(o->dy);
}

/* dx, dw, db of the direct convolution, in double */
static void backward_direct(const struct operands *o, double *dx, double *dw, double *db)
{
    const struct nncw_conv2d_geom *g = &o->g;
    memset(dx, 0, o->nx * sizeof *dx);
    memset(dw, 0, o->nw * sizeof *dw);
    memset(db, 0, (size_t)g->m * sizeof *db);
    for (int n = 0; n < g->n; n++)
        for (int m = 0; m < g->m; m++)
            for (int oh = 0; oh < g->oh; oh++)
                for (int ow = 0; ow < g->ow; ow++) {
                    double e = o->dy[(((size_t)n * g->m + m) * g->oh + oh) * g->ow + ow];
                    db[m] += e;
                    for (int c = 0; c < g->c; c++)
                        for (int ki = 0; ki < g->kh; ki++)
                            for (int kj = 0; kj < g->kw; kj++) {
                                int ih = oh * g->sh - g->pt + ki * g->dh;
                                int iw = ow * g->sw - g->pl + kj * g->dw;
                                if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w)
                                    continue;
                                size_t xi = (((size_t)n * g->c + c) * g->h + ih) * g->w + iw;
                                size_t wi = (((size_t)m * g->c + c) * g->kh + ki) * g->kw + kj;
                                dx[xi] += e * o->w[wi];
                                dw[wi] += e * o->x[xi];
                            }
                }
}

/* max |got - (base + want)| relative to max |want|, where the path accumulated into base */
static double rel_error(const float *got, const float *base, const double *want, size_t n)
{
    double err = 0, scale = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - ((double)base[i] + want[i]));
        err = d > err ? d : err;
        scale = fabs(want[i]) > scale ? fabs(want[i]) : scale;
    }
    return err / scale;
}

static float *copy_of(const float *v, size_t n)
{
    float *c = nncw_malloc(n * sizeof *c);
    memcpy(c, v, n * sizeof *c);
    return c;
}

/* rounding of sums of a few hundred float products, with room; a wrong tile or edge is >1e-2 */
static const double TOL = 2e-5;

static void check_backend(const struct path_case *k, const struct operands *o,
                          enum nncw_blas_backend be)
{
    const struct nncw_conv2d_geom *g = &o->g;
    nncw_blas_set_backend(be);
    float *scratch = nncw_malloc(nncw_kernel_conv2d_f32_scratch(g) * sizeof(float));
    float *y = nncw_malloc(o->ny * sizeof *y), *yref = nncw_malloc(o->ny * sizeof *yref);
    nncw_kernel_conv2d_f32_ref(g, o->x, o->w, o->b, yref);
    nncw_kernel_conv2d_f32(g, o->x, o->w, o->b, y, scratch);
    double ymax = 1e-30, yerr = 0;
    for (size_t i = 0; i < o->ny; i++) {
        ymax = fabs(yref[i]) > ymax ? fabs(yref[i]) : ymax;
        yerr = fabs(y[i] - yref[i]) > yerr ? fabs(y[i] - yref[i]) : yerr;
    }
    ck_assert_msg(yerr / ymax < TOL, "%s, backend %d: forward error %g of max %g", k->what,
                  (int)be, yerr, ymax);

    /* the gradients accumulate onto what is there */
    struct nncw_rng r;
    nncw_rng_seed(&r, 99);
    float *dx0 = nncw_malloc(o->nx * sizeof(float)), *dw0 = nncw_malloc(o->nw * sizeof(float));
    float *db0 = nncw_malloc((size_t)g->m * sizeof(float));
    fill_normal(dx0, o->nx, 0.0f, 1e-3f, false, &r);
    fill_normal(dw0, o->nw, 0.0f, 1e-3f, false, &r);
    fill_normal(db0, (size_t)g->m, 0.0f, 1e-3f, false, &r);
    float *dx = copy_of(dx0, o->nx), *dw = copy_of(dw0, o->nw), *db = copy_of(db0, (size_t)g->m);
    double *rdx = nncw_malloc(o->nx * sizeof *rdx), *rdw = nncw_malloc(o->nw * sizeof *rdw);
    double *rdb = nncw_malloc((size_t)g->m * sizeof *rdb);
    backward_direct(o, rdx, rdw, rdb);
    nncw_kernel_conv2d_backward_f32(g, o->x, o->w, o->dy, dx, dw, db, scratch);
    double ex = rel_error(dx, dx0, rdx, o->nx), ew = rel_error(dw, dw0, rdw, o->nw);
    double eb = rel_error(db, db0, rdb, (size_t)g->m);
    ck_assert_msg(ex < TOL && ew < TOL && eb < TOL,
                  "%s, backend %d: relative errors dx %g, dw %g, db %g", k->what, (int)be, ex, ew,
                  eb);
    /* the input gradient alone (the QAT case: dx for the input quantizer, no weight update) */
    memcpy(dx, dx0, o->nx * sizeof *dx);
    nncw_kernel_conv2d_backward_f32(g, o->x, o->w, o->dy, dx, NULL, NULL, scratch);
    ex = rel_error(dx, dx0, rdx, o->nx);
    ck_assert_msg(ex < TOL, "%s, backend %d: dx alone, relative error %g", k->what, (int)be, ex);
    nncw_free(dx0), nncw_free(dw0), nncw_free(db0);
    nncw_free(dx), nncw_free(dw), nncw_free(db);
    nncw_free(rdx), nncw_free(rdw), nncw_free(rdb);
    nncw_free(y), nncw_free(yref), nncw_free(scratch);
}

/* every backend (AUTO: Winograd / implicit GEMM where the CPU has AVX-512; OpenBLAS:
 * im2col + cblas_sgemm) against the direct loops */
START_TEST(test_conv_paths_match_direct)
{
    struct operands o;
    operands_make(&cases[_i], 100 + (uint64_t)_i, &o);
    check_backend(&cases[_i], &o, NNCW_BLAS_BACKEND_AUTO);
    check_backend(&cases[_i], &o, NNCW_BLAS_BACKEND_OPENBLAS);
    operands_free(&o);
}
END_TEST

/* the paths against each other, element by element: both within float rounding of the same
 * sums, so far closer to each other than either tolerance to the exact result allows for a
 * bug to hide */
START_TEST(test_conv_paths_agree)
{
    struct operands o;
    operands_make(&cases[_i], 200 + (uint64_t)_i, &o);
    const struct nncw_conv2d_geom *g = &o.g;
    float *y[2], *dx[2];
    for (int p = 0; p < 2; p++) {
        nncw_blas_set_backend(p ? NNCW_BLAS_BACKEND_OPENBLAS : NNCW_BLAS_BACKEND_AUTO);
        float *scratch = nncw_malloc(nncw_kernel_conv2d_f32_scratch(g) * sizeof(float));
        y[p] = nncw_malloc(o.ny * sizeof(float));
        dx[p] = nncw_calloc(o.nx, sizeof(float));
        nncw_kernel_conv2d_f32(g, o.x, o.w, o.b, y[p], scratch);
        nncw_kernel_conv2d_backward_f32(g, o.x, o.w, o.dy, dx[p], NULL, NULL, scratch);
        nncw_free(scratch);
    }
    double ymax = 1e-30, dmax = 1e-30;
    for (size_t i = 0; i < o.ny; i++)
        ymax = fabs(y[1][i]) > ymax ? fabs(y[1][i]) : ymax;
    for (size_t i = 0; i < o.nx; i++)
        dmax = fabs(dx[1][i]) > dmax ? fabs(dx[1][i]) : dmax;
    for (size_t i = 0; i < o.ny; i++)
        ck_assert_msg(fabs(y[0][i] - y[1][i]) <= TOL * ymax, "%s: y[%zu] %g vs %g",
                      cases[_i].what, i, y[0][i], y[1][i]);
    for (size_t i = 0; i < o.nx; i++)
        ck_assert_msg(fabs(dx[0][i] - dx[1][i]) <= TOL * dmax, "%s: dx[%zu] %g vs %g",
                      cases[_i].what, i, dx[0][i], dx[1][i]);
    for (int p = 0; p < 2; p++) {
        nncw_free(y[p]);
        nncw_free(dx[p]);
    }
    operands_free(&o);
}
END_TEST

static Suite *conv_paths_suite(void)
{
    Suite *s = suite_create("ops_conv_paths");
    TCase *tc = tcase_create("paths");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_conv_paths_match_direct, 0, (int)NNCW_ARRAY_LEN(cases));
    tcase_add_loop_test(tc, test_conv_paths_agree, 0, (int)NNCW_ARRAY_LEN(cases));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(conv_paths_suite());
}
