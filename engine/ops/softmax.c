/*
** Softmax and LogSoftmax, ONNX opset 13: normalise over the one axis `axis` (default -1).
**
** The input is viewed as [outer, n, inner] with n the softmax axis. Rows are shifted by their
** maximum before exponentiating, so large inputs do not overflow. When inner is 1 each row is
** contiguous; otherwise the loops run across the inner dimension with per-column maxima and
** sums in scratch memory, so memory is still read in order.
*/
#include <math.h>

#include "ops/ops_internal.h"

static const char *sm_label(const struct nncw_node *node)
{
    return nncw_node_get_op(node) == NNCW_OP_LOGSOFTMAX ? "logsoftmax" : "softmax";
}

/* the normalised axis, or -1 if out of range */
static int sm_axis(const struct nncw_node *node, int ndim)
{
    int64_t axis = nncw_node_get_attr_int(node, "axis", -1);
    if (axis < 0)
        axis += ndim;
    return axis >= 0 && axis < ndim ? (int)axis : -1;
}

/* x as [outer, n, inner]; the axis is checked again because the attribute could have changed
 * since shape inference */
static enum nncw_status sm_dims(const struct nncw_node *node, const struct nncw_tensor *x,
                                int64_t *outer, int64_t *n, int64_t *inner)
{
    int axis = sm_axis(node, x->ndim);
    if (axis < 0)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s '%s': axis %lld is out of range", sm_label(node),
                         nncw_node_get_name(node),
                         (long long)nncw_node_get_attr_int(node, "axis", -1));
    *outer = *inner = 1;
    for (int d = 0; d < axis; d++)
        *outer *= x->shape[d];
    *n = x->shape[axis];
    for (int d = axis + 1; d < x->ndim; d++)
        *inner *= x->shape[d];
    return NNCW_OK;
}

/* ---- kernels: one [n, inner] block at a time ---- */

static void softmax_row(int64_t n, const float *x, float *y, bool log_out)
{
    float m = -INFINITY;
    for (int64_t k = 0; k < n; k++)
        m = x[k] > m ? x[k] : m;
    double sum = 0;
    for (int64_t k = 0; k < n; k++) {
        float e = expf(x[k] - m);
        if (!log_out)
            y[k] = e;
        sum += e;
    }
    if (log_out) {
        /* (x - m) - log(sum), not x - (m + log(sum)): keeps precision when |m| is large */
        float ls = (float)log(sum);
        for (int64_t k = 0; k < n; k++)
            y[k] = (x[k] - m) - ls;
    } else {
        float r = (float)(1.0 / sum);
        for (int64_t k = 0; k < n; k++)
            y[k] *= r;
    }
}

/* work: 2 * inner floats */
static void softmax_block(int64_t n, int64_t inner, const float *x, float *y, bool log_out,
                          float *work)
{
    float *m = work, *sum = work + inner;
    for (int64_t j = 0; j < inner; j++) {
        m[j] = -INFINITY;
        sum[j] = 0.0f;
    }
    for (int64_t k = 0; k < n; k++)
        for (int64_t j = 0; j < inner; j++)
            m[j] = x[k * inner + j] > m[j] ? x[k * inner + j] : m[j];
    for (int64_t k = 0; k < n; k++)
        for (int64_t j = 0; j < inner; j++) {
            float e = expf(x[k * inner + j] - m[j]);
            if (!log_out)
                y[k * inner + j] = e;
            sum[j] += e;
        }
    if (log_out) {
        for (int64_t j = 0; j < inner; j++)
            sum[j] = logf(sum[j]);
        for (int64_t k = 0; k < n; k++)
            for (int64_t j = 0; j < inner; j++)
                y[k * inner + j] = (x[k * inner + j] - m[j]) - sum[j];
    } else {
        for (int64_t j = 0; j < inner; j++)
            sum[j] = 1.0f / sum[j];
        for (int64_t k = 0; k < n; k++)
            for (int64_t j = 0; j < inner; j++)
                y[k * inner + j] *= sum[j];
    }
}

/* softmax: gx += y * (gy - sum(gy * y)); log-softmax: gx += gy - exp(y) * sum(gy) */
static void softmax_row_backward(int64_t n, const float *y, const float *gy, float *gx,
                                 bool log_out)
{
    double dot = 0;
    for (int64_t k = 0; k < n; k++)
        dot += log_out ? (double)gy[k] : (double)gy[k] * y[k];
    float d = (float)dot;
    if (log_out)
        for (int64_t k = 0; k < n; k++)
            gx[k] += gy[k] - expf(y[k]) * d;
    else
        for (int64_t k = 0; k < n; k++)
            gx[k] += y[k] * (gy[k] - d);
}

/* work: inner floats */
static void softmax_block_backward(int64_t n, int64_t inner, const float *y, const float *gy,
                                   float *gx, bool log_out, float *work)
{
    float *dot = work;
    for (int64_t j = 0; j < inner; j++)
        dot[j] = 0.0f;
    for (int64_t k = 0; k < n; k++)
        for (int64_t j = 0; j < inner; j++)
            dot[j] += log_out ? gy[k * inner + j] : gy[k * inner + j] * y[k * inner + j];
    for (int64_t k = 0; k < n; k++)
        for (int64_t j = 0; j < inner; j++) {
            int64_t i = k * inner + j;
            gx[i] += log_out ? gy[i] - expf(y[i]) * dot[j] : y[i] * (gy[i] - dot[j]);
        }
}

/* ---- the ops ---- */

static enum nncw_status sm_infer(const struct nncw_node *node, const struct nncw_tensor *const in[],
                                 int n_in, struct nncw_tensor out[])
{
    (void)n_in;
    const struct nncw_tensor *x = in[0];
    const char *name = nncw_node_get_name(node);
    if (x->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "%s '%s': input is %s, only float32 is supported",
                         sm_label(node), name, nncw_dtype_name(x->dtype));
    if (sm_axis(node, x->ndim) < 0) {
        char sx[96];
        return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': axis %lld is out of range for input %s",
                         sm_label(node), name, (long long)nncw_node_get_attr_int(node, "axis", -1),
                         nncw_tensor_shape_str(x, sx, sizeof sx));
    }
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, x->ndim, x->shape, NULL);
    return NNCW_OK;
}

static enum nncw_status sm_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                   struct nncw_tensor *const in[], int n_in,
                                   struct nncw_tensor *const out[])
{
    (void)n_in;
    bool log_out = nncw_node_get_op(node) == NNCW_OP_LOGSOFTMAX;
    int64_t outer, n, inner;
    NNCW_TRY(sm_dims(node, in[0], &outer, &n, &inner));
    const float *x = nncw_tensor_f32(in[0]);
    float *y = nncw_tensor_f32(out[0]);
    if (n == 0 || outer == 0 || inner == 0)
        return NNCW_OK;
    if (inner == 1) {
        for (int64_t o = 0; o < outer; o++)
            softmax_row(n, x + o * n, y + o * n, log_out);
        return NNCW_OK;
    }
    float *work = nncw_op_ctx_scratch(ctx, 2 * (size_t)inner * sizeof(float));
    if (!work)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "%s '%s': out of memory", sm_label(node),
                         nncw_node_get_name(node));
    for (int64_t o = 0; o < outer; o++)
        softmax_block(n, inner, x + o * n * inner, y + o * n * inner, log_out, work);
    return NNCW_OK;
}

static enum nncw_status sm_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[],
                                    struct nncw_tensor *const grad_out[],
                                    struct nncw_tensor *const grad_in[])
{
    (void)n_in;
    if (!grad_out[0] || !grad_in[0])
        return NNCW_OK;
    bool log_out = nncw_node_get_op(node) == NNCW_OP_LOGSOFTMAX;
    int64_t outer, n, inner;
    NNCW_TRY(sm_dims(node, in[0], &outer, &n, &inner));
    const float *y = nncw_tensor_f32(out[0]), *gy = nncw_tensor_f32(grad_out[0]);
    float *gx = nncw_tensor_f32(grad_in[0]);
    if (n == 0 || outer == 0 || inner == 0)
        return NNCW_OK;
    if (inner == 1) {
        for (int64_t o = 0; o < outer; o++)
            softmax_row_backward(n, y + o * n, gy + o * n, gx + o * n, log_out);
        return NNCW_OK;
    }
    float *work = nncw_op_ctx_scratch(ctx, (size_t)inner * sizeof(float));
    if (!work)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "%s '%s': out of memory", sm_label(node),
                         nncw_node_get_name(node));
    for (int64_t o = 0; o < outer; o++) {
        int64_t off = o * n * inner;
        softmax_block_backward(n, inner, y + off, gy + off, gx + off, log_out, work);
    }
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_softmax = {
    "Softmax", "Softmax", 1, 1, 1, sm_infer, sm_forward, sm_backward,
};
const struct nncw_op_def nncw_op_def_logsoftmax = {
    "LogSoftmax", "LogSoftmax", 1, 1, 1, sm_infer, sm_forward, sm_backward,
};
