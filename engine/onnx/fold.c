/*
** Constant folding at import: a node whose inputs are all known runs once, through the op's own
** forward in a one-node graph, and its outputs become known values. Shape arithmetic (Add, Sub
** and Mul on int64, which nncw's float-only ops refuse) is done here directly.
**
** Outputs larger than the importer's max_fold_bytes are not folded (the node stays in the
** graph), so a hostile ConstantOfShape or Expand cannot make the importer allocate without
** bound.
*/
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "graph/exec.h"
#include "onnx/onnx_internal.h"

#define MAX_FOLD_FLOPS ((int64_t)1 << 28)

static bool is_int(enum nncw_dtype dt)
{
    return dt == NNCW_DTYPE_I64 || dt == NNCW_DTYPE_I32;
}

static int64_t int_at(const struct nncw_tensor *t, int64_t i)
{
    return t->dtype == NNCW_DTYPE_I64 ? ((const int64_t *)t->data)[i]
                                      : ((const int32_t *)t->data)[i];
}

/* Add, Sub, Mul of two integer tensors with numpy broadcasting (wrapping like int64 does) */
static enum nncw_status fold_int_arith(enum nncw_op op, const struct nncw_tensor *a,
                                       const struct nncw_tensor *b, size_t max_bytes,
                                       struct nncw_tensor *y, bool *too_big)
{
    if (a->dtype != b->dtype)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "inputs are %s and %s", nncw_dtype_name(a->dtype),
                         nncw_dtype_name(b->dtype));
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    int64_t shape[NNCW_MAX_DIMS], sa[NNCW_MAX_DIMS], sb[NNCW_MAX_DIMS];
    for (int d = 0; d < nd; d++) {
        int da = d - (nd - a->ndim), db = d - (nd - b->ndim);
        int64_t x = da >= 0 ? a->shape[da] : 1, z = db >= 0 ? b->shape[db] : 1;
        if (x != z && x != 1 && z != 1)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "input shapes do not broadcast");
        shape[d] = x == 1 ? z : x;
        sa[d] = da < 0 || x == 1 ? 0 : a->strides[da];
        sb[d] = db < 0 || z == 1 ? 0 : b->strides[db];
    }
    int64_t n = nncw_shape_numel(nd, shape);
    if (n < 0 || (size_t)n * nncw_dtype_size(a->dtype) > max_bytes) { /* stays a node */
        *too_big = true;
        return NNCW_OK;
    }
    NNCW_TRY(nncw_tensor_init(y, a->dtype, nd, shape));
    for (int64_t i = 0; i < n; i++) {
        int64_t rest = i, oa = 0, ob = 0;
        for (int d = nd - 1; d >= 0; d--) {
            int64_t k = rest % shape[d];
            rest /= shape[d];
            oa += k * sa[d];
            ob += k * sb[d];
        }
        uint64_t x = (uint64_t)int_at(a, oa), z = (uint64_t)int_at(b, ob);
        uint64_t r = op == NNCW_OP_ADD ? x + z : op == NNCW_OP_SUB ? x - z : x * z;
        if (a->dtype == NNCW_DTYPE_I64)
            ((int64_t *)y->data)[i] = (int64_t)r;
        else
            ((int32_t *)y->data)[i] = (int32_t)(uint32_t)r;
    }
    return NNCW_OK;
}

static enum nncw_status run_one_node(struct nncw_onnx_importer *im, const struct nncw_onnx_spec *s,
                                     int b, struct nncw_tensor *outs, bool *too_big)
{
    struct nncw_graph *g = NULL;
    struct nncw_exec *ex = NULL;
    enum nncw_status st = nncw_graph_new(&g);
    if (st != NNCW_OK)
        return st;
    int ids[16], out_ids[8];
    for (int i = 0; i < s->n_in && st == NNCW_OK; i++) {
        ids[i] = -1;
        if (s->in[i] < 0)
            continue;
        char name[32];
        snprintf(name, sizeof name, "in%d", i);
        st = nncw_graph_add_param(g, name, nncw_onnx_sym_tensor(im, s->in[i], b), false, &ids[i]);
    }
    char scope[256];
    snprintf(scope, sizeof scope, "%s%s", im->node_name, s->suffix ? s->suffix : "");
    struct nncw_node *n = NULL;
    if (st == NNCW_OK)
        st = nncw_graph_add_node(g, s->op, scope, s->n_in, ids, s->n_out, out_ids, &n);
    if (st == NNCW_OK)
        st = nncw_onnx_apply_attrs(im, s, n);
    for (int o = 0; o < s->n_out && st == NNCW_OK; o++)
        st = nncw_graph_add_output(g, out_ids[o]);
    if (st == NNCW_OK)
        st = nncw_graph_infer_shapes(g, 1);
    if (st != NNCW_OK)
        goto out;
    size_t total = 0;
    for (int o = 0; o < s->n_out; o++)
        total += nncw_tensor_nbytes(nncw_graph_get_value_tensor(g, out_ids[o]));
    int64_t macs = 0, flops = 0;
    st = nncw_graph_count_flops(g, 1, &macs, &flops);
    if (st != NNCW_OK)
        goto out;
    /* folding is for cheap constant arithmetic: anything large or slow stays a node */
    if (total > im->max_fold_bytes || total > im->fold_budget || flops > MAX_FOLD_FLOPS) {
        *too_big = true;
        goto out;
    }
    im->fold_budget -= total;
    struct nncw_exec_options eo = {.batch = 1};
    st = nncw_exec_new(g, &eo, &ex);
    if (st == NNCW_OK)
        st = nncw_exec_forward(ex);
    for (int o = 0; o < s->n_out && st == NNCW_OK; o++)
        if (s->out[o] >= 0)
            st = nncw_tensor_init_copy(&outs[o], nncw_exec_get_output(ex, o));
out:
    nncw_exec_free(ex);
    nncw_graph_free(g);
    return st;
}

/* ops whose work or scratch memory grows beyond their output: never folded */
static bool heavy(enum nncw_op op)
{
    return op == NNCW_OP_CONV || op == NNCW_OP_CONVTRANSPOSE || op == NNCW_OP_MAXPOOL ||
           op == NNCW_OP_AVGPOOL || op == NNCW_OP_LRN;
}

enum nncw_status nncw_onnx_fold(struct nncw_onnx_importer *im, const struct nncw_onnx_spec *s,
                                int b, struct nncw_tensor *outs, bool *too_big)
{
    *too_big = heavy(s->op);
    if (*too_big)
        return NNCW_OK;
    if (s->op == NNCW_OP_IDENTITY && s->in[0] >= 0) {
        /* PyTorch routes shared weights through Identity: share the storage, copy nothing */
        outs[0] = *nncw_onnx_sym_tensor(im, s->in[0], b);
        nncw_storage_retain(outs[0].storage);
        return NNCW_OK;
    }
    bool arith = s->op == NNCW_OP_ADD || s->op == NNCW_OP_SUB || s->op == NNCW_OP_MUL;
    if (arith && s->n_in == 2 && s->in[0] >= 0 && s->in[1] >= 0) {
        const struct nncw_tensor *a = nncw_onnx_sym_tensor(im, s->in[0], b);
        const struct nncw_tensor *c = nncw_onnx_sym_tensor(im, s->in[1], b);
        if (is_int(a->dtype) || is_int(c->dtype)) {
            size_t limit =
                im->max_fold_bytes < im->fold_budget ? im->max_fold_bytes : im->fold_budget;
            NNCW_TRY(fold_int_arith(s->op, a, c, limit, &outs[0], too_big));
            if (!*too_big)
                im->fold_budget -= nncw_tensor_nbytes(&outs[0]);
            return NNCW_OK;
        }
    }
    return run_one_node(im, s, b, outs, too_big);
}
