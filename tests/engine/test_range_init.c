/* Range initialisation statistics and quantizer parameters, against hand-computed values. */
#include <math.h>
#include <string.h>

#include "compression/quantization/range_init.h"
#include "core/rng.h"
#include "nncwt.h"

static struct nncw_range_collector *collector(enum nncw_range_init t, int axis, int64_t channels,
                                              bool is_weight, bool asymmetric, float pmin,
                                              float pmax)
{
    struct nncw_range_params p = {.type = t, .min_percentile = pmin, .max_percentile = pmax};
    struct nncw_range_collector *c = NULL;
    nncwt_assert_status(nncw_range_collector_new(&p, axis, channels, is_weight, asymmetric, &c),
                        NNCW_OK);
    return c;
}

static void add_values(struct nncw_range_collector *c, int ndim, const int64_t *shape,
                       const float *v)
{
    struct nncw_tensor t;
    nncwt_tensor_from(&t, ndim, shape, v);
    nncwt_assert_status(nncw_range_collector_add(c, &t), NNCW_OK);
    nncw_tensor_fini(&t);
}

static void expect_range(const struct nncw_range_collector *c, int n, const float *lo,
                         const float *hi)
{
    float l[8], h[8];
    nncwt_assert_status(nncw_range_collector_result(c, l, h), NNCW_OK);
    for (int k = 0; k < n; k++) {
        ck_assert_msg(fabsf(l[k] - lo[k]) < 1e-5f && fabsf(h[k] - hi[k]) < 1e-5f,
                      "channel %d: [%g, %g], expected [%g, %g]", k, (double)l[k], (double)h[k],
                      (double)lo[k], (double)hi[k]);
    }
}

static const float batch1[] = {1, 2, 3, -1}, batch2[] = {5, -4, 0, 2};

START_TEST(test_min_max_and_mean_min_max_per_tensor)
{
    struct nncw_range_collector *c = collector(NNCW_RANGE_MIN_MAX, -1, 0, false, false, 0, 100);
    add_values(c, 2, (int64_t[]){2, 2}, batch1);
    add_values(c, 1, (int64_t[]){4}, batch2);
    ck_assert_int_eq(nncw_range_collector_count(c), 2);
    expect_range(c, 1, (float[]){-4}, (float[]){5});
    nncw_range_collector_free(c);
    c = collector(NNCW_RANGE_MEAN_MIN_MAX, -1, 0, false, false, 0, 100);
    add_values(c, 2, (int64_t[]){2, 2}, batch1);
    add_values(c, 1, (int64_t[]){4}, batch2);
    expect_range(c, 1, (float[]){-2.5f}, (float[]){4}); /* mins -1, -4; maxes 3, 5 */
    nncw_range_collector_free(c);
}
END_TEST

START_TEST(test_per_channel_axis1)
{
    /* [2, 3, 2]: channel k holds x[n, k, :] */
    const float b1[] = {1, 2, /**/ -3, 4, /**/ 0, 0, /* sample 2 */ 5, -6, /**/ 7, 8, /**/ 1, 1};
    const float b2[] = {0, 0, /**/ 0, 0, /**/ 9, -9, /**/ 0, 0, /**/ 0, 0, /**/ 2, 2};
    struct nncw_range_collector *c = collector(NNCW_RANGE_MIN_MAX, 1, 3, false, false, 0, 100);
    add_values(c, 3, (int64_t[]){2, 3, 2}, b1);
    add_values(c, 3, (int64_t[]){2, 3, 2}, b2);
    expect_range(c, 3, (float[]){-6, -3, -9}, (float[]){5, 8, 9});
    nncw_range_collector_free(c);
    c = collector(NNCW_RANGE_MEAN_MIN_MAX, 1, 3, false, false, 0, 100);
    add_values(c, 3, (int64_t[]){2, 3, 2}, b1);
    add_values(c, 3, (int64_t[]){2, 3, 2}, b2);
    /* channel 0: batch mins -6, 0; maxes 5, 0. channel 1: -3, 0 / 8, 0. channel 2: 0, -9 / 1, 9 */
    expect_range(c, 3, (float[]){-3, -1.5f, -4.5f}, (float[]){2.5f, 4, 5});
    nncw_range_collector_free(c);
    /* weights [M, C, k]: axis 0 */
    c = collector(NNCW_RANGE_MIN_MAX, 0, 2, true, false, 0, 100);
    add_values(c, 3, (int64_t[]){2, 3, 2}, b1);
    expect_range(c, 2, (float[]){-3, -6}, (float[]){4, 8});
    nncw_range_collector_free(c);
}
END_TEST

/* 1..101 in a scrambled order */
static void ramp(float *v, int n, int mult)
{
    for (int i = 0; i < n; i++)
        v[i] = (float)(1 + (i * mult) % n);
}

START_TEST(test_percentile_whole_history)
{
    float v[101];
    ramp(v, 101, 37);
    struct nncw_range_collector *c =
        collector(NNCW_RANGE_PERCENTILE, -1, 0, false, false, 10, 99.9f);
    add_values(c, 1, (int64_t[]){60}, v);
    add_values(c, 1, (int64_t[]){41}, v + 60);
    /* numpy: position p/100 * 100: 10 -> 11; 99.9 -> 100 + 0.9 * (101 - 100) */
    expect_range(c, 1, (float[]){11}, (float[]){100.9f});
    nncw_range_collector_free(c);
    /* percentiles 0 and 100 are the min and the max */
    c = collector(NNCW_RANGE_PERCENTILE, -1, 0, false, false, 0, 100);
    add_values(c, 1, (int64_t[]){101}, v);
    expect_range(c, 1, (float[]){1}, (float[]){101});
    nncw_range_collector_free(c);
}
END_TEST

START_TEST(test_mean_percentile)
{
    float a[11], b[11];
    for (int i = 0; i < 11; i++) {
        a[(i * 4) % 11] = (float)i;         /* 0..10 */
        b[(i * 3) % 11] = 10.0f + 2.0f * i; /* 10, 12, ..., 30 */
    }
    struct nncw_range_collector *c =
        collector(NNCW_RANGE_MEAN_PERCENTILE, -1, 0, false, false, 10, 90);
    add_values(c, 1, (int64_t[]){11}, a);
    add_values(c, 1, (int64_t[]){11}, b);
    /* a: 1 and 9; b: 12 and 28 */
    expect_range(c, 1, (float[]){6.5f}, (float[]){18.5f});
    nncw_range_collector_free(c);
    /* per channel, with interpolation: channel 0 = {0, 1, 2, 3}, 25% -> 0.75, 75% -> 2.25 */
    c = collector(NNCW_RANGE_MEAN_PERCENTILE, 1, 2, false, false, 25, 75);
    add_values(c, 2, (int64_t[]){4, 2}, (float[]){3, 10, 1, 10, 0, 10, 2, 10});
    expect_range(c, 2, (float[]){0.75f, 10}, (float[]){2.25f, 10});
    nncw_range_collector_free(c);
}
END_TEST

START_TEST(test_threesigma)
{
    /* zeros discarded: {1, 2, 3, 4, 100}: median 3, deviations {2, 1, 0, 1, 97}: MAD 1 */
    struct nncw_range_collector *c = collector(NNCW_RANGE_THREESIGMA, -1, 0, false, false, 0, 0);
    add_values(c, 1, (int64_t[]){4}, (float[]){0, 4, 1, 0});
    add_values(c, 1, (int64_t[]){3}, (float[]){100, 3, 2});
    float k = 3.0f * 1.4826f;
    expect_range(c, 1, (float[]){3 - k}, (float[]){3 + k});
    nncw_range_collector_free(c);
    /* per channel; channel 1 only zeros -> [0, 0]; channel 0 {-1, 1, 2, 6}: median 1.5,
     * deviations {2.5, 0.5, 0.5, 4.5}: MAD 1.5 */
    c = collector(NNCW_RANGE_THREESIGMA, 1, 2, false, false, 0, 0);
    add_values(c, 2, (int64_t[]){4, 2}, (float[]){-1, 0, 1, 0, 2, 0, 6, 0});
    expect_range(c, 2, (float[]){1.5f - 1.5f * k, 0}, (float[]){1.5f + 1.5f * k, 0});
    nncw_range_collector_free(c);
}
END_TEST

START_TEST(test_mixed_min_max)
{
    const float b1[] = {1, -2, 3, /**/ 0.5f, 0.2f, -1};
    const float b2[] = {4, 0, 0, /**/ 2, 1, -5};
    const int64_t shape[] = {2, 3};
    /* per-tensor symmetric activations: global min, mean of the samples' maxes (3, .5, 4, 2) */
    struct nncw_range_collector *c = collector(NNCW_RANGE_MIXED_MIN_MAX, -1, 0, false, false, 0, 0);
    add_values(c, 2, shape, b1);
    add_values(c, 2, shape, b2);
    expect_range(c, 1, (float[]){-5}, (float[]){2.375f});
    nncw_range_collector_free(c);
    /* asymmetric: the mean of the batches' mins (-2, -5) */
    c = collector(NNCW_RANGE_MIXED_MIN_MAX, -1, 0, false, true, 0, 0);
    add_values(c, 2, shape, b1);
    add_values(c, 2, shape, b2);
    expect_range(c, 1, (float[]){-3.5f}, (float[]){2.375f});
    nncw_range_collector_free(c);
    /* weights and per-channel activations: global min and max */
    c = collector(NNCW_RANGE_MIXED_MIN_MAX, -1, 0, true, true, 0, 0);
    add_values(c, 2, shape, b1);
    add_values(c, 2, shape, b2);
    expect_range(c, 1, (float[]){-5}, (float[]){4});
    nncw_range_collector_free(c);
    c = collector(NNCW_RANGE_MIXED_MIN_MAX, 1, 3, false, true, 0, 0);
    add_values(c, 2, shape, b1);
    add_values(c, 2, shape, b2);
    expect_range(c, 3, (float[]){0.5f, -2, -5}, (float[]){4, 1, 3});
    nncw_range_collector_free(c);
}
END_TEST

START_TEST(test_nonfinite_values_are_ignored)
{
    struct nncw_range_collector *c = collector(NNCW_RANGE_MIN_MAX, -1, 0, false, false, 0, 0);
    add_values(c, 1, (int64_t[]){4}, (float[]){NAN, 2, INFINITY, -1});
    expect_range(c, 1, (float[]){-1}, (float[]){2});
    nncw_range_collector_free(c);
}
END_TEST

START_TEST(test_reservoir_beyond_the_cap)
{
    /* 3 x 200000 uniform values: more than NNCW_RANGE_MAX_SAMPLES are kept as a sample */
    enum { N = 200000 };
    struct nncw_tensor t;
    struct nncw_range_collector *c[2];
    for (int k = 0; k < 2; k++)
        c[k] = collector(NNCW_RANGE_PERCENTILE, -1, 0, false, false, 10, 90);
    for (int b = 0; b < 3; b++) {
        nncwt_tensor_rand(&t, 1, (int64_t[]){N}, 0, 1, 100 + (uint64_t)b);
        for (int k = 0; k < 2; k++)
            nncwt_assert_status(nncw_range_collector_add(c[k], &t), NNCW_OK);
        nncw_tensor_fini(&t);
    }
    float lo[2], hi[2];
    for (int k = 0; k < 2; k++)
        nncwt_assert_status(nncw_range_collector_result(c[k], &lo[k], &hi[k]), NNCW_OK);
    ck_assert_msg(fabsf(lo[0] - 0.1f) < 0.005f && fabsf(hi[0] - 0.9f) < 0.005f,
                  "10th/90th percentiles of U(0,1): %g %g", (double)lo[0], (double)hi[0]);
    ck_assert(lo[0] == lo[1] && hi[0] == hi[1]); /* the sample is seeded: reproducible */
    for (int k = 0; k < 2; k++)
        nncw_range_collector_free(c[k]);
}
END_TEST

/* ---- parameters ---- */

START_TEST(test_symmetric_params)
{
    struct nncw_quantizer_init q = {.signedness = -1};
    float scale[2];
    bool is_signed;
    nncwt_assert_status(nncw_quantizer_params_from_range(&q, 2, (float[]){-0.5f, 0.01f},
                                                         (float[]){2, 0.05f}, scale, NULL,
                                                         &is_signed),
                        NNCW_OK);
    ck_assert(is_signed);
    ck_assert_float_eq(scale[0], 2.0f);
    ck_assert_float_eq(scale[1], 0.1f); /* the floor */
    nncwt_assert_status(nncw_quantizer_params_from_range(&q, 1, (float[]){0}, (float[]){3}, scale,
                                                         NULL, &is_signed),
                        NNCW_OK);
    ck_assert(!is_signed);
    q.signedness = 1; /* forced */
    q.logarithm_scale = true;
    nncwt_assert_status(nncw_quantizer_params_from_range(&q, 1, (float[]){0}, (float[]){3}, scale,
                                                         NULL, &is_signed),
                        NNCW_OK);
    ck_assert(is_signed);
    ck_assert_float_eq_tol(scale[0], logf(3.0f), 1e-7f);
    q.signedness = 0;
    q.logarithm_scale = false;
    nncwt_assert_status(nncw_quantizer_params_from_range(&q, 1, (float[]){-4}, (float[]){3}, scale,
                                                         NULL, &is_signed),
                        NNCW_OK);
    ck_assert(!is_signed);
    ck_assert_float_eq(scale[0], 4.0f);
}
END_TEST

START_TEST(test_asymmetric_params)
{
    struct nncw_quantizer_init q = {.asymmetric = true, .signedness = -1};
    float low[3], range[3];
    bool is_signed = true;
    /* widest range 4: each at least 0.04, widened equally on both sides */
    nncwt_assert_status(nncw_quantizer_params_from_range(&q, 3, (float[]){0, -1, 2},
                                                         (float[]){0.001f, 3, 2}, low, range,
                                                         &is_signed),
                        NNCW_OK);
    ck_assert(!is_signed);
    ck_assert_float_eq_tol(low[0], -0.0195f, 1e-6f);
    ck_assert_float_eq_tol(range[0], 0.04f, 1e-6f);
    ck_assert_float_eq(low[1], -1.0f);
    ck_assert_float_eq(range[1], 4.0f);
    ck_assert_float_eq_tol(low[2], 1.98f, 1e-6f);
    ck_assert_float_eq_tol(range[2], 0.04f, 1e-6f);
    /* all empty: 0.1 */
    nncwt_assert_status(
        nncw_quantizer_params_from_range(&q, 1, (float[]){1}, (float[]){1}, low, range, &is_signed),
        NNCW_OK);
    ck_assert_float_eq_tol(low[0], 0.95f, 1e-6f);
    ck_assert_float_eq_tol(range[0], 0.1f, 1e-6f);
    q.logarithm_scale = true;
    nncwt_assert_status(nncw_quantizer_params_from_range(&q, 1, (float[]){-1}, (float[]){1}, low,
                                                         range, &is_signed),
                        NNCW_OK);
    ck_assert_float_eq_tol(range[0], logf(2.0f), 1e-7f);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_parse_names)
{
    enum nncw_range_init t;
    const char *names[] = {"min_max",    "mean_min_max",    "threesigma",
                           "percentile", "mean_percentile", "mixed_min_max"};
    for (int i = 0; i < 6; i++) {
        nncwt_assert_status(nncw_range_init_parse(names[i], &t), NNCW_OK);
        ck_assert_int_eq(t, i);
        ck_assert_str_eq(nncw_range_init_name(t), names[i]);
    }
    nncwt_assert_status(nncw_range_init_parse("three_sigma", &t), NNCW_ERR_PARSE);
    ck_assert(strstr(nncw_last_error(), "'three_sigma'"));
    ck_assert(strstr(nncw_last_error(), "mixed_min_max"));
}
END_TEST

START_TEST(test_collector_errors)
{
    struct nncw_range_collector *c = NULL;
    struct nncw_range_params p = {
        .type = NNCW_RANGE_PERCENTILE, .min_percentile = 99, .max_percentile = 1};
    nncwt_assert_status(nncw_range_collector_new(&p, -1, 1, false, false, &c),
                        NNCW_ERR_INVALID_ARG);
    ck_assert(strstr(nncw_last_error(), "percentiles 99 and 1"));
    p.max_percentile = 101;
    nncwt_assert_status(nncw_range_collector_new(&p, -1, 1, false, false, &c),
                        NNCW_ERR_INVALID_ARG);
    p.type = NNCW_RANGE_INIT_COUNT;
    nncwt_assert_status(nncw_range_collector_new(&p, -1, 1, false, false, &c),
                        NNCW_ERR_INVALID_ARG);
    p.type = NNCW_RANGE_MIN_MAX;
    nncwt_assert_status(nncw_range_collector_new(&p, 1, 0, false, false, &c), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_null(c);

    c = collector(NNCW_RANGE_MIN_MAX, 1, 3, false, false, 0, 0);
    float lo[3], hi[3];
    nncwt_assert_status(nncw_range_collector_result(c, lo, hi), NNCW_ERR_INVALID_ARG);
    ck_assert(strstr(nncw_last_error(), "no finite value"));
    struct nncw_tensor t;
    nncwt_tensor_rand(&t, 2, (int64_t[]){2, 4}, -1, 1, 1);
    nncwt_assert_status(nncw_range_collector_add(c, &t), NNCW_ERR_SHAPE);
    ck_assert(strstr(nncw_last_error(), "[2, 4]"));
    ck_assert(strstr(nncw_last_error(), "axis 1 of 3"));
    nncw_tensor_fini(&t);
    nncwt_assert_status(nncw_tensor_init(&t, NNCW_DTYPE_I32, 2, (int64_t[]){2, 3}), NNCW_OK);
    nncwt_assert_status(nncw_range_collector_add(c, &t), NNCW_ERR_DTYPE);
    nncw_tensor_fini(&t);
    nncw_range_collector_free(c);
    nncw_range_collector_free(NULL);

    struct nncw_quantizer_init q = {.signedness = -1};
    float s;
    bool sg;
    nncwt_assert_status(
        nncw_quantizer_params_from_range(&q, 1, (float[]){2}, (float[]){1}, &s, NULL, &sg),
        NNCW_ERR_INVALID_ARG);
    ck_assert(strstr(nncw_last_error(), "[2, 1]"));
    nncwt_assert_status(
        nncw_quantizer_params_from_range(&q, 1, (float[]){NAN}, (float[]){1}, &s, NULL, &sg),
        NNCW_ERR_INVALID_ARG);
}
END_TEST

static Suite *range_init_suite(void)
{
    Suite *s = suite_create("range_init");
    TCase *tc = tcase_create("statistics");
    tcase_add_test(tc, test_min_max_and_mean_min_max_per_tensor);
    tcase_add_test(tc, test_per_channel_axis1);
    tcase_add_test(tc, test_percentile_whole_history);
    tcase_add_test(tc, test_mean_percentile);
    tcase_add_test(tc, test_threesigma);
    tcase_add_test(tc, test_mixed_min_max);
    tcase_add_test(tc, test_nonfinite_values_are_ignored);
    tcase_add_test(tc, test_reservoir_beyond_the_cap);
    suite_add_tcase(s, tc);
    tc = tcase_create("parameters");
    tcase_add_test(tc, test_symmetric_params);
    tcase_add_test(tc, test_asymmetric_params);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_parse_names);
    tcase_add_test(tc, test_collector_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(range_init_suite());
}
