#include <string.h>

#include "nncwt.h"
#include "ops_net.h"

static const int64_t big[] = {100, 100};

static void u8_scalar(struct nncw_tensor *t, uint8_t v)
{
    nncwt_assert_status(nncw_tensor_init(t, NNCW_DTYPE_U8, 0, NULL), NNCW_OK);
    ((uint8_t *)t->data)[0] = v;
}

static void attrs_ratio_03(struct nncw_node *n)
{
    nncw_node_set_attr_float(n, "ratio", 0.3f);
}

static void attrs_ratio_0(struct nncw_node *n)
{
    nncw_node_set_attr_float(n, "ratio", 0.0f);
}

static void attrs_ratio_bad(struct nncw_node *n)
{
    nncw_node_set_attr_float(n, "ratio", -0.1f);
}

/* Checks y against x for inverted dropout with the given ratio: dropped elements are 0 and
 * marked 0 in the mask, kept ones are x / (1 - ratio); returns the dropped fraction. */
static double check_dropped(const struct nncw_tensor *x, const struct nncw_tensor *y,
                            const struct nncw_tensor *mask, float ratio)
{
    const float *xv = nncw_tensor_f32(x), *yv = nncw_tensor_f32(y);
    const uint8_t *m = mask ? mask->data : NULL;
    int64_t n = nncw_tensor_numel(x), dropped = 0;
    for (int64_t i = 0; i < n; i++) {
        if (yv[i] == 0.0f) {
            dropped++;
            if (m)
                ck_assert_int_eq(m[i], 0);
        } else {
            ck_assert_float_eq_tol(yv[i], xv[i] / (1.0f - ratio), 1e-5);
            if (m)
                ck_assert_int_eq(m[i], 1);
        }
    }
    return (double)dropped / (double)n;
}

/* ---- eval mode ---- */

START_TEST(test_eval_is_identity_with_all_ones_mask)
{
    struct nncw_tensor x, y;
    nncwt_tensor_rand(&x, 2, (int64_t[]){3, 5}, -1, 1, 1);
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_DROPOUT, 1, in, NULL, false, &y), NNCW_OK);
    nncwt_assert_tensor_near(&y, &x, 0, 0);
    nncw_tensor_fini(&y);
    /* with the mask output */
    struct opnet b;
    opnet_build(&b, NNCW_OP_DROPOUT, "Net/drop", 1, in, OPNET_INPUT(0), 2, attrs_ratio_03);
    nncwt_assert_status(opnet_exec(&b, false, false), NNCW_OK);
    nncwt_assert_status(opnet_forward(&b), NNCW_OK);
    nncwt_assert_tensor_near(nncw_exec_get_output(b.ex, 0), &x, 0, 0);
    const struct nncw_tensor *mask = nncw_exec_get_output(b.ex, 1);
    ck_assert_int_eq(mask->dtype, NNCW_DTYPE_BOOL);
    for (int i = 0; i < 15; i++)
        ck_assert_int_eq(((const uint8_t *)mask->data)[i], 1);
    opnet_free(&b);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_training_mode_input_false_in_eval_is_identity)
{
    struct nncw_tensor x, ratio, tm, y;
    nncwt_tensor_rand(&x, 1, (int64_t[]){7}, -1, 1, 1);
    nncwt_tensor_from(&ratio, 0, NULL, (float[]){0.5f});
    u8_scalar(&tm, 0);
    const struct nncw_tensor *in[] = {&x, &ratio, &tm};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_DROPOUT, 3, in, NULL, false, &y), NNCW_OK);
    nncwt_assert_tensor_near(&y, &x, 0, 0);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&ratio);
    nncw_tensor_fini(&tm);
}
END_TEST

/* ---- training mode ---- */

START_TEST(test_training_drops_ratio_and_scales_the_rest)
{
    struct nncw_tensor x;
    nncwt_tensor_rand(&x, 2, big, 0.5f, 1.5f, 2);
    const struct nncw_tensor *in[] = {&x};
    struct opnet b;
    opnet_build(&b, NNCW_OP_DROPOUT, "Net/drop", 1, in, OPNET_INPUT(0), 2, attrs_ratio_03);
    nncwt_assert_status(opnet_exec(&b, true, false), NNCW_OK);
    nncwt_assert_status(opnet_forward(&b), NNCW_OK);
    double frac =
        check_dropped(&x, nncw_exec_get_output(b.ex, 0), nncw_exec_get_output(b.ex, 1), 0.3f);
    ck_assert_float_eq_tol(frac, 0.3, 0.02); /* binomial sd is 0.0046 */
    opnet_free(&b);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_ratio_input_overrides_attribute)
{
    struct nncw_tensor x, ratio, y;
    nncwt_tensor_rand(&x, 2, big, 0.5f, 1.5f, 3);
    nncwt_tensor_from(&ratio, 0, NULL, (float[]){0.6f});
    const struct nncw_tensor *in[] = {&x, &ratio};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_DROPOUT, 2, in, attrs_ratio_03, true, &y), NNCW_OK);
    ck_assert_float_eq_tol(check_dropped(&x, &y, NULL, 0.6f), 0.6, 0.02);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&ratio);
}
END_TEST

START_TEST(test_training_mode_input_true_enables_dropout_in_eval)
{
    struct nncw_tensor x, tm, y;
    nncwt_tensor_rand(&x, 2, big, 0.5f, 1.5f, 4);
    u8_scalar(&tm, 1);
    const struct nncw_tensor *in[] = {&x, NULL, &tm}; /* ratio missing: the default 0.5 */
    nncwt_assert_status(nncwt_run_op(NNCW_OP_DROPOUT, 3, in, NULL, false, &y), NNCW_OK);
    ck_assert_float_eq_tol(check_dropped(&x, &y, NULL, 0.5f), 0.5, 0.02);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&tm);
}
END_TEST

START_TEST(test_ratio_zero_is_identity_in_training)
{
    struct nncw_tensor x, y;
    nncwt_tensor_rand(&x, 2, (int64_t[]){4, 9}, -1, 1, 5);
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_DROPOUT, 1, in, attrs_ratio_0, true, &y), NNCW_OK);
    nncwt_assert_tensor_near(&y, &x, 0, 0);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_same_seed_same_mask)
{
    struct nncw_tensor x, y1, y2;
    nncwt_tensor_rand(&x, 2, (int64_t[]){8, 8}, 0.5f, 1.5f, 6);
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_DROPOUT, 1, in, NULL, true, &y1), NNCW_OK);
    nncwt_assert_status(nncwt_run_op(NNCW_OP_DROPOUT, 1, in, NULL, true, &y2), NNCW_OK);
    nncwt_assert_tensor_near(&y1, &y2, 0, 0);
    nncw_tensor_fini(&y1);
    nncw_tensor_fini(&y2);
    nncw_tensor_fini(&x);
}
END_TEST

/* ---- backward, checked directly (a finite difference would redraw the mask) ---- */

START_TEST(test_backward_uses_the_forward_mask)
{
    struct nncw_tensor x, gy;
    nncwt_tensor_rand(&x, 3, (int64_t[]){7, 11, 13}, 0.5f, 1.5f, 7);
    nncwt_tensor_rand(&gy, 3, (int64_t[]){7, 11, 13}, -1, 1, 8);
    const struct nncw_tensor *in[] = {&x};
    struct opnet b;
    opnet_build(&b, NNCW_OP_DROPOUT, "Net/drop", 1, in, 0, 2, attrs_ratio_03);
    nncwt_assert_status(opnet_exec(&b, true, true), NNCW_OK);
    nncwt_assert_status(opnet_forward(&b), NNCW_OK);
    nncw_graph_zero_grads(b.g);
    const struct nncw_tensor *gout[] = {&gy, NULL};
    nncwt_assert_status(nncw_exec_backward(b.ex, gout), NNCW_OK);
    const uint8_t *mask = nncw_exec_get_output(b.ex, 1)->data;
    const float *gx = nncw_tensor_f32(opnet_param_grad(&b, 0)), *g = nncw_tensor_f32(&gy);
    int dropped = 0;
    for (int i = 0; i < 7 * 11 * 13; i++) {
        ck_assert_float_eq_tol(gx[i], mask[i] ? g[i] / 0.7f : 0.0f, 1e-6);
        dropped += !mask[i];
    }
    ck_assert_int_gt(dropped, 0);
    opnet_free(&b);

    /* eval: the gradient passes unchanged */
    opnet_build(&b, NNCW_OP_DROPOUT, "Net/drop", 1, in, 0, 1, attrs_ratio_03);
    nncwt_assert_status(opnet_exec(&b, false, true), NNCW_OK);
    nncwt_assert_status(opnet_forward(&b), NNCW_OK);
    nncw_graph_zero_grads(b.g);
    nncwt_assert_status(nncw_exec_backward(b.ex, gout), NNCW_OK);
    nncwt_assert_tensor_near(opnet_param_grad(&b, 0), &gy, 0, 0);
    opnet_free(&b);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&gy);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_bad_ratio)
{
    struct nncw_tensor x, ratio, ratio2;
    nncwt_tensor_rand(&x, 2, (int64_t[]){2, 3}, -1, 1, 1);
    nncwt_tensor_from(&ratio, 0, NULL, (float[]){1.5f});
    const struct nncw_tensor *in[] = {&x, &ratio};
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_DROPOUT, "Net/drop1", 2, in, OPNET_INPUT(0), NULL),
        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("dropout 'Net/drop1'", "1.5");
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_DROPOUT, "Net/drop2", 1, in, OPNET_INPUT(0), attrs_ratio_bad),
        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("Net/drop2", "-0.1");
    nncwt_tensor_from(&ratio2, 1, (int64_t[]){2}, (float[]){0.1f, 0.2f});
    const struct nncw_tensor *in2[] = {&x, &ratio2};
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_DROPOUT, "Net/drop3", 2, in2, OPNET_INPUT(0), NULL),
        NNCW_ERR_SHAPE);
    assert_error_mentions("Net/drop3", "ratio", "[2]");
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&ratio);
    nncw_tensor_fini(&ratio2);
}
END_TEST

static Suite *dropout_suite(void)
{
    Suite *s = suite_create("ops_dropout");
    TCase *tc = tcase_create("eval");
    tcase_add_test(tc, test_eval_is_identity_with_all_ones_mask);
    tcase_add_test(tc, test_training_mode_input_false_in_eval_is_identity);
    suite_add_tcase(s, tc);
    tc = tcase_create("training");
    tcase_add_test(tc, test_training_drops_ratio_and_scales_the_rest);
    tcase_add_test(tc, test_ratio_input_overrides_attribute);
    tcase_add_test(tc, test_training_mode_input_true_enables_dropout_in_eval);
    tcase_add_test(tc, test_ratio_zero_is_identity_in_training);
    tcase_add_test(tc, test_same_seed_same_mask);
    suite_add_tcase(s, tc);
    tc = tcase_create("backward");
    tcase_add_test(tc, test_backward_uses_the_forward_mask);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_bad_ratio);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(dropout_suite());
}
