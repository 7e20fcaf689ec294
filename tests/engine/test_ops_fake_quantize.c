/*
 * SymmetricQuantize, AsymmetricQuantize, FakeQuantize, QuantizeLinear, DequantizeLinear.
 *
 * Forward is compared with a plain double-precision reference of NNCF's formula
 * y = round((clamp(x, low, high) - low) * s) / s + low written here; elements within 1e-3 of a
 * rounding tie are skipped (float and double may round them differently).
 *
 * Backward: the rounded forward is piecewise constant, so finite differences of it only see
 * the gradient outside the range (where it is exact: 0 for x, 1 above, level_low/level_high
 * below for the scale). Those cases run through nncwt_check_grad on the real op. Inside the
 * range NNCF's estimator is the derivative of a surrogate that holds each element's rounding
 * error (in units of the range) fixed:
 *   y_sur = clamp(x, low(p), high(p)) + [inside] k * H(p),   k = (y0 - x0) / range0,
 * H = high (symmetric) or the tuned range (asymmetric, whose tune passes gradients straight
 * through). The surrogate is evaluated here in double and differentiated numerically, with
 * every x chosen well inside or well outside the range.
 */
#include <math.h>
#include <string.h>

#include "core/rng.h"
#include "nncwt.h"
#include "ops/fake_quantize.h"
#include "ops_net.h"

/* ---- the quantizer under test ---- */

struct qcase {
    enum nncw_op op;
    int64_t ll, lh;
    int axis;
    bool log_scale, half_range, disabled;
    bool set_eps;
    float eps;
};

static struct qcase cur;

static void set_qattrs(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "level_low", cur.ll);
    nncw_node_set_attr_int(n, "level_high", cur.lh);
    nncw_node_set_attr_int(n, "axis", cur.axis);
    if (cur.log_scale)
        nncw_node_set_attr_int(n, "logarithm_scale", 1);
    if (cur.half_range)
        nncw_node_set_attr_int(n, "half_range", 1);
    if (cur.disabled)
        nncw_node_set_attr_int(n, "enabled", 0);
    if (cur.set_eps)
        nncw_node_set_attr_float(n, "eps", cur.eps);
}

static double default_eps(const struct qcase *q)
{
    return q->set_eps ? q->eps : q->log_scale ? 0.0 : 1e-16;
}

/* NNCF's TuneRange in double */
static void ref_tune(double low, double range, double levels, double *tl, double *tr)
{
    double high = low + range, lo = low > 0 ? 0 : low, hi = high < 0 ? 0 : high, n = levels - 1;
    double zp = nearbyint(-lo * levels / (hi - lo));
    double nl = zp < n ? zp / (zp - n) * hi : lo, nh = zp > 0 ? (zp - n) / zp * lo : hi;
    if (hi - nl > nh - lo) {
        *tl = nl;
        *tr = hi - nl;
    } else {
        *tl = lo;
        *tr = nh - lo;
    }
}

/* low, high of channel c; *h is H (symmetric high or asymmetric tuned range) and *dh its
 * derivative by the parameter */
static void ref_range(const struct qcase *q, const float *p0, const float *p1, int64_t c,
                      double *low, double *high)
{
    double eps = default_eps(q);
    if (q->op == NNCW_OP_QUANTIZE_SYMMETRIC) {
        double h = (q->log_scale ? exp(p0[c]) : fabs(p0[c])) + eps;
        *low = h * (double)q->ll / (double)q->lh;
        *high = h;
    } else {
        double r = (q->log_scale ? exp(p1[c]) : fabs(p1[c])) + eps, tl, tr;
        ref_tune(p0[c], r, (double)(q->lh - q->ll + 1), &tl, &tr);
        *low = tl;
        *high = tl + tr;
    }
}

/* NNCF's round((clamp(x) - low) * s) / s + low, with the grid shifted so that 0 is a level
 * (a no-op when the tune left 0 on a level, always for symmetric ranges) */
static double ref_one(double x, double low, double high, double n, bool *near_tie)
{
    double xc = x < low ? low : x > high ? high : x, s = n / (high - low);
    double t = (xc - low) * s, z = -low * s;
    *near_tie = fabs(t - floor(t) - 0.5) < 1e-3 || fabs(z - floor(z) - 0.5) < 1e-3;
    return (nearbyint(t) - nearbyint(z)) / s;
}

/* the channel of element i of x for an axis (-1: 0) */
static int64_t chan_of(const struct nncw_tensor *x, int axis, int64_t i)
{
    if (axis < 0)
        return 0;
    int64_t inner = 1;
    for (int d = axis + 1; d < x->ndim; d++)
        inner *= x->shape[d];
    return (i / inner) % x->shape[axis];
}

/* runs the quantizer of `cur` and compares with the reference */
static void check_forward(const struct nncw_tensor *x, const struct nncw_tensor *p0,
                          const struct nncw_tensor *p1)
{
    struct nncw_tensor y;
    const struct nncw_tensor *in[] = {x, p0, p1};
    int n_in = cur.op == NNCW_OP_QUANTIZE_SYMMETRIC ? 2 : 3;
    nncwt_assert_status(nncwt_run_op(cur.op, n_in, in, set_qattrs, true, &y), NNCW_OK);
    const float *xv = nncw_tensor_f32(x), *yv = nncw_tensor_f32(&y);
    const float *v0 = nncw_tensor_f32(p0), *v1 = p1 ? nncw_tensor_f32(p1) : NULL;
    bool per_tensor = nncw_tensor_numel(p0) == 1;
    int checked = 0;
    for (int64_t i = 0; i < nncw_tensor_numel(x); i++) {
        if (cur.disabled) {
            ck_assert_msg(yv[i] == xv[i], "disabled: y[%lld] %g != x %g", (long long)i,
                          (double)yv[i], (double)xv[i]);
            checked++;
            continue;
        }
        double low, high;
        bool tie;
        ref_range(&cur, v0, v1, per_tensor ? 0 : chan_of(x, cur.axis, i), &low, &high);
        double want = ref_one(xv[i], low, high, (double)(cur.lh - cur.ll), &tie);
        if (tie)
            continue;
        checked++;
        ck_assert_msg(fabs(yv[i] - want) <= 1e-5 * (high - low) + 1e-7,
                      "element %lld: x %.8g -> %.8g, expected %.8g (range [%g, %g], levels "
                      "%lld..%lld)",
                      (long long)i, (double)xv[i], (double)yv[i], want, low, high,
                      (long long)cur.ll, (long long)cur.lh);
    }
    ck_assert_int_gt(checked, 0);
    nncw_tensor_fini(&y);
}

static struct qcase sym(int64_t ll, int64_t lh, int axis)
{
    return (struct qcase){.op = NNCW_OP_QUANTIZE_SYMMETRIC, .ll = ll, .lh = lh, .axis = axis};
}

static struct qcase asym(int64_t lh, int axis)
{
    return (struct qcase){.op = NNCW_OP_QUANTIZE_ASYMMETRIC, .ll = 0, .lh = lh, .axis = axis};
}

/* ---- forward ---- */

START_TEST(test_symmetric_per_tensor_all_bitwidths)
{
    struct nncw_tensor x, s;
    nncwt_tensor_rand(&x, 2, (int64_t[]){7, 9}, -1.2f, 1.2f, 1);
    for (int bits = 2; bits <= 8; bits++) {
        for (int is_signed = 0; is_signed < 2; is_signed++) {
            int64_t ll = is_signed ? -(1 << (bits - 1)) : 0;
            int64_t lh = is_signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
            cur = sym(ll, lh, -1);
            /* a negative scale counts by its magnitude */
            nncwt_tensor_from(&s, 1, (int64_t[]){1}, (float[]){bits % 2 ? 0.7f : -0.7f});
            check_forward(&x, &s, NULL);
            nncw_tensor_fini(&s);
        }
    }
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_symmetric_per_channel_axes)
{
    struct nncw_tensor x, s;
    /* conv weights [M, C, kh, kw], channel axis 0, scale [M] and NNCF's [M, 1, 1, 1] */
    nncwt_tensor_rand(&x, 4, (int64_t[]){4, 3, 2, 2}, -1, 1, 2);
    float sv[] = {0.3f, 0.9f, -0.5f, 1.4f};
    cur = sym(-128, 127, 0);
    nncwt_tensor_from(&s, 1, (int64_t[]){4}, sv);
    check_forward(&x, &s, NULL);
    nncw_tensor_fini(&s);
    nncwt_tensor_from(&s, 4, (int64_t[]){4, 1, 1, 1}, sv);
    check_forward(&x, &s, NULL);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&x);
    /* NCHW activations, channel axis 1, unsigned */
    nncwt_tensor_rand(&x, 4, (int64_t[]){2, 3, 4, 5}, -0.5f, 2, 3);
    cur = sym(0, 255, 1);
    nncwt_tensor_from(&s, 1, (int64_t[]){3}, (float[]){0.5f, 1.0f, 1.7f});
    check_forward(&x, &s, NULL);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&x);
    /* [N, C] activations: the row kernel (inner size 1) */
    nncwt_tensor_rand(&x, 2, (int64_t[]){6, 19}, -2, 2, 4);
    float many[19];
    for (int c = 0; c < 19; c++)
        many[c] = 0.2f + 0.1f * (float)c;
    cur = sym(-8, 7, 1);
    nncwt_tensor_from(&s, 1, (int64_t[]){19}, many);
    check_forward(&x, &s, NULL);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_half_range_and_log_scale)
{
    struct nncw_tensor x, s, ls, y1, y2;
    nncwt_tensor_rand(&x, 2, (int64_t[]){8, 8}, -1, 1, 5);
    /* the 7-bit grid of the saturation fix; half_range changes nothing in training */
    cur = sym(-64, 63, -1);
    nncwt_tensor_from(&s, 1, (int64_t[]){1}, (float[]){0.6f});
    check_forward(&x, &s, NULL);
    cur.half_range = true;
    check_forward(&x, &s, NULL);
    /* logarithm_scale stores log|scale| (eps 0) */
    cur = sym(-128, 127, -1);
    cur.set_eps = true;
    cur.eps = 0;
    const struct nncw_tensor *in1[] = {&x, &s};
    nncwt_assert_status(nncwt_run_op(cur.op, 2, in1, set_qattrs, false, &y1), NNCW_OK);
    cur = sym(-128, 127, -1);
    cur.log_scale = true;
    nncwt_tensor_from(&ls, 1, (int64_t[]){1}, (float[]){logf(0.6f)});
    check_forward(&x, &ls, NULL);
    const struct nncw_tensor *in2[] = {&x, &ls};
    nncwt_assert_status(nncwt_run_op(cur.op, 2, in2, set_qattrs, false, &y2), NNCW_OK);
    nncwt_assert_tensor_near(&y2, &y1, 1e-6, 1e-6);
    nncw_tensor_fini(&y1);
    nncw_tensor_fini(&y2);
    nncw_tensor_fini(&ls);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_disabled_is_identity)
{
    struct nncw_tensor x, s, lo, r;
    nncwt_tensor_rand(&x, 3, (int64_t[]){2, 3, 4}, -3, 3, 6);
    nncwt_tensor_from(&s, 1, (int64_t[]){1}, (float[]){0.5f});
    cur = sym(-128, 127, -1);
    cur.disabled = true;
    check_forward(&x, &s, NULL);
    cur = asym(255, 1);
    cur.disabled = true;
    nncwt_tensor_from(&lo, 1, (int64_t[]){3}, (float[]){-1, 0, 1});
    nncwt_tensor_from(&r, 1, (int64_t[]){3}, (float[]){1, 2, 3});
    check_forward(&x, &lo, &r);
    nncw_tensor_fini(&lo);
    nncw_tensor_fini(&r);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_enabled_is_read_at_run_time)
{
    struct nncw_tensor x, s;
    nncwt_tensor_from(&x, 1, (int64_t[]){3}, (float[]){0.26f, -0.7f, 2.0f});
    nncwt_tensor_from(&s, 1, (int64_t[]){1}, (float[]){1.0f});
    cur = sym(-2, 1, -1); /* levels -1, -0.5, 0, 0.5 ... up to 1.0: step 1.0 / 1 */
    const struct nncw_tensor *in[] = {&x, &s};
    struct opnet b;
    opnet_build(&b, cur.op, "Net/fq", 2, in, OPNET_INPUT(0), 1, set_qattrs);
    nncwt_assert_status(opnet_exec(&b, true, false), NNCW_OK);
    nncwt_assert_status(opnet_forward(&b), NNCW_OK);
    const float *y = nncw_tensor_f32(nncw_exec_get_output(b.ex, 0));
    /* high 1, low -2: levels at -2, -1, 0, 1 */
    ck_assert_float_eq(y[0], 0.0f);
    ck_assert_float_eq(y[1], -1.0f);
    ck_assert_float_eq(y[2], 1.0f);
    nncw_node_set_attr_int(b.node, "enabled", 0); /* the controller's switch, same executor */
    nncwt_assert_status(opnet_forward(&b), NNCW_OK);
    y = nncw_tensor_f32(nncw_exec_get_output(b.ex, 0));
    ck_assert_float_eq(y[0], 0.26f);
    ck_assert_float_eq(y[2], 2.0f);
    opnet_free(&b);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
}
END_TEST

START_TEST(test_rounding_is_half_to_even)
{
    /* unsigned 8 bits with scale 255: one level per unit */
    struct nncw_tensor x, s, y;
    nncwt_tensor_from(&x, 1, (int64_t[]){6}, (float[]){0.5f, 1.5f, 2.5f, 3.5f, 254.5f, 3.49f});
    nncwt_tensor_from(&s, 1, (int64_t[]){1}, (float[]){255.0f});
    cur = sym(0, 255, -1);
    const struct nncw_tensor *in[] = {&x, &s};
    nncwt_assert_status(nncwt_run_op(cur.op, 2, in, set_qattrs, false, &y), NNCW_OK);
    const float want[] = {0, 2, 2, 4, 254, 3};
    for (int i = 0; i < 6; i++)
        ck_assert_msg(nncw_tensor_f32(&y)[i] == want[i], "x %g -> %g, expected %g",
                      (double)nncw_tensor_f32(&x)[i], (double)nncw_tensor_f32(&y)[i],
                      (double)want[i]);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&y);
}
END_TEST

START_TEST(test_asymmetric_tune_and_forward)
{
    /* (low, range) pairs: 0 inside, low > 0 (widened to 0), high < 0, 0 at a level already,
     * 0 just below low */
    const float lows[] = {-0.3f, 0.2f, -2.0f, -0.5f, -0.001f};
    const float ranges[] = {1.0f, 1.5f, 1.0f, 1.0f, 2.0f};
    const int64_t highs[] = {3, 15, 255};
    struct nncw_tensor x, lo, r;
    nncwt_tensor_rand(&x, 3, (int64_t[]){2, 5, 6}, -2.5f, 2.5f, 7);
    for (int h = 0; h < 3; h++) {
        cur = asym(highs[h], 1);
        nncwt_tensor_from(&lo, 1, (int64_t[]){5}, lows);
        nncwt_tensor_from(&r, 1, (int64_t[]){5}, ranges);
        check_forward(&x, &lo, &r);
        nncw_tensor_fini(&lo);
        nncw_tensor_fini(&r);
        for (int k = 0; k < 5; k++) { /* per-tensor, each pair */
            cur = asym(highs[h], -1);
            nncwt_tensor_from(&lo, 1, (int64_t[]){1}, &lows[k]);
            nncwt_tensor_from(&r, 1, (int64_t[]){1}, &ranges[k]);
            check_forward(&x, &lo, &r);
            /* the library's tune agrees with the reference */
            float tl, tr;
            double rtl, rtr;
            nncw_quantizer_tune_range(lows[k], ranges[k] + 1e-16f, highs[h] + 1, &tl, &tr);
            ref_tune(lows[k], ranges[k], (double)highs[h] + 1, &rtl, &rtr);
            ck_assert_msg(fabs(tl - rtl) < 1e-6 && fabs(tr - rtr) < 1e-6,
                          "tune(%g, %g): %g %g, expected %g %g", (double)lows[k], (double)ranges[k],
                          (double)tl, (double)tr, rtl, rtr);
            nncw_tensor_fini(&lo);
            nncw_tensor_fini(&r);
        }
    }
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_zero_maps_to_zero_exactly)
{
    /* 300 channels of random ranges, every row of x is 0 at each channel */
    enum { C = 300 };
    float lows[C], ranges[C], scales[C];
    struct nncw_rng rng;
    nncw_rng_seed(&rng, 42);
    for (int c = 0; c < C; c++) {
        lows[c] = -3.0f * nncw_rng_uniform(&rng) + 0.5f;
        ranges[c] = 0.01f + 4.0f * nncw_rng_uniform(&rng);
        scales[c] = 0.001f + 5.0f * nncw_rng_uniform(&rng);
    }
    struct nncw_tensor x, lo, r, s, y;
    nncwt_tensor_rand(&x, 2, (int64_t[]){3, C}, -1, 1, 8);
    for (int c = 0; c < C; c++)
        nncw_tensor_f32(&x)[C + c] = 0.0f;
    nncwt_tensor_from(&lo, 1, (int64_t[]){C}, lows);
    nncwt_tensor_from(&r, 1, (int64_t[]){C}, ranges);
    nncwt_tensor_from(&s, 1, (int64_t[]){C}, scales);
    const int64_t highs[] = {255, 15, 127};
    for (int h = 0; h < 3; h++) {
        cur = asym(highs[h], 1);
        const struct nncw_tensor *in[] = {&x, &lo, &r};
        nncwt_assert_status(nncwt_run_op(cur.op, 3, in, set_qattrs, false, &y), NNCW_OK);
        for (int c = 0; c < C; c++)
            ck_assert_msg(nncw_tensor_f32(&y)[C + c] == 0.0f,
                          "asymmetric channel %d (low %g, range %g): 0 -> %g", c, (double)lows[c],
                          (double)ranges[c], (double)nncw_tensor_f32(&y)[C + c]);
        nncw_tensor_fini(&y);
        cur = sym(h == 1 ? 0 : -128, 127, 1);
        const struct nncw_tensor *in2[] = {&x, &s};
        nncwt_assert_status(nncwt_run_op(cur.op, 2, in2, set_qattrs, false, &y), NNCW_OK);
        for (int c = 0; c < C; c++)
            ck_assert_msg(nncw_tensor_f32(&y)[C + c] == 0.0f, "symmetric channel %d: 0 -> %g", c,
                          (double)nncw_tensor_f32(&y)[C + c]);
        nncw_tensor_fini(&y);
    }
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&lo);
    nncw_tensor_fini(&r);
    nncw_tensor_fini(&s);
}
END_TEST

/* ---- backward: exact outside the range, by finite differences of the real op ---- */

/* x values far outside [-bound, bound]: half above, half below */
static void fill_outside(struct nncw_tensor *x, int ndim, const int64_t *shape, float bound,
                         uint64_t seed)
{
    nncwt_tensor_rand(x, ndim, shape, 0.2f, 1.0f, seed);
    float *v = nncw_tensor_f32(x);
    for (int64_t i = 0; i < nncw_tensor_numel(x); i++)
        v[i] = (i % 2 ? -1.0f : 1.0f) * (bound + v[i]);
}

START_TEST(test_symmetric_grad_outside_range)
{
    struct nncw_tensor x, s;
    /* signed: below low the scale gradient is level_low / level_high; negative scale, log */
    fill_outside(&x, 4, (int64_t[]){2, 3, 2, 2}, 1.5f, 9);
    nncwt_tensor_from(&s, 1, (int64_t[]){3}, (float[]){0.8f, -1.0f, 1.2f});
    cur = sym(-128, 127, 1);
    nncwt_check_grad((&(struct nncwt_gradcheck){.op = cur.op,
                                                .n_in = 2,
                                                .in = {&x, &s},
                                                .attrs = set_qattrs,
                                                .training = true,
                                                .eps = 1e-3,
                                                .atol = 1e-4,
                                                .rtol = 1e-3}));
    cur = sym(0, 15, 1);
    nncwt_check_grad((&(struct nncwt_gradcheck){.op = cur.op,
                                                .n_in = 2,
                                                .in = {&x, &s},
                                                .attrs = set_qattrs,
                                                .eps = 1e-3,
                                                .atol = 1e-4,
                                                .rtol = 1e-3}));
    nncw_tensor_fini(&s);
    cur = sym(-4, 3, -1);
    cur.log_scale = true;
    nncwt_tensor_from(&s, 1, (int64_t[]){1}, (float[]){logf(1.3f)});
    nncwt_check_grad((&(struct nncwt_gradcheck){.op = cur.op,
                                                .n_in = 2,
                                                .in = {&x, &s},
                                                .attrs = set_qattrs,
                                                .eps = 1e-3,
                                                .atol = 1e-4,
                                                .rtol = 1e-3}));
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_asymmetric_grad_outside_range)
{
    /* low in (-range / (2 levels), 0): the zero-point tune changes nothing; 0 is then the
     * lowest level (the grid shifts by |low|), so y no longer depends on input_low, which is
     * left to the surrogate test below */
    struct nncw_tensor x, lo, r;
    nncwt_tensor_rand(&x, 2, (int64_t[]){4, 2}, 0.2f, 1.0f, 10);
    for (int i = 0; i < 8; i++) { /* channel 0 [-0.001, 1.999], channel 1 [-0.0005, 0.9995] */
        float *v = nncw_tensor_f32(&x);
        float hi = i % 2 ? 1.0f : 2.0f;
        v[i] = (i / 2) % 2 ? hi + 0.1f + v[i] : -0.1f - v[i];
    }
    nncwt_tensor_from(&lo, 1, (int64_t[]){2}, (float[]){-0.001f, -0.0005f});
    nncwt_tensor_from(&r, 1, (int64_t[]){2}, (float[]){2.0f, -1.0f});
    cur = asym(255, 1);
    nncwt_check_grad((&(struct nncwt_gradcheck){.op = cur.op,
                                                .n_in = 3,
                                                .in = {&x, &lo, &r},
                                                .fixed = {false, true, false},
                                                .attrs = set_qattrs,
                                                .eps = 1e-4,
                                                .atol = 1e-4,
                                                .rtol = 1e-3}));
    nncw_tensor_fini(&r);
    cur.log_scale = true;
    nncwt_tensor_from(&r, 1, (int64_t[]){2}, (float[]){logf(2.0f), 0.0f});
    nncwt_check_grad((&(struct nncwt_gradcheck){.op = cur.op,
                                                .n_in = 3,
                                                .in = {&x, &lo, &r},
                                                .fixed = {false, true, false},
                                                .attrs = set_qattrs,
                                                .eps = 1e-4,
                                                .atol = 1e-4,
                                                .rtol = 1e-3}));
    nncw_tensor_fini(&r);
    nncw_tensor_fini(&lo);
    nncw_tensor_fini(&x);
}
END_TEST

/* ---- backward: the straight-through estimator, by finite differences of the surrogate ---- */

struct surrogate {
    const struct qcase *q;
    const struct nncw_tensor *x;
    int64_t nparam;
    const float *p0_base, *p1_base;
    const float *y0; /* the op's output at the base point */
    const float *r;  /* dL/dy */
};

/* H(p) and bounds of channel c at parameters p0, p1, with the tune's offsets taken at the base
 * point (the tune passes gradients through) */
static void sur_range(const struct surrogate *s, const float *p0, const float *p1, int64_t c,
                      double *low, double *high, double *H)
{
    const struct qcase *q = s->q;
    double eps = default_eps(q);
    if (q->op == NNCW_OP_QUANTIZE_SYMMETRIC) {
        double h = (q->log_scale ? exp(p0[c]) : fabs(p0[c])) + eps;
        *low = h * (double)q->ll / (double)q->lh;
        *high = *H = h;
        return;
    }
    double r0 = (q->log_scale ? exp(s->p1_base[c]) : fabs(s->p1_base[c])) + eps;
    double r = (q->log_scale ? exp(p1[c]) : fabs(p1[c])) + eps, tl, tr;
    ref_tune(s->p0_base[c], r0, (double)(q->lh - q->ll + 1), &tl, &tr);
    *low = tl + (p0[c] - s->p0_base[c]);
    *H = tr + (r - r0);
    *high = *low + *H;
}

static double sur_loss(const struct surrogate *s, const float *xv, const float *p0, const float *p1)
{
    double loss = 0;
    const float *x0 = nncw_tensor_f32(s->x);
    for (int64_t i = 0; i < nncw_tensor_numel(s->x); i++) {
        int64_t c = s->nparam == 1 ? 0 : chan_of(s->x, s->q->axis, i);
        double low0, high0, H0, low, high, H;
        sur_range(s, s->p0_base, s->p1_base, c, &low0, &high0, &H0);
        sur_range(s, p0, p1, c, &low, &high, &H);
        double y;
        if (x0[i] > high0)
            y = high;
        else if (x0[i] < low0)
            y = low;
        else /* the rounding error in units of the range stays fixed */
            y = xv[i] + (s->y0[i] - x0[i]) / (high0 - low0) * H;
        loss += y * s->r[i];
    }
    return loss;
}

/* x with each element well inside or well outside its channel's range */
static void fill_regions(struct nncw_tensor *x, const struct qcase *q, const float *p0,
                         const float *p1, int64_t nparam, uint64_t seed)
{
    struct nncw_rng rng;
    nncw_rng_seed(&rng, seed);
    float *v = nncw_tensor_f32(x);
    for (int64_t i = 0; i < nncw_tensor_numel(x); i++) {
        double low, high;
        ref_range(q, p0, p1, nparam == 1 ? 0 : chan_of(x, q->axis, i), &low, &high);
        double u = nncw_rng_uniform(&rng), w = high - low;
        int region = i % 4; /* two inside for each one outside */
        v[i] = (float)(region == 0   ? low - w * (0.1 + u)
                       : region == 3 ? high + w * (0.1 + u)
                                     : low + w * (0.1 + 0.8 * u));
    }
}

static void check_surrogate_grads(const struct qcase *q, const int64_t *xshape, int xndim,
                                  const float *p0, const float *p1, int64_t nparam)
{
    cur = *q;
    struct nncw_tensor x, t0, t1, rr;
    nncwt_tensor_rand(&x, xndim, xshape, 0, 1, 1);
    fill_regions(&x, q, p0, p1, nparam, 77);
    nncwt_tensor_from(&t0, 1, (int64_t[]){nparam}, p0);
    if (p1)
        nncwt_tensor_from(&t1, 1, (int64_t[]){nparam}, p1);
    const struct nncw_tensor *in[] = {&x, &t0, p1 ? &t1 : NULL};
    int n_in = p1 ? 3 : 2;
    struct opnet b;
    opnet_build(&b, q->op, "Net/q", n_in, in, 0, 1, set_qattrs);
    nncwt_assert_status(opnet_exec(&b, true, true), NNCW_OK);
    nncwt_assert_status(opnet_forward(&b), NNCW_OK);
    const struct nncw_tensor *y = nncw_exec_get_output(b.ex, 0);
    nncwt_tensor_rand(&rr, y->ndim, y->shape, -1, 1, 3);
    nncw_graph_zero_grads(b.g);
    const struct nncw_tensor *gout[] = {&rr};
    nncwt_assert_status(nncw_exec_backward(b.ex, gout), NNCW_OK);

    struct surrogate s = {q, &x, nparam, p0, p1, nncw_tensor_f32(y), nncw_tensor_f32(&rr)};
    float xs[4096], a0[64], a1[64];
    int64_t n = nncw_tensor_numel(&x);
    ck_assert(n <= 4096 && nparam <= 64);
    memcpy(xs, nncw_tensor_f32(&x), (size_t)n * sizeof(float));
    memcpy(a0, p0, (size_t)nparam * sizeof(float));
    if (p1)
        memcpy(a1, p1, (size_t)nparam * sizeof(float));
    const double h = 1e-3;
    /* x */
    const float *gx = nncw_tensor_f32(opnet_param_grad(&b, 0));
    for (int64_t i = 0; i < n; i++) {
        float keep = xs[i];
        xs[i] = keep + (float)h;
        double lp = sur_loss(&s, xs, a0, p1 ? a1 : NULL);
        xs[i] = keep - (float)h;
        double lm = sur_loss(&s, xs, a0, p1 ? a1 : NULL);
        xs[i] = keep;
        double num = (lp - lm) / (2 * h);
        ck_assert_msg(fabs(num - gx[i]) <= 1e-3 + 1e-3 * fabs(num),
                      "dL/dx[%lld]: analytic %g, numeric %g", (long long)i, (double)gx[i], num);
    }
    /* parameters */
    for (int k = 1; k < n_in; k++) {
        float *a = k == 1 ? a0 : a1;
        const float *ga = nncw_tensor_f32(opnet_param_grad(&b, k));
        for (int64_t c = 0; c < nparam; c++) {
            float keep = a[c];
            a[c] = keep + (float)h;
            double lp = sur_loss(&s, xs, a0, p1 ? a1 : NULL);
            a[c] = keep - (float)h;
            double lm = sur_loss(&s, xs, a0, p1 ? a1 : NULL);
            a[c] = keep;
            double num = (lp - lm) / (2 * h);
            ck_assert_msg(fabs(num - ga[c]) <= 2e-3 + 2e-3 * fabs(num),
                          "%s: dL/dparam%d[%lld]: analytic %g, numeric %g", nncw_op_name(q->op), k,
                          (long long)c, (double)ga[c], num);
        }
    }
    opnet_free(&b);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&t0);
    if (p1)
        nncw_tensor_fini(&t1);
    nncw_tensor_fini(&rr);
}

START_TEST(test_symmetric_grad_estimator)
{
    struct qcase q = sym(-128, 127, -1);
    check_surrogate_grads(&q, (int64_t[]){5, 7}, 2, (float[]){0.9f}, NULL, 1);
    q = sym(-8, 7, 0); /* per output channel of a conv weight, one negative scale */
    check_surrogate_grads(&q, (int64_t[]){3, 2, 3, 3}, 4, (float[]){0.4f, -1.1f, 2.0f}, NULL, 3);
    q = sym(0, 255, 1); /* unsigned per-channel activations */
    check_surrogate_grads(&q, (int64_t[]){2, 4, 3, 3}, 4, (float[]){0.5f, 1.0f, 1.5f, 3.0f}, NULL,
                          4);
    q = sym(-64, 63, 1); /* [N, C], the row kernel, log scale */
    q.log_scale = true;
    check_surrogate_grads(&q, (int64_t[]){9, 5}, 2,
                          (float[]){-0.5f, 0.0f, 0.3f, logf(2.0f), logf(0.1f)}, NULL, 5);
}
END_TEST

START_TEST(test_asymmetric_grad_estimator)
{
    /* including pairs where the tune moves low or high, whose gradients pass straight through */
    const float lows[] = {-0.3f, 0.2f, -2.0f, -0.5f, -0.001f};
    const float ranges[] = {1.0f, 1.5f, -1.0f, 1.0f, 2.0f};
    struct qcase q = asym(255, 1);
    check_surrogate_grads(&q, (int64_t[]){3, 5, 2, 2}, 4, lows, ranges, 5);
    q = asym(15, -1);
    for (int k = 0; k < 5; k++)
        check_surrogate_grads(&q, (int64_t[]){4, 6}, 2, &lows[k], &ranges[k], 1);
    q = asym(255, 1);
    q.log_scale = true;
    const float log_ranges[] = {0.0f, logf(1.5f), logf(0.5f), -1.0f, 0.7f};
    check_surrogate_grads(&q, (int64_t[]){7, 5}, 2, lows, log_ranges, 5);
}
END_TEST

START_TEST(test_disabled_backward_passes_through)
{
    struct nncw_tensor x, s, rr;
    nncwt_tensor_rand(&x, 2, (int64_t[]){3, 4}, -3, 3, 12);
    nncwt_tensor_from(&s, 1, (int64_t[]){1}, (float[]){0.5f});
    cur = sym(-128, 127, -1);
    cur.disabled = true;
    const struct nncw_tensor *in[] = {&x, &s};
    struct opnet b;
    opnet_build(&b, cur.op, "Net/q", 2, in, 0, 1, set_qattrs);
    nncwt_assert_status(opnet_exec(&b, true, true), NNCW_OK);
    nncwt_assert_status(opnet_forward(&b), NNCW_OK);
    nncwt_tensor_rand(&rr, 2, (int64_t[]){3, 4}, -1, 1, 13);
    nncw_graph_zero_grads(b.g);
    const struct nncw_tensor *gout[] = {&rr};
    nncwt_assert_status(nncw_exec_backward(b.ex, gout), NNCW_OK);
    nncwt_assert_tensor_near(opnet_param_grad(&b, 0), &rr, 0, 0);
    ck_assert_float_eq(nncw_tensor_f32(opnet_param_grad(&b, 1))[0], 0.0f);
    opnet_free(&b);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&rr);
}
END_TEST

/* ---- FakeQuantize (OpenVINO) ---- */

static int64_t fq_levels_attr;

static void set_fq_levels(struct nncw_node *n)
{
    if (fq_levels_attr)
        nncw_node_set_attr_int(n, "levels", fq_levels_attr);
}

START_TEST(test_fakequantize_spec_values)
{
    /* levels 5 on [0, 2] -> [-1, 1]: x <= 0 -> -1, x > 2 -> 1, else 4 steps */
    struct nncw_tensor x, il, ih, ol, oh, y;
    nncwt_tensor_from(&x, 1, (int64_t[]){7}, (float[]){-1, 0, 0.2f, 0.3f, 1.0f, 1.9f, 2.5f});
    nncwt_tensor_from(&il, 0, NULL, (float[]){0});
    nncwt_tensor_from(&ih, 0, NULL, (float[]){2});
    nncwt_tensor_from(&ol, 0, NULL, (float[]){-1});
    nncwt_tensor_from(&oh, 0, NULL, (float[]){1});
    fq_levels_attr = 5;
    const struct nncw_tensor *in[] = {&x, &il, &ih, &ol, &oh};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_FAKEQUANTIZE, 5, in, set_fq_levels, false, &y),
                        NNCW_OK);
    /* 0.2: round(0.4) = 0 -> -1; 0.3: round(0.6) = 1 -> -0.5; 1.0: 2 -> 0; 1.9: round(3.8) = 4 */
    const float want[] = {-1, -1, -1, -0.5f, 0, 1, 1};
    for (int i = 0; i < 7; i++)
        ck_assert_msg(fabsf(nncw_tensor_f32(&y)[i] - want[i]) < 1e-6f, "x %g -> %g, expected %g",
                      (double)nncw_tensor_f32(&x)[i], (double)nncw_tensor_f32(&y)[i],
                      (double)want[i]);
    nncw_tensor_fini(&y);
    /* swapped input bounds: x <= min -> output_low, x > max -> output_high */
    const struct nncw_tensor *sw[] = {&x, &ih, &il, &ol, &oh};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_FAKEQUANTIZE, 5, sw, set_fq_levels, false, &y),
                        NNCW_OK);
    ck_assert_float_eq(nncw_tensor_f32(&y)[0], -1.0f);
    ck_assert_float_eq(nncw_tensor_f32(&y)[6], 1.0f);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&il);
    nncw_tensor_fini(&ih);
    nncw_tensor_fini(&ol);
    nncw_tensor_fini(&oh);
}
END_TEST

START_TEST(test_fakequantize_matches_symmetric_per_channel)
{
    /* FakeQuantize with [1, C, 1, 1] ranges = SymmetricQuantize per channel along axis 1 */
    float sv[] = {0.5f, 1.0f, 2.5f};
    struct nncw_tensor x, s, il, ih, ya, yb;
    nncwt_tensor_rand(&x, 4, (int64_t[]){2, 3, 4, 4}, -3, 3, 14);
    nncwt_tensor_from(&s, 1, (int64_t[]){3}, sv);
    float lo[3], hi[3];
    for (int c = 0; c < 3; c++) {
        hi[c] = sv[c] + 1e-16f;
        lo[c] = (float)((double)hi[c] * -128.0 / 127.0);
    }
    nncwt_tensor_from(&il, 4, (int64_t[]){1, 3, 1, 1}, lo);
    nncwt_tensor_from(&ih, 4, (int64_t[]){1, 3, 1, 1}, hi);
    cur = sym(-128, 127, 1);
    const struct nncw_tensor *in_a[] = {&x, &s};
    nncwt_assert_status(nncwt_run_op(cur.op, 2, in_a, set_qattrs, false, &ya), NNCW_OK);
    fq_levels_attr = 256;
    const struct nncw_tensor *in_b[] = {&x, &il, &ih, &il, &ih};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_FAKEQUANTIZE, 5, in_b, set_fq_levels, false, &yb),
                        NNCW_OK);
    nncwt_assert_tensor_near(&yb, &ya, 1e-6, 1e-6);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&il);
    nncw_tensor_fini(&ih);
    nncw_tensor_fini(&ya);
    nncw_tensor_fini(&yb);
}
END_TEST

START_TEST(test_fakequantize_grad)
{
    /* outside the range: exact (0); the ranges get no gradient (fixed) */
    struct nncw_tensor x, il, ih, ol, oh;
    fill_outside(&x, 2, (int64_t[]){3, 4}, 1.2f, 15);
    nncwt_tensor_from(&il, 2, (int64_t[]){3, 1}, (float[]){-1, -0.5f, -1.1f});
    nncwt_tensor_from(&ih, 2, (int64_t[]){3, 1}, (float[]){1, 0.5f, 1.1f});
    nncwt_tensor_from(&ol, 0, NULL, (float[]){-2});
    nncwt_tensor_from(&oh, 0, NULL, (float[]){2});
    fq_levels_attr = 16;
    nncwt_check_grad((&(struct nncwt_gradcheck){.op = NNCW_OP_FAKEQUANTIZE,
                                                .n_in = 5,
                                                .in = {&x, &il, &ih, &ol, &oh},
                                                .fixed = {false, true, true, true, true},
                                                .attrs = set_fq_levels,
                                                .eps = 1e-3}));
    /* inside: the straight-through estimator passes g unchanged */
    nncw_tensor_fini(&x);
    nncwt_tensor_rand(&x, 2, (int64_t[]){3, 4}, -0.4f, 0.4f, 16);
    const struct nncw_tensor *in[] = {&x, &il, &ih, &ol, &oh};
    struct opnet b;
    opnet_build(&b, NNCW_OP_FAKEQUANTIZE, "Net/fq", 5, in, 0, 1, set_fq_levels);
    nncwt_assert_status(opnet_exec(&b, true, true), NNCW_OK);
    nncwt_assert_status(opnet_forward(&b), NNCW_OK);
    struct nncw_tensor rr;
    nncwt_tensor_rand(&rr, 2, (int64_t[]){3, 4}, -1, 1, 17);
    nncw_graph_zero_grads(b.g);
    nncwt_assert_status(nncw_exec_backward(b.ex, (const struct nncw_tensor *[]){&rr}), NNCW_OK);
    nncwt_assert_tensor_near(opnet_param_grad(&b, 0), &rr, 0, 0);
    opnet_free(&b);
    nncw_tensor_fini(&rr);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&il);
    nncw_tensor_fini(&ih);
    nncw_tensor_fini(&ol);
    nncw_tensor_fini(&oh);
}
END_TEST

/* ---- QuantizeLinear / DequantizeLinear ---- */

static int64_t ql_axis = 1;

static void set_ql_axis(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "axis", ql_axis);
}

static void tensor_u8(struct nncw_tensor *t, enum nncw_dtype dt, int ndim, const int64_t *shape,
                      const int *v)
{
    nncwt_assert_status(nncw_tensor_init(t, dt, ndim, shape), NNCW_OK);
    for (int64_t i = 0; i < nncw_tensor_numel(t); i++) {
        if (dt == NNCW_DTYPE_I8)
            ((int8_t *)t->data)[i] = (int8_t)v[i];
        else if (dt == NNCW_DTYPE_U8)
            ((uint8_t *)t->data)[i] = (uint8_t)v[i];
        else
            ((int32_t *)t->data)[i] = v[i];
    }
}

static int int_at(const struct nncw_tensor *t, int64_t i)
{
    return t->dtype == NNCW_DTYPE_I8   ? ((const int8_t *)t->data)[i]
           : t->dtype == NNCW_DTYPE_U8 ? ((const uint8_t *)t->data)[i]
                                       : ((const int32_t *)t->data)[i];
}

START_TEST(test_quantizelinear_per_tensor)
{
    struct nncw_tensor x, s, zp, q, y;
    nncwt_tensor_from(&x, 1, (int64_t[]){8},
                      (float[]){0, 0.25f, 0.75f, -0.25f, 1000, -100, NAN, 1.25f});
    nncwt_tensor_from(&s, 0, NULL, (float[]){0.5f});
    tensor_u8(&zp, NNCW_DTYPE_U8, 0, NULL, (int[]){10});
    const struct nncw_tensor *in[] = {&x, &s, &zp};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_QUANTIZELINEAR, 3, in, NULL, false, &q), NNCW_OK);
    ck_assert_int_eq(q.dtype, NNCW_DTYPE_U8);
    /* x / 0.5: 0, 0.5 -> 0 (even), 1.5 -> 2, -0.5 -> 0, saturated, NaN -> zero point, 2.5 -> 2 */
    const int want[] = {10, 10, 12, 10, 255, 0, 10, 12};
    for (int i = 0; i < 8; i++)
        ck_assert_msg(int_at(&q, i) == want[i], "x[%d] -> %d, expected %d", i, int_at(&q, i),
                      want[i]);
    const struct nncw_tensor *din[] = {&q, &s, &zp};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_DEQUANTIZELINEAR, 3, din, NULL, false, &y), NNCW_OK);
    ck_assert_float_eq(nncw_tensor_f32(&y)[2], 1.0f);
    ck_assert_float_eq(nncw_tensor_f32(&y)[4], 122.5f); /* saturated at 255 */
    ck_assert_float_eq(nncw_tensor_f32(&y)[5], -5.0f);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&q);
    /* no zero point: uint8, zero point 0 */
    const struct nncw_tensor *in2[] = {&x, &s};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_QUANTIZELINEAR, 2, in2, NULL, false, &q), NNCW_OK);
    ck_assert_int_eq(q.dtype, NNCW_DTYPE_U8);
    ck_assert_int_eq(int_at(&q, 2), 2);
    ck_assert_int_eq(int_at(&q, 3), 0);
    nncw_tensor_fini(&q);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&zp);
}
END_TEST

START_TEST(test_quantizelinear_per_axis_int8)
{
    struct nncw_tensor x, s, zp, q, y;
    nncwt_tensor_rand(&x, 3, (int64_t[]){2, 3, 5}, -4, 4, 18);
    nncwt_tensor_from(&s, 1, (int64_t[]){3}, (float[]){0.01f, 0.05f, 0.1f});
    tensor_u8(&zp, NNCW_DTYPE_I8, 1, (int64_t[]){3}, (int[]){0, -3, 5});
    for (int variant = 0; variant < 2; variant++) {
        ql_axis = variant ? -2 : 1; /* the same axis counted from the end */
        const struct nncw_tensor *in[] = {&x, &s, &zp};
        nncwt_assert_status(nncwt_run_op(NNCW_OP_QUANTIZELINEAR, 3, in, set_ql_axis, false, &q),
                            NNCW_OK);
        ck_assert_int_eq(q.dtype, NNCW_DTYPE_I8);
        const struct nncw_tensor *din[] = {&q, &s, &zp};
        nncwt_assert_status(nncwt_run_op(NNCW_OP_DEQUANTIZELINEAR, 3, din, set_ql_axis, false, &y),
                            NNCW_OK);
        for (int64_t i = 0; i < 30; i++) {
            int64_t c = (i / 5) % 3;
            float sc = nncw_tensor_f32(&s)[c], xv = nncw_tensor_f32(&x)[i];
            int z = int_at(&zp, c);
            double v = nearbyint(xv / sc) + z;
            v = v < -128 ? -128 : v > 127 ? 127 : v;
            ck_assert_int_eq(int_at(&q, i), (int)v);
            ck_assert_float_eq_tol(nncw_tensor_f32(&y)[i], (float)((v - z) * sc), 1e-6f);
        }
        nncw_tensor_fini(&q);
        nncw_tensor_fini(&y);
    }
    ql_axis = 1;
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&zp);
}
END_TEST

START_TEST(test_dequantizelinear_int32)
{
    struct nncw_tensor x, s, y;
    tensor_u8(&x, NNCW_DTYPE_I32, 1, (int64_t[]){3}, (int[]){-100000, 0, 7});
    nncwt_tensor_from(&s, 0, NULL, (float[]){0.5f});
    const struct nncw_tensor *in[] = {&x, &s};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_DEQUANTIZELINEAR, 2, in, NULL, false, &y), NNCW_OK);
    ck_assert_float_eq(nncw_tensor_f32(&y)[0], -50000.0f);
    ck_assert_float_eq(nncw_tensor_f32(&y)[2], 3.5f);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&y);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_quantizer_param_shape_errors)
{
    struct nncw_tensor x, s;
    nncwt_tensor_rand(&x, 4, (int64_t[]){2, 4, 3, 3}, -1, 1, 19);
    cur = sym(-128, 127, 1);
    nncwt_tensor_rand(&s, 1, (int64_t[]){3}, 0.5f, 1, 20);
    const struct nncw_tensor *in[] = {&x, &s};
    nncwt_assert_status(
        opnet_infer_status(cur.op, "Net/conv1/fq", 2, in, OPNET_INPUT(0), set_qattrs),
        NNCW_ERR_SHAPE);
    assert_error_mentions("SymmetricQuantize 'Net/conv1/fq'", "scale", "[3]", "4");
    nncw_tensor_fini(&s);
    /* [C] values in the wrong layout */
    nncwt_tensor_rand(&s, 2, (int64_t[]){2, 2}, 0.5f, 1, 20);
    nncwt_assert_status(
        opnet_infer_status(cur.op, "Net/conv1/fq", 2, in, OPNET_INPUT(0), set_qattrs),
        NNCW_ERR_SHAPE);
    assert_error_mentions("'Net/conv1/fq'", "[2, 2]");
    nncw_tensor_fini(&s);
    /* per-tensor needs one value */
    cur.axis = -1;
    nncwt_tensor_rand(&s, 1, (int64_t[]){4}, 0.5f, 1, 20);
    nncwt_assert_status(opnet_infer_status(cur.op, "Net/fq", 2, in, OPNET_INPUT(0), set_qattrs),
                        NNCW_ERR_SHAPE);
    nncw_tensor_fini(&s);
    /* asymmetric: input_low and input_range disagree */
    struct nncw_tensor lo, r;
    cur = asym(255, 1);
    nncwt_tensor_rand(&lo, 1, (int64_t[]){4}, -1, 0, 21);
    nncwt_tensor_rand(&r, 1, (int64_t[]){1}, 1, 2, 22);
    const struct nncw_tensor *ain[] = {&x, &lo, &r};
    nncwt_assert_status(opnet_infer_status(cur.op, "Net/aq", 3, ain, OPNET_INPUT(0), set_qattrs),
                        NNCW_ERR_SHAPE);
    assert_error_mentions("AsymmetricQuantize 'Net/aq'", "input_low", "input_range");
    nncw_tensor_fini(&lo);
    nncw_tensor_fini(&r);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_quantizer_attribute_errors)
{
    struct nncw_tensor x, s;
    nncwt_tensor_rand(&x, 4, (int64_t[]){2, 4, 3, 3}, -1, 1, 23);
    nncwt_tensor_from(&s, 1, (int64_t[]){1}, (float[]){1});
    const struct nncw_tensor *in[] = {&x, &s};
    cur = sym(5, 5, -1);
    nncwt_assert_status(opnet_infer_status(cur.op, "Net/fq", 2, in, OPNET_INPUT(0), set_qattrs),
                        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("'Net/fq'", "level_low 5 >= level_high 5");
    cur = sym(-128, 127, 4);
    nncwt_assert_status(opnet_infer_status(cur.op, "Net/fq", 2, in, OPNET_INPUT(0), set_qattrs),
                        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("'Net/fq'", "axis 4");
    cur = sym(-128, 127, -2);
    nncwt_assert_status(opnet_infer_status(cur.op, "Net/fq", 2, in, OPNET_INPUT(0), set_qattrs),
                        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("axis -2");
    cur = sym(0, 65536, -1);
    nncwt_assert_status(opnet_infer_status(cur.op, "Net/fq", 2, in, OPNET_INPUT(0), set_qattrs),
                        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("16 bits");
    cur = sym(1, 127, -1);
    nncwt_assert_status(opnet_infer_status(cur.op, "Net/fq", 2, in, OPNET_INPUT(0), set_qattrs),
                        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("symmetric");
    cur = sym(-128, 127, -1);
    cur.set_eps = true;
    cur.eps = -1;
    nncwt_assert_status(opnet_infer_status(cur.op, "Net/fq", 2, in, OPNET_INPUT(0), set_qattrs),
                        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("eps");
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_quantizer_empty_range_fails_at_run_time)
{
    struct nncw_tensor x, s, y;
    nncwt_tensor_rand(&x, 2, (int64_t[]){2, 3}, -1, 1, 24);
    nncwt_tensor_from(&s, 1, (int64_t[]){3}, (float[]){1, -200, NAN}); /* exp(-200) = 0 */
    cur = sym(-128, 127, 1);
    cur.log_scale = true;
    const struct nncw_tensor *in[] = {&x, &s};
    nncw_error_clear();
    nncwt_assert_status(nncwt_run_op(cur.op, 2, in, set_qattrs, false, &y), NNCW_ERR_INVALID_ARG);
    assert_error_mentions("SymmetricQuantize", "channel 1");
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_fakequantize_errors)
{
    struct nncw_tensor x, r, bad;
    nncwt_tensor_rand(&x, 2, (int64_t[]){2, 3}, -1, 1, 25);
    nncwt_tensor_from(&r, 0, NULL, (float[]){1});
    const struct nncw_tensor *in[] = {&x, &r, &r, &r, &r};
    fq_levels_attr = 0; /* missing */
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_FAKEQUANTIZE, "Net/FQ_1", 5, in, OPNET_INPUT(0), set_fq_levels),
        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("FakeQuantize 'Net/FQ_1'", "levels is missing");
    fq_levels_attr = 1;
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_FAKEQUANTIZE, "Net/FQ_1", 5, in, OPNET_INPUT(0), set_fq_levels),
        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("levels 1");
    fq_levels_attr = 256;
    nncwt_tensor_rand(&bad, 1, (int64_t[]){2}, -1, 1, 26);
    const struct nncw_tensor *in2[] = {&x, &r, &bad, &r, &r};
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_FAKEQUANTIZE, "Net/FQ_1", 5, in2, OPNET_INPUT(0), set_fq_levels),
        NNCW_ERR_SHAPE);
    assert_error_mentions("'Net/FQ_1'", "input_high", "[2]", "[2, 3]");
    nncw_tensor_fini(&bad);
    nncw_tensor_fini(&r);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_quantizelinear_errors)
{
    struct nncw_tensor x, s, zp, s3;
    nncwt_tensor_rand(&x, 2, (int64_t[]){2, 3}, -1, 1, 27);
    nncwt_tensor_from(&s, 0, NULL, (float[]){0.1f});
    nncwt_tensor_from(&zp, 0, NULL, (float[]){0}); /* float zero point */
    const struct nncw_tensor *in[] = {&x, &s, &zp};
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_QUANTIZELINEAR, "Net/q", 3, in, OPNET_INPUT(0), NULL),
        NNCW_ERR_DTYPE);
    assert_error_mentions("QuantizeLinear 'Net/q'", "zero point", "float32");
    nncwt_tensor_from(&s3, 1, (int64_t[]){2}, (float[]){0.1f, 0.2f}); /* axis 1 has 3 */
    const struct nncw_tensor *in2[] = {&x, &s3};
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_QUANTIZELINEAR, "Net/q", 2, in2, OPNET_INPUT(0), NULL),
        NNCW_ERR_SHAPE);
    assert_error_mentions("'Net/q'", "2 values", "axis 1");
    nncw_tensor_fini(&s);
    nncwt_tensor_from(&s, 0, NULL, (float[]){0});
    const struct nncw_tensor *in3[] = {&x, &s};
    struct nncw_tensor q;
    nncwt_assert_status(nncwt_run_op(NNCW_OP_QUANTIZELINEAR, 2, in3, NULL, false, &q),
                        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("scale 0 is 0");
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&s3);
    nncw_tensor_fini(&zp);
}
END_TEST

static Suite *fake_quantize_suite(void)
{
    Suite *s = suite_create("ops_fake_quantize");
    TCase *tc = tcase_create("forward");
    tcase_add_test(tc, test_symmetric_per_tensor_all_bitwidths);
    tcase_add_test(tc, test_symmetric_per_channel_axes);
    tcase_add_test(tc, test_half_range_and_log_scale);
    tcase_add_test(tc, test_disabled_is_identity);
    tcase_add_test(tc, test_enabled_is_read_at_run_time);
    tcase_add_test(tc, test_rounding_is_half_to_even);
    tcase_add_test(tc, test_asymmetric_tune_and_forward);
    tcase_add_test(tc, test_zero_maps_to_zero_exactly);
    tcase_add_test(tc, test_fakequantize_spec_values);
    tcase_add_test(tc, test_fakequantize_matches_symmetric_per_channel);
    tcase_add_test(tc, test_quantizelinear_per_tensor);
    tcase_add_test(tc, test_quantizelinear_per_axis_int8);
    tcase_add_test(tc, test_dequantizelinear_int32);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_test(tc, test_symmetric_grad_outside_range);
    tcase_add_test(tc, test_asymmetric_grad_outside_range);
    tcase_add_test(tc, test_symmetric_grad_estimator);
    tcase_add_test(tc, test_asymmetric_grad_estimator);
    tcase_add_test(tc, test_disabled_backward_passes_through);
    tcase_add_test(tc, test_fakequantize_grad);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_quantizer_param_shape_errors);
    tcase_add_test(tc, test_quantizer_attribute_errors);
    tcase_add_test(tc, test_quantizer_empty_range_fails_at_run_time);
    tcase_add_test(tc, test_fakequantize_errors);
    tcase_add_test(tc, test_quantizelinear_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(fake_quantize_suite());
}
