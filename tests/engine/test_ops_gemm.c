#include <string.h>

#include "core/common.h"
#include "nncwt.h"

/* ---- Gemm ---- */

struct gemm_case {
    int m, n, k;
    bool ta, tb;
    float alpha, beta;
    int c_ndim; /* -1: no C */
    int64_t c_shape[2];
};

static struct gemm_case cur_gemm;

static void gemm_attrs(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "transA", cur_gemm.ta);
    nncw_node_set_attr_int(n, "transB", cur_gemm.tb);
    nncw_node_set_attr_float(n, "alpha", cur_gemm.alpha);
    nncw_node_set_attr_float(n, "beta", cur_gemm.beta);
}

static const struct gemm_case gemm_cases[] = {
    {3, 4, 5, false, false, 1.0f, 1.0f, -1, {0}},
    {3, 4, 5, true, false, 0.5f, 2.0f, 1, {4}},     /* C [N] */
    {4, 3, 6, false, true, 1.5f, -1.0f, 2, {1, 3}}, /* C [1, N] */
    {5, 2, 3, true, true, -2.0f, 0.5f, 2, {5, 1}},  /* C [M, 1] */
    {2, 7, 3, false, true, 1.0f, 1.0f, 2, {2, 7}},  /* C [M, N] */
    {3, 3, 4, true, false, 1.0f, 3.0f, 0, {0}},     /* scalar C */
    {4, 5, 2, false, false, 1.0f, 0.25f, 1, {1}},   /* C [1] */
    {6, 4, 3, false, false, 2.0f, 0.0f, 2, {6, 4}}, /* beta 0: C ignored */
    {1, 10, 16, false, true, 1.0f, 1.0f, 1, {10}},  /* a Linear layer, one sample */
};

static void make_gemm_inputs(const struct gemm_case *k, struct nncw_tensor t[3], uint64_t seed)
{
    int64_t as[2] = {k->ta ? k->k : k->m, k->ta ? k->m : k->k};
    int64_t bs[2] = {k->tb ? k->n : k->k, k->tb ? k->k : k->n};
    nncwt_tensor_rand(&t[0], 2, as, -1, 1, seed);
    nncwt_tensor_rand(&t[1], 2, bs, -1, 1, seed + 1);
    if (k->c_ndim >= 0)
        nncwt_tensor_rand(&t[2], k->c_ndim, k->c_shape, -1, 1, seed + 2);
}

static void free_gemm_inputs(const struct gemm_case *k, struct nncw_tensor t[3])
{
    nncw_tensor_fini(&t[0]);
    nncw_tensor_fini(&t[1]);
    if (k->c_ndim >= 0)
        nncw_tensor_fini(&t[2]);
}

/* Y from the definition, elementwise */
static void gemm_ref(const struct gemm_case *k, struct nncw_tensor t[3], struct nncw_tensor *y)
{
    ck_assert_int_eq(nncw_tensor_init(y, NNCW_DTYPE_F32, 2, (int64_t[]){k->m, k->n}), NNCW_OK);
    const float *a = nncw_tensor_f32(&t[0]), *b = nncw_tensor_f32(&t[1]);
    for (int i = 0; i < k->m; i++)
        for (int j = 0; j < k->n; j++) {
            double acc = 0;
            for (int p = 0; p < k->k; p++)
                acc += (double)(k->ta ? a[p * k->m + i] : a[i * k->k + p]) *
                       (k->tb ? b[j * k->k + p] : b[p * k->n + j]);
            double c = 0;
            if (k->c_ndim >= 0) {
                const float *cv = nncw_tensor_f32(&t[2]);
                int64_t cm = k->c_ndim == 2 ? k->c_shape[0] : 1;
                int64_t cn = k->c_ndim >= 1 ? k->c_shape[k->c_ndim - 1] : 1;
                c = cv[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
            }
            nncw_tensor_f32(y)[i * k->n + j] = (float)(k->alpha * acc + k->beta * c);
        }
}

START_TEST(test_gemm_forward_matches_ref)
{
    cur_gemm = gemm_cases[_i];
    struct nncw_tensor t[3], y, want;
    make_gemm_inputs(&cur_gemm, t, 5 + (uint64_t)_i);
    int n_in = cur_gemm.c_ndim >= 0 ? 3 : 2;
    const struct nncw_tensor *in[] = {&t[0], &t[1], n_in > 2 ? &t[2] : NULL};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_GEMM, n_in, in, gemm_attrs, false, &y), NNCW_OK);
    gemm_ref(&cur_gemm, t, &want);
    nncwt_assert_tensor_near(&y, &want, 1e-5, 1e-5);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
    free_gemm_inputs(&cur_gemm, t);
}
END_TEST

START_TEST(test_gemm_hand_computed)
{
    /* [1 2; 3 4] . [5; 6] + 1 = [18; 40] with default alpha and beta */
    struct nncw_tensor a, b, c, y, want;
    nncwt_tensor_from(&a, 2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4});
    nncwt_tensor_from(&b, 2, (int64_t[]){2, 1}, (float[]){5, 6});
    nncwt_tensor_from(&c, 0, NULL, (float[]){1});
    nncwt_tensor_from(&want, 2, (int64_t[]){2, 1}, (float[]){18, 40});
    const struct nncw_tensor *in[] = {&a, &b, &c};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_GEMM, 3, in, NULL, false, &y), NNCW_OK);
    nncwt_assert_tensor_near(&y, &want, 0, 0);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
    nncw_tensor_fini(&c);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
}
END_TEST

START_TEST(test_gemm_gradients)
{
    cur_gemm = gemm_cases[_i];
    struct nncw_tensor t[3];
    make_gemm_inputs(&cur_gemm, t, 30 + (uint64_t)_i);
    int n_in = cur_gemm.c_ndim >= 0 ? 3 : 2;
    struct nncwt_gradcheck spec = {
        .op = NNCW_OP_GEMM,
        .n_in = n_in,
        .in = {&t[0], &t[1], n_in > 2 ? &t[2] : NULL},
        .attrs = gemm_attrs,
    };
    nncwt_check_grad(&spec);
    free_gemm_inputs(&cur_gemm, t);
}
END_TEST

/* ---- MatMul ---- */

struct matmul_case {
    int a_ndim, b_ndim;
    int64_t a[4], b[4];
};

static const struct matmul_case matmul_cases[] = {
    {2, 2, {3, 4}, {4, 5}},
    {1, 2, {4}, {4, 3}},                /* vector @ matrix */
    {2, 1, {3, 4}, {4}},                /* matrix @ vector */
    {1, 1, {6}, {6}},                   /* dot product: a scalar */
    {3, 2, {2, 3, 4}, {4, 5}},          /* batch folds into M */
    {2, 3, {3, 4}, {2, 4, 5}},          /* matrix broadcast over B's batch */
    {4, 3, {2, 1, 3, 4}, {3, 4, 2}},    /* [2,1] x [3] batch broadcast */
    {3, 3, {1, 2, 3}, {4, 3, 2}},       /* size-1 batch broadcast */
    {3, 1, {2, 3, 4}, {4}},             /* batched matrix @ vector */
    {1, 3, {4}, {2, 4, 3}},             /* vector @ batched matrix */
    {4, 4, {2, 3, 2, 5}, {2, 3, 5, 2}}, /* equal batches */
};

/* numpy's definition, elementwise */
static void matmul_ref(const struct matmul_case *k, const struct nncw_tensor *a,
                       const struct nncw_tensor *b, const struct nncw_tensor *y,
                       struct nncw_tensor *want)
{
    ck_assert_int_eq(nncw_tensor_init(want, NNCW_DTYPE_F32, y->ndim, y->shape), NNCW_OK);
    int m = k->a_ndim >= 2 ? (int)k->a[k->a_ndim - 2] : 1, kk = (int)k->a[k->a_ndim - 1];
    int n = k->b_ndim >= 2 ? (int)k->b[k->b_ndim - 1] : 1;
    int abd = k->a_ndim > 2 ? k->a_ndim - 2 : 0, bbd = k->b_ndim > 2 ? k->b_ndim - 2 : 0;
    int nd = abd > bbd ? abd : bbd;
    int64_t out_b[4], nb = 1;
    for (int d = 0; d < nd; d++) {
        int64_t da = d - (nd - abd) >= 0 ? k->a[d - (nd - abd)] : 1;
        int64_t db = d - (nd - bbd) >= 0 ? k->b[d - (nd - bbd)] : 1;
        out_b[d] = da > db ? da : db;
        nb *= out_b[d];
    }
    const float *av = nncw_tensor_f32(a), *bv = nncw_tensor_f32(b);
    for (int64_t i = 0; i < nb; i++) {
        /* the batch multi-index, then each operand's flat matrix index */
        int64_t idx[4], rem = i, ai = 0, bi = 0;
        for (int d = nd - 1; d >= 0; d--) {
            idx[d] = rem % out_b[d];
            rem /= out_b[d];
        }
        for (int d = 0; d < nd; d++) {
            int ta = d - (nd - abd), tb = d - (nd - bbd);
            if (ta >= 0)
                ai = ai * k->a[ta] + (k->a[ta] == 1 ? 0 : idx[d]);
            if (tb >= 0)
                bi = bi * k->b[tb] + (k->b[tb] == 1 ? 0 : idx[d]);
        }
        for (int r = 0; r < m; r++)
            for (int c = 0; c < n; c++) {
                double acc = 0;
                for (int p = 0; p < kk; p++)
                    acc += (double)av[(ai * m + r) * kk + p] * bv[(bi * kk + p) * n + c];
                nncw_tensor_f32(want)[(i * m + r) * n + c] = (float)acc;
            }
    }
}

START_TEST(test_matmul_forward_matches_ref)
{
    const struct matmul_case *k = &matmul_cases[_i];
    struct nncw_tensor a, b, y, want;
    nncwt_tensor_rand(&a, k->a_ndim, k->a, -1, 1, 1 + (uint64_t)_i);
    nncwt_tensor_rand(&b, k->b_ndim, k->b, -1, 1, 2 + (uint64_t)_i);
    const struct nncw_tensor *in[] = {&a, &b};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_MATMUL, 2, in, NULL, false, &y), NNCW_OK);
    matmul_ref(k, &a, &b, &y, &want);
    nncwt_assert_tensor_near(&y, &want, 1e-5, 1e-5);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
    nncw_tensor_fini(&y);
    nncw_tensor_fini(&want);
}
END_TEST

START_TEST(test_matmul_output_shapes)
{
    static const struct {
        int ndim;
        int64_t shape[4];
    } want[] = {
        {2, {3, 5}},    {1, {3}},       {1, {3}},          {0, {0}},
        {3, {2, 3, 5}}, {3, {2, 3, 5}}, {4, {2, 3, 3, 2}}, {3, {4, 2, 2}},
        {2, {2, 3}},    {2, {2, 3}},    {4, {2, 3, 2, 2}},
    };
    _Static_assert(NNCW_ARRAY_LEN(want) == NNCW_ARRAY_LEN(matmul_cases), "one per case");
    const struct matmul_case *k = &matmul_cases[_i];
    struct nncw_tensor a, b, y;
    nncwt_tensor_rand(&a, k->a_ndim, k->a, -1, 1, 1);
    nncwt_tensor_rand(&b, k->b_ndim, k->b, -1, 1, 2);
    const struct nncw_tensor *in[] = {&a, &b};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_MATMUL, 2, in, NULL, false, &y), NNCW_OK);
    ck_assert_int_eq(y.ndim, want[_i].ndim);
    for (int d = 0; d < y.ndim; d++)
        ck_assert_int_eq(y.shape[d], want[_i].shape[d]);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
    nncw_tensor_fini(&y);
}
END_TEST

START_TEST(test_matmul_gradients)
{
    const struct matmul_case *k = &matmul_cases[_i];
    struct nncw_tensor a, b;
    nncwt_tensor_rand(&a, k->a_ndim, k->a, -1, 1, 11 + (uint64_t)_i);
    nncwt_tensor_rand(&b, k->b_ndim, k->b, -1, 1, 12 + (uint64_t)_i);
    struct nncwt_gradcheck spec = {.op = NNCW_OP_MATMUL, .n_in = 2, .in = {&a, &b}};
    nncwt_check_grad(&spec);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
}
END_TEST

/* ---- errors ---- */

static enum nncw_status infer_op(enum nncw_op op, int n_in, const int *ndims,
                                 const int64_t *const shapes[], nncwt_attr_fn attrs)
{
    struct nncw_graph *g;
    nncwt_assert_status(nncw_graph_new(&g), NNCW_OK);
    int ids[3], y;
    for (int i = 0; i < n_in; i++) {
        struct nncw_tensor t;
        char name[8] = {'i', 'n', (char)('0' + i), 0};
        nncwt_assert_status(nncw_tensor_init(&t, NNCW_DTYPE_F32, ndims[i], shapes[i]), NNCW_OK);
        nncwt_assert_status(nncw_graph_add_param(g, name, &t, false, &ids[i]), NNCW_OK);
        nncw_tensor_fini(&t);
    }
    struct nncw_node *n;
    nncwt_assert_status(nncw_graph_add_node(g, op, "Net/fc1", n_in, ids, 1, &y, &n), NNCW_OK);
    if (attrs)
        attrs(n);
    nncw_error_clear();
    enum nncw_status s = nncw_graph_infer_shapes(g, 1);
    nncw_graph_free(g);
    return s;
}

static void assert_error_is(const char *want)
{
    ck_assert_str_eq(nncw_last_error(), want);
}

static void attrs_trans_b(struct nncw_node *n)
{
    nncw_node_set_attr_int(n, "transB", 1);
}

START_TEST(test_gemm_errors_name_node_and_shapes)
{
    int64_t a[] = {4, 8}, b[] = {6, 3}, bt[] = {3, 8}, c_bad[] = {2, 3}, a3[] = {2, 4, 8};
    nncwt_assert_status(infer_op(NNCW_OP_GEMM, 2, (int[]){2, 2}, (const int64_t *[]){a, b}, NULL),
                        NNCW_ERR_SHAPE);
    assert_error_is("gemm 'Net/fc1': A [4, 8] (transA 0) and B [6, 3] (transB 0): inner "
                    "dimensions 8 and 6 differ");
    nncwt_assert_status(infer_op(NNCW_OP_GEMM, 3, (int[]){2, 2, 2},
                                 (const int64_t *[]){a, bt, c_bad}, attrs_trans_b),
                        NNCW_ERR_SHAPE);
    assert_error_is("gemm 'Net/fc1': C [2, 3] does not broadcast to [4, 3]");
    nncwt_assert_status(
        infer_op(NNCW_OP_GEMM, 2, (int[]){3, 2}, (const int64_t *[]){a3, bt}, attrs_trans_b),
        NNCW_ERR_SHAPE);
    assert_error_is("gemm 'Net/fc1': A [2, 4, 8] and B [3, 8] must be non-empty matrices");
}
END_TEST

START_TEST(test_matmul_errors_name_node_and_shapes)
{
    int64_t a[] = {2, 4, 8}, b[] = {3, 8, 5}, b2[] = {2, 7, 5};
    nncwt_assert_status(infer_op(NNCW_OP_MATMUL, 2, (int[]){3, 3}, (const int64_t *[]){a, b}, NULL),
                        NNCW_ERR_SHAPE);
    assert_error_is("matmul 'Net/fc1': [2, 4, 8] @ [3, 8, 5]: batch dimensions do not broadcast");
    nncwt_assert_status(
        infer_op(NNCW_OP_MATMUL, 2, (int[]){3, 3}, (const int64_t *[]){a, b2}, NULL),
        NNCW_ERR_SHAPE);
    assert_error_is("matmul 'Net/fc1': [2, 4, 8] @ [2, 7, 5]: inner dimensions 8 and 7 differ");
}
END_TEST

START_TEST(test_gemm_matmul_reject_non_f32)
{
    struct nncw_tensor a, b, y;
    nncwt_tensor_rand(&a, 2, (int64_t[]){2, 3}, -1, 1, 1);
    nncwt_assert_status(nncw_tensor_init(&b, NNCW_DTYPE_I64, 2, (int64_t[]){3, 2}), NNCW_OK);
    const struct nncw_tensor *in[] = {&a, &b};
    nncwt_assert_status(nncwt_run_op(NNCW_OP_GEMM, 2, in, NULL, false, &y), NNCW_ERR_DTYPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "gemm"));
    nncwt_assert_status(nncwt_run_op(NNCW_OP_MATMUL, 2, in, NULL, false, &y), NNCW_ERR_DTYPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "matmul"));
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
}
END_TEST

static Suite *ops_gemm_suite(void)
{
    Suite *s = suite_create("ops_gemm");
    TCase *tc = tcase_create("gemm");
    tcase_add_loop_test(tc, test_gemm_forward_matches_ref, 0, (int)NNCW_ARRAY_LEN(gemm_cases));
    tcase_add_test(tc, test_gemm_hand_computed);
    tcase_add_loop_test(tc, test_gemm_gradients, 0, (int)NNCW_ARRAY_LEN(gemm_cases));
    suite_add_tcase(s, tc);
    tc = tcase_create("matmul");
    tcase_add_loop_test(tc, test_matmul_forward_matches_ref, 0, (int)NNCW_ARRAY_LEN(matmul_cases));
    tcase_add_loop_test(tc, test_matmul_output_shapes, 0, (int)NNCW_ARRAY_LEN(matmul_cases));
    tcase_add_loop_test(tc, test_matmul_gradients, 0, (int)NNCW_ARRAY_LEN(matmul_cases));
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_gemm_errors_name_node_and_shapes);
    tcase_add_test(tc, test_matmul_errors_name_node_and_shapes);
    tcase_add_test(tc, test_gemm_matmul_reject_non_f32);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(ops_gemm_suite());
}
