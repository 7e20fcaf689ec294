#include <string.h>

#include "core/alloc.h"
#include "core/common.h"
#include "graph/exec.h"
#include "nncwt.h"
#include "ops/conv.h"

/* One Conv configuration; the attribute callbacks read the current one (Check forks per test,
 * so a file-level variable is private to the test). */
struct conv_case {
    int n, c, h, w, m, kh, kw;
    int sh, sw, dh, dw;
    int pads[4]; /* top, left, bottom, right */
    int group;
    bool bias;
    const char *auto_pad; /* NULL: NOTSET, explicit pads */
    bool no_kernel_shape; /* leave kernel_shape out: inferred from the weight */
};

static struct conv_case cur;

static void conv_attrs(struct nncw_node *n)
{
    if (!cur.no_kernel_shape)
        nncw_node_set_attr_ints(n, "kernel_shape", 2, (int64_t[]){cur.kh, cur.kw});
    nncw_node_set_attr_ints(n, "strides", 2, (int64_t[]){cur.sh, cur.sw});
    nncw_node_set_attr_ints(n, "dilations", 2, (int64_t[]){cur.dh, cur.dw});
    if (cur.auto_pad)
        nncw_node_set_attr_string(n, "auto_pad", cur.auto_pad);
    else
        nncw_node_set_attr_ints(n, "pads", 4,
                                (int64_t[]){cur.pads[0], cur.pads[1], cur.pads[2], cur.pads[3]});
    nncw_node_set_attr_int(n, "group", cur.group);
}

static int out_size(int in, int k, int s, int d, int lo, int hi)
{
    return (in + lo + hi - ((k - 1) * d + 1)) / s + 1;
}

static struct nncw_conv2d_geom geom_of(const struct conv_case *k)
{
    return (struct nncw_conv2d_geom){
        .n = k->n,
        .c = k->c,
        .h = k->h,
        .w = k->w,
        .m = k->m,
        .group = k->group,
        .kh = k->kh,
        .kw = k->kw,
        .sh = k->sh,
        .sw = k->sw,
        .dh = k->dh,
        .dw = k->dw,
        .pt = k->pads[0],
        .pl = k->pads[1],
        .oh = out_size(k->h, k->kh, k->sh, k->dh, k->pads[0], k->pads[2]),
        .ow = out_size(k->w, k->kw, k->sw, k->dw, k->pads[1], k->pads[3])};
}

/* x, w and (if the case has one) b with random values */
static void make_inputs(const struct conv_case *k, struct nncw_tensor t[3], uint64_t seed)
{
    nncwt_tensor_rand(&t[0], 4, (int64_t[]){k->n, k->c, k->h, k->w}, -1, 1, seed);
    nncwt_tensor_rand(&t[1], 4, (int64_t[]){k->m, k->c / k->group, k->kh, k->kw}, -1, 1, seed + 1);
    if (k->bias)
        nncwt_tensor_rand(&t[2], 1, (int64_t[]){k->m}, -1, 1, seed + 2);
}

static void free_inputs(const struct conv_case *k, struct nncw_tensor t[3])
{
    nncw_tensor_fini(&t[0]);
    nncw_tensor_fini(&t[1]);
    if (k->bias)
        nncw_tensor_fini(&t[2]);
}

/* the reference kernel's output for the case, into a new tensor */
static void ref_output(const struct conv_case *k, struct nncw_tensor t[3], struct nncw_tensor *y)
{
    struct nncw_conv2d_geom g = geom_of(k);
    ck_assert_int_eq(nncw_tensor_init(y, NNCW_DTYPE_F32, 4, (int64_t[]){g.n, g.m, g.oh, g.ow}),
                     NNCW_OK);
    nncw_kernel_conv2d_f32_ref(&g, nncw_tensor_f32(&t[0]), nncw_tensor_f32(&t[1]),
                               k->bias ? nncw_tensor_f32(&t[2]) : NULL, nncw_tensor_f32(y));
}

/* shapes covering the fast paths: chunks of several images, one image per sgemm (a batch of
 * one), the 1x1 direct path (planes of >= 1024 pixels), index-map, whole-plane and row-by-row
 * im2col, groups and depthwise */
static const struct conv_case forward_cases[] = {
    {2, 3, 7, 9, 4, 3, 3, 1, 1, 1, 1, {0, 0, 0, 0}, 1, true, NULL, false},
    {3, 4, 8, 7, 6, 3, 2, 2, 1, 1, 1, {1, 0, 2, 1}, 2, false, NULL, false},
    {2, 6, 9, 9, 6, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 6, true, NULL, true},
    {2, 3, 11, 10, 5, 3, 3, 1, 2, 2, 3, {2, 3, 2, 3}, 1, true, NULL, false},
    {3, 5, 24, 25, 7, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 1, true, NULL, false},
    {2, 3, 33, 32, 4, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 1, true, NULL, false},
    {1, 3, 20, 21, 5, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, true, NULL, false},
    {5, 5, 6, 6, 4, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 1, false, NULL, false},
    {2, 4, 26, 23, 8, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 4, true, NULL, false},
    {2, 3, 8, 8, 4, 1, 1, 2, 2, 1, 1, {0, 0, 0, 0}, 1, false, NULL, false},
    {70, 2, 3, 3, 3, 2, 2, 1, 1, 1, 1, {0, 0, 0, 0}, 1, true, NULL, false},
    {1, 2, 5, 5, 2, 5, 5, 1, 1, 1, 1, {2, 2, 2, 2}, 1, true, NULL, false},
    /* groups large enough for one sgemm per group */
    {2, 8, 7, 6, 6, 3, 3, 1, 2, 1, 1, {1, 1, 1, 1}, 2, true, NULL, false},
    /* depthwise: pads larger than the kernel, 5x5 with dilation, stride 2 */
    {2, 3, 6, 7, 3, 2, 2, 1, 1, 1, 1, {3, 2, 3, 4}, 3, true, NULL, false},
    {1, 4, 13, 12, 8, 5, 5, 2, 2, 2, 2, {4, 4, 4, 4}, 4, true, NULL, false},
};

START_TEST(test_conv_forward_matches_ref)
{
    cur = forward_cases[_i];
    struct nncw_tensor t[3], y, yref;
    make_inputs(&cur, t, 10 + (uint64_t)_i);
    const struct nncw_tensor *in[] = {&t[0], &t[1], cur.bias ? &t[2] : NULL};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_CONV, cur.bias ? 3 : 2, in, conv_attrs, false, &y),
                        NNCW_OK);
    ref_output(&cur, t, &yref);
    nncwt_assert_tensor_near(&y, &yref, 1e-4, 1e-4);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&yref);
    free_inputs(&cur, t);
}
END_TEST

START_TEST(test_conv_forward_hand_computed)
{
    /* 3x3 image, 2x2 kernel, bias 0.5, stride 1, no padding: each output is a 2x2 window sum
     * weighted by [1 0; 0 -1] */
    struct nncw_tensor x, w, b, y, want;
    nncwt_tensor_from(&x, 4, (int64_t[]){1, 1, 3, 3}, (float[]){1, 2, 3, 4, 5, 6, 7, 8, 9});
    nncwt_tensor_from(&w, 4, (int64_t[]){1, 1, 2, 2}, (float[]){1, 0, 0, -1});
    nncwt_tensor_from(&b, 1, (int64_t[]){1}, (float[]){0.5f});
    nncwt_tensor_from(&want, 4, (int64_t[]){1, 1, 2, 2}, (float[]){-3.5f, -3.5f, -3.5f, -3.5f});
    const struct nncw_tensor *in[] = {&x, &w, &b};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_CONV, 3, in, NULL, false, &y), NNCW_OK);
    nncwt_assert_tensor_near(&y, &want, 1e-6, 0);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
    /* the same with pads 1 on every side: corners see a single tap */
    cur = (struct conv_case){1, 1, 3, 3, 1, 2, 2, 1, 1, 1, 1, {1, 1, 1, 1}, 1, true, NULL, false};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_CONV, 3, in, conv_attrs, false, &y), NNCW_OK);
    ck_assert_int_eq(y.shape[2], 4);
    ck_assert_float_eq_tol(nncw_tensor_f32(&y)[0], 0.5f - 1.0f, 1e-6f);  /* -x[0][0] */
    ck_assert_float_eq_tol(nncw_tensor_f32(&y)[15], 0.5f + 9.0f, 1e-6f); /* +x[2][2] */
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&w);
    nncw_tensor_fini(&b);
}
END_TEST

/* auto_pad gives the same result as the equivalent explicit pads */
START_TEST(test_conv_auto_pad)
{
    static const struct {
        const char *mode;
        int pads[4];
    } modes[] = {
        /* h: 8 in, k 3, s 2 -> 4 out, 1 pad; w: 7 in, k 2, s 2 -> 4 out, 1 pad */
        {"SAME_UPPER", {0, 0, 1, 1}},
        {"SAME_LOWER", {1, 1, 0, 0}},
        {"VALID", {0, 0, 0, 0}},
    };
    struct conv_case k = {2, 3, 8, 7, 4, 3, 2, 2, 2, 1, 1, {0, 0, 0, 0}, 1, true, NULL, false};
    k.auto_pad = modes[_i].mode;
    memcpy(k.pads, modes[_i].pads, sizeof k.pads);
    cur = k;
    struct nncw_tensor t[3], y, yref;
    make_inputs(&k, t, 3);
    const struct nncw_tensor *in[] = {&t[0], &t[1], &t[2]};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_CONV, 3, in, conv_attrs, false, &y), NNCW_OK);
    ref_output(&k, t, &yref);
    if (_i < 2) {
        ck_assert_int_eq(y.shape[2], 4);
        ck_assert_int_eq(y.shape[3], 4);
    }
    nncwt_assert_tensor_near(&y, &yref, 1e-4, 1e-4);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&yref);
    free_inputs(&k, t);
}
END_TEST

/* the fast kernels on their own, with a batch of several chunks (the last one partial) */
START_TEST(test_conv_kernel_fast_matches_ref)
{
    struct conv_case k = {7, 3, 40, 40, 8, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, true, NULL, false};
    struct nncw_conv2d_geom g = geom_of(&k);
    struct nncw_tensor t[3], yref;
    make_inputs(&k, t, 21);
    ref_output(&k, t, &yref);
    float *scratch = nncw_malloc(nncw_kernel_conv2d_f32_scratch(&g) * sizeof(float));
    float *y = nncw_malloc(nncw_tensor_nbytes(&yref));
    nncw_kernel_conv2d_f32(&g, nncw_tensor_f32(&t[0]), nncw_tensor_f32(&t[1]),
                           nncw_tensor_f32(&t[2]), y, scratch);
    for (int64_t i = 0; i < nncw_tensor_numel(&yref); i++)
        ck_assert_float_eq_tol(y[i], nncw_tensor_f32(&yref)[i], 1e-4f);
    nncw_free(y);
    nncw_free(scratch);
    nncw_tensor_fini(&yref);
    free_inputs(&k, t);
}
END_TEST

/* col2im is the adjoint of im2col: <im2col(x), c> == <x, col2im(c)> */
START_TEST(test_conv_col2im_is_adjoint)
{
    static const struct conv_case cases[] = {
        /* row by row: stride 2 in height, width not kept */
        {2, 2, 13, 12, 1, 3, 2, 2, 1, 2, 1, {1, 2, 0, 1}, 1, false, NULL, false},
        /* stride 1 keeping the width: whole planes at once, clipped side columns */
        {2, 2, 9, 10, 1, 3, 3, 1, 1, 1, 2, {1, 2, 0, 2}, 1, false, NULL, false},
        /* a plane of at most 32 pixels: index maps */
        {3, 2, 7, 6, 1, 3, 2, 2, 1, 2, 1, {1, 2, 0, 1}, 1, false, NULL, false},
    };
    struct conv_case k = cases[_i];
    struct nncw_conv2d_geom g = geom_of(&k);
    size_t rows = (size_t)g.c * g.kh * g.kw, cols = (size_t)g.n * g.oh * g.ow;
    struct nncw_tensor x, c, col, dx;
    nncwt_tensor_rand(&x, 4, (int64_t[]){g.n, g.c, g.h, g.w}, -1, 1, 1);
    nncwt_tensor_rand(&c, 2, (int64_t[]){(int64_t)rows, (int64_t)cols}, -1, 1, 2);
    nncw_tensor_init(&col, NNCW_DTYPE_F32, 2, c.shape);
    nncw_tensor_init(&dx, NNCW_DTYPE_F32, 4, x.shape);
    nncw_kernel_im2col_f32(&g, nncw_tensor_f32(&x), g.n, nncw_tensor_f32(&col));
    double lhs = 0, rhs = 0;
    for (int64_t i = 0; i < nncw_tensor_numel(&c); i++)
        lhs += (double)nncw_tensor_f32(&col)[i] * nncw_tensor_f32(&c)[i];
    nncw_kernel_col2im_f32(&g, nncw_tensor_f32(&c), g.n, nncw_tensor_f32(&dx));
    for (int64_t i = 0; i < nncw_tensor_numel(&x); i++)
        rhs += (double)nncw_tensor_f32(&x)[i] * nncw_tensor_f32(&dx)[i];
    ck_assert_double_eq_tol(lhs, rhs, 1e-3);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&c);
    nncw_tensor_fini(&col);
    nncw_tensor_fini(&dx);
}
END_TEST

static const struct conv_case grad_cases[] = {
    /* odd sizes, bias */
    {2, 3, 9, 8, 4, 3, 3, 1, 1, 1, 1, {0, 0, 0, 0}, 1, true, NULL, false},
    /* a tiny plane (index-map im2col) */
    {2, 3, 5, 7, 4, 3, 3, 1, 1, 1, 1, {0, 0, 0, 0}, 1, true, NULL, false},
    /* stride 2, asymmetric padding, no bias */
    {2, 2, 7, 6, 3, 3, 3, 2, 2, 1, 1, {1, 0, 2, 1}, 1, false, NULL, false},
    /* dilation */
    {1, 2, 8, 9, 3, 3, 2, 1, 2, 2, 3, {2, 1, 1, 2}, 1, true, NULL, false},
    /* stride 1 keeping the width (whole-plane im2col), with dilation */
    {1, 2, 7, 8, 3, 3, 3, 1, 1, 2, 2, {2, 2, 2, 2}, 1, true, NULL, false},
    /* stride 1 keeping the width with asymmetric padding */
    {2, 2, 6, 7, 2, 3, 3, 1, 1, 1, 1, {0, 2, 2, 0}, 1, false, NULL, false},
    /* small groups (plain loops instead of sgemm) */
    {2, 4, 6, 5, 6, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 2, true, NULL, false},
    /* groups large enough for one sgemm per group */
    {2, 8, 5, 6, 6, 3, 3, 1, 1, 1, 1, {1, 0, 1, 0}, 2, true, NULL, false},
    /* grouped 1x1 on a batch of one: direct path with small groups */
    {1, 4, 24, 22, 4, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 4, true, NULL, false},
    /* depthwise, stride 2, kernel_shape inferred */
    {2, 3, 7, 7, 3, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 3, true, NULL, true},
    /* depthwise with channel multiplier 2 */
    {1, 2, 6, 6, 4, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 2, false, NULL, false},
    /* depthwise with unequal strides (row loops), dilation, asymmetric pads */
    {1, 3, 8, 7, 3, 3, 2, 2, 1, 2, 1, {1, 0, 2, 1}, 3, true, NULL, false},
    /* depthwise stride 3 (three phases) with dilation */
    {2, 2, 10, 11, 2, 3, 3, 3, 3, 2, 1, {2, 1, 0, 2}, 2, false, NULL, false},
    /* 1x1 on a plane of >= 1024 pixels: the direct path, one image per sgemm */
    {2, 3, 33, 32, 2, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 1, true, NULL, false},
    /* 3x3 on a batch of one: one image per sgemm through im2col */
    {1, 2, 24, 23, 2, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, true, NULL, false},
    /* 1x1 stride 2 (ResNet downsample) */
    {3, 4, 6, 6, 5, 1, 1, 2, 2, 1, 1, {0, 0, 0, 0}, 1, false, NULL, false},
    /* SAME_UPPER */
    {2, 2, 6, 5, 3, 3, 2, 2, 2, 1, 1, {0, 0, 0, 0}, 1, true, "SAME_UPPER", false},
};

START_TEST(test_conv_gradients)
{
    cur = grad_cases[_i];
    struct nncw_tensor t[3];
    make_inputs(&cur, t, 40 + (uint64_t)_i);
    struct nncwt_gradcheck spec = {
        .op = NNCW_OP_CONV,
        .n_in = cur.bias ? 3 : 2,
        .in = {&t[0], &t[1], cur.bias ? &t[2] : NULL},
        .attrs = conv_attrs,
        .max_elems = 60,
    };
    nncwt_check_grad(&spec);
    free_inputs(&cur, t);
}
END_TEST

/* only the weight trainable: the input gradient is skipped and the weight's is still right */
START_TEST(test_conv_gradient_weight_only)
{
    cur = grad_cases[2];
    struct nncw_tensor t[3];
    make_inputs(&cur, t, 77);
    struct nncwt_gradcheck spec = {.op = NNCW_OP_CONV,
                                   .n_in = 2,
                                   .in = {&t[0], &t[1]},
                                   .fixed = {true, false},
                                   .attrs = conv_attrs};
    nncwt_check_grad(&spec);
    free_inputs(&cur, t);
}
END_TEST

/* ---- errors ---- */

/* builds "Net/conv1" over parameters of the given shapes and runs shape inference */
static enum nncw_status infer_conv(const int64_t *xs, const int64_t *ws, const int64_t *bs,
                                   nncwt_attr_fn attrs)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    const int64_t *shapes[] = {xs, ws, bs};
    int ndims[] = {4, 4, 1}, ids[3], n_in = bs ? 3 : 2, y;
    for (int i = 0; i < n_in; i++) {
        struct nncw_tensor t;
        nncwt_assert_status(nncw_tensor_init(&t, NNCW_DTYPE_F32, ndims[i], shapes[i]), NNCW_OK);
        nncwt_assert_status(nncw_graph_add_param(g,
                                                 i == 0   ? "x"
                                                 : i == 1 ? "w"
                                                          : "b",
                                                 &t, false, &ids[i]),
                            NNCW_OK);
        nncw_tensor_fini(&t);
    }
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_CONV, "Net/conv1", n_in, ids, 1, &y, &n),
                        NNCW_OK);
    if (attrs)
        attrs(n);
    nncw_error_clear();
    enum nncw_status s = nncw_graph_infer_shapes(g, 1);
    nncw_graph_free(g);
    return s;
}

static void assert_error_mentions(const char *what)
{
    ck_assert_msg(strstr(nncw_last_error(), "Net/conv1"), "no node name in: %s", nncw_last_error());
    ck_assert_msg(strstr(nncw_last_error(), what), "'%s' not in: %s", what, nncw_last_error());
}

static void attrs_group2(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "group", 2);
}

static void attrs_bad_auto_pad(struct nncw_node *n)
{
    nncw_node_set_attr_string(n, "auto_pad", "SAME");
}

static void attrs_bad_kernel_shape(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "kernel_shape", 2, (int64_t[]){5, 5});
}

static void attrs_bad_strides(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "strides", 2, (int64_t[]){0, 1});
}

static void attrs_short_pads(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "pads", 2, (int64_t[]){1, 1});
}

START_TEST(test_conv_errors_name_node_and_shapes)
{
    int64_t x[] = {2, 3, 8, 8}, w4[] = {8, 4, 3, 3}, w3[] = {8, 3, 3, 3}, b[] = {7};
    nncwt_assert_status(infer_conv(x, w4, NULL, NULL), NNCW_ERR_SHAPE);
    ck_assert_str_eq(nncw_last_error(),
                     "conv 'Net/conv1': input has 3 channels, weight expects 4 (group 1)");

    nncwt_assert_status(infer_conv(x, w3, b, NULL), NNCW_ERR_SHAPE);
    assert_error_mentions("bias [7]");

    nncwt_assert_status(infer_conv(x, w3, NULL, attrs_group2), NNCW_ERR_SHAPE);
    assert_error_mentions("group 2");

    int64_t big[] = {8, 3, 9, 3};
    nncwt_assert_status(infer_conv(x, big, NULL, NULL), NNCW_ERR_SHAPE);
    assert_error_mentions("does not fit input 8");

    nncwt_assert_status(infer_conv(x, w3, NULL, attrs_bad_kernel_shape), NNCW_ERR_SHAPE);
    assert_error_mentions("kernel_shape 5x5");

    nncwt_assert_status(infer_conv(x, w3, NULL, attrs_bad_auto_pad), NNCW_ERR_INVALID_ARG);
    assert_error_mentions("'SAME'");

    nncwt_assert_status(infer_conv(x, w3, NULL, attrs_bad_strides), NNCW_ERR_INVALID_ARG);
    assert_error_mentions("strides");

    nncwt_assert_status(infer_conv(x, w3, NULL, attrs_short_pads), NNCW_ERR_INVALID_ARG);
    assert_error_mentions("pads has 2 values");
}
END_TEST

START_TEST(test_conv_rejects_other_ranks)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    struct nncw_tensor x, w;
    nncwt_assert_status(nncw_tensor_init(&x, NNCW_DTYPE_F32, 3, (int64_t[]){1, 2, 9}), NNCW_OK);
    nncwt_assert_status(nncw_tensor_init(&w, NNCW_DTYPE_F32, 3, (int64_t[]){2, 2, 3}), NNCW_OK);
    int ids[2], y;
    nncwt_assert_status(nncw_graph_add_param(g, "x", &x, false, &ids[0]), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_param(g, "w", &w, false, &ids[1]), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_CONV, "Net/conv1", 2, ids, 1, &y, NULL),
                        NNCW_OK);
    nncwt_assert_status(nncw_graph_infer_shapes(g, 1), NNCW_ERR_UNSUPPORTED);
    assert_error_mentions("[1, 2, 9]");
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&w);
    nncw_graph_free(g);
}
END_TEST

START_TEST(test_conv_rejects_non_f32)
{
    struct nncw_tensor x, w, y;
    nncwt_tensor_rand(&x, 4, (int64_t[]){1, 2, 5, 5}, -1, 1, 1);
    nncwt_assert_status(nncw_tensor_init(&w, NNCW_DTYPE_I32, 4, (int64_t[]){2, 2, 3, 3}), NNCW_OK);
    const struct nncw_tensor *in[] = {&x, &w};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_CONV, 2, in, NULL, false, &y), NNCW_ERR_DTYPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "float32"));
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&w);
}
END_TEST

/* the scratch is allocated in the first forward: NNCW_ERR_NOMEM naming the node, and the
 * next forward works */
START_TEST(test_conv_out_of_memory)
{
    cur = forward_cases[0];
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    struct nncw_tensor t[3];
    make_inputs(&cur, t, 5);
    int ids[3], y;
    for (int i = 0; i < 3; i++) {
        char name[] = {'p', (char)('0' + i), 0};
        nncwt_assert_status(nncw_graph_add_param(g, name, &t[i], false, &ids[i]), NNCW_OK);
    }
    free_inputs(&cur, t);
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_CONV, "Net/conv1", 3, ids, 1, &y, &n),
                        NNCW_OK);
    conv_attrs(n);
    nncwt_assert_status(nncw_graph_add_output(g, y), NNCW_OK);
    struct nncw_exec *ex;
    struct nncw_exec_options o = {.batch = 1};
    nncwt_assert_status(nncw_exec_new(g, &o, &ex), NNCW_OK);
    nncw_alloc_fail_after(1);
    enum nncw_status s = nncw_exec_forward(ex);
    nncw_alloc_fail_after(0);
    nncwt_assert_status(s, NNCW_ERR_NOMEM);
    assert_error_mentions("scratch");
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    nncw_exec_free(ex);
    nncw_graph_free(g);
}
END_TEST

static Suite *ops_conv_suite(void)
{
    Suite *s = suite_create("ops_conv");
    TCase *tc = tcase_create("forward");
    tcase_add_loop_test(tc, test_conv_forward_matches_ref, 0, (int)NNCW_ARRAY_LEN(forward_cases));
    tcase_add_test(tc, test_conv_forward_hand_computed);
    tcase_add_loop_test(tc, test_conv_auto_pad, 0, 3);
    tcase_add_test(tc, test_conv_kernel_fast_matches_ref);
    tcase_add_loop_test(tc, test_conv_col2im_is_adjoint, 0, 3);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_conv_gradients, 0, (int)NNCW_ARRAY_LEN(grad_cases));
    tcase_add_test(tc, test_conv_gradient_weight_only);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_conv_errors_name_node_and_shapes);
    tcase_add_test(tc, test_conv_rejects_other_ranks);
    tcase_add_test(tc, test_conv_rejects_non_f32);
    tcase_add_test(tc, test_conv_out_of_memory);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(ops_conv_suite());
}
