/* The integer GEMM kernels (engine/int8/igemm.h) against a naive convolution over unpacked
 * weights: every kernel this CPU can run, odd sizes, borders, strides, dilations, channel
 * padding, all three epilogues, weights that saturate vpmaddubsw, and the ISA choice. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/common.h"
#include "core/rng.h"
#include "int8/igemm.h"
#include "nncwt.h"
#include "ops/fake_quantize.h"

/* one convolution over NHWC u8 input with a border of zero-point bytes */
struct icase {
    int n, c, h, w, m, kh, kw, sh, sw, dh, dw, pad;
    int wlo, whi; /* weight range */
    int zp;       /* the border bytes */
    enum nncw_igemm_out mode;
    bool nchw_out; /* out_ch != 1 */
};

struct ibufs {
    int cp, hp, wp, oh, ow, b;
    uint8_t *x; /* [n][hp][wp][cp] */
    int8_t *wt; /* [m][c][kh][kw] */
    int64_t *tap;
    int32_t *corr;
    float *mul, *add;
};

static int64_t pixels(const struct ibufs *b, const struct icase *k)
{
    return (int64_t)k->n * b->oh * b->ow;
}

static void make(const struct icase *k, uint64_t seed, struct ibufs *b)
{
    struct nncw_rng r;
    nncw_rng_seed(&r, seed);
    b->b = k->pad;
    b->cp = (k->c + 3) / 4 * 4;
    b->hp = k->h + 2 * b->b;
    b->wp = k->w + 2 * b->b;
    b->oh = (k->h + 2 * k->pad - (k->kh - 1) * k->dh - 1) / k->sh + 1;
    b->ow = (k->w + 2 * k->pad - (k->kw - 1) * k->dw - 1) / k->sw + 1;
    size_t xs = (size_t)k->n * b->hp * b->wp * b->cp;
    b->x = malloc(xs);
    for (size_t i = 0; i < xs; i++)
        b->x[i] = (uint8_t)k->zp;
    for (int i = 0; i < k->n; i++)
        for (int y = 0; y < k->h; y++)
            for (int x = 0; x < k->w; x++)
                for (int ch = 0; ch < b->cp; ch++) {
                    /* extremes often; channel padding holds garbage the zero weights ignore */
                    uint32_t u = nncw_rng_below(&r, 8);
                    uint8_t v = u == 0 ? 255 : u == 1 ? 0 : (uint8_t)nncw_rng_below(&r, 256);
                    b->x[(((size_t)i * b->hp + y + b->b) * b->wp + x + b->b) * b->cp + ch] = v;
                }
    int wn = k->m * k->c * k->kh * k->kw;
    b->wt = malloc((size_t)wn);
    for (int i = 0; i < wn; i++) {
        uint32_t u = nncw_rng_below(&r, 6);
        int span = k->whi - k->wlo + 1;
        b->wt[i] = (int8_t)(u == 0   ? k->wlo
                            : u == 1 ? k->whi
                                     : k->wlo + (int)nncw_rng_below(&r, span));
    }
    b->tap = malloc(sizeof *b->tap * (size_t)k->kh * k->kw);
    for (int i = 0; i < k->kh; i++)
        for (int j = 0; j < k->kw; j++)
            b->tap[i * k->kw + j] = ((int64_t)i * k->dh * b->wp + (int64_t)j * k->dw) * b->cp;
    int mp = (k->m + 15) / 16 * 16;
    b->corr = calloc((size_t)mp, sizeof *b->corr);
    b->mul = calloc((size_t)mp, sizeof *b->mul);
    b->add = calloc((size_t)mp, sizeof *b->add);
    for (int i = 0; i < k->m; i++) {
        b->corr[i] = (int32_t)nncw_rng_below(&r, 2001) - 1000;
        b->mul[i] = 1e-4f * (1.0f + nncw_rng_uniform(&r));
        b->add[i] = 100.0f * nncw_rng_uniform(&r) - 20.0f;
    }
}

static void drop(struct ibufs *b)
{
    free(b->x);
    free(b->wt);
    free(b->tap);
    free(b->corr);
    free(b->mul);
    free(b->add);
}

/* the convolution in int64 from unpacked weights, before the epilogue */
static int64_t naive(const struct icase *k, const struct ibufs *b, int64_t p, int m)
{
    int64_t plane = (int64_t)b->oh * b->ow;
    int64_t i = p / plane;
    int y = (int)(p % plane / b->ow), x = (int)(p % b->ow);
    int64_t acc = 0;
    for (int ch = 0; ch < k->c; ch++)
        for (int ki = 0; ki < k->kh; ki++)
            for (int kj = 0; kj < k->kw; kj++) {
                int iy = y * k->sh + ki * k->dh, ix = x * k->sw + kj * k->dw; /* padded coords */
                uint8_t v = b->x[((i * b->hp + iy) * b->wp + ix) * b->cp + ch];
                acc += (int64_t)v * b->wt[((m * k->c + ch) * k->kh + ki) * k->kw + kj];
            }
    return acc;
}

static void geom(const struct icase *k, const struct ibufs *b, void *out, struct nncw_igemm_geom *g)
{
    *g = (struct nncw_igemm_geom){.n = k->n,
                                  .oh = b->oh,
                                  .ow = b->ow,
                                  .in = b->x,
                                  .in_img = (int64_t)b->hp * b->wp * b->cp,
                                  .in_row = (int64_t)k->sh * b->wp * b->cp,
                                  .in_pix = (int64_t)k->sw * b->cp,
                                  .taps = k->kh * k->kw,
                                  .tap_off = b->tap,
                                  .out = out};
    if (k->nchw_out) { /* [n][m][oh][ow] */
        g->out_img = (int64_t)k->m * b->oh * b->ow;
        g->out_row = b->ow;
        g->out_pix = 1;
        g->out_ch = (int64_t)b->oh * b->ow;
    } else { /* [n][oh][ow][m] */
        g->out_img = (int64_t)b->oh * b->ow * k->m;
        g->out_row = (int64_t)b->ow * k->m;
        g->out_pix = k->m;
        g->out_ch = 1;
    }
}

static int64_t out_index(const struct icase *k, const struct ibufs *b, int64_t p, int m)
{
    int64_t plane = (int64_t)b->oh * b->ow;
    return k->nchw_out ? (p / plane * k->m + m) * plane + p % plane : p * k->m + m;
}

static const struct {
    enum nncw_int8_isa isa;
    nncw_igemm_chunk_fn fn;
    const char *name;
} kernels[] = {
    {NNCW_INT8_ISA_C, nncw_kernel_igemm_u8s8_ref, "ref"},
    {NNCW_INT8_ISA_C, nncw_kernel_igemm_u8s8_c, "c"},
#if defined(__x86_64__)
    {NNCW_INT8_ISA_AVX2, nncw_kernel_igemm_u8s8_avx2, "avx2"},
    {NNCW_INT8_ISA_AVX512_VNNI, nncw_kernel_igemm_u8s8_vnni, "avx512_vnni"},
#endif
};

/* runs every supported kernel on the case and compares each output with the naive one */
static void check_case(const struct icase *k, uint64_t seed)
{
    struct ibufs b;
    make(k, seed, &b);
    struct nncw_igemm_weights w;
    nncwt_assert_status(nncw_igemm_weights_pack(&w, k->m, k->c, k->kh * k->kw, b.wt,
                                                (int64_t)k->c * k->kh * k->kw, k->kh * k->kw, 1),
                        NNCW_OK);
    struct nncw_igemm_epi e = {.mode = k->mode,
                               .corr = b.corr,
                               .mul = b.mul,
                               .add = b.add,
                               .lo = 0.5f,
                               .hi = 60.0f,
                               .qmin = 3,
                               .qmax = 250};
    int64_t np = pixels(&b, k), outn = np * k->m;
    size_t esz = k->mode == NNCW_IGEMM_OUT_U8 ? 1 : 4;
    void *out = malloc((size_t)outn * esz);
    int64_t *want = malloc(sizeof *want * (size_t)outn);
    for (int64_t p = 0; p < np; p++)
        for (int m = 0; m < k->m; m++)
            want[p * k->m + m] = naive(k, &b, p, m);
    /* with unpadded channels and no width dilation, a kernel row is one run of taps */
    int64_t rows_off[16];
    bool can_merge = k->c % 4 == 0 && k->dw == 1 && k->kh <= 16;
    for (int i = 0; can_merge && i < k->kh; i++)
        rows_off[i] = b.tap[i * k->kw];
    for (size_t kk = 0; kk < 2 * NNCW_ARRAY_LEN(kernels); kk++) {
        bool merged = kk >= NNCW_ARRAY_LEN(kernels);
        if (!nncw_int8_isa_supported(kernels[kk % NNCW_ARRAY_LEN(kernels)].isa) ||
            (merged && !can_merge))
            continue;
        memset(out, 0xA5, (size_t)outn * esz);
        struct nncw_igemm_geom g;
        geom(k, &b, out, &g);
        if (merged) {
            g.taps = k->kh;
            g.tap_off = rows_off;
            g.tap_dwords = k->kw * k->c / 4;
        }
        /* two ranges, as two threads would split them */
        int64_t mid = np / 3;
        nncw_igemm_chunk_fn fn = kernels[kk % NNCW_ARRAY_LEN(kernels)].fn;
        const char *name = kernels[kk % NNCW_ARRAY_LEN(kernels)].name;
        nncw_igemm_run(fn, &w, &g, &e, 0, mid);
        nncw_igemm_run(fn, &w, &g, &e, mid, np);
        for (int64_t p = 0; p < np; p++)
            for (int m = 0; m < k->m; m++) {
                int64_t acc = want[p * k->m + m], idx = out_index(k, &b, p, m);
                int32_t v = (int32_t)(acc - b.corr[m]);
                float f = b.mul[m] * (float)v + b.add[m];
                if (k->mode == NNCW_IGEMM_OUT_S32) {
                    ck_assert_msg(((int32_t *)out)[idx] == v,
                                  "%s: pixel %lld channel %d: %d, expected %d", name, (long long)p,
                                  m, ((int32_t *)out)[idx], v);
                } else if (k->mode == NNCW_IGEMM_OUT_F32) {
                    f = fminf(fmaxf(f, e.lo), e.hi);
                    float got = ((float *)out)[idx];
                    ck_assert_msg(fabsf(got - f) <= 1e-5f * fabsf(f) + 1e-6f,
                                  "%s: pixel %lld channel %d: %g, expected %g", name, (long long)p,
                                  m, (double)got, (double)f);
                } else {
                    /* fused or separate multiply-add may round a tie differently: one code */
                    f = fminf(fmaxf(f, (float)e.qmin), (float)e.qmax);
                    int code = (int)nncw_round_even(f), got = ((uint8_t *)out)[idx];
                    ck_assert_msg(abs(got - code) <= 1 && fabsf((float)got - f) <= 0.5001f,
                                  "%s: pixel %lld channel %d: %d, expected %d (%g)", name,
                                  (long long)p, m, got, code, (double)f);
                }
            }
    }
    free(out);
    free(want);
    nncw_igemm_weights_fini(&w);
    drop(&b);
}

START_TEST(test_int8_gemm_matches_naive_as_gemm)
{
    /* a Gemm is a 1x1 convolution over a 1x1 plane: odd K, M and row counts */
    static const int dims[][3] = {{1, 1, 1}, {7, 5, 3}, {13, 37, 70}, {200, 64, 64}, {9, 20, 129}};
    for (size_t i = 0; i < NNCW_ARRAY_LEN(dims); i++) {
        struct icase k = {.n = dims[i][0],
                          .c = dims[i][1],
                          .h = 1,
                          .w = 1,
                          .m = dims[i][2],
                          .kh = 1,
                          .kw = 1,
                          .sh = 1,
                          .sw = 1,
                          .dh = 1,
                          .dw = 1,
                          .wlo = -128,
                          .whi = 127,
                          .mode = NNCW_IGEMM_OUT_S32};
        check_case(&k, 10 + i);
    }
}
END_TEST

START_TEST(test_int8_gemm_matches_naive_as_conv)
{
    static const struct icase cases[] = {
        /* ResNet-like 3x3 pad 1, stride 1 and 2; 64 + 16 channels hit both VNNI tiles */
        {.n = 2,
         .c = 8,
         .h = 7,
         .w = 9,
         .m = 80,
         .kh = 3,
         .kw = 3,
         .sh = 1,
         .sw = 1,
         .dh = 1,
         .dw = 1,
         .pad = 1,
         .wlo = -128,
         .whi = 127,
         .zp = 128},
        {.n = 3,
         .c = 16,
         .h = 8,
         .w = 8,
         .m = 64,
         .kh = 3,
         .kw = 3,
         .sh = 2,
         .sw = 2,
         .dh = 1,
         .dw = 1,
         .pad = 1,
         .wlo = -64,
         .whi = 63,
         .zp = 0},
        /* RGB stem (3 channels padded to 4), odd output channels, dilation, 1x1 stride 2 */
        {.n = 2,
         .c = 3,
         .h = 11,
         .w = 10,
         .m = 21,
         .kh = 3,
         .kw = 3,
         .sh = 1,
         .sw = 1,
         .dh = 2,
         .dw = 2,
         .pad = 2,
         .wlo = -128,
         .whi = 127,
         .zp = 37},
        {.n = 1,
         .c = 5,
         .h = 9,
         .w = 9,
         .m = 130,
         .kh = 1,
         .kw = 1,
         .sh = 2,
         .sw = 2,
         .dh = 1,
         .dw = 1,
         .pad = 0,
         .wlo = -8,
         .whi = 7,
         .zp = 0},
        /* rectangular kernel, more pixels than one chunk */
        {.n = 4,
         .c = 4,
         .h = 14,
         .w = 13,
         .m = 17,
         .kh = 2,
         .kw = 3,
         .sh = 1,
         .sw = 1,
         .dh = 1,
         .dw = 1,
         .pad = 1,
         .wlo = -128,
         .whi = 127,
         .zp = 5},
    };
    for (size_t i = 0; i < NNCW_ARRAY_LEN(cases); i++) {
        struct icase k = cases[i];
        check_case(&k, 100 + i);
        k.nchw_out = true;
        check_case(&k, 200 + i);
    }
}
END_TEST

START_TEST(test_int8_gemm_epilogues)
{
    struct icase k = {.n = 2,
                      .c = 12,
                      .h = 6,
                      .w = 5,
                      .m = 70,
                      .kh = 3,
                      .kw = 3,
                      .sh = 1,
                      .sw = 1,
                      .dh = 1,
                      .dw = 1,
                      .pad = 1,
                      .wlo = -128,
                      .whi = 127,
                      .zp = 128};
    for (int mode = NNCW_IGEMM_OUT_S32; mode < NNCW_IGEMM_OUT_COUNT; mode++) {
        k.mode = (enum nncw_igemm_out)mode;
        k.nchw_out = false;
        check_case(&k, 300 + (uint64_t)mode);
        if (k.mode != NNCW_IGEMM_OUT_U8) {
            k.nchw_out = true;
            check_case(&k, 400 + (uint64_t)mode);
        }
    }
}
END_TEST

START_TEST(test_int8_gemm_saturating_pairs_stay_exact)
{
    /* every weight -128 and every activation 255: one vpmaddubsw pair would give -65280 */
    int8_t wt[2 * 8];
    memset(wt, -128, sizeof wt);
    struct nncw_igemm_weights w;
    nncwt_assert_status(nncw_igemm_weights_pack(&w, 2, 8, 1, wt, 8, 1, 0), NNCW_OK);
    ck_assert(!w.s16_safe);
    uint8_t x[8];
    memset(x, 255, sizeof x);
    int64_t tap = 0;
    int32_t corr[16] = {0}, out[2];
    struct nncw_igemm_epi e = {.mode = NNCW_IGEMM_OUT_S32, .corr = corr};
    struct nncw_igemm_geom g = {.n = 1,
                                .oh = 1,
                                .ow = 1,
                                .in = x,
                                .in_img = 8,
                                .taps = 1,
                                .tap_off = &tap,
                                .out = out,
                                .out_img = 2,
                                .out_ch = 1};
    for (size_t kk = 0; kk < NNCW_ARRAY_LEN(kernels); kk++) {
        if (!nncw_int8_isa_supported(kernels[kk].isa))
            continue;
        out[0] = out[1] = 0;
        nncw_igemm_run(kernels[kk].fn, &w, &g, &e, 0, 1);
        ck_assert_int_eq(out[0], 8 * 255 * -128);
        ck_assert_int_eq(out[1], 8 * 255 * -128);
    }
    nncw_igemm_weights_fini(&w);
    /* 7-bit weights never saturate: the fast path is allowed */
    memset(wt, -64, sizeof wt);
    nncwt_assert_status(nncw_igemm_weights_pack(&w, 2, 8, 1, wt, 8, 1, 0), NNCW_OK);
    ck_assert(w.s16_safe);
    nncw_igemm_weights_fini(&w);
}
END_TEST

START_TEST(test_int8_gemm_weight_sums)
{
    int8_t wt[3 * 5] = {1, 2, 3, 4, 5, -1, -2, -3, -4, -5, 127, -128, 0, 0, 1};
    struct nncw_igemm_weights w;
    nncwt_assert_status(nncw_igemm_weights_pack(&w, 3, 5, 1, wt, 5, 1, 0), NNCW_OK);
    ck_assert_int_eq(w.blocks, 1);
    ck_assert_int_eq(w.kc4, 2);
    ck_assert_int_eq(w.sum[0], 15);
    ck_assert_int_eq(w.sum[1], -15);
    ck_assert_int_eq(w.sum[2], 0);
    ck_assert_int_eq(w.sum[3], 0); /* padding channels */
    nncw_igemm_weights_fini(&w);
}
END_TEST

START_TEST(test_int8_gemm_pack_errors)
{
    int8_t wt[4] = {0};
    struct nncw_igemm_weights w;
    nncwt_assert_status(nncw_igemm_weights_pack(&w, 0, 4, 1, wt, 4, 1, 0), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_null(w.data);
    nncwt_assert_status(nncw_igemm_weights_pack(&w, 1, 1 << 20, 64, wt, 0, 0, 0),
                        NNCW_ERR_INVALID_ARG);
    ck_assert(strstr(nncw_last_error(), "overflow") != NULL);
    nncw_alloc_fail_after(1);
    nncwt_assert_status(nncw_igemm_weights_pack(&w, 1, 4, 1, wt, 4, 1, 0), NNCW_ERR_NOMEM);
    nncw_alloc_fail_after(0);
    ck_assert_ptr_null(w.data);
}
END_TEST

START_TEST(test_int8_isa_choice)
{
    enum nncw_int8_isa isa;
    unsetenv("NNCW_INT8_ISA");
    nncwt_assert_status(nncw_int8_isa_resolve(NNCW_INT8_ISA_AUTO, &isa), NNCW_OK);
    ck_assert(isa != NNCW_INT8_ISA_AUTO && nncw_int8_isa_supported(isa));
    setenv("NNCW_INT8_ISA", "c", 1);
    nncwt_assert_status(nncw_int8_isa_resolve(NNCW_INT8_ISA_AUTO, &isa), NNCW_OK);
    ck_assert_int_eq(isa, NNCW_INT8_ISA_C);
    /* an explicit request wins over the variable */
    nncwt_assert_status(nncw_int8_isa_resolve(NNCW_INT8_ISA_C, &isa), NNCW_OK);
    setenv("NNCW_INT8_ISA", "sse9", 1);
    nncwt_assert_status(nncw_int8_isa_resolve(NNCW_INT8_ISA_AUTO, &isa), NNCW_ERR_INVALID_ARG);
    ck_assert(strstr(nncw_last_error(), "sse9") != NULL);
    unsetenv("NNCW_INT8_ISA");
    nncwt_assert_status(nncw_int8_isa_resolve((enum nncw_int8_isa)99, &isa), NNCW_ERR_INVALID_ARG);
    ck_assert_str_eq(nncw_int8_isa_name(NNCW_INT8_ISA_AVX512_VNNI), "avx512_vnni");
    ck_assert_str_eq(nncw_int8_isa_name((enum nncw_int8_isa)99), "?");
    ck_assert(nncw_int8_isa_supported(NNCW_INT8_ISA_C));
    ck_assert(!nncw_int8_isa_supported(NNCW_INT8_ISA_COUNT));
    for (int i = NNCW_INT8_ISA_C; i < NNCW_INT8_ISA_COUNT; i++)
        if (!nncw_int8_isa_supported((enum nncw_int8_isa)i))
            nncwt_assert_status(nncw_int8_isa_resolve((enum nncw_int8_isa)i, &isa),
                                NNCW_ERR_UNSUPPORTED);
}
END_TEST

static Suite *int8_gemm_suite(void)
{
    Suite *s = suite_create("int8_gemm");
    TCase *tc = tcase_create("kernels");
    tcase_add_test(tc, test_int8_gemm_matches_naive_as_gemm);
    tcase_add_test(tc, test_int8_gemm_matches_naive_as_conv);
    tcase_add_test(tc, test_int8_gemm_epilogues);
    tcase_add_test(tc, test_int8_gemm_saturating_pairs_stay_exact);
    tcase_add_test(tc, test_int8_gemm_weight_sums);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_int8_gemm_pack_errors);
    tcase_add_test(tc, test_int8_isa_choice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(int8_gemm_suite());
}
