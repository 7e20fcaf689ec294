#include <math.h>
#include <string.h>

#include "nncwt.h"
#include "ops_net.h"

/* runs a one-input activation on literal values and compares with expected values */
static void check_values(enum nncw_op op, nncwt_attr_fn attrs, int n, const float *x,
                         const float *want, double tol)
{
    struct nncw_tensor in, y, w;
    nncwt_tensor_from(&in, 1, (int64_t[]){n}, x);
    nncwt_tensor_from(&w, 1, (int64_t[]){n}, want);
    const struct nncw_tensor *ins[] = {&in};
    nncwt_assert_status(nncwt_run_op(op, 1, ins, attrs, false, &y), NNCW_OK);
    nncwt_assert_tensor_near(&y, &w, tol, 0);
    nncw_tensor_fini(&in);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&w);
}

/* ---- forward ---- */

START_TEST(test_relu_values)
{
    check_values(NNCW_OP_RELU, NULL, 4, (float[]){-1, 0, 2, -0.5f}, (float[]){0, 0, 2, 0}, 0);
}
END_TEST

static void attrs_alpha_half(struct nncw_node *n)
{
    nncw_node_set_attr_float(n, "alpha", 0.5f);
}

START_TEST(test_leakyrelu_values)
{
    check_values(NNCW_OP_LEAKYRELU, NULL, 3, (float[]){-2, 0, 3}, (float[]){-0.02f, 0, 3}, 1e-7);
    check_values(NNCW_OP_LEAKYRELU, attrs_alpha_half, 2, (float[]){-2, 3}, (float[]){-1, 3}, 0);
}
END_TEST

START_TEST(test_elu_values)
{
    check_values(NNCW_OP_ELU, NULL, 3, (float[]){-1, 0, 2}, (float[]){expf(-1) - 1, 0, 2}, 1e-6);
    check_values(NNCW_OP_ELU, attrs_alpha_half, 2, (float[]){-2, 2},
                 (float[]){0.5f * (expf(-2) - 1), 2}, 1e-6);
}
END_TEST

START_TEST(test_sigmoid_values_and_extremes)
{
    check_values(NNCW_OP_SIGMOID, NULL, 5, (float[]){0, 1, -1, 100, -100},
                 (float[]){0.5f, 0.7310586f, 0.2689414f, 1, 0}, 1e-6);
}
END_TEST

START_TEST(test_tanh_values)
{
    check_values(NNCW_OP_TANH, NULL, 3, (float[]){0, 0.5f, -20}, (float[]){0, tanhf(0.5f), -1},
                 1e-6);
}
END_TEST

static void attrs_hardsigmoid(struct nncw_node *n)
{
    nncw_node_set_attr_float(n, "alpha", 0.5f);
    nncw_node_set_attr_float(n, "beta", 0.25f);
}

START_TEST(test_hardsigmoid_values)
{
    /* defaults alpha 0.2, beta 0.5 */
    check_values(NNCW_OP_HARDSIGMOID, NULL, 4, (float[]){1, -3, 3, 0}, (float[]){0.7f, 0, 1, 0.5f},
                 1e-6);
    check_values(NNCW_OP_HARDSIGMOID, attrs_hardsigmoid, 3, (float[]){1, -1, 2},
                 (float[]){0.75f, 0, 1}, 1e-6);
}
END_TEST

START_TEST(test_hardswish_values)
{
    /* x * clamp(x / 6 + 1/2, 0, 1) */
    check_values(NNCW_OP_HARDSWISH, NULL, 4, (float[]){-4, 4, 1, -1},
                 (float[]){0, 4, 2.0f / 3.0f, -1.0f / 3.0f}, 1e-6);
}
END_TEST

START_TEST(test_swish_values)
{
    check_values(NNCW_OP_SWISH, NULL, 3, (float[]){0, 1, -2},
                 (float[]){0, 0.7310586f, -2 * 0.1192029f}, 1e-6);
}
END_TEST

START_TEST(test_clip_bounds_as_inputs_relu6)
{
    struct nncw_tensor x, lo, hi, y, want;
    nncwt_tensor_from(&x, 1, (int64_t[]){4}, (float[]){-1, 3, 7, 6});
    nncwt_tensor_from(&lo, 0, NULL, (float[]){0});
    nncwt_tensor_from(&hi, 0, NULL, (float[]){6});
    nncwt_tensor_from(&want, 1, (int64_t[]){4}, (float[]){0, 3, 6, 6});
    const struct nncw_tensor *in[] = {&x, &lo, &hi};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_CLIP, 3, in, NULL, false, &y), NNCW_OK);
    nncwt_assert_tensor_near(&y, &want, 0, 0);
    nncw_tensor_fini(&y);
    /* min missing: only the upper bound applies */
    const struct nncw_tensor *in2[] = {&x, NULL, &hi};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_CLIP, 3, in2, NULL, false, &y), NNCW_OK);
    ck_assert_float_eq(nncw_tensor_f32(&y)[0], -1);
    ck_assert_float_eq(nncw_tensor_f32(&y)[2], 6);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&lo);
    nncw_tensor_fini(&hi);
    nncw_tensor_fini(&want);
}
END_TEST

static void attrs_clip_opset6(struct nncw_node *n)
{
    nncw_node_set_attr_float(n, "min", -1.0f);
    nncw_node_set_attr_float(n, "max", 1.0f);
}

START_TEST(test_clip_bounds_as_attributes)
{
    check_values(NNCW_OP_CLIP, attrs_clip_opset6, 4, (float[]){-3, -0.5f, 0.5f, 3},
                 (float[]){-1, -0.5f, 0.5f, 1}, 0);
    /* no bounds at all: the identity */
    check_values(NNCW_OP_CLIP, NULL, 2, (float[]){-1e30f, 1e30f}, (float[]){-1e30f, 1e30f}, 0);
}
END_TEST

/* ---- gradients ---- */

/* random values in [-lim, lim) moved at least 0.1 away from every kink */
static void rand_away(struct nncw_tensor *t, int ndim, const int64_t *shape, float lim,
                      uint64_t seed, int n_kinks, const float *kinks)
{
    nncwt_tensor_rand(t, ndim, shape, -lim, lim, seed);
    float *x = nncw_tensor_f32(t);
    for (int64_t i = 0; i < nncw_tensor_numel(t); i++)
        for (int k = 0; k < n_kinks; k++)
            if (fabsf(x[i] - kinks[k]) < 0.1f)
                x[i] = kinks[k] + (x[i] < kinks[k] ? -0.1f : 0.1f) + (x[i] - kinks[k]);
}

static void check_unary_grad(enum nncw_op op, nncwt_attr_fn attrs, float lim, int n_kinks,
                             const float *kinks)
{
    static const int64_t shapes[][3] = {{3, 5, 7}, {1, 1, 13}, {2, 9, 1}};
    for (int s = 0; s < 3; s++) {
        struct nncw_tensor x;
        rand_away(&x, 3, shapes[s], lim, 100 + (uint64_t)s, n_kinks, kinks);
        struct nncwt_gradcheck spec = {.op = op,
                                       .n_in = 1,
                                       .in = {&x},
                                       .attrs = attrs,
                                       .eps = 1e-3,
                                       .atol = 2e-3,
                                       .rtol = 2e-2};
        nncwt_check_grad(&spec);
        nncw_tensor_fini(&x);
    }
}

START_TEST(test_relu_grad)
{
    check_unary_grad(NNCW_OP_RELU, NULL, 2, 1, (float[]){0});
}
END_TEST

START_TEST(test_leakyrelu_grad)
{
    check_unary_grad(NNCW_OP_LEAKYRELU, NULL, 2, 1, (float[]){0});
    check_unary_grad(NNCW_OP_LEAKYRELU, attrs_alpha_half, 2, 1, (float[]){0});
}
END_TEST

START_TEST(test_elu_grad)
{
    check_unary_grad(NNCW_OP_ELU, attrs_alpha_half, 3, 1, (float[]){0});
}
END_TEST

START_TEST(test_smooth_grads)
{
    check_unary_grad(NNCW_OP_SIGMOID, NULL, 4, 0, NULL);
    check_unary_grad(NNCW_OP_TANH, NULL, 3, 0, NULL);
    check_unary_grad(NNCW_OP_SWISH, NULL, 4, 0, NULL);
}
END_TEST

START_TEST(test_hard_grads)
{
    check_unary_grad(NNCW_OP_HARDSIGMOID, NULL, 4, 2, (float[]){-2.5f, 2.5f});
    check_unary_grad(NNCW_OP_HARDSIGMOID, attrs_hardsigmoid, 3, 2, (float[]){-0.5f, 1.5f});
    check_unary_grad(NNCW_OP_HARDSWISH, NULL, 5, 2, (float[]){-3, 3});
}
END_TEST

START_TEST(test_clip_grad_including_bounds)
{
    check_unary_grad(NNCW_OP_CLIP, attrs_clip_opset6, 2, 2, (float[]){-1, 1});
    /* min and max as trainable inputs get the gradient of the clipped elements */
    struct nncw_tensor x, lo, hi;
    rand_away(&x, 2, (int64_t[]){5, 7}, 3, 9, 2, (float[]){-0.5f, 1.5f});
    nncwt_tensor_from(&lo, 0, NULL, (float[]){-0.5f});
    nncwt_tensor_from(&hi, 1, (int64_t[]){1}, (float[]){1.5f});
    struct nncwt_gradcheck spec = {.op = NNCW_OP_CLIP,
                                   .n_in = 3,
                                   .in = {&x, &lo, &hi},
                                   .eps = 1e-3,
                                   .atol = 2e-3,
                                   .rtol = 2e-2};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&lo);
    nncw_tensor_fini(&hi);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_integer_input_is_rejected)
{
    struct nncw_tensor x;
    nncwt_assert_status(nncw_tensor_init(&x, NNCW_DTYPE_I64, 1, (int64_t[]){3}), NNCW_OK);
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(opnet_infer_status(NNCW_OP_RELU, "Net/relu1", 1, in, OPNET_INPUT(0), NULL),
                        NNCW_ERR_DTYPE);
    assert_error_mentions("relu 'Net/relu1'", "int64");
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_clip_bound_must_be_scalar)
{
    struct nncw_tensor x, lo;
    nncwt_tensor_rand(&x, 2, (int64_t[]){2, 3}, -1, 1, 1);
    nncwt_tensor_rand(&lo, 1, (int64_t[]){3}, -1, 1, 2);
    const struct nncw_tensor *in[] = {&x, &lo};
    nncwt_assert_status(opnet_infer_status(NNCW_OP_CLIP, "Net/relu6", 2, in, OPNET_INPUT(0), NULL),
                        NNCW_ERR_SHAPE);
    assert_error_mentions("clip 'Net/relu6'", "min", "[3]");
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&lo);
}
END_TEST

static Suite *activation_suite(void)
{
    Suite *s = suite_create("ops_activation");
    TCase *tc = tcase_create("forward");
    tcase_add_test(tc, test_relu_values);
    tcase_add_test(tc, test_leakyrelu_values);
    tcase_add_test(tc, test_elu_values);
    tcase_add_test(tc, test_sigmoid_values_and_extremes);
    tcase_add_test(tc, test_tanh_values);
    tcase_add_test(tc, test_hardsigmoid_values);
    tcase_add_test(tc, test_hardswish_values);
    tcase_add_test(tc, test_swish_values);
    tcase_add_test(tc, test_clip_bounds_as_inputs_relu6);
    tcase_add_test(tc, test_clip_bounds_as_attributes);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_test(tc, test_relu_grad);
    tcase_add_test(tc, test_leakyrelu_grad);
    tcase_add_test(tc, test_elu_grad);
    tcase_add_test(tc, test_smooth_grads);
    tcase_add_test(tc, test_hard_grads);
    tcase_add_test(tc, test_clip_grad_including_bounds);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_integer_input_is_rejected);
    tcase_add_test(tc, test_clip_bound_must_be_scalar);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(activation_suite());
}
