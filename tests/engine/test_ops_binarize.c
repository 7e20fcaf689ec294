/* The binarization ops: XNOR and DoReFa weights against hand-computed cases, their
 * straight-through gradient, activation binarization's forward, NNCF's estimator for x, scale
 * and threshold (against a plain re-statement of the rule, and by finite differences where the
 * estimator is the exact derivative), the disabled identity, scale initialisation and errors. */
#include <math.h>
#include <string.h>

#include "graph/exec.h"
#include "nncwt.h"
#include "ops/binarize.h"

static void attrs_disabled(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "enabled", 0);
}

/* one op over trainable parameters in[0 .. n_in): forward, then backward of grad g */
struct one_op {
    struct nncw_graph *g;
    struct nncw_exec *ex;
    int in[3];
};

static void one_op_run(struct one_op *b, enum nncw_op op, int n_in,
                       const struct nncw_tensor *const in[], nncwt_attr_fn attrs,
                       const struct nncw_tensor *g)
{
    nncwt_assert_status(nncw_graph_new(&b->g), NNCW_OK);
    for (int i = 0; i < n_in; i++) {
        char name[8] = {'p', (char)('0' + i), 0};
        nncwt_assert_status(nncw_graph_add_param(b->g, name, in[i], true, &b->in[i]), NNCW_OK);
    }
    int y;
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_add_node(b->g, op, "bin", n_in, b->in, 1, &y, &n), NNCW_OK);
    if (attrs)
        attrs(n);
    nncwt_assert_status(nncw_graph_add_output(b->g, y), NNCW_OK);
    struct nncw_exec_options o = {.batch = 1, .training = true, .backward = true, .seed = 1};
    nncwt_assert_status(nncw_exec_new(b->g, &o, &b->ex), NNCW_OK);
    nncwt_assert_status(nncw_exec_forward(b->ex), NNCW_OK);
    nncw_graph_zero_grads(b->g);
    nncwt_assert_status(nncw_exec_backward(b->ex, (const struct nncw_tensor *[]){g}), NNCW_OK);
}

static const float *one_op_grad(const struct one_op *b, int i)
{
    return nncw_tensor_f32(nncw_graph_get_value_grad(b->g, b->in[i]));
}

static void one_op_free(struct one_op *b)
{
    nncw_exec_free(b->ex);
    nncw_graph_free(b->g);
}

/* ---- weights ---- */

START_TEST(test_xnor_scales_each_output_filter_by_its_mean_magnitude)
{
    struct nncw_tensor w, y;
    nncwt_tensor_from(&w, 2, (int64_t[]){2, 3}, (float[]){1, -2, 0, -0.5f, 0.5f, 3});
    const struct nncw_tensor *in[] = {&w};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_XNOR_BINARIZE, 1, in, NULL, false, &y), NNCW_OK);
    /* filter 0: mean |w| = 1, and 0 binarizes to -1 as NNCF's (w > 0) * 2 - 1; filter 1: 4/3 */
    const float want[] = {1, -1, -1, -4.0f / 3, 4.0f / 3, 4.0f / 3};
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(nncw_tensor_f32(&y)[i], want[i], 1e-6);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&w);
}
END_TEST

START_TEST(test_dorefa_scales_by_the_mean_magnitude_of_the_tensor)
{
    struct nncw_tensor w, y;
    nncwt_tensor_from(&w, 4, (int64_t[]){2, 3, 1, 1}, (float[]){1, -2, 0, -0.5f, 0.5f, 3});
    const struct nncw_tensor *in[] = {&w};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_DOREFA_BINARIZE, 1, in, NULL, false, &y), NNCW_OK);
    const float m = 7.0f / 6, want[] = {m, -m, -m, -m, m, m};
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(nncw_tensor_f32(&y)[i], want[i], 1e-6);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&w);
}
END_TEST

START_TEST(test_weight_binarizers_match_the_reference_kernel_on_conv_weights)
{
    const int64_t shape[] = {8, 3, 3, 3};
    struct nncw_tensor w, y;
    nncwt_tensor_rand(&w, 4, shape, -1, 1, 7);
    const enum nncw_op ops[] = {NNCW_OP_XNOR_BINARIZE, NNCW_OP_DOREFA_BINARIZE};
    for (int k = 0; k < 2; k++) {
        nncwt_assert_status(
            nncwt_run_op(ops[k], 1, (const struct nncw_tensor *[]){&w}, NULL, false, &y), NNCW_OK);
        float m[8], want[216];
        int64_t filters = k == 0 ? 8 : 1;
        nncw_binarize_weight_scales(&w, k == 0, m);
        nncw_kernel_binarize_weight_ref(nncw_tensor_f32(&w), filters, 216 / filters, m, want);
        for (int i = 0; i < 216; i++)
            ck_assert_float_eq(nncw_tensor_f32(&y)[i], want[i]);
        nncw_tensor_fini(&y);
    }
    nncw_tensor_fini(&w);
}
END_TEST

START_TEST(test_weight_gradient_is_the_straight_through_estimator)
{
    const int64_t shape[] = {4, 2, 3, 3};
    struct nncw_tensor w, g;
    nncwt_tensor_rand(&w, 4, shape, -1, 1, 3);
    nncwt_tensor_rand(&g, 4, shape, -1, 1, 4);
    const enum nncw_op ops[] = {NNCW_OP_XNOR_BINARIZE, NNCW_OP_DOREFA_BINARIZE};
    for (int k = 0; k < 2; k++) {
        struct one_op b;
        one_op_run(&b, ops[k], 1, (const struct nncw_tensor *[]){&w}, NULL, &g);
        for (int i = 0; i < 72; i++)
            ck_assert_float_eq(one_op_grad(&b, 0)[i], nncw_tensor_f32(&g)[i]);
        one_op_free(&b);
    }
    nncw_tensor_fini(&w);
    nncw_tensor_fini(&g);
}
END_TEST

START_TEST(test_disabled_weight_binarizer_is_an_identity)
{
    const int64_t shape[] = {3, 2, 2, 2};
    struct nncw_tensor w, y;
    nncwt_tensor_rand(&w, 4, shape, -1, 1, 5);
    nncwt_assert_status(nncwt_run_op(NNCW_OP_XNOR_BINARIZE, 1, (const struct nncw_tensor *[]){&w},
                                     attrs_disabled, false, &y),
                        NNCW_OK);
    nncwt_assert_tensor_near(&y, &w, 0, 0);
    nncw_tensor_fini(&y);
    struct nncwt_gradcheck spec = {
        .op = NNCW_OP_DOREFA_BINARIZE, .n_in = 1, .in = {&w}, .attrs = attrs_disabled};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&w);
}
END_TEST

/* ---- activations ---- */

START_TEST(test_activation_outputs_scale_above_scale_times_threshold)
{
    struct nncw_tensor x, s, t, y;
    /* s = 2; thresholds 0.5 and 0.25: cuts at 1 and 0.5 */
    nncwt_tensor_from(&x, 3, (int64_t[]){1, 2, 3}, (float[]){0.9f, 1.0f, 1.1f, 0.4f, 0.6f, -3});
    nncwt_tensor_from(&s, 1, (int64_t[]){1}, (float[]){logf(2)});
    nncwt_tensor_from(&t, 4, (int64_t[]){1, 2, 1, 1}, (float[]){0, logf(0.25f / 0.75f)});
    const struct nncw_tensor *in[] = {&x, &s, &t};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_ACTIVATION_BINARIZE, 3, in, NULL, false, &y), NNCW_OK);
    const float want[] = {0, 0, 2, 0, 2, 0}; /* x equal to the cut stays 0 (x > cut) */
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(nncw_tensor_f32(&y)[i], want[i], 1e-6);
    nncw_tensor_fini(&y);
    nncwt_assert_status(nncwt_run_op(NNCW_OP_ACTIVATION_BINARIZE, 3, in, attrs_disabled, false, &y),
                        NNCW_OK);
    nncwt_assert_tensor_near(&y, &x, 0, 0);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&t);
}
END_TEST

START_TEST(test_activation_gradients_above_the_scale_are_exact)
{
    /* x > s everywhere: y = s, so dy/dx = 0, dy/ds = 1 and the threshold has no effect; the
     * estimator is the derivative there, through the log and logit parameterisation */
    const int64_t xs[] = {2, 3, 2, 2}, ts[] = {3};
    struct nncw_tensor x, s, t;
    nncwt_tensor_rand(&x, 4, xs, 1.5f, 3.0f, 11);
    nncwt_tensor_from(&s, 1, (int64_t[]){1}, (float[]){0.0f});
    nncwt_tensor_rand(&t, 1, ts, -2, 2, 12);
    struct nncwt_gradcheck spec = {
        .op = NNCW_OP_ACTIVATION_BINARIZE, .n_in = 3, .in = {&x, &s, &t}, .training = true};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&t);
}
END_TEST

START_TEST(test_activation_gradients_follow_nncf_estimator)
{
    const int64_t xs[] = {2, 3, 4}, ts[] = {3};
    struct nncw_tensor x, s, t, g;
    nncwt_tensor_rand(&x, 3, xs, -1.0f, 3.0f, 21);
    nncwt_tensor_from(&s, 1, (int64_t[]){1}, (float[]){logf(2.0f)});
    nncwt_tensor_rand(&t, 1, ts, -2, 2, 22);
    nncwt_tensor_rand(&g, 3, xs, -1, 1, 23);
    struct one_op b;
    one_op_run(&b, NNCW_OP_ACTIVATION_BINARIZE, 3, (const struct nncw_tensor *[]){&x, &s, &t}, NULL,
               &g);
    const float *xv = nncw_tensor_f32(&x), *gv = nncw_tensor_f32(&g), *tv = nncw_tensor_f32(&t);
    const float sc = 2.0f;
    double want_s = 0, want_t[3] = {0};
    for (int i = 0; i < 24; i++) {
        int c = (i / 4) % 3;
        float tc = 1.0f / (1.0f + expf(-tv[c]));
        float y = xv[i] > sc * tc ? sc : 0.0f;
        float want_x = xv[i] >= 0 && xv[i] <= sc ? gv[i] : 0.0f;
        ck_assert_float_eq_tol(one_op_grad(&b, 0)[i], want_x, 1e-6);
        want_s += xv[i] <= sc ? gv[i] * (y - xv[i]) / sc : gv[i];
        if (xv[i] > 0 && xv[i] < sc)
            want_t[c] -= gv[i];
    }
    ck_assert_double_eq_tol(one_op_grad(&b, 1)[0], want_s * sc, 1e-4);
    for (int c = 0; c < 3; c++) {
        float tc = 1.0f / (1.0f + expf(-tv[c]));
        ck_assert_double_eq_tol(one_op_grad(&b, 2)[c], want_t[c] * tc * (1 - tc), 1e-5);
    }
    one_op_free(&b);
    /* disabled: the gradient passes to x, the parameters get none */
    one_op_run(&b, NNCW_OP_ACTIVATION_BINARIZE, 3, (const struct nncw_tensor *[]){&x, &s, &t},
               attrs_disabled, &g);
    for (int i = 0; i < 24; i++)
        ck_assert_float_eq(one_op_grad(&b, 0)[i], gv[i]);
    ck_assert_float_eq(one_op_grad(&b, 1)[0], 0.0f);
    one_op_free(&b);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&t);
    nncw_tensor_fini(&g);
}
END_TEST

START_TEST(test_initial_scale_is_the_smallest_of_the_top_thousandth)
{
    float v[3000];
    for (int i = 0; i < 3000; i++)
        v[i] = (float)((i * 7919) % 3000); /* a permutation of 0 .. 2999 */
    float s;
    nncwt_assert_status(nncw_binarize_initial_scale(v, 3000, &s), NNCW_OK);
    ck_assert_float_eq(s, 2997.0f); /* k = 3: 2999, 2998, 2997 */
    nncwt_assert_status(nncw_binarize_initial_scale(v, 10, &s), NNCW_OK);
    float max = v[0];
    for (int i = 1; i < 10; i++)
        max = v[i] > max ? v[i] : max;
    ck_assert_float_eq(s, max); /* k = 1 */
    nncwt_assert_status(nncw_binarize_initial_scale(v, 0, &s), NNCW_ERR_INVALID_ARG);
}
END_TEST

/* ---- errors ---- */

static void expect_error(enum nncw_op op, int n_in, const struct nncw_tensor *const in[],
                         enum nncw_status code, const char *needle)
{
    struct nncw_tensor y;
    nncwt_assert_status(nncwt_run_op(op, n_in, in, NULL, false, &y), code);
    ck_assert_msg(strstr(nncw_last_error(), needle), "message '%s' lacks '%s'", nncw_last_error(),
                  needle);
}

START_TEST(test_bad_shapes_name_the_input)
{
    struct nncw_tensor x, s2, t, t3, x1;
    nncwt_tensor_rand(&x, 4, (int64_t[]){1, 2, 2, 2}, -1, 1, 1);
    nncwt_tensor_rand(&x1, 1, (int64_t[]){4}, -1, 1, 1);
    nncwt_tensor_rand(&s2, 1, (int64_t[]){2}, -1, 1, 1);
    nncwt_tensor_rand(&t, 1, (int64_t[]){2}, -1, 1, 1);
    nncwt_tensor_rand(&t3, 1, (int64_t[]){3}, -1, 1, 1);
    expect_error(NNCW_OP_ACTIVATION_BINARIZE, 3, (const struct nncw_tensor *[]){&x, &t, &t3},
                 NNCW_ERR_SHAPE, "scale");
    expect_error(NNCW_OP_ACTIVATION_BINARIZE, 3, (const struct nncw_tensor *[]){&x, &s2, &t3},
                 NNCW_ERR_SHAPE, "scale is [2]");
    struct nncw_tensor s1;
    nncwt_tensor_from(&s1, 1, (int64_t[]){1}, (float[]){0});
    expect_error(NNCW_OP_ACTIVATION_BINARIZE, 3, (const struct nncw_tensor *[]){&x, &s1, &t3},
                 NNCW_ERR_SHAPE, "threshold is [3]");
    expect_error(NNCW_OP_ACTIVATION_BINARIZE, 3, (const struct nncw_tensor *[]){&x1, &s1, &t},
                 NNCW_ERR_SHAPE, "expected [N, C, ...]");
    struct nncw_tensor wi;
    int64_t n4 = 4;
    nncw_tensor_init(&wi, NNCW_DTYPE_I32, 1, &n4);
    expect_error(NNCW_OP_XNOR_BINARIZE, 1, (const struct nncw_tensor *[]){&wi}, NNCW_ERR_DTYPE,
                 "int32");
    nncw_tensor_fini(&wi);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&x1);
    nncw_tensor_fini(&s1);
    nncw_tensor_fini(&s2);
    nncw_tensor_fini(&t);
    nncw_tensor_fini(&t3);
}
END_TEST

static Suite *ops_binarize_suite(void)
{
    Suite *s = suite_create("ops_binarize");
    TCase *tc = tcase_create("weights");
    tcase_add_test(tc, test_xnor_scales_each_output_filter_by_its_mean_magnitude);
    tcase_add_test(tc, test_dorefa_scales_by_the_mean_magnitude_of_the_tensor);
    tcase_add_test(tc, test_weight_binarizers_match_the_reference_kernel_on_conv_weights);
    tcase_add_test(tc, test_weight_gradient_is_the_straight_through_estimator);
    tcase_add_test(tc, test_disabled_weight_binarizer_is_an_identity);
    suite_add_tcase(s, tc);
    tc = tcase_create("activations");
    tcase_add_test(tc, test_activation_outputs_scale_above_scale_times_threshold);
    tcase_add_test(tc, test_activation_gradients_above_the_scale_are_exact);
    tcase_add_test(tc, test_activation_gradients_follow_nncf_estimator);
    tcase_add_test(tc, test_initial_scale_is_the_smallest_of_the_top_thousandth);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_bad_shapes_name_the_input);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(ops_binarize_suite());
}
