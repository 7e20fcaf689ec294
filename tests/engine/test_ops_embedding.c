#include <string.h>

#include "nncwt.h"
#include "ops_net.h"

static void i64_from(struct nncw_tensor *t, int ndim, const int64_t *shape, const int64_t *v)
{
    nncwt_assert_status(nncw_tensor_init(t, NNCW_DTYPE_I64, ndim, shape), NNCW_OK);
    memcpy(t->data, v, nncw_tensor_nbytes(t));
}

static void i32_from(struct nncw_tensor *t, int ndim, const int64_t *shape, const int32_t *v)
{
    nncwt_assert_status(nncw_tensor_init(t, NNCW_DTYPE_I32, ndim, shape), NNCW_OK);
    memcpy(t->data, v, nncw_tensor_nbytes(t));
}

/* weight [4, 3] with row r = (10r, 10r + 1, 10r + 2) */
static void weight_4x3(struct nncw_tensor *w)
{
    float v[12];
    for (int r = 0; r < 4; r++)
        for (int j = 0; j < 3; j++)
            v[r * 3 + j] = (float)(10 * r + j);
    nncwt_tensor_from(w, 2, (int64_t[]){4, 3}, v);
}

static void attrs_padding_2(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "padding_idx", 2);
}

static void attrs_padding_m1(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "padding_idx", -1);
}

static void attrs_padding_9(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "padding_idx", 9);
}

/* ---- forward ---- */

START_TEST(test_lookup_int64_indices)
{
    struct nncw_tensor w, idx, y;
    weight_4x3(&w);
    i64_from(&idx, 2, (int64_t[]){2, 2}, (int64_t[]){3, 0, 1, 3});
    const struct nncw_tensor *in[] = {&w, &idx};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_EMBEDDING, 2, in, NULL, false, &y), NNCW_OK);
    ck_assert_int_eq(y.ndim, 3);
    ck_assert_int_eq(y.shape[0], 2);
    ck_assert_int_eq(y.shape[1], 2);
    ck_assert_int_eq(y.shape[2], 3);
    const float want[] = {30, 31, 32, 0, 1, 2, 10, 11, 12, 30, 31, 32};
    ck_assert_mem_eq(y.data, want, sizeof want);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&w);
    nncw_tensor_fini(&idx);
}
END_TEST

START_TEST(test_lookup_int32_and_scalar_indices)
{
    struct nncw_tensor w, idx, y;
    weight_4x3(&w);
    i32_from(&idx, 1, (int64_t[]){3}, (int32_t[]){2, 2, 1});
    const struct nncw_tensor *in[] = {&w, &idx};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_EMBEDDING, 2, in, NULL, false, &y), NNCW_OK);
    const float want[] = {20, 21, 22, 20, 21, 22, 10, 11, 12};
    ck_assert_mem_eq(y.data, want, sizeof want);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&idx);
    /* a 0-d index gives one row of shape [dim] */
    i64_from(&idx, 0, NULL, (int64_t[]){1});
    nncwt_assert_status(nncwt_run_op(NNCW_OP_EMBEDDING, 2, in, NULL, false, &y), NNCW_OK);
    ck_assert_int_eq(y.ndim, 1);
    ck_assert_mem_eq(y.data, want + 6, 3 * sizeof(float));
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&w);
    nncw_tensor_fini(&idx);
}
END_TEST

/* ---- gradients ---- */

START_TEST(test_weight_grad_with_repeated_indices)
{
    struct nncw_tensor w, idx;
    nncwt_tensor_rand(&w, 2, (int64_t[]){5, 7}, -1, 1, 1);
    i64_from(&idx, 2, (int64_t[]){2, 3}, (int64_t[]){4, 0, 4, 2, 4, 1}); /* row 3 unused */
    struct nncwt_gradcheck spec = {.op = NNCW_OP_EMBEDDING, .n_in = 2, .in = {&w, &idx}};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&w);
    nncw_tensor_fini(&idx);
}
END_TEST

static void check_padding_row_gets_no_gradient(nncwt_attr_fn attrs, int pad_row)
{
    struct nncw_tensor w, idx, gy;
    weight_4x3(&w);
    i64_from(&idx, 1, (int64_t[]){4}, (int64_t[]){pad_row, 1, pad_row, 1});
    nncwt_tensor_rand(&gy, 2, (int64_t[]){4, 3}, -1, 1, 2);
    const struct nncw_tensor *in[] = {&w, &idx};
    struct opnet b;
    opnet_build(&b, NNCW_OP_EMBEDDING, "Net/emb", 2, in, 0, 1, attrs);
    nncwt_assert_status(opnet_exec(&b, true, true), NNCW_OK);
    nncwt_assert_status(opnet_forward(&b), NNCW_OK);
    /* the padding row is still looked up */
    ck_assert_float_eq(nncw_tensor_f32(nncw_exec_get_output(b.ex, 0))[0], 10.0f * pad_row);
    nncw_graph_zero_grads(b.g);
    const struct nncw_tensor *gout[] = {&gy};
    nncwt_assert_status(nncw_exec_backward(b.ex, gout), NNCW_OK);
    const float *gw = nncw_tensor_f32(opnet_param_grad(&b, 0)), *g = nncw_tensor_f32(&gy);
    for (int j = 0; j < 3; j++) {
        ck_assert_float_eq(gw[pad_row * 3 + j], 0.0f);
        ck_assert_float_eq_tol(gw[3 + j], g[3 + j] + g[9 + j], 1e-6);
    }
    opnet_free(&b);
    nncw_tensor_fini(&w);
    nncw_tensor_fini(&idx);
    nncw_tensor_fini(&gy);
}

START_TEST(test_padding_row_gets_no_gradient)
{
    check_padding_row_gets_no_gradient(attrs_padding_2, 2);
    check_padding_row_gets_no_gradient(attrs_padding_m1, 3); /* -1 counts from the end */
}
END_TEST

/* ---- errors ---- */

static void check_bad_index(int64_t bad, const char *bad_str)
{
    struct nncw_tensor w, idx;
    weight_4x3(&w);
    i64_from(&idx, 1, (int64_t[]){3}, (int64_t[]){0, bad, 1});
    const struct nncw_tensor *in[] = {&w, &idx};
    struct opnet b;
    opnet_build(&b, NNCW_OP_EMBEDDING, "Net/tok_emb", 2, in, OPNET_INPUT(1), 1, NULL);
    nncwt_assert_status(opnet_exec(&b, false, false), NNCW_OK);
    nncwt_assert_status(opnet_forward(&b), NNCW_ERR_INVALID_ARG);
    assert_error_mentions("embedding 'Net/tok_emb'", bad_str, "[0, 4)");
    opnet_free(&b);
    nncw_tensor_fini(&w);
    nncw_tensor_fini(&idx);
}

START_TEST(test_out_of_range_index)
{
    check_bad_index(4, "index 4");
    check_bad_index(-1, "index -1");
    check_bad_index(INT64_MAX, "index 9223372036854775807");
}
END_TEST

START_TEST(test_bad_shapes_and_dtypes)
{
    struct nncw_tensor w, w1, idx, fidx;
    weight_4x3(&w);
    nncwt_tensor_rand(&w1, 1, (int64_t[]){4}, -1, 1, 1);
    i64_from(&idx, 1, (int64_t[]){2}, (int64_t[]){0, 1});
    nncwt_tensor_rand(&fidx, 1, (int64_t[]){2}, 0, 1, 2);
    const struct nncw_tensor *in1[] = {&w1, &idx};
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_EMBEDDING, "Net/e1", 2, in1, OPNET_INPUT(1), NULL),
        NNCW_ERR_SHAPE);
    assert_error_mentions("embedding 'Net/e1'", "[4]");
    const struct nncw_tensor *in2[] = {&w, &fidx};
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_EMBEDDING, "Net/e2", 2, in2, OPNET_INPUT(1), NULL),
        NNCW_ERR_DTYPE);
    assert_error_mentions("Net/e2", "float32");
    const struct nncw_tensor *in3[] = {&w, &idx};
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_EMBEDDING, "Net/e3", 2, in3, OPNET_INPUT(1), attrs_padding_9),
        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("Net/e3", "padding_idx 9");
    nncw_tensor_fini(&w);
    nncw_tensor_fini(&w1);
    nncw_tensor_fini(&idx);
    nncw_tensor_fini(&fidx);
}
END_TEST

static Suite *embedding_suite(void)
{
    Suite *s = suite_create("ops_embedding");
    TCase *tc = tcase_create("forward");
    tcase_add_test(tc, test_lookup_int64_indices);
    tcase_add_test(tc, test_lookup_int32_and_scalar_indices);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_test(tc, test_weight_grad_with_repeated_indices);
    tcase_add_test(tc, test_padding_row_gets_no_gradient);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_out_of_range_index);
    tcase_add_test(tc, test_bad_shapes_and_dtypes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(embedding_suite());
}
