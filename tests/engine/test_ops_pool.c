#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/common.h"
#include "core/rng.h"
#include "graph/exec.h"
#include "nncwt.h"

/* One pooling configuration; the attribute callback reads the current one (Check forks per
 * test, so a file-level variable is private to the test). */
struct pool_case {
    int n, c, h, w, kh, kw;
    int sh, sw, dh, dw;
    int pads[4]; /* top, left, bottom, right */
    bool ceil_mode, include_pad;
    const char *auto_pad; /* NULL: NOTSET */
};

static struct pool_case cur;

static void pool_attrs(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "kernel_shape", 2, (int64_t[]){cur.kh, cur.kw});
    nncw_node_set_attr_ints(n, "strides", 2, (int64_t[]){cur.sh, cur.sw});
    if (cur.dh != 1 || cur.dw != 1)
        nncw_node_set_attr_ints(n, "dilations", 2, (int64_t[]){cur.dh, cur.dw});
    nncw_node_set_attr_ints(n, "pads", 4,
                            (int64_t[]){cur.pads[0], cur.pads[1], cur.pads[2], cur.pads[3]});
    nncw_node_set_attr_int(n, "ceil_mode", cur.ceil_mode);
    nncw_node_set_attr_int(n, "count_include_pad", cur.include_pad);
    if (cur.auto_pad)
        nncw_node_set_attr_string(n, "auto_pad", cur.auto_pad);
}

/* a tensor whose elements are distinct and at least 0.05 apart (no max-pool ties within a
 * finite-difference step), in shuffled order */
static void distinct_tensor(struct nncw_tensor *t, const int64_t *shape, uint64_t seed)
{
    nncwt_tensor_rand(t, 4, shape, 0, 1, seed);
    int64_t n = nncw_tensor_numel(t);
    float *x = nncw_tensor_f32(t);
    for (int64_t i = 0; i < n; i++)
        x[i] = 0.05f * (float)i - 0.025f * (float)n;
    struct nncw_rng r;
    nncw_rng_seed(&r, seed);
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = nncw_rng_below(&r, (uint32_t)(i + 1));
        float v = x[i];
        x[i] = x[j];
        x[j] = v;
    }
}

/* ---- a naive reference written from the ONNX/PyTorch definition ---- */

static int ref_out(int in, int k, int s, int d, int lo, int hi, bool ceil_mode)
{
    int span = (k - 1) * d + 1, room = in + lo + hi - span;
    int out = ceil_mode ? (room + s - 1) / s + 1 : room / s + 1;
    if (ceil_mode && (out - 1) * s >= in + lo)
        out--;
    return out;
}

static void ref_pool(const struct pool_case *k, bool max, const struct nncw_tensor *x,
                     struct nncw_tensor *y)
{
    int oh = ref_out(k->h, k->kh, k->sh, k->dh, k->pads[0], k->pads[2], k->ceil_mode);
    int ow = ref_out(k->w, k->kw, k->sw, k->dw, k->pads[1], k->pads[3], k->ceil_mode);
    ck_assert_int_eq(nncw_tensor_init(y, NNCW_DTYPE_F32, 4, (int64_t[]){k->n, k->c, oh, ow}),
                     NNCW_OK);
    const float *xv = nncw_tensor_f32(x);
    float *yv = nncw_tensor_f32(y);
    for (int p = 0; p < k->n * k->c; p++)
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++) {
                double best = -INFINITY, sum = 0;
                int valid = 0, padded = 0;
                for (int a = 0; a < k->kh; a++)
                    for (int b = 0; b < k->kw; b++) {
                        int ih = i * k->sh - k->pads[0] + a * k->dh;
                        int iw = j * k->sw - k->pads[1] + b * k->dw;
                        if (ih < k->h + k->pads[2] && iw < k->w + k->pads[3])
                            padded++;
                        if (ih < 0 || ih >= k->h || iw < 0 || iw >= k->w)
                            continue;
                        double v = xv[((size_t)p * k->h + ih) * k->w + iw];
                        valid++;
                        sum += v;
                        if (v > best)
                            best = v;
                    }
                int div = k->include_pad ? padded : valid;
                yv[((size_t)p * oh + i) * ow + j] = (float)(max ? best : sum / div);
            }
}

static const struct pool_case ref_cases[] = {
    {2, 3, 6, 6, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, false, false, NULL},
    {2, 2, 7, 5, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, true, false, NULL},
    {1, 3, 7, 8, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, false, true, NULL},
    {1, 3, 7, 8, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, false, false, NULL},
    {2, 2, 9, 7, 3, 2, 2, 3, 2, 2, {1, 0, 2, 1}, true, true, NULL},
    {1, 2, 5, 5, 2, 2, 2, 2, 1, 1, {1, 1, 1, 1}, true, true, NULL},
    {3, 1, 8, 9, 3, 3, 1, 1, 1, 1, {0, 2, 1, 0}, false, false, NULL},
    {1, 2, 11, 10, 3, 3, 3, 2, 1, 2, {1, 1, 0, 1}, true, false, NULL},
    /* 2x2 fast path over several row blocks, odd width */
    {1, 1, 130, 131, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, false, false, NULL},
};

static void check_against_ref(enum nncw_op op, int i)
{
    cur = ref_cases[i];
    struct nncw_tensor x, y, want;
    distinct_tensor(&x, (int64_t[]){cur.n, cur.c, cur.h, cur.w}, 3 + (uint64_t)i);
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(nncwt_run_op(op, 1, in, pool_attrs, false, &y), NNCW_OK);
    ref_pool(&cur, op == NNCW_OP_MAXPOOL, &x, &want);
    nncwt_assert_tensor_near(&y, &want, 1e-5, 1e-5);
    nncw_tensor_fini(&x);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
}

START_TEST(test_maxpool_matches_ref)
{
    check_against_ref(NNCW_OP_MAXPOOL, _i);
}
END_TEST

START_TEST(test_avgpool_matches_ref)
{
    check_against_ref(NNCW_OP_AVGPOOL, _i);
}
END_TEST

START_TEST(test_maxpool_hand_computed)
{
    struct nncw_tensor x, y, want;
    nncwt_tensor_from(&x, 4, (int64_t[]){1, 1, 4, 4},
                      (float[]){1, 5, 2, 0, 3, 4, 8, 7, -1, -2, -3, -4, -5, -6, 9, -7});
    cur = (struct pool_case){1, 1, 4, 4, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, false, false, NULL};
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_MAXPOOL, 1, in, pool_attrs, false, &y), NNCW_OK);
    nncwt_tensor_from(&want, 4, (int64_t[]){1, 1, 2, 2}, (float[]){5, 8, -1, 9});
    nncwt_assert_tensor_near(&y, &want, 0, 0);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
    /* ceil_mode: 3x3 windows at stride 2 over 4 -> 2 outputs instead of 1 */
    cur = (struct pool_case){1, 1, 4, 4, 3, 3, 2, 2, 1, 1, {0, 0, 0, 0}, true, false, NULL};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_MAXPOOL, 1, in, pool_attrs, false, &y), NNCW_OK);
    nncwt_tensor_from(&want, 4, (int64_t[]){1, 1, 2, 2}, (float[]){8, 8, 9, 9});
    nncwt_assert_tensor_near(&y, &want, 0, 0);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_avgpool_count_include_pad)
{
    /* 3x3 window, pad 1, over a 3x3 plane of ones: a corner sees 4 real taps of 9 */
    struct nncw_tensor x, y;
    nncwt_tensor_from(&x, 4, (int64_t[]){1, 1, 3, 3}, (float[]){1, 1, 1, 1, 1, 1, 1, 1, 1});
    const struct nncw_tensor *in[] = {&x};
    cur = (struct pool_case){1, 1, 3, 3, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, false, false, NULL};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_AVGPOOL, 1, in, pool_attrs, false, &y), NNCW_OK);
    ck_assert_float_eq_tol(nncw_tensor_f32(&y)[0], 1.0f, 1e-6f);
    nncw_tensor_fini(&y);
    cur.include_pad = true;
    nncwt_assert_status(nncwt_run_op(NNCW_OP_AVGPOOL, 1, in, pool_attrs, false, &y), NNCW_OK);
    ck_assert_float_eq_tol(nncw_tensor_f32(&y)[0], 4.0f / 9.0f, 1e-6f);
    ck_assert_float_eq_tol(nncw_tensor_f32(&y)[1], 6.0f / 9.0f, 1e-6f);
    ck_assert_float_eq_tol(nncw_tensor_f32(&y)[4], 1.0f, 1e-6f);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_pool_output_shapes)
{
    struct nncw_tensor x, y;
    nncwt_tensor_rand(&x, 4, (int64_t[]){1, 1, 5, 5}, -1, 1, 1);
    const struct nncw_tensor *in[] = {&x};
    /* floor 2, ceil 3 */
    cur = (struct pool_case){1, 1, 5, 5, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, true, false, NULL};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_MAXPOOL, 1, in, pool_attrs, false, &y), NNCW_OK);
    ck_assert_int_eq(y.shape[2], 3);
    nncw_tensor_fini(&y);
    /* pad 1: ceil would give 4, but the last window would start in the padding */
    cur.pads[0] = cur.pads[1] = cur.pads[2] = cur.pads[3] = 1;
    nncwt_assert_status(nncwt_run_op(NNCW_OP_AVGPOOL, 1, in, pool_attrs, false, &y), NNCW_OK);
    ck_assert_int_eq(y.shape[2], 3);
    nncw_tensor_fini(&y);
    /* SAME_UPPER: ceil(5 / 2) */
    cur =
        (struct pool_case){1, 1, 5, 5, 3, 3, 2, 2, 1, 1, {0, 0, 0, 0}, false, false, "SAME_UPPER"};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_MAXPOOL, 1, in, pool_attrs, false, &y), NNCW_OK);
    ck_assert_int_eq(y.shape[2], 3);
    ck_assert_int_eq(y.shape[3], 3);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
}
END_TEST

START_TEST(test_global_avgpool_forward)
{
    struct nncw_tensor x, y;
    nncwt_tensor_from(&x, 4, (int64_t[]){1, 2, 2, 2}, (float[]){1, 2, 3, 4, -1, -1, 3, 3});
    const struct nncw_tensor *in[] = {&x};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_GLOBALAVGPOOL, 1, in, NULL, false, &y), NNCW_OK);
    ck_assert_int_eq(y.ndim, 4);
    ck_assert_int_eq(y.shape[1], 2);
    ck_assert_int_eq(y.shape[2], 1);
    ck_assert_int_eq(y.shape[3], 1);
    ck_assert_float_eq_tol(nncw_tensor_f32(&y)[0], 2.5f, 1e-6f);
    ck_assert_float_eq_tol(nncw_tensor_f32(&y)[1], 1.0f, 1e-6f);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
    /* 3-D input (N, C, L) */
    nncwt_tensor_from(&x, 3, (int64_t[]){1, 1, 3}, (float[]){1, 2, 6});
    nncwt_assert_status(nncwt_run_op(NNCW_OP_GLOBALAVGPOOL, 1, in, NULL, false, &y), NNCW_OK);
    ck_assert_int_eq(y.ndim, 3);
    ck_assert_float_eq_tol(nncw_tensor_f32(&y)[0], 3.0f, 1e-6f);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&x);
}
END_TEST

/* ---- gradients ---- */

static const struct pool_case grad_cases[] = {
    /* the CNN's 2x2 stride 2 (fast path), odd input so the last row and column drop */
    {2, 3, 7, 9, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, false, false, NULL},
    /* overlapping 3x3 stride 1: one input can win several windows */
    {1, 2, 6, 5, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, false, true, NULL},
    /* stride 2, asymmetric pads, ceil_mode */
    {2, 2, 7, 8, 3, 2, 2, 2, 1, 1, {1, 0, 1, 1}, true, false, NULL},
    /* dilation, ceil_mode, count_include_pad */
    {1, 2, 9, 8, 2, 3, 2, 1, 2, 2, {1, 1, 0, 1}, true, true, NULL},
    /* ceil_mode with a partial last window, 2x2 */
    {1, 3, 5, 7, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, true, true, NULL},
    /* SAME_LOWER */
    {1, 2, 6, 7, 3, 3, 2, 2, 1, 1, {0, 0, 0, 0}, false, false, "SAME_LOWER"},
};

static void check_pool_grad(enum nncw_op op, int i)
{
    cur = grad_cases[i];
    struct nncw_tensor x;
    distinct_tensor(&x, (int64_t[]){cur.n, cur.c, cur.h, cur.w}, 50 + (uint64_t)i);
    struct nncwt_gradcheck spec = {.op = op, .n_in = 1, .in = {&x}, .attrs = pool_attrs};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
}

START_TEST(test_maxpool_gradients)
{
    check_pool_grad(NNCW_OP_MAXPOOL, _i);
}
END_TEST

START_TEST(test_avgpool_gradients)
{
    check_pool_grad(NNCW_OP_AVGPOOL, _i);
}
END_TEST

START_TEST(test_global_avgpool_gradients)
{
    struct nncw_tensor x;
    nncwt_tensor_rand(&x, 4, (int64_t[]){2, 3, 5, 3}, -1, 1, 9);
    struct nncwt_gradcheck spec = {.op = NNCW_OP_GLOBALAVGPOOL, .n_in = 1, .in = {&x}};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&x);
}
END_TEST

/* ---- errors ---- */

static enum nncw_status infer_pool(enum nncw_op op, int ndim, const int64_t *shape,
                                   nncwt_attr_fn attrs)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    struct nncw_tensor t;
    int x, y;
    nncwt_assert_status(nncw_tensor_init(&t, NNCW_DTYPE_F32, ndim, shape), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_param(g, "x", &t, false, &x), NNCW_OK);
    nncw_tensor_fini(&t);
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_add_node(g, op, "Net/pool1", 1, &x, 1, &y, &n), NNCW_OK);
    if (attrs)
        attrs(n);
    nncw_error_clear();
    enum nncw_status s = nncw_graph_infer_shapes(g, 1);
    nncw_graph_free(g);
    return s;
}

static void assert_error_mentions(const char *what)
{
    ck_assert_msg(strstr(nncw_last_error(), "Net/pool1"), "no node name in: %s", nncw_last_error());
    ck_assert_msg(strstr(nncw_last_error(), what), "'%s' not in: %s", what, nncw_last_error());
}

static void attrs_bad_auto_pad(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "kernel_shape", 2, (int64_t[]){2, 2});
    nncw_node_set_attr_string(n, "auto_pad", "SAME");
}

static void attrs_kernel_3d(struct nncw_node *n)
{
    nncw_node_set_attr_ints(n, "kernel_shape", 3, (int64_t[]){2, 2, 2});
}

START_TEST(test_pool_errors_name_node)
{
    int64_t x4[] = {1, 2, 4, 4}, x3[] = {1, 2, 4};
    nncwt_assert_status(infer_pool(NNCW_OP_MAXPOOL, 4, x4, NULL), NNCW_ERR_INVALID_ARG);
    assert_error_mentions("kernel_shape is required");

    cur = (struct pool_case){1, 2, 4, 4, 5, 2, 1, 1, 1, 1, {0, 0, 0, 0}, false, false, NULL};
    nncwt_assert_status(infer_pool(NNCW_OP_AVGPOOL, 4, x4, pool_attrs), NNCW_ERR_SHAPE);
    assert_error_mentions("kernel 5");

    nncwt_assert_status(infer_pool(NNCW_OP_MAXPOOL, 4, x4, attrs_bad_auto_pad),
                        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("'SAME'");

    nncwt_assert_status(infer_pool(NNCW_OP_MAXPOOL, 4, x4, attrs_kernel_3d), NNCW_ERR_INVALID_ARG);
    assert_error_mentions("kernel_shape has 3 values");

    cur.kh = 2;
    nncwt_assert_status(infer_pool(NNCW_OP_MAXPOOL, 3, x3, pool_attrs), NNCW_ERR_UNSUPPORTED);
    assert_error_mentions("[1, 2, 4]");

    int64_t x2[] = {2, 4};
    nncwt_assert_status(infer_pool(NNCW_OP_GLOBALAVGPOOL, 2, x2, NULL), NNCW_ERR_SHAPE);
    assert_error_mentions("[2, 4]");
}
END_TEST

START_TEST(test_pool_rejects_non_f32)
{
    struct nncw_tensor x, y;
    nncwt_assert_status(nncw_tensor_init(&x, NNCW_DTYPE_U8, 4, (int64_t[]){1, 1, 4, 4}), NNCW_OK);
    const struct nncw_tensor *in[] = {&x};
    cur = (struct pool_case){1, 1, 4, 4, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, false, false, NULL};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_MAXPOOL, 1, in, pool_attrs, false, &y),
                        NNCW_ERR_DTYPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "uint8"));
    nncwt_assert_status(nncwt_run_op(NNCW_OP_GLOBALAVGPOOL, 1, in, NULL, false, &y),
                        NNCW_ERR_DTYPE);
    nncw_tensor_fini(&x);
}
END_TEST

/* max pooling allocates its index buffer in the first forward: NNCW_ERR_NOMEM naming the
 * node, and the next forward works */
START_TEST(test_maxpool_out_of_memory)
{
    cur = ref_cases[2];
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    struct nncw_tensor t;
    int x, y;
    distinct_tensor(&t, (int64_t[]){cur.n, cur.c, cur.h, cur.w}, 8);
    nncwt_assert_status(nncw_graph_add_param(g, "x", &t, false, &x), NNCW_OK);
    nncw_tensor_fini(&t);
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_MAXPOOL, "Net/pool1", 1, &x, 1, &y, &n),
                        NNCW_OK);
    pool_attrs(n);
    nncwt_assert_status(nncw_graph_add_output(g, y), NNCW_OK);
    struct nncw_exec *ex;
    struct nncw_exec_options o = {.batch = 1};
    nncwt_assert_status(nncw_exec_new(g, &o, &ex), NNCW_OK);
    nncw_alloc_fail_after(1);
    enum nncw_status s = nncw_exec_forward(ex);
    nncw_alloc_fail_after(0);
    nncwt_assert_status(s, NNCW_ERR_NOMEM);
    assert_error_mentions("indices");
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    nncw_exec_free(ex);
    nncw_graph_free(g);
}
END_TEST

/* the optional Indices output of MaxPool is not supported: asking for it fails when the node
 * is added, naming the op */
START_TEST(test_maxpool_rejects_indices_output)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int x, y[2];
    nncwt_assert_status(
        nncw_graph_add_input(g, "x", NNCW_DTYPE_F32, 4, (int64_t[]){-1, 1, 4, 4}, &x), NNCW_OK);
    nncwt_assert_status(nncw_graph_add_node(g, NNCW_OP_MAXPOOL, "Net/pool1", 1, &x, 2, y, NULL),
                        NNCW_ERR_INVALID_ARG);
    assert_error_mentions("MaxPool");
    nncw_graph_free(g);
}
END_TEST

static Suite *ops_pool_suite(void)
{
    Suite *s = suite_create("ops_pool");
    TCase *tc = tcase_create("forward");
    tcase_add_loop_test(tc, test_maxpool_matches_ref, 0, (int)NNCW_ARRAY_LEN(ref_cases));
    tcase_add_loop_test(tc, test_avgpool_matches_ref, 0, (int)NNCW_ARRAY_LEN(ref_cases));
    tcase_add_test(tc, test_maxpool_hand_computed);
    tcase_add_test(tc, test_avgpool_count_include_pad);
    tcase_add_test(tc, test_pool_output_shapes);
    tcase_add_test(tc, test_global_avgpool_forward);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_loop_test(tc, test_maxpool_gradients, 0, (int)NNCW_ARRAY_LEN(grad_cases));
    tcase_add_loop_test(tc, test_avgpool_gradients, 0, (int)NNCW_ARRAY_LEN(grad_cases));
    tcase_add_test(tc, test_global_avgpool_gradients);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_pool_errors_name_node);
    tcase_add_test(tc, test_pool_rejects_non_f32);
    tcase_add_test(tc, test_maxpool_out_of_memory);
    tcase_add_test(tc, test_maxpool_rejects_indices_output);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(ops_pool_suite());
}
