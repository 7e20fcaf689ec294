/* Reductions (reduce.c): every reduction against a direct computation over chosen axes, with
 * and without keepdims; ArgMax/ArgMin ties; GlobalMaxPool; gradients; errors. */
#include <math.h>
#include <string.h>

#include "nncwt.h"
#include "ops_net.h"

static const enum nncw_op reductions[] = {
    NNCW_OP_REDUCESUM,    NNCW_OP_REDUCEMEAN,      NNCW_OP_REDUCEMAX, NNCW_OP_REDUCEMIN,
    NNCW_OP_REDUCEPROD,   NNCW_OP_REDUCEL1,        NNCW_OP_REDUCEL2,  NNCW_OP_REDUCESUMSQUARE,
    NNCW_OP_REDUCELOGSUM, NNCW_OP_REDUCELOGSUMEXP,
};

/* the reduction of n values */
static double reduce_ref(enum nncw_op op, const double *v, int n)
{
    double acc = op == NNCW_OP_REDUCEPROD  ? 1
                 : op == NNCW_OP_REDUCEMAX ? -INFINITY
                 : op == NNCW_OP_REDUCEMIN ? INFINITY
                                           : 0;
    for (int i = 0; i < n; i++) {
        switch (op) {
        case NNCW_OP_REDUCEMAX:
            acc = fmax(acc, v[i]);
            break;
        case NNCW_OP_REDUCEMIN:
            acc = fmin(acc, v[i]);
            break;
        case NNCW_OP_REDUCEPROD:
            acc *= v[i];
            break;
        case NNCW_OP_REDUCEL1:
            acc += fabs(v[i]);
            break;
        case NNCW_OP_REDUCEL2:
        case NNCW_OP_REDUCESUMSQUARE:
            acc += v[i] * v[i];
            break;
        case NNCW_OP_REDUCELOGSUMEXP:
            acc += exp(v[i]);
            break;
        default:
            acc += v[i];
        }
    }
    if (op == NNCW_OP_REDUCEMEAN)
        acc /= n;
    else if (op == NNCW_OP_REDUCEL2)
        acc = sqrt(acc);
    else if (op == NNCW_OP_REDUCELOGSUM || op == NNCW_OP_REDUCELOGSUMEXP)
        acc = log(acc);
    return acc;
}

static int64_t g_axes[2];
static int g_n_axes, g_keep;

static void attrs_axes(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "axes", g_n_axes, g_axes);
    nncw_node_set_attr_int(n, "keepdims", g_keep);
}

/* x [2, 3, 4] reduced over axes {0, 2}: output [3] (or [1, 3, 1]) */
START_TEST(test_reductions_match_direct_sums)
{
    enum nncw_op op = reductions[_i];
    struct nncw_tensor x, y;
    nncwt_tensor_rand(&x, 3, (int64_t[]){2, 3, 4}, 0.2f, 1.2f, 1 + (uint64_t)_i);
    g_axes[0] = 0;
    g_axes[1] = -1;
    g_n_axes = 2;
    for (g_keep = 0; g_keep <= 1; g_keep++) {
        const struct nncw_tensor *in[] = {&x};
        nncwt_assert_status(nncwt_run_op(op, 1, in, attrs_axes, false, &y), NNCW_OK);
        ck_assert_int_eq(y.ndim, g_keep ? 3 : 1);
        for (int c = 0; c < 3; c++) {
            double v[8];
            int k = 0;
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 4; b++)
                    v[k++] = nncw_tensor_f32(&x)[(a * 3 + c) * 4 + b];
            double want = reduce_ref(op, v, 8), got = nncw_tensor_f32(&y)[c];
            if (!(fabs(got - want) <= 1e-5 * (1 + fabs(want))))
                ck_abort_msg("%s channel %d: %g, expected %g", nncw_op_name(op), c, got, want);
        }
        nncw_tensor_fini(&y);
    }
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_reduction_gradients)
{
    enum nncw_op op = reductions[_i];
    struct nncw_tensor x;
    nncwt_tensor_rand(&x, 3, (int64_t[]){2, 3, 4}, 0.2f, 1.2f, 11 + (uint64_t)_i);
    g_axes[0] = 1;
    g_n_axes = 1;
    g_keep = 1;
    struct nncwt_gradcheck spec = {.op = op,
                                   .n_in = 1,
                                   .in = {&x},
                                   .attrs = attrs_axes,
                                   .eps = 1e-3,
                                   .atol = 2e-3,
                                   .rtol = 2e-2};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_reducesum_axes_input_and_all_axes)
{
    struct nncw_tensor x, axes, y;
    nncwt_tensor_from(&x, 2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    nncwt_assert_status(nncw_tensor_init(&axes, NNCW_DTYPE_I64, 1, (int64_t[]){1}), NNCW_OK);
    ((int64_t *)axes.data)[0] = 1;
    const struct nncw_tensor *in[] = {&x, &axes};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_REDUCESUM, 2, in, NULL, false, &y), NNCW_OK);
    ck_assert_int_eq(y.ndim, 2);
    ck_assert_float_eq(nncw_tensor_f32(&y)[0], 6);
    ck_assert_float_eq(nncw_tensor_f32(&y)[1], 15);
    nncw_tensor_fini(&y);
    nncwt_assert_status(nncwt_run_op(NNCW_OP_REDUCESUM, 1, in, NULL, false, &y), NNCW_OK);
    ck_assert_int_eq(nncw_tensor_numel(&y), 1);
    ck_assert_float_eq(nncw_tensor_f32(&y)[0], 21);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&axes);
}
END_TEST

static void attrs_arg_last(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "axis", 1);
    nncw_node_set_attr_int(n, "keepdims", 0);
    nncw_node_set_attr_int(n, "select_last_index", 1);
}

static void attrs_arg_first(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "axis", 1);
    nncw_node_set_attr_int(n, "keepdims", 0);
}

START_TEST(test_argmax_argmin_ties)
{
    struct nncw_tensor x, y;
    nncwt_tensor_from(&x, 2, (int64_t[]){2, 4}, (float[]){1, 5, 5, 0, 2, 0, 2, 0});
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_ARGMAX, 1, in, attrs_arg_first, false, &y), NNCW_OK);
    ck_assert_int_eq(y.dtype, NNCW_DTYPE_I64);
    ck_assert_int_eq(((int64_t *)y.data)[0], 1);
    ck_assert_int_eq(((int64_t *)y.data)[1], 0);
    nncw_tensor_fini(&y);
    nncwt_assert_status(nncwt_run_op(NNCW_OP_ARGMAX, 1, in, attrs_arg_last, false, &y), NNCW_OK);
    ck_assert_int_eq(((int64_t *)y.data)[0], 2);
    ck_assert_int_eq(((int64_t *)y.data)[1], 2);
    nncw_tensor_fini(&y);
    nncwt_assert_status(nncwt_run_op(NNCW_OP_ARGMIN, 1, in, attrs_arg_last, false, &y), NNCW_OK);
    ck_assert_int_eq(((int64_t *)y.data)[0], 3);
    ck_assert_int_eq(((int64_t *)y.data)[1], 3);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_globalmaxpool)
{
    struct nncw_tensor x, y;
    nncwt_tensor_rand(&x, 4, (int64_t[]){2, 3, 4, 5}, -1, 1, 3);
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_GLOBALMAXPOOL, 1, in, NULL, false, &y), NNCW_OK);
    ck_assert_int_eq(y.ndim, 4);
    ck_assert_int_eq(y.shape[2], 1);
    for (int p = 0; p < 6; p++) {
        float m = -INFINITY;
        for (int i = 0; i < 20; i++)
            m = fmaxf(m, nncw_tensor_f32(&x)[p * 20 + i]);
        ck_assert_float_eq(nncw_tensor_f32(&y)[p], m);
    }
    nncw_tensor_fini(&y);
    struct nncwt_gradcheck spec = {.op = NNCW_OP_GLOBALMAXPOOL, .n_in = 1, .in = {&x}};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_reduce_errors)
{
    struct nncw_tensor x, axes;
    nncwt_tensor_rand(&x, 2, (int64_t[]){2, 3}, -1, 1, 1);
    g_axes[0] = 2;
    g_n_axes = 1;
    g_keep = 1;
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(opnet_infer_status(NNCW_OP_REDUCEMEAN, "Net/mean", 1, in, 1, attrs_axes),
                        NNCW_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "Net/mean"));
    /* axes that are a graph input cannot be planned */
    nncwt_assert_status(nncw_tensor_init(&axes, NNCW_DTYPE_I64, 1, (int64_t[]){1}), NNCW_OK);
    const struct nncw_tensor *in2[] = {&x, &axes};
    nncwt_assert_status(opnet_infer_status(NNCW_OP_REDUCESUM, "Net/sum", 2, in2, 3, NULL),
                        NNCW_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "constant"));
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&axes);
}
END_TEST

static Suite *reduce_suite(void)
{
    Suite *s = suite_create("ops_reduce");
    int n = (int)(sizeof reductions / sizeof reductions[0]);
    TCase *tc = tcase_create("values");
    tcase_add_loop_test(tc, test_reductions_match_direct_sums, 0, n);
    tcase_add_test(tc, test_reducesum_axes_input_and_all_axes);
    tcase_add_test(tc, test_argmax_argmin_ties);
    tcase_add_test(tc, test_globalmaxpool);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_loop_test(tc, test_reduction_gradients, 0, n);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_reduce_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(reduce_suite());
}
