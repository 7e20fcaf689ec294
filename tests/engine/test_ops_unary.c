/* Element-wise math (unary.c): every op against libm, gradients by finite differences, the
 * predicates, Not, attributes and dtype errors. */
#include <math.h>
#include <string.h>

#include "nncwt.h"
#include "ops_net.h"

struct un_case {
    enum nncw_op op;
    double (*ref)(double);
    float lo, hi; /* input range: inside the function's domain, away from kinks */
    bool grad;
};

static double r_neg(double x)
{
    return -x;
}
static double r_recip(double x)
{
    return 1.0 / x;
}
static double r_sign(double x)
{
    return x > 0 ? 1 : x < 0 ? -1 : 0;
}
static double r_erf(double x)
{
    return erf(x);
}
static double r_softplus(double x)
{
    return log1p(exp(x));
}
static double r_softsign(double x)
{
    return x / (1 + fabs(x));
}
static double r_selu(double x)
{
    return 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (exp(x) - 1));
}
static double r_celu(double x)
{
    return x > 0 ? x : exp(x) - 1;
}
static double r_thresholded(double x)
{
    return x > 1.0 ? x : 0;
}
static double r_shrink(double x)
{
    return x < -0.5 ? x : x > 0.5 ? x : 0; /* bias 0 */
}

static const struct un_case cases[] = {
    {NNCW_OP_NEG, r_neg, -2, 2, true},
    {NNCW_OP_ABS, fabs, 0.1f, 2, true},
    {NNCW_OP_EXP, exp, -2, 2, true},
    {NNCW_OP_LOG, log, 0.2f, 3, true},
    {NNCW_OP_SQRT, sqrt, 0.2f, 3, true},
    {NNCW_OP_RECIPROCAL, r_recip, 0.5f, 2, true},
    {NNCW_OP_FLOOR, floor, -3, 3, true}, /* no gradient, but allowed on a training path */
    {NNCW_OP_CEIL, ceil, -3, 3, true},
    {NNCW_OP_SIGN, r_sign, 0.5f, 3, true},
    {NNCW_OP_SIN, sin, -3, 3, true},
    {NNCW_OP_COS, cos, -3, 3, true},
    {NNCW_OP_TAN, tan, -1, 1, true},
    {NNCW_OP_ASIN, asin, -0.8f, 0.8f, true},
    {NNCW_OP_ACOS, acos, -0.8f, 0.8f, true},
    {NNCW_OP_ATAN, atan, -3, 3, true},
    {NNCW_OP_SINH, sinh, -2, 2, true},
    {NNCW_OP_COSH, cosh, -2, 2, true},
    {NNCW_OP_ASINH, asinh, -2, 2, true},
    {NNCW_OP_ACOSH, acosh, 1.2f, 3, true},
    {NNCW_OP_ATANH, atanh, -0.8f, 0.8f, true},
    {NNCW_OP_ERF, r_erf, -2, 2, true},
    {NNCW_OP_SOFTPLUS, r_softplus, -3, 3, true},
    {NNCW_OP_SOFTSIGN, r_softsign, -3, 3, true},
    {NNCW_OP_SELU, r_selu, -2, 2, true},
    {NNCW_OP_CELU, r_celu, -2, 2, true},
    {NNCW_OP_THRESHOLDEDRELU, r_thresholded, 1.2f, 3, true},
    {NNCW_OP_SHRINK, r_shrink, 0.6f, 2, true},
};

START_TEST(test_unary_matches_libm)
{
    const struct un_case *c = &cases[_i];
    struct nncw_tensor x, y;
    nncwt_tensor_rand(&x, 2, (int64_t[]){3, 7}, c->lo, c->hi, 1 + (uint64_t)_i);
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(nncwt_run_op(c->op, 1, in, NULL, false, &y), NNCW_OK);
    for (int i = 0; i < 21; i++) {
        double want = c->ref(nncw_tensor_f32(&x)[i]), got = nncw_tensor_f32(&y)[i];
        if (!(fabs(got - want) <= 1e-5 + 1e-5 * fabs(want)))
            ck_abort_msg("%s(%g) = %g, expected %g", nncw_op_name(c->op), nncw_tensor_f32(&x)[i],
                         got, want);
    }
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&y);
}
END_TEST

START_TEST(test_unary_gradients)
{
    const struct un_case *c = &cases[_i];
    if (!c->grad)
        return;
    struct nncw_tensor x;
    nncwt_tensor_rand(&x, 2, (int64_t[]){2, 5}, c->lo, c->hi, 7 + (uint64_t)_i);
    struct nncwt_gradcheck spec = {
        .op = c->op, .n_in = 1, .in = {&x}, .eps = 1e-3, .atol = 2e-3, .rtol = 2e-2};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_round_is_half_to_even)
{
    struct nncw_tensor x, y;
    nncwt_tensor_from(&x, 1, (int64_t[]){6}, (float[]){0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f});
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_ROUND, 1, in, NULL, false, &y), NNCW_OK);
    const float want[] = {0, 2, 2, -0.0f, -2, 2};
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(nncw_tensor_f32(&y)[i], want[i]);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&y);
}
END_TEST

static void attrs_shrink(struct nncw_node *n)
{
    nncw_node_set_attr_float(n, "bias", 0.25f);
    nncw_node_set_attr_float(n, "lambd", 1.0f);
}

static void attrs_selu(struct nncw_node *n)
{
    nncw_node_set_attr_float(n, "alpha", 2.0f);
    nncw_node_set_attr_float(n, "gamma", 3.0f);
}

START_TEST(test_unary_attributes)
{
    struct nncw_tensor x, y;
    nncwt_tensor_from(&x, 1, (int64_t[]){4}, (float[]){-2, -0.5f, 0.5f, 2});
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_SHRINK, 1, in, attrs_shrink, false, &y), NNCW_OK);
    const float want[] = {-1.75f, 0, 0, 1.75f};
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq_tol(nncw_tensor_f32(&y)[i], want[i], 1e-6f);
    nncw_tensor_fini(&y);
    nncwt_assert_status(nncwt_run_op(NNCW_OP_SELU, 1, in, attrs_selu, false, &y), NNCW_OK);
    ck_assert_float_eq_tol(nncw_tensor_f32(&y)[3], 6.0f, 1e-6f);
    ck_assert_float_eq_tol(nncw_tensor_f32(&y)[0], (float)(3 * 2 * (exp(-2) - 1)), 1e-5f);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
}
END_TEST

static void attrs_inf_pos_only(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "detect_negative", 0);
}

START_TEST(test_predicates_and_not)
{
    struct nncw_tensor x, y, b;
    nncwt_tensor_from(&x, 1, (int64_t[]){4}, (float[]){NAN, INFINITY, -INFINITY, 1});
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_ISNAN, 1, in, NULL, false, &y), NNCW_OK);
    ck_assert_int_eq(y.dtype, NNCW_DTYPE_BOOL);
    ck_assert(memcmp(y.data, (uint8_t[]){1, 0, 0, 0}, 4) == 0);
    nncw_tensor_fini(&y);
    nncwt_assert_status(nncwt_run_op(NNCW_OP_ISINF, 1, in, NULL, false, &y), NNCW_OK);
    ck_assert(memcmp(y.data, (uint8_t[]){0, 1, 1, 0}, 4) == 0);
    nncw_tensor_fini(&y);
    nncwt_assert_status(nncwt_run_op(NNCW_OP_ISINF, 1, in, attrs_inf_pos_only, false, &y), NNCW_OK);
    ck_assert(memcmp(y.data, (uint8_t[]){0, 1, 0, 0}, 4) == 0);
    nncw_tensor_fini(&y);
    nncwt_assert_status(nncw_tensor_init(&b, NNCW_DTYPE_BOOL, 1, (int64_t[]){3}), NNCW_OK);
    memcpy(b.data, (uint8_t[]){1, 0, 1}, 3);
    const struct nncw_tensor *bin[] = {&b};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_NOT, 1, bin, NULL, false, &y), NNCW_OK);
    ck_assert(memcmp(y.data, (uint8_t[]){0, 1, 0}, 3) == 0);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&b);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_neg_abs_sign_on_int64)
{
    struct nncw_tensor x, y;
    nncwt_assert_status(nncw_tensor_init(&x, NNCW_DTYPE_I64, 1, (int64_t[]){4}), NNCW_OK);
    memcpy(x.data, (int64_t[]){-3, 0, 5, INT64_MIN}, 32);
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_NEG, 1, in, NULL, false, &y), NNCW_OK);
    ck_assert_int_eq(y.dtype, NNCW_DTYPE_I64);
    ck_assert(memcmp(y.data, (int64_t[]){3, 0, -5, INT64_MIN}, 32) == 0);
    nncw_tensor_fini(&y);
    nncwt_assert_status(nncwt_run_op(NNCW_OP_ABS, 1, in, NULL, false, &y), NNCW_OK);
    ck_assert(memcmp(y.data, (int64_t[]){3, 0, 5, INT64_MIN}, 32) == 0);
    nncw_tensor_fini(&y);
    nncwt_assert_status(nncwt_run_op(NNCW_OP_SIGN, 1, in, NULL, false, &y), NNCW_OK);
    ck_assert(memcmp(y.data, (int64_t[]){-1, 0, 1, -1}, 32) == 0);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_unary_dtype_errors_name_the_node)
{
    struct nncw_tensor i;
    nncwt_assert_status(nncw_tensor_init(&i, NNCW_DTYPE_I64, 1, (int64_t[]){3}), NNCW_OK);
    const struct nncw_tensor *in[] = {&i};
    nncwt_assert_status(opnet_infer_status(NNCW_OP_SQRT, "Net/sqrt", 1, in, OPNET_INPUT(0), NULL),
                        NNCW_ERR_DTYPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "Net/sqrt"));
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "int64"));
    nncwt_assert_status(opnet_infer_status(NNCW_OP_NOT, "Net/not", 1, in, OPNET_INPUT(0), NULL),
                        NNCW_ERR_DTYPE);
    nncw_tensor_fini(&i);
}
END_TEST

static Suite *unary_suite(void)
{
    Suite *s = suite_create("ops_unary");
    TCase *tc = tcase_create("values");
    int n = (int)(sizeof cases / sizeof cases[0]);
    tcase_add_loop_test(tc, test_unary_matches_libm, 0, n);
    tcase_add_test(tc, test_round_is_half_to_even);
    tcase_add_test(tc, test_unary_attributes);
    tcase_add_test(tc, test_predicates_and_not);
    tcase_add_test(tc, test_neg_abs_sign_on_int64);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_loop_test(tc, test_unary_gradients, 0, n);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_unary_dtype_errors_name_the_node);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(unary_suite());
}
