/*
** Dropout, ONNX opset 13: inputs data, optional ratio (f32 scalar; without it the opset-10
** attribute `ratio`, default 0.5) and optional training_mode (a bool scalar: any dtype, nonzero
** is true); outputs the result and, if the node asks for it, the mask.
**
** Dropout is active when the executor trains or training_mode is true, and ratio > 0. Then it
** is inverted dropout: each element is kept with probability 1 - ratio, drawn from the
** executor's generator, and scaled by 1 / (1 - ratio); the mask is kept per node for backward.
** Otherwise it is the identity and the mask is all ones. ratio 1 drops everything (as PyTorch).
**
** The mask is a bool tensor (one byte, 0 or 1), as in ONNX.
*/
#include <string.h>

#include "ops/ops_internal.h"

/* a scalar of any dtype, as a double */
static double scalar_value(const struct nncw_tensor *t)
{
    switch (t->dtype) {
    case NNCW_DTYPE_F32:
        return ((const float *)t->data)[0];
    case NNCW_DTYPE_I8:
        return ((const int8_t *)t->data)[0];
    case NNCW_DTYPE_U8:
    case NNCW_DTYPE_BOOL:
        return ((const uint8_t *)t->data)[0];
    case NNCW_DTYPE_I32:
        return (double)((const int32_t *)t->data)[0];
    default:
        return (double)((const int64_t *)t->data)[0];
    }
}

static enum nncw_status check_ratio(const struct nncw_node *node, float ratio)
{
    if (!(ratio >= 0.0f && ratio <= 1.0f))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "dropout '%s': ratio %g is outside [0, 1]",
                         nncw_node_get_name(node), (double)ratio);
    return NNCW_OK;
}

static enum nncw_status dropout_infer(const struct nncw_node *node,
                                      const struct nncw_tensor *const in[], int n_in,
                                      struct nncw_tensor out[])
{
    const char *name = nncw_node_get_name(node);
    const struct nncw_tensor *x = in[0];
    char sb[96];
    if (x->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "dropout '%s': data is %s, only float32 is supported",
                         name, nncw_dtype_name(x->dtype));
    for (int i = 1; i < n_in; i++) {
        if (!in[i])
            continue;
        const char *what = i == 1 ? "ratio" : "training_mode";
        if (nncw_tensor_numel(in[i]) != 1)
            return NNCW_FAIL(NNCW_ERR_SHAPE, "dropout '%s': %s is %s, expected a scalar", name,
                             what, nncw_tensor_shape_str(in[i], sb, sizeof sb));
        if (i == 1 && in[i]->dtype != NNCW_DTYPE_F32)
            return NNCW_FAIL(NNCW_ERR_DTYPE, "dropout '%s': ratio is %s, expected float32", name,
                             nncw_dtype_name(in[i]->dtype));
    }
    if (n_in > 1 && in[1] && in[1]->data)
        NNCW_TRY(check_ratio(node, nncw_tensor_f32(in[1])[0]));
    else if (n_in < 2 || !in[1])
        NNCW_TRY(check_ratio(node, nncw_node_get_attr_float(node, "ratio", 0.5f)));
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, x->ndim, x->shape, NULL);
    nncw_tensor_init_borrowed(&out[1], NNCW_DTYPE_BOOL, x->ndim, x->shape, NULL);
    return NNCW_OK;
}

/* the ratio in effect and whether elements are dropped this run */
static enum nncw_status dropout_mode(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in, float *ratio,
                                     bool *active)
{
    *ratio = n_in > 1 && in[1] ? nncw_tensor_f32(in[1])[0]
                               : nncw_node_get_attr_float(node, "ratio", 0.5f);
    NNCW_TRY(check_ratio(node, *ratio));
    bool training =
        nncw_op_ctx_dropout_active(ctx) || (n_in > 2 && in[2] && scalar_value(in[2]) != 0.0);
    *active = training && *ratio > 0.0f;
    return NNCW_OK;
}

static enum nncw_status dropout_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                        struct nncw_tensor *const in[], int n_in,
                                        struct nncw_tensor *const out[])
{
    float ratio;
    bool active;
    NNCW_TRY(dropout_mode(ctx, node, in, n_in, &ratio, &active));
    int64_t n = nncw_tensor_numel(in[0]);
    const float *x = nncw_tensor_f32(in[0]);
    float *y = nncw_tensor_f32(out[0]);
    uint8_t *mask_out = nncw_node_count_outputs(node) > 1 ? out[1]->data : NULL;
    if (!active) {
        memcpy(y, x, (size_t)n * sizeof *y);
        if (mask_out)
            memset(mask_out, 1, (size_t)n);
        return NNCW_OK;
    }
    uint8_t *mask = nncw_op_ctx_saved(ctx, node, (size_t)(n ? n : 1));
    if (!mask)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "dropout '%s': out of memory for the mask",
                         nncw_node_get_name(node));
    struct nncw_rng *rng = nncw_op_ctx_rng(ctx);
    const float scale = ratio < 1.0f ? 1.0f / (1.0f - ratio) : 0.0f;
    for (int64_t i = 0; i < n; i++) {
        mask[i] = nncw_rng_uniform(rng) >= ratio;
        y[i] = mask[i] ? x[i] * scale : 0.0f;
    }
    if (mask_out)
        memcpy(mask_out, mask, (size_t)n);
    return NNCW_OK;
}

static enum nncw_status dropout_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                         struct nncw_tensor *const in[], int n_in,
                                         struct nncw_tensor *const out[],
                                         struct nncw_tensor *const grad_out[],
                                         struct nncw_tensor *const grad_in[])
{
    (void)out;
    if (!grad_out[0] || !grad_in[0])
        return NNCW_OK; /* ratio and training_mode get no gradient */
    float ratio;
    bool active;
    NNCW_TRY(dropout_mode(ctx, node, in, n_in, &ratio, &active));
    int64_t n = nncw_tensor_numel(in[0]);
    const float *gy = nncw_tensor_f32(grad_out[0]);
    float *gx = nncw_tensor_f32(grad_in[0]);
    if (!active) {
        for (int64_t i = 0; i < n; i++)
            gx[i] += gy[i];
        return NNCW_OK;
    }
    const uint8_t *mask = nncw_op_ctx_saved(ctx, node, (size_t)(n ? n : 1));
    if (!mask)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "dropout '%s': out of memory for the mask",
                         nncw_node_get_name(node));
    const float scale = ratio < 1.0f ? 1.0f / (1.0f - ratio) : 0.0f;
    for (int64_t i = 0; i < n; i++)
        gx[i] += mask[i] ? gy[i] * scale : 0.0f;
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_dropout = {
    "Dropout", "Dropout", 1, 3, 2, dropout_infer, dropout_forward, dropout_backward,
};
