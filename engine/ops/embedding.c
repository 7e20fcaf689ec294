/*
** Embedding (nncw's own op, PyTorch's nn.Embedding; ONNX expresses it as Gather): inputs
** weight [num_embeddings, dim] (f32) and indices (i64 or i32, any shape); the output is
** indices.shape + [dim], row indices[i] of weight for each index.
**
** Indices come from data, so an index outside [0, num_embeddings) is an error naming the node
** and the index, never a read out of bounds. Attribute padding_idx (optional, negative counts
** from the end as in PyTorch) names a row that gets no gradient.
*/
#include <string.h>

#include "ops/ops_internal.h"

static int64_t index_at(const struct nncw_tensor *idx, int64_t i)
{
    return idx->dtype == NNCW_DTYPE_I64 ? ((const int64_t *)idx->data)[i]
                                        : ((const int32_t *)idx->data)[i];
}

/* padding_idx normalised to [0, num), -1 if absent, -2 if out of range */
static int64_t padding_index(const struct nncw_node *node, int64_t num)
{
    if (!nncw_node_has_attr(node, "padding_idx"))
        return -1;
    int64_t p = nncw_node_get_attr_int(node, "padding_idx", 0);
    if (p < 0)
        p += num;
    return p >= 0 && p < num ? p : -2;
}

static enum nncw_status emb_infer(const struct nncw_node *node,
                                  const struct nncw_tensor *const in[], int n_in,
                                  struct nncw_tensor out[])
{
    (void)n_in;
    const struct nncw_tensor *w = in[0], *idx = in[1];
    const char *name = nncw_node_get_name(node);
    char sw[96], si[96];
    if (w->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "embedding '%s': weight is %s, only float32 is supported",
                         name, nncw_dtype_name(w->dtype));
    if (idx->dtype != NNCW_DTYPE_I64 && idx->dtype != NNCW_DTYPE_I32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "embedding '%s': indices are %s, expected int64 or int32",
                         name, nncw_dtype_name(idx->dtype));
    if (w->ndim != 2)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "embedding '%s': weight is %s, expected [num, dim]", name,
                         nncw_tensor_shape_str(w, sw, sizeof sw));
    if (idx->ndim + 1 > NNCW_MAX_DIMS)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "embedding '%s': indices %s have too many dimensions",
                         name, nncw_tensor_shape_str(idx, si, sizeof si));
    if (padding_index(node, w->shape[0]) == -2)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "embedding '%s': padding_idx %lld is out of range for weight %s", name,
                         (long long)nncw_node_get_attr_int(node, "padding_idx", 0),
                         nncw_tensor_shape_str(w, sw, sizeof sw));
    int64_t shape[NNCW_MAX_DIMS];
    memcpy(shape, idx->shape, (size_t)idx->ndim * sizeof *shape);
    shape[idx->ndim] = w->shape[1];
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, idx->ndim + 1, shape, NULL);
    return NNCW_OK;
}

/* every index in range, or the first bad one named */
static enum nncw_status check_indices(const struct nncw_node *node, const struct nncw_tensor *idx,
                                      int64_t num)
{
    int64_t n = nncw_tensor_numel(idx);
    for (int64_t i = 0; i < n; i++) {
        int64_t k = index_at(idx, i);
        if (k < 0 || k >= num)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "embedding '%s': index %lld (element %lld of the indices) is out of "
                             "range [0, %lld)",
                             nncw_node_get_name(node), (long long)k, (long long)i, (long long)num);
    }
    return NNCW_OK;
}

static enum nncw_status emb_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[])
{
    (void)ctx;
    (void)n_in;
    const struct nncw_tensor *w = in[0], *idx = in[1];
    int64_t num = w->shape[0], dim = w->shape[1], n = nncw_tensor_numel(idx);
    NNCW_TRY(check_indices(node, idx, num));
    const float *wv = nncw_tensor_f32(w);
    float *y = nncw_tensor_f32(out[0]);
    for (int64_t i = 0; i < n; i++)
        memcpy(y + i * dim, wv + index_at(idx, i) * dim, (size_t)dim * sizeof *y);
    return NNCW_OK;
}

static enum nncw_status emb_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[],
                                     struct nncw_tensor *const grad_out[],
                                     struct nncw_tensor *const grad_in[])
{
    (void)ctx;
    (void)n_in;
    (void)out;
    if (!grad_out[0] || !grad_in[0])
        return NNCW_OK; /* indices are integers: no gradient */
    const struct nncw_tensor *w = in[0], *idx = in[1];
    int64_t num = w->shape[0], dim = w->shape[1], n = nncw_tensor_numel(idx);
    NNCW_TRY(check_indices(node, idx, num));
    int64_t pad = padding_index(node, num);
    const float *gy = nncw_tensor_f32(grad_out[0]);
    float *gw = nncw_tensor_f32(grad_in[0]);
    for (int64_t i = 0; i < n; i++) {
        int64_t k = index_at(idx, i);
        if (k == pad)
            continue;
        float *row = gw + k * dim;
        const float *g = gy + i * dim;
        for (int64_t j = 0; j < dim; j++)
            row[j] += g[j];
    }
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_embedding = {
    "Embedding", NULL, 2, 2, 1, emb_infer, emb_forward, emb_backward,
};
