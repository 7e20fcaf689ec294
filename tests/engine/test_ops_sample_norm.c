/* Per-sample normalisations (sample_norm.c): InstanceNormalization, LayerNormalization and LRN
 * against direct computations, their gradients, and errors. */
#include <math.h>
#include <string.h>

#include "nncwt.h"
#include "ops_net.h"

/* normalises n values with stride 1 into out: (x - mean) / sqrt(var + eps) */
static void normalize_ref(const float *x, int n, double eps, double *out)
{
    double m = 0, v = 0;
    for (int i = 0; i < n; i++)
        m += x[i];
    m /= n;
    for (int i = 0; i < n; i++)
        v += (x[i] - m) * (x[i] - m);
    v /= n;
    for (int i = 0; i < n; i++)
        out[i] = (x[i] - m) / sqrt(v + eps);
}

START_TEST(test_instancenorm_values_and_gradient)
{
    struct nncw_tensor x, s, b, y;
    nncwt_tensor_rand(&x, 4, (int64_t[]){2, 3, 2, 3}, -2, 2, 1);
    nncwt_tensor_rand(&s, 1, (int64_t[]){3}, 0.5f, 1.5f, 2);
    nncwt_tensor_rand(&b, 1, (int64_t[]){3}, -1, 1, 3);
    const struct nncw_tensor *in[] = {&x, &s, &b};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_INSTANCENORM, 3, in, NULL, false, &y), NNCW_OK);
    for (int p = 0; p < 6; p++) {
        double z[6];
        normalize_ref(nncw_tensor_f32(&x) + p * 6, 6, 1e-5, z);
        for (int i = 0; i < 6; i++) {
            double want = z[i] * nncw_tensor_f32(&s)[p % 3] + nncw_tensor_f32(&b)[p % 3];
            ck_assert_float_eq_tol(nncw_tensor_f32(&y)[p * 6 + i], (float)want, 1e-5f);
        }
    }
    nncw_tensor_fini(&y);
    struct nncwt_gradcheck spec = {.op = NNCW_OP_INSTANCENORM,
                                   .n_in = 3,
                                   .in = {&x, &s, &b},
                                   .eps = 1e-3,
                                   .atol = 2e-3,
                                   .rtol = 2e-2};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&b);
}
END_TEST

static void attrs_axis_m2(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "axis", -2);
}

START_TEST(test_layernorm_values_outputs_and_gradient)
{
    struct nncw_tensor x, s, b;
    nncwt_tensor_rand(&x, 3, (int64_t[]){2, 3, 4}, -2, 2, 1);
    nncwt_tensor_rand(&s, 2, (int64_t[]){3, 4}, 0.5f, 1.5f, 2);
    nncwt_tensor_rand(&b, 1, (int64_t[]){4}, -1, 1, 3); /* broadcast over the 3 */
    const struct nncw_tensor *in[] = {&x, &s, &b};
    struct opnet net;
    opnet_build(&net, NNCW_OP_LAYERNORM, "Net/ln", 3, in, 0, 2, attrs_axis_m2);
    nncwt_assert_status(opnet_exec(&net, false, false), NNCW_OK);
    nncwt_assert_status(opnet_forward(&net), NNCW_OK);
    const struct nncw_tensor *y = nncw_exec_get_output(net.ex, 0);
    const struct nncw_tensor *mean = nncw_exec_get_output(net.ex, 1);
    ck_assert_int_eq(mean->ndim, 3);
    ck_assert_int_eq(mean->shape[1], 1);
    for (int g = 0; g < 2; g++) {
        double z[12], m = 0;
        normalize_ref(nncw_tensor_f32(&x) + g * 12, 12, 1e-5, z);
        for (int i = 0; i < 12; i++) {
            m += nncw_tensor_f32(&x)[g * 12 + i] / 12.0;
            double want = z[i] * nncw_tensor_f32(&s)[i] + nncw_tensor_f32(&b)[i % 4];
            ck_assert_float_eq_tol(nncw_tensor_f32(y)[g * 12 + i], (float)want, 1e-5f);
        }
        ck_assert_float_eq_tol(nncw_tensor_f32(mean)[g], (float)m, 1e-6f);
    }
    opnet_free(&net);
    struct nncwt_gradcheck spec = {.op = NNCW_OP_LAYERNORM,
                                   .n_in = 3,
                                   .in = {&x, &s, &b},
                                   .attrs = attrs_axis_m2,
                                   .eps = 1e-3,
                                   .atol = 2e-3,
                                   .rtol = 2e-2};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&b);
}
END_TEST

static void attrs_lrn(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "size", 3);
    nncw_node_set_attr_float(n, "alpha", 0.5f);
    nncw_node_set_attr_float(n, "beta", 0.75f);
    nncw_node_set_attr_float(n, "bias", 2.0f);
}

START_TEST(test_lrn_values_and_gradient)
{
    struct nncw_tensor x, y;
    nncwt_tensor_rand(&x, 4, (int64_t[]){1, 5, 2, 2}, -2, 2, 1);
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_LRN, 1, in, attrs_lrn, false, &y), NNCW_OK);
    const float *xv = nncw_tensor_f32(&x);
    for (int c = 0; c < 5; c++)
        for (int i = 0; i < 4; i++) {
            double sq = 0;
            for (int k = c - 1; k <= c + 1; k++)
                if (k >= 0 && k < 5)
                    sq += xv[k * 4 + i] * xv[k * 4 + i];
            double want = xv[c * 4 + i] / pow(2.0 + 0.5 / 3 * sq, 0.75);
            ck_assert_float_eq_tol(nncw_tensor_f32(&y)[c * 4 + i], (float)want, 1e-5f);
        }
    nncw_tensor_fini(&y);
    struct nncwt_gradcheck spec = {.op = NNCW_OP_LRN,
                                   .n_in = 1,
                                   .in = {&x},
                                   .attrs = attrs_lrn,
                                   .eps = 1e-3,
                                   .atol = 2e-3,
                                   .rtol = 2e-2};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_sample_norm_errors)
{
    struct nncw_tensor x, s;
    nncwt_tensor_rand(&x, 3, (int64_t[]){2, 3, 4}, -1, 1, 1);
    nncwt_tensor_rand(&s, 1, (int64_t[]){4}, -1, 1, 2);
    const struct nncw_tensor *in[] = {&x, &s, &s};
    nncwt_assert_status(opnet_infer_status(NNCW_OP_INSTANCENORM, "Net/in", 3, in, 1, NULL),
                        NNCW_ERR_SHAPE);
    assert_error_mentions("Net/in", "[3]");
    nncwt_assert_status(opnet_infer_status(NNCW_OP_LRN, "Net/lrn", 1, in, 1, NULL),
                        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("Net/lrn", "size");
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
}
END_TEST

static Suite *sample_norm_suite(void)
{
    Suite *s = suite_create("ops_sample_norm");
    TCase *tc = tcase_create("values");
    tcase_add_test(tc, test_instancenorm_values_and_gradient);
    tcase_add_test(tc, test_layernorm_values_outputs_and_gradient);
    tcase_add_test(tc, test_lrn_values_and_gradient);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_sample_norm_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(sample_norm_suite());
}
