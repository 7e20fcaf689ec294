/*
** Gather and GatherElements (ONNX opset 13): data of any dtype, indices int64 or int32 (negative
** values count from the end), attribute axis (default 0).
**
** Gather picks slices along axis: the output is data.shape[:axis] + indices.shape +
** data.shape[axis+1:]. GatherElements picks single elements: the output has indices' shape and
** out[i][j][k] = data[i][indices[i][j][k]][k] for axis 1. Indices come from data, so every one is
** checked: an index out of range is an error naming the node and the index, never a read out of
** bounds. Backward scatters (adds) the gradient into float data.
*/
#include <string.h>

#include "ops/ops_internal.h"

static const char *label_of(const struct nncw_node *node)
{
    return nncw_op_name(nncw_node_get_op(node));
}

static enum nncw_status gather_axis(const struct nncw_node *node, const struct nncw_tensor *x,
                                    const struct nncw_tensor *idx, int64_t *axis)
{
    const char *name = nncw_node_get_name(node), *label = label_of(node);
    if (idx->dtype != NNCW_DTYPE_I64 && idx->dtype != NNCW_DTYPE_I32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "%s '%s': indices are %s, expected int64 or int32", label,
                         name, nncw_dtype_name(idx->dtype));
    *axis = nncw_node_get_attr_int(node, "axis", 0);
    if (x->ndim == 0 || *axis < -x->ndim || *axis >= x->ndim)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': axis %lld is out of range for rank %d", label,
                         name, (long long)*axis, x->ndim);
    if (*axis < 0)
        *axis += x->ndim;
    return NNCW_OK;
}

/* an index normalised into [0, dim), or an error naming it */
static enum nncw_status fetch_index(const struct nncw_node *node, const struct nncw_tensor *idx,
                                    int64_t i, int64_t dim, int64_t *out)
{
    int64_t v = nncw_op_int_at(idx, i);
    int64_t k = v < 0 ? v + dim : v;
    if (k < 0 || k >= dim)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s '%s': index %lld is out of range [%lld, %lld)",
                         label_of(node), nncw_node_get_name(node), (long long)v, (long long)-dim,
                         (long long)dim);
    *out = k;
    return NNCW_OK;
}

/* ---- Gather ---- */

static enum nncw_status gather_infer(const struct nncw_node *node,
                                     const struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor out[])
{
    (void)n_in;
    const struct nncw_tensor *x = in[0], *idx = in[1];
    int64_t axis;
    NNCW_TRY(gather_axis(node, x, idx, &axis));
    int nd = x->ndim - 1 + idx->ndim;
    if (nd > NNCW_MAX_DIMS)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "gather '%s': the output would have %d dimensions",
                         nncw_node_get_name(node), nd);
    int64_t shape[NNCW_MAX_DIMS];
    int k = 0;
    for (int d = 0; d < axis; d++)
        shape[k++] = x->shape[d];
    for (int d = 0; d < idx->ndim; d++)
        shape[k++] = idx->shape[d];
    for (int d = (int)axis + 1; d < x->ndim; d++)
        shape[k++] = x->shape[d];
    nncw_tensor_init_borrowed(&out[0], x->dtype, nd, shape, NULL);
    return NNCW_OK;
}

/* data as [outer, dim, inner] around axis */
static void around(const struct nncw_tensor *x, int64_t axis, int64_t *outer, int64_t *inner)
{
    *outer = *inner = 1;
    for (int d = 0; d < axis; d++)
        *outer *= x->shape[d];
    for (int d = (int)axis + 1; d < x->ndim; d++)
        *inner *= x->shape[d];
}

static enum nncw_status gather_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                       struct nncw_tensor *const in[], int n_in,
                                       struct nncw_tensor *const out[])
{
    (void)ctx, (void)n_in;
    const struct nncw_tensor *x = in[0], *idx = in[1];
    int64_t axis, outer, inner;
    NNCW_TRY(gather_axis(node, x, idx, &axis));
    around(x, axis, &outer, &inner);
    int64_t dim = x->shape[axis], n_idx = nncw_tensor_numel(idx);
    size_t es = nncw_dtype_size(x->dtype), block = (size_t)inner * es;
    char *y = out[0]->data;
    for (int64_t j = 0; j < n_idx; j++) {
        int64_t k;
        NNCW_TRY(fetch_index(node, idx, j, dim, &k));
        for (int64_t o = 0; o < outer && block; o++)
            memcpy(y + (size_t)(o * n_idx + j) * block,
                   (const char *)x->data + (size_t)(o * dim + k) * block, block);
    }
    return NNCW_OK;
}

static enum nncw_status gather_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                        struct nncw_tensor *const in[], int n_in,
                                        struct nncw_tensor *const out[],
                                        struct nncw_tensor *const grad_out[],
                                        struct nncw_tensor *const grad_in[])
{
    (void)ctx, (void)n_in, (void)out;
    if (!grad_out[0] || !grad_in[0])
        return NNCW_OK;
    const struct nncw_tensor *x = in[0], *idx = in[1];
    int64_t axis, outer, inner;
    NNCW_TRY(gather_axis(node, x, idx, &axis));
    around(x, axis, &outer, &inner);
    int64_t dim = x->shape[axis], n_idx = nncw_tensor_numel(idx);
    const float *gy = nncw_tensor_f32(grad_out[0]);
    float *gx = nncw_tensor_f32(grad_in[0]);
    for (int64_t j = 0; j < n_idx; j++) {
        int64_t k;
        NNCW_TRY(fetch_index(node, idx, j, dim, &k));
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++)
                gx[(o * dim + k) * inner + i] += gy[(o * n_idx + j) * inner + i];
    }
    return NNCW_OK;
}

/* ---- GatherElements ---- */

static enum nncw_status gel_infer(const struct nncw_node *node,
                                  const struct nncw_tensor *const in[], int n_in,
                                  struct nncw_tensor out[])
{
    (void)n_in;
    const struct nncw_tensor *x = in[0], *idx = in[1];
    int64_t axis;
    NNCW_TRY(gather_axis(node, x, idx, &axis));
    bool ok = idx->ndim == x->ndim;
    for (int d = 0; ok && d < x->ndim; d++)
        ok = d == axis || idx->shape[d] <= x->shape[d];
    if (!ok) {
        char sx[96], si[96];
        return NNCW_FAIL(NNCW_ERR_SHAPE, "gatherelements '%s': indices %s do not fit data %s",
                         nncw_node_get_name(node), nncw_tensor_shape_str(idx, si, sizeof si),
                         nncw_tensor_shape_str(x, sx, sizeof sx));
    }
    nncw_tensor_init_borrowed(&out[0], x->dtype, idx->ndim, idx->shape, NULL);
    return NNCW_OK;
}

/* the data offset of element i of indices; the walk goes over indices' shape in order */
static enum nncw_status gel_offset(const struct nncw_node *node, const struct nncw_tensor *x,
                                   const struct nncw_tensor *idx, int64_t axis, int64_t i,
                                   const int64_t *pos, int64_t *off)
{
    int64_t k;
    NNCW_TRY(fetch_index(node, idx, i, x->shape[axis], &k));
    *off = 0;
    for (int d = 0; d < x->ndim; d++)
        *off += (d == axis ? k : pos[d]) * x->strides[d];
    return NNCW_OK;
}

static void next_pos(const struct nncw_tensor *t, int64_t *pos)
{
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (++pos[d] < t->shape[d])
            return;
        pos[d] = 0;
    }
}

static enum nncw_status gel_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[])
{
    (void)ctx, (void)n_in;
    const struct nncw_tensor *x = in[0], *idx = in[1];
    int64_t axis, pos[NNCW_MAX_DIMS] = {0};
    NNCW_TRY(gather_axis(node, x, idx, &axis));
    size_t es = nncw_dtype_size(x->dtype);
    int64_t n = nncw_tensor_numel(idx);
    for (int64_t i = 0; i < n; i++, next_pos(idx, pos)) {
        int64_t off;
        NNCW_TRY(gel_offset(node, x, idx, axis, i, pos, &off));
        memcpy((char *)out[0]->data + (size_t)i * es, (const char *)x->data + (size_t)off * es, es);
    }
    return NNCW_OK;
}

static enum nncw_status gel_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[],
                                     struct nncw_tensor *const grad_out[],
                                     struct nncw_tensor *const grad_in[])
{
    (void)ctx, (void)n_in, (void)out;
    if (!grad_out[0] || !grad_in[0])
        return NNCW_OK;
    const struct nncw_tensor *idx = in[1];
    int64_t axis, pos[NNCW_MAX_DIMS] = {0};
    NNCW_TRY(gather_axis(node, in[0], idx, &axis));
    int64_t n = nncw_tensor_numel(idx);
    for (int64_t i = 0; i < n; i++, next_pos(idx, pos)) {
        int64_t off;
        NNCW_TRY(gel_offset(node, grad_in[0], idx, axis, i, pos, &off));
        nncw_tensor_f32(grad_in[0])[off] += nncw_tensor_f32(grad_out[0])[i];
    }
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_gather = {
    "Gather", "Gather", 2, 2, 1, gather_infer, gather_forward, gather_backward,
};
const struct nncw_op_def nncw_op_def_gatherelements = {
    "GatherElements", "GatherElements", 2, 2, 1, gel_infer, gel_forward, gel_backward,
};
