#include <math.h>

#include "nncwt.h"
#include "ops_net.h"

static void attrs_axis0(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "axis", 0);
}

static void attrs_axis1(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "axis", 1);
}

static void attrs_axis3(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "axis", 3);
}

static void run(enum nncw_op op, const struct nncw_tensor *x, nncwt_attr_fn attrs,
                struct nncw_tensor *y)
{
    const struct nncw_tensor *in[] = {x};
    nncwt_assert_status(nncwt_run_op(op, 1, in, attrs, false, y), NNCW_OK);
}

/* ---- forward ---- */

START_TEST(test_softmax_values_last_axis)
{
    struct nncw_tensor x, y, want;
    nncwt_tensor_from(&x, 2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 0, 0, 0});
    run(NNCW_OP_SOFTMAX, &x, NULL, &y);
    float e1 = expf(1), e2 = expf(2), e3 = expf(3), s = e1 + e2 + e3;
    nncwt_tensor_from(&want, 2, (int64_t[]){2, 3},
                      (float[]){e1 / s, e2 / s, e3 / s, 1.0f / 3, 1.0f / 3, 1.0f / 3});
    nncwt_assert_tensor_near(&y, &want, 1e-6, 1e-6);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
    run(NNCW_OP_LOGSOFTMAX, &x, NULL, &y);
    nncwt_tensor_from(
        &want, 2, (int64_t[]){2, 3},
        (float[]){1 - logf(s), 2 - logf(s), 3 - logf(s), -logf(3), -logf(3), -logf(3)});
    nncwt_assert_tensor_near(&y, &want, 1e-5, 1e-6);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_softmax_is_stable_for_large_inputs)
{
    struct nncw_tensor x, y;
    nncwt_tensor_from(&x, 1, (int64_t[]){3}, (float[]){1000, 1001, -1000});
    run(NNCW_OP_SOFTMAX, &x, NULL, &y);
    ck_assert_float_eq_tol(nncw_tensor_f32(&y)[0], 0.2689414f, 1e-6);
    ck_assert_float_eq_tol(nncw_tensor_f32(&y)[1], 0.7310586f, 1e-6);
    ck_assert_float_eq(nncw_tensor_f32(&y)[2], 0.0f);
    nncw_tensor_fini(&y);
    run(NNCW_OP_LOGSOFTMAX, &x, NULL, &y);
    ck_assert_float_eq_tol(nncw_tensor_f32(&y)[1], -0.3132617f, 1e-5);
    ck_assert_float_eq_tol(nncw_tensor_f32(&y)[2], -2001.3132617f, 1e-2);
    ck_assert(isfinite(nncw_tensor_f32(&y)[2]));
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
    /* the same along axis 0, where columns are strided */
    struct nncw_tensor x2, want;
    nncwt_tensor_from(&x2, 2, (int64_t[]){2, 2}, (float[]){1000, -5, 1001, 5});
    run(NNCW_OP_LOGSOFTMAX, &x2, attrs_axis0, &y);
    nncwt_tensor_from(&want, 2, (int64_t[]){2, 2},
                      (float[]){-1.3132617f, -10.0000454f, -0.3132617f, -0.0000454f});
    nncwt_assert_tensor_near(&y, &want, 1e-5, 1e-6);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
    nncw_tensor_fini(&x2);
}
END_TEST

START_TEST(test_softmax_middle_axis_normalises_that_axis_only)
{
    /* opset 13: axis 1 of [2, 3, 4] sums to one along dimension 1 for every (i, k), unlike
     * opset 11's flattening of dimensions 1.. into one row */
    struct nncw_tensor x, y;
    nncwt_tensor_rand(&x, 3, (int64_t[]){2, 3, 4}, -3, 3, 1);
    run(NNCW_OP_SOFTMAX, &x, attrs_axis1, &y);
    const float *v = nncw_tensor_f32(&y), *xv = nncw_tensor_f32(&x);
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++) {
            double sum = 0, denom = 0;
            for (int j = 0; j < 3; j++) {
                sum += v[i * 12 + j * 4 + k];
                denom += exp(xv[i * 12 + j * 4 + k]);
            }
            ck_assert_float_eq_tol(sum, 1.0, 1e-6);
            ck_assert_float_eq_tol(v[i * 12 + 4 + k], exp(xv[i * 12 + 4 + k]) / denom, 1e-6);
        }
    nncw_tensor_fini(&y);
    /* axis 0 of [2, 2] */
    struct nncw_tensor x2, want;
    nncwt_tensor_from(&x2, 2, (int64_t[]){2, 2}, (float[]){0, 5, 0, 5});
    run(NNCW_OP_SOFTMAX, &x2, attrs_axis0, &y);
    nncwt_tensor_from(&want, 2, (int64_t[]){2, 2}, (float[]){0.5f, 0.5f, 0.5f, 0.5f});
    nncwt_assert_tensor_near(&y, &want, 1e-7, 0);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&x2);
}
END_TEST

/* ---- gradients ---- */

static void check_grad(enum nncw_op op, int ndim, const int64_t *shape, nncwt_attr_fn attrs)
{
    struct nncw_tensor x;
    nncwt_tensor_rand(&x, ndim, shape, -2, 2, 3);
    struct nncwt_gradcheck spec = {
        .op = op, .n_in = 1, .in = {&x}, .attrs = attrs, .eps = 1e-3, .atol = 1e-3, .rtol = 1e-2};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
}

START_TEST(test_softmax_grad)
{
    check_grad(NNCW_OP_SOFTMAX, 2, (int64_t[]){3, 7}, NULL);
    check_grad(NNCW_OP_SOFTMAX, 3, (int64_t[]){2, 5, 3}, attrs_axis1);
    check_grad(NNCW_OP_SOFTMAX, 1, (int64_t[]){9}, attrs_axis0);
}
END_TEST

START_TEST(test_logsoftmax_grad)
{
    check_grad(NNCW_OP_LOGSOFTMAX, 2, (int64_t[]){3, 7}, NULL);
    check_grad(NNCW_OP_LOGSOFTMAX, 3, (int64_t[]){2, 5, 3}, attrs_axis1);
    check_grad(NNCW_OP_LOGSOFTMAX, 4, (int64_t[]){1, 3, 2, 2}, attrs_axis0);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_axis_out_of_range)
{
    struct nncw_tensor x;
    nncwt_tensor_rand(&x, 2, (int64_t[]){2, 3}, -1, 1, 1);
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_SOFTMAX, "Net/softmax", 1, in, OPNET_INPUT(0), attrs_axis3),
        NNCW_ERR_SHAPE);
    assert_error_mentions("softmax 'Net/softmax'", "axis 3", "[2, 3]");
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_LOGSOFTMAX, "Net/logp", 1, in, OPNET_INPUT(0), attrs_axis3),
        NNCW_ERR_SHAPE);
    assert_error_mentions("logsoftmax 'Net/logp'");
    nncw_tensor_fini(&x);
}
END_TEST

static Suite *softmax_suite(void)
{
    Suite *s = suite_create("ops_softmax");
    TCase *tc = tcase_create("forward");
    tcase_add_test(tc, test_softmax_values_last_axis);
    tcase_add_test(tc, test_softmax_is_stable_for_large_inputs);
    tcase_add_test(tc, test_softmax_middle_axis_normalises_that_axis_only);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_test(tc, test_softmax_grad);
    tcase_add_test(tc, test_logsoftmax_grad);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_axis_out_of_range);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(softmax_suite());
}
