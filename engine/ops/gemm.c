/* Gemm (Y = alpha * op(A) op(B) + beta * C, C broadcast to [M, N]) and MatMul (numpy
 * semantics: 1-D operands, broadcast leading batch dimensions), forward and backward, all
 * through nncw_blas_sgemm. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "core/common.h"
#include "ops/blas.h"
#include "ops/ops_internal.h"

static bool dims_ok(const struct nncw_tensor *t)
{
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] < 1 || t->shape[i] > INT_MAX)
            return false;
    return true;
}

/* ---- Gemm ---- */

struct gemm_geom {
    int m, n, k;
    bool ta, tb;
    float alpha, beta;
    bool has_c;
    int64_t c_sm, c_sn; /* strides of C over Y's rows and columns; 0 where broadcast */
};

static enum nncw_status gemm_check_c(const struct nncw_node *node, const struct nncw_tensor *c,
                                     struct gemm_geom *g)
{
    char s[96];
    bool ok = c->ndim <= 2 && dims_ok(c);
    int64_t cm = c->ndim == 2 ? c->shape[0] : 1, cn = c->ndim >= 1 ? c->shape[c->ndim - 1] : 1;
    ok = ok && (cm == 1 || cm == g->m) && (cn == 1 || cn == g->n);
    if (!ok)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "gemm '%s': C %s does not broadcast to [%d, %d]",
                         nncw_node_get_name(node), nncw_tensor_shape_str(c, s, sizeof s), g->m,
                         g->n);
    g->c_sn = cn == 1 ? 0 : 1;
    g->c_sm = cm == 1 ? 0 : cn;
    return NNCW_OK;
}

static enum nncw_status gemm_geom_get(const struct nncw_node *node,
                                      const struct nncw_tensor *const in[], int n_in,
                                      struct gemm_geom *g)
{
    const char *name = nncw_node_get_name(node);
    const struct nncw_tensor *a = in[0], *b = in[1], *c = n_in > 2 ? in[2] : NULL;
    char sa[96], sb[96];
    if (a->dtype != NNCW_DTYPE_F32 || b->dtype != NNCW_DTYPE_F32 ||
        (c && c->dtype != NNCW_DTYPE_F32))
        return NNCW_FAIL(NNCW_ERR_DTYPE, "gemm '%s': inputs must be float32", name);
    if (a->ndim != 2 || b->ndim != 2 || !dims_ok(a) || !dims_ok(b))
        return NNCW_FAIL(NNCW_ERR_SHAPE, "gemm '%s': A %s and B %s must be non-empty matrices",
                         name, nncw_tensor_shape_str(a, sa, sizeof sa),
                         nncw_tensor_shape_str(b, sb, sizeof sb));
    g->ta = nncw_node_get_attr_int(node, "transA", 0) != 0;
    g->tb = nncw_node_get_attr_int(node, "transB", 0) != 0;
    g->alpha = nncw_node_get_attr_float(node, "alpha", 1.0f);
    g->beta = nncw_node_get_attr_float(node, "beta", 1.0f);
    g->m = (int)a->shape[g->ta ? 1 : 0];
    g->k = (int)a->shape[g->ta ? 0 : 1];
    g->n = (int)b->shape[g->tb ? 0 : 1];
    int kb = (int)b->shape[g->tb ? 1 : 0];
    if (g->k != kb)
        return NNCW_FAIL(NNCW_ERR_SHAPE,
                         "gemm '%s': A %s (transA %d) and B %s (transB %d): inner dimensions %d "
                         "and %d differ",
                         name, nncw_tensor_shape_str(a, sa, sizeof sa), g->ta,
                         nncw_tensor_shape_str(b, sb, sizeof sb), g->tb, g->k, kb);
    g->has_c = c != NULL;
    return c ? gemm_check_c(node, c, g) : NNCW_OK;
}

static enum nncw_status gemm_infer(const struct nncw_node *node,
                                   const struct nncw_tensor *const in[], int n_in,
                                   struct nncw_tensor out[])
{
    struct gemm_geom g;
    NNCW_TRY(gemm_geom_get(node, in, n_in, &g));
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, 2, (int64_t[]){g.m, g.n}, NULL);
    return NNCW_OK;
}

static enum nncw_status gemm_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[])
{
    (void)ctx;
    struct gemm_geom g;
    NNCW_TRY(gemm_geom_get(node, (const struct nncw_tensor *const *)in, n_in, &g));
    const float *a = nncw_tensor_f32(in[0]), *b = nncw_tensor_f32(in[1]);
    float *y = nncw_tensor_f32(out[0]);
    float beta = 0.0f;
    if (g.has_c && g.beta != 0.0f) {
        const float *c = nncw_tensor_f32(in[2]);
        for (int i = 0; i < g.m; i++)
            for (int j = 0; j < g.n; j++)
                y[(size_t)i * g.n + j] = g.beta * c[i * g.c_sm + j * g.c_sn];
        beta = 1.0f;
    }
    nncw_blas_sgemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, a, g.ta ? g.m : g.k, b, g.tb ? g.k : g.n,
                    beta, y, g.n);
    return NNCW_OK;
}

/* dA += alpha * dY op(B)^T, laid out as A is (transposed when transA) */
static void gemm_grad_a(const struct gemm_geom *g, const float *b, const float *dy, float *da)
{
    int ldb = g->tb ? g->k : g->n;
    if (!g->ta) /* dA [M, K] = dY [M, N] . op(B)^T */
        nncw_blas_sgemm(false, !g->tb, g->m, g->k, g->n, g->alpha, dy, g->n, b, ldb, 1.0f, da,
                        g->k);
    else /* dA [K, M] = op(B) [K, N] . dY^T */
        nncw_blas_sgemm(g->tb, true, g->k, g->m, g->n, g->alpha, b, ldb, dy, g->n, 1.0f, da, g->m);
}

/* dB += alpha * op(A)^T dY, laid out as B is (transposed when transB) */
static void gemm_grad_b(const struct gemm_geom *g, const float *a, const float *dy, float *db)
{
    int lda = g->ta ? g->m : g->k;
    if (!g->tb) /* dB [K, N] = op(A)^T [K, M] . dY */
        nncw_blas_sgemm(!g->ta, false, g->k, g->n, g->m, g->alpha, a, lda, dy, g->n, 1.0f, db,
                        g->n);
    else /* dB [N, K] = dY^T [N, M] . op(A) */
        nncw_blas_sgemm(true, g->ta, g->n, g->k, g->m, g->alpha, dy, g->n, a, lda, 1.0f, db, g->k);
}

static enum nncw_status gemm_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                      struct nncw_tensor *const in[], int n_in,
                                      struct nncw_tensor *const out[],
                                      struct nncw_tensor *const grad_out[],
                                      struct nncw_tensor *const grad_in[])
{
    (void)ctx;
    (void)out;
    if (!grad_out[0])
        return NNCW_OK;
    struct gemm_geom g;
    NNCW_TRY(gemm_geom_get(node, (const struct nncw_tensor *const *)in, n_in, &g));
    const float *dy = nncw_tensor_f32(grad_out[0]);
    if (grad_in[0])
        gemm_grad_a(&g, nncw_tensor_f32(in[1]), dy, nncw_tensor_f32(grad_in[0]));
    if (grad_in[1])
        gemm_grad_b(&g, nncw_tensor_f32(in[0]), dy, nncw_tensor_f32(grad_in[1]));
    if (n_in > 2 && grad_in[2] && g.beta != 0.0f) {
        float *dc = nncw_tensor_f32(grad_in[2]);
        for (int i = 0; i < g.m; i++)
            for (int j = 0; j < g.n; j++)
                dc[i * g.c_sm + j * g.c_sn] += g.beta * dy[(size_t)i * g.n + j];
    }
    return NNCW_OK;
}

/* ---- MatMul ---- */

struct matmul_geom {
    int m, n, k;
    int64_t batches;               /* output matrices */
    int bnd;                       /* output batch dimensions */
    int64_t bshape[NNCW_MAX_DIMS]; /* their sizes */
    int64_t a_bs[NNCW_MAX_DIMS];   /* A's matrix stride per output batch dim; 0 if broadcast */
    int64_t b_bs[NNCW_MAX_DIMS];
    int64_t a_batches, b_batches; /* matrices in A and B */
    int out_ndim;
    int64_t out_shape[NNCW_MAX_DIMS];
};

/* batch dims of t (all but its last two, none for 1-D) right-aligned to nd output dims: the
 * size of each (1 where t has none) and its matrix stride (0 where broadcast) */
static int64_t batch_strides(const struct nncw_tensor *t, int nd, int64_t *size, int64_t *stride)
{
    int tnd = t->ndim >= 2 ? t->ndim - 2 : 0;
    int64_t acc = 1;
    for (int d = nd - 1; d >= 0; d--) {
        int td = d - (nd - tnd);
        size[d] = td >= 0 ? t->shape[td] : 1;
        stride[d] = size[d] == 1 ? 0 : acc;
        acc *= size[d];
    }
    return acc;
}

static enum nncw_status matmul_geom_get(const struct nncw_node *node, const struct nncw_tensor *a,
                                        const struct nncw_tensor *b, struct matmul_geom *g)
{
    const char *name = nncw_node_get_name(node);
    char sa[96], sb[96];
    if (a->dtype != NNCW_DTYPE_F32 || b->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "matmul '%s': inputs must be float32", name);
    if (a->ndim < 1 || b->ndim < 1 || !dims_ok(a) || !dims_ok(b))
        return NNCW_FAIL(NNCW_ERR_SHAPE,
                         "matmul '%s': %s @ %s: operands must be non-empty "
                         "with at least one dimension",
                         name, nncw_tensor_shape_str(a, sa, sizeof sa),
                         nncw_tensor_shape_str(b, sb, sizeof sb));
    int an = a->ndim, bn = b->ndim;
    g->m = an >= 2 ? (int)a->shape[an - 2] : 1;
    g->k = (int)a->shape[an - 1];
    int kb = (int)b->shape[bn >= 2 ? bn - 2 : 0];
    g->n = bn >= 2 ? (int)b->shape[bn - 1] : 1;
    if (g->k != kb)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "matmul '%s': %s @ %s: inner dimensions %d and %d differ",
                         name, nncw_tensor_shape_str(a, sa, sizeof sa),
                         nncw_tensor_shape_str(b, sb, sizeof sb), g->k, kb);
    g->bnd = nncw_imax(an - 2, bn - 2);
    if (g->bnd < 0)
        g->bnd = 0;
    int64_t as[NNCW_MAX_DIMS], bs[NNCW_MAX_DIMS];
    g->a_batches = batch_strides(a, g->bnd, as, g->a_bs);
    g->b_batches = batch_strides(b, g->bnd, bs, g->b_bs);
    g->batches = 1;
    for (int d = 0; d < g->bnd; d++) {
        if (as[d] != bs[d] && as[d] != 1 && bs[d] != 1)
            return NNCW_FAIL(
                NNCW_ERR_SHAPE, "matmul '%s': %s @ %s: batch dimensions do not broadcast", name,
                nncw_tensor_shape_str(a, sa, sizeof sa), nncw_tensor_shape_str(b, sb, sizeof sb));
        g->bshape[d] = as[d] > bs[d] ? as[d] : bs[d];
        g->batches *= g->bshape[d];
    }
    g->out_ndim = 0;
    for (int d = 0; d < g->bnd; d++)
        g->out_shape[g->out_ndim++] = g->bshape[d];
    if (an >= 2)
        g->out_shape[g->out_ndim++] = g->m;
    if (bn >= 2)
        g->out_shape[g->out_ndim++] = g->n;
    return NNCW_OK;
}

/* the A and B matrix indices of output batch i */
static void batch_operands(const struct matmul_geom *g, int64_t i, int64_t *ai, int64_t *bi)
{
    *ai = *bi = 0;
    for (int d = g->bnd - 1; d >= 0; d--) {
        int64_t idx = i % g->bshape[d];
        i /= g->bshape[d];
        *ai += idx * g->a_bs[d];
        *bi += idx * g->b_bs[d];
    }
}

/* A's batch is the output's and B is one matrix: the batch folds into M */
static bool folds_into_m(const struct matmul_geom *g)
{
    return g->b_batches == 1 && g->a_batches == g->batches && g->batches * g->m <= INT_MAX;
}

static enum nncw_status matmul_infer(const struct nncw_node *node,
                                     const struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor out[])
{
    (void)n_in;
    struct matmul_geom g;
    NNCW_TRY(matmul_geom_get(node, in[0], in[1], &g));
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, g.out_ndim, g.out_shape, NULL);
    return NNCW_OK;
}

static enum nncw_status matmul_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                       struct nncw_tensor *const in[], int n_in,
                                       struct nncw_tensor *const out[])
{
    (void)ctx;
    (void)n_in;
    struct matmul_geom g;
    NNCW_TRY(matmul_geom_get(node, in[0], in[1], &g));
    const float *a = nncw_tensor_f32(in[0]), *b = nncw_tensor_f32(in[1]);
    float *y = nncw_tensor_f32(out[0]);
    size_t am = (size_t)g.m * g.k, bm = (size_t)g.k * g.n, ym = (size_t)g.m * g.n;
    if (folds_into_m(&g)) {
        nncw_blas_sgemm(false, false, (int)(g.batches * g.m), g.n, g.k, 1.0f, a, g.k, b, g.n, 0.0f,
                        y, g.n);
        return NNCW_OK;
    }
    for (int64_t i = 0; i < g.batches; i++) {
        int64_t ai, bi;
        batch_operands(&g, i, &ai, &bi);
        nncw_blas_sgemm(false, false, g.m, g.n, g.k, 1.0f, a + ai * am, g.k, b + bi * bm, g.n, 0.0f,
                        y + i * ym, g.n);
    }
    return NNCW_OK;
}

static enum nncw_status matmul_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                        struct nncw_tensor *const in[], int n_in,
                                        struct nncw_tensor *const out[],
                                        struct nncw_tensor *const grad_out[],
                                        struct nncw_tensor *const grad_in[])
{
    (void)ctx;
    (void)n_in;
    (void)out;
    if (!grad_out[0])
        return NNCW_OK;
    struct matmul_geom g;
    NNCW_TRY(matmul_geom_get(node, in[0], in[1], &g));
    const float *a = nncw_tensor_f32(in[0]), *b = nncw_tensor_f32(in[1]);
    const float *dy = nncw_tensor_f32(grad_out[0]);
    float *da = grad_in[0] ? nncw_tensor_f32(grad_in[0]) : NULL;
    float *db = grad_in[1] ? nncw_tensor_f32(grad_in[1]) : NULL;
    size_t am = (size_t)g.m * g.k, bm = (size_t)g.k * g.n, ym = (size_t)g.m * g.n;
    int64_t rows = g.m, count = g.batches;
    if (folds_into_m(&g)) {
        rows = g.batches * g.m;
        count = 1;
    }
    /* dA += dY B^T and dB += A^T dY per output matrix; broadcast operands sum over their
     * copies because every product accumulates */
    for (int64_t i = 0; i < count; i++) {
        int64_t ai = 0, bi = 0;
        if (count > 1)
            batch_operands(&g, i, &ai, &bi);
        if (da)
            nncw_blas_sgemm(false, true, (int)rows, g.k, g.n, 1.0f, dy + i * ym, g.n, b + bi * bm,
                            g.n, 1.0f, da + ai * am, g.k);
        if (db)
            nncw_blas_sgemm(true, false, g.k, g.n, (int)rows, 1.0f, a + ai * am, g.k, dy + i * ym,
                            g.n, 1.0f, db + bi * bm, g.n);
    }
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_gemm = {
    "Gemm", "Gemm", 2, 3, 1, gemm_infer, gemm_forward, gemm_backward,
};
const struct nncw_op_def nncw_op_def_matmul = {
    "MatMul", "MatMul", 2, 2, 1, matmul_infer, matmul_forward, matmul_backward,
};
