#include <string.h>

#include "core/rng.h"
#include "nncwt.h"
#include "ops/elementwise.h"
#include "ops_net.h"

static void run2(enum nncw_op op, const struct nncw_tensor *a, const struct nncw_tensor *b,
                 struct nncw_tensor *y)
{
    const struct nncw_tensor *in[] = {a, b};
    nncwt_assert_status(nncwt_run_op(op, 2, in, NULL, false, y), NNCW_OK);
}

/* ---- forward on hand-computed cases ---- */

START_TEST(test_add_row_vector_broadcasts_over_rows)
{
    struct nncw_tensor a, b, y, want;
    nncwt_tensor_from(&a, 2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    nncwt_tensor_from(&b, 1, (int64_t[]){3}, (float[]){10, 20, 30});
    nncwt_tensor_from(&want, 2, (int64_t[]){2, 3}, (float[]){11, 22, 33, 14, 25, 36});
    run2(NNCW_OP_ADD, &a, &b, &y);
    nncwt_assert_tensor_near(&y, &want, 0, 0);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
}
END_TEST

START_TEST(test_sub_broadcasts_both_ways)
{
    /* [2, 1] - [1, 3] -> [2, 3]: each operand is broadcast along a different axis */
    struct nncw_tensor a, b, y, want;
    nncwt_tensor_from(&a, 2, (int64_t[]){2, 1}, (float[]){10, 20});
    nncwt_tensor_from(&b, 2, (int64_t[]){1, 3}, (float[]){1, 2, 3});
    nncwt_tensor_from(&want, 2, (int64_t[]){2, 3}, (float[]){9, 8, 7, 19, 18, 17});
    run2(NNCW_OP_SUB, &a, &b, &y);
    nncwt_assert_tensor_near(&y, &want, 0, 0);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
}
END_TEST

START_TEST(test_mul_channel_bias_and_scalar)
{
    struct nncw_tensor a, b, y, want, s;
    /* [1, 2, 2, 2] * [1, 2, 1, 1]: a per-channel factor */
    nncwt_tensor_from(&a, 4, (int64_t[]){1, 2, 2, 2}, (float[]){1, 2, 3, 4, 5, 6, 7, 8});
    nncwt_tensor_from(&b, 4, (int64_t[]){1, 2, 1, 1}, (float[]){2, -1});
    nncwt_tensor_from(&want, 4, (int64_t[]){1, 2, 2, 2}, (float[]){2, 4, 6, 8, -5, -6, -7, -8});
    run2(NNCW_OP_MUL, &a, &b, &y);
    nncwt_assert_tensor_near(&y, &want, 0, 0);
    nncw_tensor_fini(&y);
    /* a 0-d scalar on the left */
    nncwt_tensor_from(&s, 0, NULL, (float[]){0.5f});
    run2(NNCW_OP_MUL, &s, &b, &y);
    ck_assert_int_eq(y.ndim, 4);
    ck_assert_float_eq(nncw_tensor_f32(&y)[0], 1.0f);
    ck_assert_float_eq(nncw_tensor_f32(&y)[1], -0.5f);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
}
END_TEST

START_TEST(test_add_same_shape)
{
    struct nncw_tensor a, b, y;
    nncwt_tensor_rand(&a, 3, (int64_t[]){3, 5, 7}, -1, 1, 1);
    nncwt_tensor_rand(&b, 3, (int64_t[]){3, 5, 7}, -1, 1, 2);
    run2(NNCW_OP_ADD, &a, &b, &y);
    for (int i = 0; i < 105; i++)
        ck_assert_float_eq(nncw_tensor_f32(&y)[i], nncw_tensor_f32(&a)[i] + nncw_tensor_f32(&b)[i]);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
    nncw_tensor_fini(&y);
}
END_TEST

/* ---- fast kernels against the reference ---- */

typedef void (*binary_kernel)(int, const int64_t *, const float *, const int64_t *, const float *,
                              const int64_t *, float *);

/* a random broadcast pair: output shape, and each operand's shape as 1 or the output's dim */
static void random_case(struct nncw_rng *r, int *ndim, int64_t *shape, int64_t *sha, int64_t *shb)
{
    *ndim = 1 + (int)nncw_rng_below(r, 6);
    for (int d = 0; d < *ndim; d++) {
        shape[d] = 1 + nncw_rng_below(r, 5);
        uint32_t k = nncw_rng_below(r, 4);
        sha[d] = k == 1 ? 1 : shape[d];
        shb[d] = k == 2 ? 1 : shape[d];
        if (k == 3)
            sha[d] = shb[d] = 1, shape[d] = 1;
    }
}

static void strides_for(int ndim, const int64_t *own, const int64_t *out, int64_t *s)
{
    int64_t acc = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        s[d] = own[d] == 1 && out[d] != 1 ? 0 : acc;
        acc *= own[d];
    }
}

START_TEST(test_fast_kernels_match_ref)
{
    static const binary_kernel fast[] = {nncw_kernel_add_f32, nncw_kernel_sub_f32,
                                         nncw_kernel_mul_f32};
    static const binary_kernel ref[] = {nncw_kernel_add_f32_ref, nncw_kernel_sub_f32_ref,
                                        nncw_kernel_mul_f32_ref};
    struct nncw_rng r;
    nncw_rng_seed(&r, 3);
    for (int trial = 0; trial < 200; trial++) {
        int nd;
        int64_t shape[8], sha[8], shb[8], sa[8], sb[8];
        random_case(&r, &nd, shape, sha, shb);
        strides_for(nd, sha, shape, sa);
        strides_for(nd, shb, shape, sb);
        struct nncw_tensor a, b, y1, y2, ga1, ga2;
        nncwt_tensor_rand(&a, nd, sha, -2, 2, (uint64_t)trial);
        nncwt_tensor_rand(&b, nd, shb, -2, 2, (uint64_t)trial + 1000);
        nncwt_assert_status(nncw_tensor_init(&y1, NNCW_DTYPE_F32, nd, shape), NNCW_OK);
        nncwt_assert_status(nncw_tensor_init(&y2, NNCW_DTYPE_F32, nd, shape), NNCW_OK);
        nncwt_assert_status(nncw_tensor_init(&ga1, NNCW_DTYPE_F32, nd, sha), NNCW_OK);
        nncwt_assert_status(nncw_tensor_init(&ga2, NNCW_DTYPE_F32, nd, sha), NNCW_OK);
        int k = trial % 3;
        fast[k](nd, shape, a.data, sa, b.data, sb, y1.data);
        ref[k](nd, shape, a.data, sa, b.data, sb, y2.data);
        /* one float operation per element: equal bit for bit */
        ck_assert_mem_eq(y1.data, y2.data, nncw_tensor_nbytes(&y1));
        /* the gradient of a, with b as the Mul factor: sums over a's broadcast dims */
        nncw_kernel_broadcast_backward_f32(nd, shape, y1.data, ga1.data, sa, k == 2 ? b.data : NULL,
                                           sb, k == 1 ? -1.0f : 1.0f);
        nncw_kernel_broadcast_backward_f32_ref(nd, shape, y1.data, ga2.data, sa,
                                               k == 2 ? b.data : NULL, sb, k == 1 ? -1.0f : 1.0f);
        nncwt_assert_tensor_near(&ga1, &ga2, 1e-5, 1e-5);
        nncw_tensor_fini(&a);
        nncw_tensor_fini(&b);
        nncw_tensor_fini(&y1);
        nncw_tensor_fini(&y2);
        nncw_tensor_fini(&ga1);
        nncw_tensor_fini(&ga2);
    }
}
END_TEST

START_TEST(test_fast_kernel_reads_strided_views)
{
    /* a is a transposed [3, 2] view of a [2, 3] buffer; b a row vector */
    float abuf[] = {1, 2, 3, 4, 5, 6}, b[] = {10, 100};
    int64_t shape[] = {3, 2}, sa[] = {1, 3}, sb[] = {0, 1};
    float y1[6], y2[6];
    nncw_kernel_mul_f32(2, shape, abuf, sa, b, sb, y1);
    nncw_kernel_mul_f32_ref(2, shape, abuf, sa, b, sb, y2);
    const float want[] = {10, 400, 20, 500, 30, 600};
    ck_assert_mem_eq(y1, want, sizeof want);
    ck_assert_mem_eq(y2, want, sizeof want);
}
END_TEST

/* ---- gradients ---- */

static void check_binary_grad(enum nncw_op op, int na, const int64_t *sha, int nb,
                              const int64_t *shb, uint64_t seed)
{
    struct nncw_tensor a, b;
    nncwt_tensor_rand(&a, na, sha, -1, 1, seed);
    nncwt_tensor_rand(&b, nb, shb, -1, 1, seed + 1);
    struct nncwt_gradcheck spec = {.op = op, .n_in = 2, .in = {&a, &b}};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
}

START_TEST(test_add_grad)
{
    check_binary_grad(NNCW_OP_ADD, 2, (int64_t[]){3, 5}, 1, (int64_t[]){5}, 1);
    check_binary_grad(NNCW_OP_ADD, 4, (int64_t[]){2, 3, 4, 5}, 4, (int64_t[]){1, 3, 1, 1}, 2);
    check_binary_grad(NNCW_OP_ADD, 2, (int64_t[]){7, 3}, 2, (int64_t[]){7, 3}, 3);
}
END_TEST

START_TEST(test_sub_grad)
{
    check_binary_grad(NNCW_OP_SUB, 3, (int64_t[]){2, 1, 4}, 2, (int64_t[]){3, 1}, 4);
    check_binary_grad(NNCW_OP_SUB, 1, (int64_t[]){1}, 2, (int64_t[]){3, 5}, 5);
}
END_TEST

START_TEST(test_mul_grad)
{
    check_binary_grad(NNCW_OP_MUL, 4, (int64_t[]){2, 3, 4, 5}, 4, (int64_t[]){1, 3, 1, 1}, 6);
    check_binary_grad(NNCW_OP_MUL, 2, (int64_t[]){7, 3}, 2, (int64_t[]){7, 3}, 7);
    check_binary_grad(NNCW_OP_MUL, 0, NULL, 2, (int64_t[]){3, 3}, 8);
    check_binary_grad(NNCW_OP_MUL, 3, (int64_t[]){3, 1, 5}, 3, (int64_t[]){1, 4, 1}, 9);
    check_binary_grad(NNCW_OP_MUL, 6, (int64_t[]){2, 1, 3, 1, 2, 3}, 5, (int64_t[]){1, 3, 2, 1, 3},
                      10);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_shapes_that_do_not_broadcast)
{
    struct nncw_tensor a, b;
    nncwt_tensor_rand(&a, 2, (int64_t[]){2, 3}, -1, 1, 1);
    nncwt_tensor_rand(&b, 1, (int64_t[]){4}, -1, 1, 2);
    const struct nncw_tensor *in[] = {&a, &b};
    nncwt_assert_status(opnet_infer_status(NNCW_OP_ADD, "Net/add1", 2, in, OPNET_INPUT(0), NULL),
                        NNCW_ERR_SHAPE);
    assert_error_mentions("add 'Net/add1'", "[2, 3]", "[4]");
    nncwt_assert_status(opnet_infer_status(NNCW_OP_MUL, "Net/mul7", 2, in, 0, NULL),
                        NNCW_ERR_SHAPE);
    assert_error_mentions("Net/mul7");
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
}
END_TEST

START_TEST(test_integer_inputs_are_rejected)
{
    struct nncw_tensor a, b;
    nncwt_tensor_rand(&a, 1, (int64_t[]){3}, -1, 1, 1);
    nncwt_assert_status(nncw_tensor_init(&b, NNCW_DTYPE_I64, 1, (int64_t[]){3}), NNCW_OK);
    const struct nncw_tensor *in[] = {&a, &b};
    nncwt_assert_status(opnet_infer_status(NNCW_OP_SUB, "Net/sub", 2, in, 0, NULL), NNCW_ERR_DTYPE);
    assert_error_mentions("Net/sub", "int64");
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
}
END_TEST

static Suite *elementwise_suite(void)
{
    Suite *s = suite_create("ops_elementwise");
    TCase *tc = tcase_create("forward");
    tcase_add_test(tc, test_add_row_vector_broadcasts_over_rows);
    tcase_add_test(tc, test_sub_broadcasts_both_ways);
    tcase_add_test(tc, test_mul_channel_bias_and_scalar);
    tcase_add_test(tc, test_add_same_shape);
    suite_add_tcase(s, tc);
    tc = tcase_create("kernels");
    tcase_add_test(tc, test_fast_kernels_match_ref);
    tcase_add_test(tc, test_fast_kernel_reads_strided_views);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_test(tc, test_add_grad);
    tcase_add_test(tc, test_sub_grad);
    tcase_add_test(tc, test_mul_grad);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_shapes_that_do_not_broadcast);
    tcase_add_test(tc, test_integer_inputs_are_rejected);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(elementwise_suite());
}
