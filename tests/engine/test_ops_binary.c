/* Broadcasting element-wise ops (binary.c): arithmetic on floats and integers, the variadic
 * ops, comparisons, logic, Where and PRelu; gradients by finite differences; errors. */
#include <math.h>
#include <string.h>

#include "nncwt.h"
#include "ops_net.h"

static void i64_from(struct nncw_tensor *t, int ndim, const int64_t *shape, const int64_t *v)
{
    nncwt_assert_status(nncw_tensor_init(t, NNCW_DTYPE_I64, ndim, shape), NNCW_OK);
    memcpy(t->data, v, nncw_tensor_nbytes(t));
}

static void bool_from(struct nncw_tensor *t, int ndim, const int64_t *shape, const uint8_t *v)
{
    nncwt_assert_status(nncw_tensor_init(t, NNCW_DTYPE_BOOL, ndim, shape), NNCW_OK);
    memcpy(t->data, v, nncw_tensor_nbytes(t));
}

static void assert_f32(const struct nncw_tensor *y, int n, const float *want)
{
    ck_assert_int_eq(nncw_tensor_numel(y), n);
    for (int i = 0; i < n; i++)
        if (!(fabsf(nncw_tensor_f32(y)[i] - want[i]) <= 1e-6f * (1 + fabsf(want[i]))))
            ck_abort_msg("element %d: %g, expected %g", i, nncw_tensor_f32(y)[i], want[i]);
}

static void assert_i64(const struct nncw_tensor *y, int n, const int64_t *want)
{
    ck_assert_int_eq(y->dtype, NNCW_DTYPE_I64);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(((const int64_t *)y->data)[i], want[i]);
}

static void run2(enum nncw_op op, const struct nncw_tensor *a, const struct nncw_tensor *b,
                 nncwt_attr_fn attrs, struct nncw_tensor *y)
{
    const struct nncw_tensor *in[] = {a, b};
    nncwt_assert_status(nncwt_run_op(op, 2, in, attrs, false, y), NNCW_OK);
}

START_TEST(test_float_arithmetic_broadcasts)
{
    struct nncw_tensor a, b, y;
    nncwt_tensor_from(&a, 2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    nncwt_tensor_from(&b, 1, (int64_t[]){3}, (float[]){2, 4, 0.5f});
    run2(NNCW_OP_DIV, &a, &b, NULL, &y);
    assert_f32(&y, 6, (float[]){0.5f, 0.5f, 6, 2, 1.25f, 12});
    nncw_tensor_fini(&y);
    run2(NNCW_OP_POW, &a, &b, NULL, &y);
    assert_f32(&y, 6, (float[]){1, 16, sqrtf(3), 16, 625, sqrtf(6)});
    nncw_tensor_fini(&y);
    run2(NNCW_OP_MAX, &a, &b, NULL, &y);
    assert_f32(&y, 6, (float[]){2, 4, 3, 4, 5, 6});
    nncw_tensor_fini(&y);
    run2(NNCW_OP_MIN, &a, &b, NULL, &y);
    assert_f32(&y, 6, (float[]){1, 2, 0.5f, 2, 4, 0.5f});
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
}
END_TEST

START_TEST(test_variadic_sum_mean_three_inputs)
{
    struct nncw_tensor a, b, c, y;
    nncwt_tensor_from(&a, 2, (int64_t[]){2, 1}, (float[]){1, 2});
    nncwt_tensor_from(&b, 1, (int64_t[]){3}, (float[]){10, 20, 30});
    nncwt_tensor_from(&c, 0, NULL, (float[]){100});
    const struct nncw_tensor *in[] = {&a, &b, &c};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_SUM, 3, in, NULL, false, &y), NNCW_OK);
    assert_f32(&y, 6, (float[]){111, 121, 131, 112, 122, 132});
    nncw_tensor_fini(&y);
    nncwt_assert_status(nncwt_run_op(NNCW_OP_MEAN, 3, in, NULL, false, &y), NNCW_OK);
    assert_f32(&y, 6, (float[]){37, 121.0f / 3, 131.0f / 3, 112.0f / 3, 122.0f / 3, 44});
    nncw_tensor_fini(&y);
    nncwt_assert_status(nncwt_run_op(NNCW_OP_MAX, 1, in, NULL, false, &y), NNCW_OK);
    assert_f32(&y, 2, (float[]){1, 2});
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
    nncw_tensor_fini(&c);
}
END_TEST

START_TEST(test_max_min_propagate_nan)
{
    struct nncw_tensor a, b, y;
    nncwt_tensor_from(&a, 1, (int64_t[]){2}, (float[]){NAN, 1});
    nncwt_tensor_from(&b, 1, (int64_t[]){2}, (float[]){1, NAN});
    run2(NNCW_OP_MAX, &a, &b, NULL, &y);
    ck_assert(isnan(nncw_tensor_f32(&y)[0]) && isnan(nncw_tensor_f32(&y)[1]));
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
}
END_TEST

static void attrs_fmod(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "fmod", 1);
}

START_TEST(test_integer_div_and_mod)
{
    struct nncw_tensor a, b, y;
    i64_from(&a, 1, (int64_t[]){4}, (int64_t[]){7, -7, 7, -7});
    i64_from(&b, 1, (int64_t[]){4}, (int64_t[]){2, 2, -2, -2});
    run2(NNCW_OP_DIV, &a, &b, NULL, &y);
    assert_i64(&y, 4, (int64_t[]){3, -3, -3, 3}); /* truncation */
    nncw_tensor_fini(&y);
    run2(NNCW_OP_MOD, &a, &b, NULL, &y);
    assert_i64(&y, 4, (int64_t[]){1, 1, -1, -1}); /* the divisor's sign */
    nncw_tensor_fini(&y);
    run2(NNCW_OP_MOD, &a, &b, attrs_fmod, &y);
    assert_i64(&y, 4, (int64_t[]){1, -1, 1, -1}); /* the dividend's sign */
    nncw_tensor_fini(&y);
    /* INT64_MIN / -1 wraps instead of trapping */
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
    i64_from(&a, 1, (int64_t[]){1}, (int64_t[]){INT64_MIN});
    i64_from(&b, 1, (int64_t[]){1}, (int64_t[]){-1});
    run2(NNCW_OP_DIV, &a, &b, NULL, &y);
    assert_i64(&y, 1, (int64_t[]){INT64_MIN});
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
}
END_TEST

START_TEST(test_integer_division_by_zero_is_an_error)
{
    struct nncw_tensor a, b, y;
    i64_from(&a, 1, (int64_t[]){2}, (int64_t[]){7, 1});
    i64_from(&b, 1, (int64_t[]){2}, (int64_t[]){2, 0});
    const struct nncw_tensor *in[] = {&a, &b};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_DIV, 2, in, NULL, false, &y), NNCW_ERR_NUMERIC);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "division by zero"));
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
}
END_TEST

START_TEST(test_comparisons_and_logic)
{
    struct nncw_tensor a, b, y, p, q;
    nncwt_tensor_from(&a, 1, (int64_t[]){3}, (float[]){1, 2, 3});
    nncwt_tensor_from(&b, 0, NULL, (float[]){2});
    const enum nncw_op ops[] = {NNCW_OP_EQUAL, NNCW_OP_LESS, NNCW_OP_GREATER, NNCW_OP_LESSOREQUAL,
                                NNCW_OP_GREATEROREQUAL};
    const uint8_t want[][3] = {{0, 1, 0}, {1, 0, 0}, {0, 0, 1}, {1, 1, 0}, {0, 1, 1}};
    for (int k = 0; k < 5; k++) {
        run2(ops[k], &a, &b, NULL, &y);
        ck_assert_int_eq(y.dtype, NNCW_DTYPE_BOOL);
        ck_assert_msg(memcmp(y.data, want[k], 3) == 0, "%s", nncw_op_name(ops[k]));
        nncw_tensor_fini(&y);
    }
    bool_from(&p, 1, (int64_t[]){4}, (uint8_t[]){0, 0, 1, 1});
    bool_from(&q, 1, (int64_t[]){4}, (uint8_t[]){0, 1, 0, 1});
    run2(NNCW_OP_AND, &p, &q, NULL, &y);
    ck_assert(memcmp(y.data, (uint8_t[]){0, 0, 0, 1}, 4) == 0);
    nncw_tensor_fini(&y);
    run2(NNCW_OP_OR, &p, &q, NULL, &y);
    ck_assert(memcmp(y.data, (uint8_t[]){0, 1, 1, 1}, 4) == 0);
    nncw_tensor_fini(&y);
    run2(NNCW_OP_XOR, &p, &q, NULL, &y);
    ck_assert(memcmp(y.data, (uint8_t[]){0, 1, 1, 0}, 4) == 0);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
    nncw_tensor_fini(&p);
    nncw_tensor_fini(&q);
}
END_TEST

START_TEST(test_where_and_prelu)
{
    struct nncw_tensor c, x, z, y, slope;
    bool_from(&c, 2, (int64_t[]){2, 1}, (uint8_t[]){1, 0});
    nncwt_tensor_from(&x, 1, (int64_t[]){3}, (float[]){1, 2, 3});
    nncwt_tensor_from(&z, 0, NULL, (float[]){-1});
    const struct nncw_tensor *in[] = {&c, &x, &z};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_WHERE, 3, in, NULL, false, &y), NNCW_OK);
    assert_f32(&y, 6, (float[]){1, 2, 3, -1, -1, -1});
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
    nncwt_tensor_from(&x, 3, (int64_t[]){1, 2, 2}, (float[]){-1, 2, -3, 4});
    nncwt_tensor_from(&slope, 2, (int64_t[]){2, 1}, (float[]){0.5f, 0.25f});
    run2(NNCW_OP_PRELU, &x, &slope, NULL, &y);
    assert_f32(&y, 4, (float[]){-0.5f, 2, -0.75f, 4});
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&c);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&z);
    nncw_tensor_fini(&slope);
}
END_TEST

/* ---- gradients ---- */

START_TEST(test_binary_gradients)
{
    const enum nncw_op ops[] = {NNCW_OP_DIV, NNCW_OP_POW,  NNCW_OP_MAX,  NNCW_OP_MIN,
                                NNCW_OP_SUM, NNCW_OP_MEAN, NNCW_OP_PRELU};
    enum nncw_op op = ops[_i];
    struct nncw_tensor a, b;
    /* positive, distinct values: no kinks of Max/Min, Pow's base > 0 */
    nncwt_tensor_rand(&a, 3, (int64_t[]){2, 3, 4}, 0.5f, 1.5f, 1);
    nncwt_tensor_rand(&b, 2, (int64_t[]){3, 1}, 0.6f, 1.4f, 2);
    if (op == NNCW_OP_PRELU) /* x across zero, slope per channel */
        for (int i = 0; i < 24; i++)
            nncw_tensor_f32(&a)[i] -= 1.0f;
    struct nncwt_gradcheck spec = {
        .op = op, .n_in = 2, .in = {&a, &b}, .eps = 1e-3, .atol = 2e-3, .rtol = 2e-2};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
}
END_TEST

START_TEST(test_where_gradient)
{
    struct nncw_tensor c, x, z;
    bool_from(&c, 2, (int64_t[]){2, 3}, (uint8_t[]){1, 0, 1, 0, 0, 1});
    nncwt_tensor_rand(&x, 2, (int64_t[]){2, 3}, -1, 1, 3);
    nncwt_tensor_rand(&z, 1, (int64_t[]){3}, -1, 1, 4);
    struct nncwt_gradcheck spec = {.op = NNCW_OP_WHERE, .n_in = 3, .in = {&c, &x, &z}};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&c);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&z);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_binary_errors_name_the_node)
{
    struct nncw_tensor a, b, i;
    nncwt_tensor_rand(&a, 2, (int64_t[]){2, 3}, -1, 1, 1);
    nncwt_tensor_rand(&b, 1, (int64_t[]){4}, -1, 1, 2);
    nncwt_assert_status(nncw_tensor_init(&i, NNCW_DTYPE_I64, 1, (int64_t[]){3}), NNCW_OK);
    const struct nncw_tensor *ab[] = {&a, &b}, *ai[] = {&a, &i};
    nncwt_assert_status(opnet_infer_status(NNCW_OP_DIV, "Net/div", 2, ab, 3, NULL), NNCW_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "Net/div"));
    nncwt_assert_status(opnet_infer_status(NNCW_OP_MAX, "Net/max", 2, ai, 3, NULL), NNCW_ERR_DTYPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "Net/max"));
    /* PRelu's slope broadcasts to x, not the other way */
    const struct nncw_tensor *ba[] = {&b, &a};
    nncwt_assert_status(opnet_infer_status(NNCW_OP_PRELU, "Net/prelu", 2, ba, 3, NULL),
                        NNCW_ERR_SHAPE);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
    nncw_tensor_fini(&i);
}
END_TEST

static Suite *binary_suite(void)
{
    Suite *s = suite_create("ops_binary");
    TCase *tc = tcase_create("values");
    tcase_add_test(tc, test_float_arithmetic_broadcasts);
    tcase_add_test(tc, test_variadic_sum_mean_three_inputs);
    tcase_add_test(tc, test_max_min_propagate_nan);
    tcase_add_test(tc, test_integer_div_and_mod);
    tcase_add_test(tc, test_comparisons_and_logic);
    tcase_add_test(tc, test_where_and_prelu);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_loop_test(tc, test_binary_gradients, 0, 7);
    tcase_add_test(tc, test_where_gradient);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_integer_division_by_zero_is_an_error);
    tcase_add_test(tc, test_binary_errors_name_the_node);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(binary_suite());
}
