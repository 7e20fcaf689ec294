/* Dimension, cast, slicing and gathering ops (dims.c, cast.c, slice.c, gather.c): values on
 * small cases, int64 data, gradients, and errors (out-of-range indices, non-constant shapes). */
#include <math.h>
#include <string.h>

#include "nncwt.h"
#include "ops_net.h"

static void i64_vec(struct nncw_tensor *t, int n, const int64_t *v)
{
    nncwt_assert_status(nncw_tensor_init(t, NNCW_DTYPE_I64, 1, (int64_t[]){n}), NNCW_OK);
    memcpy(t->data, v, (size_t)n * sizeof *v);
}

static void assert_shape(const struct nncw_tensor *t, int ndim, const int64_t *shape)
{
    ck_assert_int_eq(t->ndim, ndim);
    for (int d = 0; d < ndim; d++)
        ck_assert_int_eq(t->shape[d], shape[d]);
}

static void assert_f32(const struct nncw_tensor *y, int n, const float *want)
{
    ck_assert_int_eq(nncw_tensor_numel(y), n);
    for (int i = 0; i < n; i++)
        if (nncw_tensor_f32(y)[i] != want[i])
            ck_abort_msg("element %d: %g, expected %g", i, nncw_tensor_f32(y)[i], want[i]);
}

/* x = 0, 1, 2, ... of the shape */
static void iota(struct nncw_tensor *t, int ndim, const int64_t *shape)
{
    nncwt_assert_status(nncw_tensor_init(t, NNCW_DTYPE_F32, ndim, shape), NNCW_OK);
    for (int64_t i = 0; i < nncw_tensor_numel(t); i++)
        nncw_tensor_f32(t)[i] = (float)i;
}

START_TEST(test_squeeze_unsqueeze)
{
    struct nncw_tensor x, ax, y;
    iota(&x, 4, (int64_t[]){1, 3, 1, 2});
    i64_vec(&ax, 1, (int64_t[]){-2});
    const struct nncw_tensor *in[] = {&x, &ax};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_SQUEEZE, 2, in, NULL, false, &y), NNCW_OK);
    assert_shape(&y, 3, (int64_t[]){1, 3, 2});
    nncw_tensor_fini(&y);
    nncwt_assert_status(nncwt_run_op(NNCW_OP_SQUEEZE, 1, in, NULL, false, &y), NNCW_OK);
    assert_shape(&y, 2, (int64_t[]){3, 2});
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&ax);
    i64_vec(&ax, 2, (int64_t[]){0, -1});
    nncwt_assert_status(nncwt_run_op(NNCW_OP_UNSQUEEZE, 2, in, NULL, false, &y), NNCW_OK);
    assert_shape(&y, 6, (int64_t[]){1, 1, 3, 1, 2, 1});
    assert_f32(&y, 6, (float[]){0, 1, 2, 3, 4, 5});
    nncw_tensor_fini(&y);
    struct nncwt_gradcheck spec = {.op = NNCW_OP_UNSQUEEZE, .n_in = 2, .in = {&x, &ax}};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&ax);
    /* squeezing a dimension that is not 1 */
    i64_vec(&ax, 1, (int64_t[]){1});
    nncwt_assert_status(opnet_infer_status(NNCW_OP_SQUEEZE, "Net/sq", 2, in, 1, NULL),
                        NNCW_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "Net/sq"));
    nncw_tensor_fini(&ax);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_expand_and_tile)
{
    struct nncw_tensor x, s, y;
    nncwt_tensor_from(&x, 2, (int64_t[]){3, 1}, (float[]){1, 2, 3});
    i64_vec(&s, 3, (int64_t[]){2, 1, 2});
    const struct nncw_tensor *in[] = {&x, &s};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_EXPAND, 2, in, NULL, false, &y), NNCW_OK);
    assert_shape(&y, 3, (int64_t[]){2, 3, 2});
    assert_f32(&y, 12, (float[]){1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
    nncw_tensor_fini(&y);
    struct nncwt_gradcheck spec = {.op = NNCW_OP_EXPAND, .n_in = 2, .in = {&x, &s}};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&s);
    i64_vec(&s, 2, (int64_t[]){2, 3});
    nncwt_assert_status(nncwt_run_op(NNCW_OP_TILE, 2, in, NULL, false, &y), NNCW_OK);
    assert_shape(&y, 2, (int64_t[]){6, 3});
    assert_f32(&y, 18, (float[]){1, 1, 1, 2, 2, 2, 3, 3, 3, 1, 1, 1, 2, 2, 2, 3, 3, 3});
    nncw_tensor_fini(&y);
    spec.op = NNCW_OP_TILE;
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&s);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_shape_size_cast)
{
    struct nncw_tensor x, y;
    iota(&x, 3, (int64_t[]){2, 3, 4});
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_SHAPE, 1, in, NULL, false, &y), NNCW_OK);
    ck_assert_int_eq(y.dtype, NNCW_DTYPE_I64);
    ck_assert(memcmp(y.data, (int64_t[]){2, 3, 4}, 24) == 0);
    nncw_tensor_fini(&y);
    nncwt_assert_status(nncwt_run_op(NNCW_OP_SIZE, 1, in, NULL, false, &y), NNCW_OK);
    ck_assert_int_eq(((int64_t *)y.data)[0], 24);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
}
END_TEST

static int g_to;
static void attrs_to(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "to", g_to);
}

START_TEST(test_cast_saturates_and_rounds_toward_zero)
{
    struct nncw_tensor x, y, back;
    nncwt_tensor_from(&x, 1, (int64_t[]){6}, (float[]){-1.7f, 2.9f, 300, -300, NAN, 0});
    const struct nncw_tensor *in[] = {&x};
    g_to = 3; /* int8 */
    nncwt_assert_status(nncwt_run_op(NNCW_OP_CAST, 1, in, attrs_to, false, &y), NNCW_OK);
    ck_assert_int_eq(y.dtype, NNCW_DTYPE_I8);
    ck_assert(memcmp(y.data, (int8_t[]){-1, 2, 127, -128, 0, 0}, 6) == 0);
    nncw_tensor_fini(&y);
    g_to = 9; /* bool */
    nncwt_assert_status(nncwt_run_op(NNCW_OP_CAST, 1, in, attrs_to, false, &y), NNCW_OK);
    ck_assert(memcmp(y.data, (uint8_t[]){1, 1, 1, 1, 1, 0}, 6) == 0);
    g_to = 1; /* and back to float */
    const struct nncw_tensor *bin[] = {&y};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_CAST, 1, bin, attrs_to, false, &back), NNCW_OK);
    assert_f32(&back, 6, (float[]){1, 1, 1, 1, 1, 0});
    nncw_tensor_fini(&back);
    nncw_tensor_fini(&y);
    g_to = 7;
    nncwt_assert_status(nncwt_run_op(NNCW_OP_CAST, 1, in, attrs_to, false, &y), NNCW_OK);
    ck_assert(memcmp(y.data, (int64_t[]){-1, 2, 300, -300, 0, 0}, 48) == 0);
    nncw_tensor_fini(&y);
    g_to = 11; /* double: not an nncw dtype */
    nncwt_assert_status(opnet_infer_status(NNCW_OP_CAST, "Net/cast", 1, in, 1, attrs_to),
                        NNCW_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "Net/cast"));
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_slice_clamps_and_steps)
{
    struct nncw_tensor x, st, en, ax, sp, y;
    iota(&x, 2, (int64_t[]){3, 5});
    i64_vec(&st, 2, (int64_t[]){-1, 4});
    i64_vec(&en, 2, (int64_t[]){INT64_MIN, -100});
    i64_vec(&ax, 2, (int64_t[]){1, 0});
    i64_vec(&sp, 2, (int64_t[]){-2, -1});
    const struct nncw_tensor *in[] = {&x, &st, &en, &ax, &sp};
    /* axis 1 from the last element backwards by 2; axis 0 from 4 (clamped to 2) to the front */
    nncwt_assert_status(nncwt_run_op(NNCW_OP_SLICE, 5, in, NULL, false, &y), NNCW_OK);
    assert_shape(&y, 2, (int64_t[]){3, 3});
    assert_f32(&y, 9, (float[]){14, 12, 10, 9, 7, 5, 4, 2, 0});
    nncw_tensor_fini(&y);
    struct nncwt_gradcheck spec = {.op = NNCW_OP_SLICE, .n_in = 5, .in = {&x, &st, &en, &ax, &sp}};
    nncwt_check_grad(&spec);
    /* starts and ends only: the leading axes */
    nncw_tensor_fini(&st);
    nncw_tensor_fini(&en);
    i64_vec(&st, 1, (int64_t[]){1});
    i64_vec(&en, 1, (int64_t[]){INT64_MAX});
    nncwt_assert_status(nncwt_run_op(NNCW_OP_SLICE, 3, in, NULL, false, &y), NNCW_OK);
    assert_shape(&y, 2, (int64_t[]){2, 5});
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&st);
    nncw_tensor_fini(&en);
    nncw_tensor_fini(&ax);
    nncw_tensor_fini(&sp);
}
END_TEST

static void attrs_axis1(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "axis", 1);
}

START_TEST(test_split_sizes_and_equal_parts)
{
    struct nncw_tensor x, sizes;
    iota(&x, 2, (int64_t[]){2, 6});
    i64_vec(&sizes, 2, (int64_t[]){2, 4});
    const struct nncw_tensor *in[] = {&x, &sizes};
    struct opnet b;
    opnet_build(&b, NNCW_OP_SPLIT, "Net/split", 2, in, 0, 2, attrs_axis1);
    nncwt_assert_status(opnet_exec(&b, false, false), NNCW_OK);
    nncwt_assert_status(opnet_forward(&b), NNCW_OK);
    assert_f32(nncw_exec_get_output(b.ex, 0), 4, (float[]){0, 1, 6, 7});
    assert_f32(nncw_exec_get_output(b.ex, 1), 8, (float[]){2, 3, 4, 5, 8, 9, 10, 11});
    opnet_free(&b);
    opnet_build(&b, NNCW_OP_SPLIT, "Net/split", 1, in, 0, 2, attrs_axis1);
    nncwt_assert_status(opnet_exec(&b, false, false), NNCW_OK);
    nncwt_assert_status(opnet_forward(&b), NNCW_OK);
    assert_f32(nncw_exec_get_output(b.ex, 1), 6, (float[]){3, 4, 5, 9, 10, 11});
    opnet_free(&b);
    /* backward: each output's gradient lands on its own columns */
    opnet_build(&b, NNCW_OP_SPLIT, "Net/split", 2, in, 0, 2, attrs_axis1);
    nncwt_assert_status(opnet_exec(&b, false, true), NNCW_OK);
    nncwt_assert_status(opnet_forward(&b), NNCW_OK);
    struct nncw_tensor g0, g1;
    nncwt_tensor_from(&g0, 2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4});
    nncwt_tensor_from(&g1, 2, (int64_t[]){2, 4}, (float[]){5, 6, 7, 8, 9, 10, 11, 12});
    nncw_graph_zero_grads(b.g);
    nncwt_assert_status(nncw_exec_backward(b.ex, (const struct nncw_tensor *[]){&g0, &g1}),
                        NNCW_OK);
    assert_f32(opnet_param_grad(&b, 0), 12, (float[]){1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12});
    opnet_free(&b);
    nncw_tensor_fini(&g0);
    nncw_tensor_fini(&g1);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&sizes);
}
END_TEST

START_TEST(test_gather_and_gatherelements)
{
    struct nncw_tensor x, idx, y;
    iota(&x, 2, (int64_t[]){3, 2});
    i64_vec(&idx, 3, (int64_t[]){2, -3, 1});
    const struct nncw_tensor *in[] = {&x, &idx};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_GATHER, 2, in, NULL, false, &y), NNCW_OK);
    assert_shape(&y, 2, (int64_t[]){3, 2});
    assert_f32(&y, 6, (float[]){4, 5, 0, 1, 2, 3});
    nncw_tensor_fini(&y);
    struct nncwt_gradcheck spec = {.op = NNCW_OP_GATHER, .n_in = 2, .in = {&x, &idx}};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&idx);
    /* GatherElements along axis 1 */
    nncwt_assert_status(nncw_tensor_init(&idx, NNCW_DTYPE_I64, 2, (int64_t[]){3, 2}), NNCW_OK);
    memcpy(idx.data, (int64_t[]){1, 0, 1, 1, 0, -1}, 48);
    nncwt_assert_status(nncwt_run_op(NNCW_OP_GATHERELEMENTS, 2, in, attrs_axis1, false, &y),
                        NNCW_OK);
    assert_f32(&y, 6, (float[]){1, 0, 3, 3, 4, 5});
    nncw_tensor_fini(&y);
    spec.op = NNCW_OP_GATHERELEMENTS;
    spec.attrs = attrs_axis1;
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&idx);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_gather_index_out_of_range_is_an_error)
{
    struct nncw_tensor x, idx;
    iota(&x, 2, (int64_t[]){3, 2});
    i64_vec(&idx, 2, (int64_t[]){0, 3});
    const struct nncw_tensor *in[] = {&x, &idx};
    struct opnet b;
    opnet_build(&b, NNCW_OP_GATHER, "Net/gather", 2, in, 3, 1, NULL);
    nncwt_assert_status(opnet_exec(&b, false, false), NNCW_OK);
    nncwt_assert_status(opnet_forward(&b), NNCW_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "Net/gather"));
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "index 3"));
    opnet_free(&b);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&idx);
}
END_TEST

START_TEST(test_shape_inputs_must_be_constant)
{
    struct nncw_tensor x, s;
    iota(&x, 2, (int64_t[]){3, 1});
    i64_vec(&s, 2, (int64_t[]){3, 4});
    const struct nncw_tensor *in[] = {&x, &s};
    /* the shape as a graph input: its value is unknown when memory is planned */
    nncwt_assert_status(opnet_infer_status(NNCW_OP_EXPAND, "Net/expand", 2, in, 3, NULL),
                        NNCW_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "Net/expand"));
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "constant"));
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&s);
}
END_TEST

static Suite *dims_suite(void)
{
    Suite *s = suite_create("ops_dims");
    TCase *tc = tcase_create("dims");
    tcase_add_test(tc, test_squeeze_unsqueeze);
    tcase_add_test(tc, test_expand_and_tile);
    tcase_add_test(tc, test_shape_size_cast);
    tcase_add_test(tc, test_cast_saturates_and_rounds_toward_zero);
    suite_add_tcase(s, tc);
    tc = tcase_create("slicing");
    tcase_add_test(tc, test_slice_clamps_and_steps);
    tcase_add_test(tc, test_split_sizes_and_equal_parts);
    tcase_add_test(tc, test_gather_and_gatherelements);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_gather_index_out_of_range_is_an_error);
    tcase_add_test(tc, test_shape_inputs_must_be_constant);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(dims_suite());
}
