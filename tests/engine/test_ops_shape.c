#include <string.h>

#include "nncwt.h"
#include "ops_net.h"

static void i64_from(struct nncw_tensor *t, int ndim, const int64_t *shape, const int64_t *v)
{
    nncwt_assert_status(nncw_tensor_init(t, NNCW_DTYPE_I64, ndim, shape), NNCW_OK);
    memcpy(t->data, v, nncw_tensor_nbytes(t));
}

/* a 1-D int64 tensor of n values */
static void i64_vec(struct nncw_tensor *t, int n, const int64_t *v)
{
    i64_from(t, 1, (int64_t[]){n}, v);
}

static void assert_shape(const struct nncw_tensor *t, int ndim, const int64_t *shape)
{
    ck_assert_int_eq(t->ndim, ndim);
    for (int d = 0; d < ndim; d++)
        ck_assert_int_eq(t->shape[d], shape[d]);
}

static void assert_values(const struct nncw_tensor *t, int n, const float *want)
{
    ck_assert_int_eq(nncw_tensor_numel(t), n);
    for (int i = 0; i < n; i++)
        if (nncw_tensor_f32(t)[i] != want[i])
            ck_abort_msg("element %d: %g, expected %g", i, nncw_tensor_f32(t)[i], want[i]);
}

static enum nncw_status run(enum nncw_op op, int n_in, const struct nncw_tensor *const in[],
                            nncwt_attr_fn attrs, struct nncw_tensor *y)
{
    return nncwt_run_op(op, n_in, in, attrs, false, y);
}

/* ---- Concat ---- */

static void attrs_axis1(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "axis", 1);
}

static void attrs_axis0(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "axis", 0);
}

static void attrs_axis_m1(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "axis", -1);
}

START_TEST(test_concat_values)
{
    struct nncw_tensor a, b, c, y;
    nncwt_tensor_from(&a, 2, (int64_t[]){2, 1}, (float[]){1, 2});
    nncwt_tensor_from(&b, 2, (int64_t[]){2, 2}, (float[]){3, 4, 5, 6});
    const struct nncw_tensor *in[] = {&a, &b};
    nncwt_assert_status(run(NNCW_OP_CONCAT, 2, in, attrs_axis1, &y), NNCW_OK);
    assert_shape(&y, 2, (int64_t[]){2, 3});
    assert_values(&y, 6, (float[]){1, 3, 4, 2, 5, 6});
    nncw_tensor_fini(&y);
    nncwt_assert_status(run(NNCW_OP_CONCAT, 2, in, attrs_axis_m1, &y), NNCW_OK);
    assert_values(&y, 6, (float[]){1, 3, 4, 2, 5, 6});
    nncw_tensor_fini(&y);
    /* three along axis 0 */
    nncwt_tensor_from(&c, 2, (int64_t[]){1, 2}, (float[]){7, 8});
    const struct nncw_tensor *in3[] = {&b, &c, &b};
    nncwt_assert_status(run(NNCW_OP_CONCAT, 3, in3, attrs_axis0, &y), NNCW_OK);
    assert_shape(&y, 2, (int64_t[]){5, 2});
    assert_values(&y, 10, (float[]){3, 4, 5, 6, 7, 8, 3, 4, 5, 6});
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
    nncw_tensor_fini(&c);
}
END_TEST

START_TEST(test_concat_int64)
{
    /* shape arithmetic in imported models concatenates int64 vectors */
    struct nncw_tensor a, b, y;
    i64_vec(&a, 2, (int64_t[]){1, 2});
    i64_vec(&b, 1, (int64_t[]){-1});
    const struct nncw_tensor *in[] = {&a, &b};
    nncwt_assert_status(run(NNCW_OP_CONCAT, 2, in, attrs_axis0, &y), NNCW_OK);
    ck_assert_int_eq(y.dtype, NNCW_DTYPE_I64);
    const int64_t *v = y.data;
    ck_assert(v[0] == 1 && v[1] == 2 && v[2] == -1);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
}
END_TEST

START_TEST(test_concat_grad)
{
    struct nncw_tensor a, b, c;
    nncwt_tensor_rand(&a, 3, (int64_t[]){2, 3, 5}, -1, 1, 1);
    nncwt_tensor_rand(&b, 3, (int64_t[]){2, 1, 5}, -1, 1, 2);
    nncwt_tensor_rand(&c, 3, (int64_t[]){2, 4, 5}, -1, 1, 3);
    struct nncwt_gradcheck spec = {
        .op = NNCW_OP_CONCAT, .n_in = 3, .in = {&a, &b, &c}, .attrs = attrs_axis1};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
    nncw_tensor_fini(&c);
}
END_TEST

START_TEST(test_concat_errors)
{
    struct nncw_tensor a, b, k;
    nncwt_tensor_rand(&a, 2, (int64_t[]){2, 3}, -1, 1, 1);
    nncwt_tensor_rand(&b, 2, (int64_t[]){3, 3}, -1, 1, 2);
    const struct nncw_tensor *in[] = {&a, &b};
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_CONCAT, "Net/cat", 2, in, OPNET_INPUT(0), attrs_axis1),
        NNCW_ERR_SHAPE);
    assert_error_mentions("concat 'Net/cat'", "[3, 3]", "[2, 3]");
    nncwt_assert_status(opnet_infer_status(NNCW_OP_CONCAT, "Net/cat2", 2, in, 0, NULL),
                        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("Net/cat2", "axis");
    i64_vec(&k, 3, (int64_t[]){1, 2, 3});
    const struct nncw_tensor *mixed[] = {&a, &k};
    nncwt_assert_status(opnet_infer_status(NNCW_OP_CONCAT, "Net/cat3", 2, mixed, 0, attrs_axis0),
                        NNCW_ERR_DTYPE);
    assert_error_mentions("Net/cat3");
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
    nncw_tensor_fini(&k);
}
END_TEST

/* ---- Reshape and Flatten ---- */

START_TEST(test_reshape_values_and_special_dims)
{
    struct nncw_tensor x, sh, y;
    nncwt_tensor_rand(&x, 3, (int64_t[]){2, 3, 4}, -1, 1, 1);
    i64_vec(&sh, 2, (int64_t[]){0, -1}); /* 0 copies dim 0, -1 takes the rest */
    const struct nncw_tensor *in[] = {&x, &sh};
    nncwt_assert_status(run(NNCW_OP_RESHAPE, 2, in, NULL, &y), NNCW_OK);
    assert_shape(&y, 2, (int64_t[]){2, 12});
    ck_assert_mem_eq(y.data, x.data, nncw_tensor_nbytes(&x));
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&sh);
    i64_vec(&sh, 4, (int64_t[]){4, 1, -1, 2});
    nncwt_assert_status(run(NNCW_OP_RESHAPE, 2, in, NULL, &y), NNCW_OK);
    assert_shape(&y, 4, (int64_t[]){4, 1, 3, 2});
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&sh);
    nncw_tensor_fini(&x);
}
END_TEST

static void attrs_allowzero(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "allowzero", 1);
}

START_TEST(test_reshape_errors)
{
    struct nncw_tensor x, sh;
    nncwt_tensor_rand(&x, 2, (int64_t[]){2, 3}, -1, 1, 1);
    const struct nncw_tensor *in[] = {&x, &sh};
    i64_vec(&sh, 2, (int64_t[]){4, 2});
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_RESHAPE, "Net/view", 2, in, OPNET_INPUT(0), NULL),
        NNCW_ERR_SHAPE);
    assert_error_mentions("reshape 'Net/view'", "[2, 3]", "[4, 2]");
    nncw_tensor_fini(&sh);
    i64_vec(&sh, 3, (int64_t[]){-1, -1, 3});
    nncwt_assert_status(opnet_infer_status(NNCW_OP_RESHAPE, "Net/view2", 2, in, 0, NULL),
                        NNCW_ERR_SHAPE);
    assert_error_mentions("Net/view2", "-1");
    nncw_tensor_fini(&sh);
    /* with allowzero a 0 is a real zero, so [0, 6] cannot hold 6 elements */
    i64_vec(&sh, 2, (int64_t[]){0, 6});
    nncwt_assert_status(opnet_infer_status(NNCW_OP_RESHAPE, "Net/view3", 2, in, 0, attrs_allowzero),
                        NNCW_ERR_SHAPE);
    /* the shape must be known when shapes are inferred */
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_RESHAPE, "Net/view4", 2, in, OPNET_INPUT(1), NULL),
        NNCW_ERR_UNSUPPORTED);
    assert_error_mentions("Net/view4", "constant");
    nncw_tensor_fini(&sh);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_reshape_grad)
{
    struct nncw_tensor x, sh;
    nncwt_tensor_rand(&x, 3, (int64_t[]){3, 1, 5}, -1, 1, 1);
    i64_vec(&sh, 2, (int64_t[]){5, 3});
    struct nncwt_gradcheck spec = {
        .op = NNCW_OP_RESHAPE, .n_in = 2, .in = {&x, &sh}, .fixed = {false, true}};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&sh);
}
END_TEST

static void attrs_axis3(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "axis", 3);
}

static void attrs_axis4(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "axis", 4);
}

START_TEST(test_flatten_shapes)
{
    struct nncw_tensor x, y;
    nncwt_tensor_rand(&x, 3, (int64_t[]){2, 3, 4}, -1, 1, 1);
    const struct nncw_tensor *in[] = {&x};
    static const struct {
        nncwt_attr_fn attrs;
        int64_t rows, cols;
    } cases[] = {{NULL, 2, 12}, {attrs_axis0, 1, 24}, {attrs_axis_m1, 6, 4}, {attrs_axis3, 24, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nncwt_assert_status(run(NNCW_OP_FLATTEN, 1, in, cases[i].attrs, &y), NNCW_OK);
        assert_shape(&y, 2, (int64_t[]){cases[i].rows, cases[i].cols});
        ck_assert_mem_eq(y.data, x.data, nncw_tensor_nbytes(&x));
        nncw_tensor_fini(&y);
    }
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_FLATTEN, "Net/flat", 1, in, OPNET_INPUT(0), attrs_axis4),
        NNCW_ERR_SHAPE);
    assert_error_mentions("flatten 'Net/flat'", "[2, 3, 4]");
    struct nncwt_gradcheck spec = {.op = NNCW_OP_FLATTEN, .n_in = 1, .in = {&x}};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_identity)
{
    struct nncw_tensor x, y, k;
    nncwt_tensor_rand(&x, 2, (int64_t[]){3, 7}, -1, 1, 1);
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(run(NNCW_OP_IDENTITY, 1, in, NULL, &y), NNCW_OK);
    nncwt_assert_tensor_near(&y, &x, 0, 0);
    nncw_tensor_fini(&y);
    i64_vec(&k, 2, (int64_t[]){5, 6});
    const struct nncw_tensor *ink[] = {&k};
    nncwt_assert_status(run(NNCW_OP_IDENTITY, 1, ink, NULL, &y), NNCW_OK);
    ck_assert_int_eq(((int64_t *)y.data)[1], 6);
    nncw_tensor_fini(&y);
    struct nncwt_gradcheck spec = {.op = NNCW_OP_IDENTITY, .n_in = 1, .in = {&x}};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&k);
}
END_TEST

/* ---- Transpose ---- */

static void attrs_perm021(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "perm", 3, (int64_t[]){0, 2, 1});
}

static void attrs_perm201(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "perm", 3, (int64_t[]){2, 0, 1});
}

static void attrs_perm_bad(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "perm", 3, (int64_t[]){0, 0, 1});
}

static void attrs_perm_short(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "perm", 2, (int64_t[]){1, 0});
}

static void attrs_perm3120(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "perm", 4, (int64_t[]){3, 1, 2, 0});
}

START_TEST(test_transpose_values)
{
    struct nncw_tensor x, y, x3;
    nncwt_tensor_from(&x, 2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(run(NNCW_OP_TRANSPOSE, 1, in, NULL, &y), NNCW_OK); /* default: reverse */
    assert_shape(&y, 2, (int64_t[]){3, 2});
    assert_values(&y, 6, (float[]){1, 4, 2, 5, 3, 6});
    nncw_tensor_fini(&y);
    /* [2, 2, 3] with perm (0, 2, 1) and (2, 0, 1) */
    nncwt_tensor_from(&x3, 3, (int64_t[]){2, 2, 3},
                      (float[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    const struct nncw_tensor *in3[] = {&x3};
    nncwt_assert_status(run(NNCW_OP_TRANSPOSE, 1, in3, attrs_perm021, &y), NNCW_OK);
    assert_shape(&y, 3, (int64_t[]){2, 3, 2});
    assert_values(&y, 12, (float[]){0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11});
    nncw_tensor_fini(&y);
    nncwt_assert_status(run(NNCW_OP_TRANSPOSE, 1, in3, attrs_perm201, &y), NNCW_OK);
    assert_shape(&y, 3, (int64_t[]){3, 2, 2});
    assert_values(&y, 12, (float[]){0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11});
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&x3);
}
END_TEST

START_TEST(test_transpose_int64)
{
    struct nncw_tensor k, y;
    i64_from(&k, 2, (int64_t[]){2, 2}, (int64_t[]){1, 2, 3, 4});
    const struct nncw_tensor *in[] = {&k};
    nncwt_assert_status(run(NNCW_OP_TRANSPOSE, 1, in, NULL, &y), NNCW_OK);
    const int64_t *v = y.data;
    ck_assert(v[0] == 1 && v[1] == 3 && v[2] == 2 && v[3] == 4);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&k);
}
END_TEST

START_TEST(test_transpose_grad)
{
    struct nncw_tensor x, x3;
    nncwt_tensor_rand(&x, 4, (int64_t[]){2, 3, 5, 1}, -1, 1, 1);
    struct nncwt_gradcheck spec = {
        .op = NNCW_OP_TRANSPOSE, .n_in = 1, .in = {&x}, .attrs = attrs_perm3120};
    nncwt_check_grad(&spec);
    spec.attrs = NULL;
    nncwt_check_grad(&spec);
    nncwt_tensor_rand(&x3, 3, (int64_t[]){3, 4, 5}, -1, 1, 2);
    spec.in[0] = &x3;
    spec.attrs = attrs_perm201;
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&x3);
}
END_TEST

START_TEST(test_transpose_errors)
{
    struct nncw_tensor x;
    nncwt_tensor_rand(&x, 3, (int64_t[]){2, 3, 4}, -1, 1, 1);
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_TRANSPOSE, "Net/t1", 1, in, OPNET_INPUT(0), attrs_perm_bad),
        NNCW_ERR_SHAPE);
    assert_error_mentions("transpose 'Net/t1'", "perm");
    nncwt_assert_status(
        opnet_infer_status(NNCW_OP_TRANSPOSE, "Net/t2", 1, in, OPNET_INPUT(0), attrs_perm_short),
        NNCW_ERR_SHAPE);
    assert_error_mentions("Net/t2");
    /* perm changed after the executor planned its buffers: refused, never read out of bounds */
    struct opnet b;
    opnet_build(&b, NNCW_OP_TRANSPOSE, "Net/t3", 1, in, OPNET_INPUT(0), 1, attrs_perm021);
    nncwt_assert_status(opnet_exec(&b, false, false), NNCW_OK);
    nncwt_assert_status(opnet_forward(&b), NNCW_OK);
    attrs_perm201(b.node);
    nncwt_assert_status(opnet_forward(&b), NNCW_ERR_INVALID_ARG);
    assert_error_mentions("Net/t3");
    opnet_free(&b);
    nncw_tensor_fini(&x);
}
END_TEST

/* ---- Pad ---- */

static void attrs_reflect(struct nncw_node *n)
{
    nncw_node_set_attr_string(n, "mode", "reflect");
}

static void attrs_edge(struct nncw_node *n)
{
    nncw_node_set_attr_string(n, "mode", "edge");
}

static void attrs_wrap(struct nncw_node *n)
{
    nncw_node_set_attr_string(n, "mode", "wrap");
}

/* Pad of a 1-D [1, 2, 3, ...] with pads (begin, end) */
static void check_pad_1d(nncwt_attr_fn mode, int n, int64_t begin, int64_t end, int n_out,
                         const float *want)
{
    struct nncw_tensor x, pads, y;
    float v[16];
    for (int i = 0; i < n; i++)
        v[i] = (float)(i + 1);
    nncwt_tensor_from(&x, 1, (int64_t[]){n}, v);
    i64_vec(&pads, 2, (int64_t[]){begin, end});
    const struct nncw_tensor *in[] = {&x, &pads};
    nncwt_assert_status(run(NNCW_OP_PAD, 2, in, mode, &y), NNCW_OK);
    assert_values(&y, n_out, want);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&pads);
    nncw_tensor_fini(&y);
}

START_TEST(test_pad_modes_1d)
{
    check_pad_1d(NULL, 3, 1, 2, 6, (float[]){0, 1, 2, 3, 0, 0});
    check_pad_1d(attrs_reflect, 3, 2, 2, 7, (float[]){3, 2, 1, 2, 3, 2, 1});
    check_pad_1d(attrs_edge, 3, 2, 1, 6, (float[]){1, 1, 1, 2, 3, 3});
    /* reflect longer than the dimension repeats like numpy.pad */
    check_pad_1d(attrs_reflect, 3, 4, 0, 7, (float[]){1, 2, 3, 2, 1, 2, 3});
    /* negative pads crop */
    check_pad_1d(NULL, 4, -1, 1, 4, (float[]){2, 3, 4, 0});
    check_pad_1d(attrs_edge, 4, 0, -3, 1, (float[]){1});
}
END_TEST

START_TEST(test_pad_constant_value_2d)
{
    struct nncw_tensor x, pads, cv, y;
    nncwt_tensor_from(&x, 2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4});
    i64_vec(&pads, 4, (int64_t[]){1, 0, 0, 1}); /* one row above, one column right */
    nncwt_tensor_from(&cv, 0, NULL, (float[]){9});
    const struct nncw_tensor *in[] = {&x, &pads, &cv};
    nncwt_assert_status(run(NNCW_OP_PAD, 3, in, NULL, &y), NNCW_OK);
    assert_shape(&y, 2, (int64_t[]){3, 3});
    assert_values(&y, 9, (float[]){9, 9, 9, 1, 2, 9, 3, 4, 9});
    nncw_tensor_fini(&y);
    /* reflect in 2-D */
    nncwt_assert_status(run(NNCW_OP_PAD, 2, in, attrs_reflect, &y), NNCW_OK);
    assert_values(&y, 9, (float[]){3, 4, 3, 1, 2, 1, 3, 4, 3});
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&pads);
    nncw_tensor_fini(&cv);
}
END_TEST

static void attrs_pad_opset2(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "pads", 4, (int64_t[]){0, 1, 1, 0});
    nncw_node_set_attr_float(n, "value", -1.0f);
    nncw_node_set_attr_string(n, "mode", "constant");
}

START_TEST(test_pad_opset2_attributes)
{
    struct nncw_tensor x, y;
    nncwt_tensor_from(&x, 2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4});
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(run(NNCW_OP_PAD, 1, in, attrs_pad_opset2, &y), NNCW_OK);
    assert_shape(&y, 2, (int64_t[]){3, 3});
    assert_values(&y, 9, (float[]){-1, 1, 2, -1, 3, 4, -1, -1, -1});
    nncw_tensor_fini(&y);
    /* neither the input nor the attribute */
    nncwt_assert_status(opnet_infer_status(NNCW_OP_PAD, "Net/pad0", 1, in, OPNET_INPUT(0), NULL),
                        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("pad 'Net/pad0'", "pads");
    nncw_tensor_fini(&x);
}
END_TEST

static void check_pad_grad(nncwt_attr_fn mode, bool with_value)
{
    struct nncw_tensor x, pads, cv;
    nncwt_tensor_rand(&x, 3, (int64_t[]){2, 3, 4}, -1, 1, 5);
    i64_vec(&pads, 6, (int64_t[]){0, 2, 1, 1, -1, 3});
    nncwt_tensor_from(&cv, 0, NULL, (float[]){0.5f});
    struct nncwt_gradcheck spec = {
        .op = NNCW_OP_PAD, .n_in = with_value ? 3 : 2, .in = {&x, &pads, &cv}, .attrs = mode};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&pads);
    nncw_tensor_fini(&cv);
}

START_TEST(test_pad_grad)
{
    check_pad_grad(NULL, true); /* the constant value gets a gradient too */
    check_pad_grad(attrs_reflect, false);
    check_pad_grad(attrs_edge, false);
}
END_TEST

START_TEST(test_pad_errors)
{
    struct nncw_tensor x, pads;
    nncwt_tensor_rand(&x, 2, (int64_t[]){2, 3}, -1, 1, 1);
    i64_vec(&pads, 2, (int64_t[]){1, 1});
    const struct nncw_tensor *in[] = {&x, &pads};
    nncwt_assert_status(opnet_infer_status(NNCW_OP_PAD, "Net/pad", 2, in, OPNET_INPUT(0), NULL),
                        NNCW_ERR_SHAPE);
    assert_error_mentions("pad 'Net/pad'", "[2]", "[2, 3]");
    nncw_tensor_fini(&pads);
    i64_vec(&pads, 4, (int64_t[]){0, -4, 0, 0});
    nncwt_assert_status(opnet_infer_status(NNCW_OP_PAD, "Net/pad2", 2, in, OPNET_INPUT(0), NULL),
                        NNCW_ERR_SHAPE);
    assert_error_mentions("Net/pad2");
    nncwt_assert_status(opnet_infer_status(NNCW_OP_PAD, "Net/pad3", 2, in, 0, attrs_wrap),
                        NNCW_ERR_UNSUPPORTED);
    assert_error_mentions("Net/pad3", "wrap");
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&pads);
}
END_TEST

static Suite *shape_suite(void)
{
    Suite *s = suite_create("ops_shape");
    TCase *tc = tcase_create("concat");
    tcase_add_test(tc, test_concat_values);
    tcase_add_test(tc, test_concat_int64);
    tcase_add_test(tc, test_concat_grad);
    tcase_add_test(tc, test_concat_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("reshape");
    tcase_add_test(tc, test_reshape_values_and_special_dims);
    tcase_add_test(tc, test_reshape_errors);
    tcase_add_test(tc, test_reshape_grad);
    tcase_add_test(tc, test_flatten_shapes);
    tcase_add_test(tc, test_identity);
    suite_add_tcase(s, tc);
    tc = tcase_create("transpose");
    tcase_add_test(tc, test_transpose_values);
    tcase_add_test(tc, test_transpose_int64);
    tcase_add_test(tc, test_transpose_grad);
    tcase_add_test(tc, test_transpose_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("pad");
    tcase_add_test(tc, test_pad_modes_1d);
    tcase_add_test(tc, test_pad_constant_value_2d);
    tcase_add_test(tc, test_pad_opset2_attributes);
    tcase_add_test(tc, test_pad_grad);
    tcase_add_test(tc, test_pad_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(shape_suite());
}
