/*
** Cast (ONNX opset 13): converts between float32, int8, uint8, int32, int64 and bool; the
** attribute `to` holds the target as an ONNX TensorProto.DataType number (1 float, 2 uint8,
** 3 int8, 6 int32, 7 int64, 9 bool).
**
** Float to integer truncates toward zero like C, but saturates at the target's range and maps
** NaN to 0 (ONNX leaves those undefined; C would make them undefined behaviour). Anything to
** bool is "nonzero". A float-to-float cast passes the gradient through; other casts have none.
*/
#include <math.h>
#include <string.h>

#include "ops/ops_internal.h"

static bool dtype_of_onnx(int64_t to, enum nncw_dtype *dt)
{
    switch (to) {
    case 1:
        *dt = NNCW_DTYPE_F32;
        return true;
    case 2:
        *dt = NNCW_DTYPE_U8;
        return true;
    case 3:
        *dt = NNCW_DTYPE_I8;
        return true;
    case 6:
        *dt = NNCW_DTYPE_I32;
        return true;
    case 7:
        *dt = NNCW_DTYPE_I64;
        return true;
    case 9:
        *dt = NNCW_DTYPE_BOOL;
        return true;
    default:
        return false;
    }
}

static enum nncw_status cast_infer(const struct nncw_node *node,
                                   const struct nncw_tensor *const in[], int n_in,
                                   struct nncw_tensor out[])
{
    (void)n_in;
    enum nncw_dtype dt;
    int64_t to = nncw_node_get_attr_int(node, "to", -1);
    if (!dtype_of_onnx(to, &dt))
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "cast '%s': target type %lld is not supported",
                         nncw_node_get_name(node), (long long)to);
    if (in[0]->dtype == NNCW_DTYPE_COUNT)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "cast '%s': bad input type", nncw_node_get_name(node));
    nncw_tensor_init_borrowed(&out[0], dt, in[0]->ndim, in[0]->shape, NULL);
    return NNCW_OK;
}

/* a float truncated and clamped into [lo, hi]; NaN is 0 */
static int64_t sat(double v, double lo, double hi)
{
    if (isnan(v))
        return 0;
    if (v <= lo)
        return (int64_t)lo;
    if (v >= hi)
        return hi >= 9.2e18 ? INT64_MAX : (int64_t)hi;
    return (int64_t)v;
}

static void convert(const struct nncw_tensor *x, int64_t i, struct nncw_tensor *y)
{
    double f = 0;
    int64_t v = 0;
    bool is_float = x->dtype == NNCW_DTYPE_F32;
    switch (x->dtype) {
    case NNCW_DTYPE_F32:
        f = nncw_tensor_f32(x)[i];
        break;
    case NNCW_DTYPE_I8:
        v = ((const int8_t *)x->data)[i];
        break;
    case NNCW_DTYPE_I32:
        v = ((const int32_t *)x->data)[i];
        break;
    case NNCW_DTYPE_I64:
        v = ((const int64_t *)x->data)[i];
        break;
    default: /* u8, bool */
        v = ((const uint8_t *)x->data)[i];
        break;
    }
    switch (y->dtype) {
    case NNCW_DTYPE_F32:
        nncw_tensor_f32(y)[i] = is_float ? (float)f : (float)v;
        break;
    case NNCW_DTYPE_BOOL:
        ((uint8_t *)y->data)[i] = is_float ? f != 0.0 : v != 0;
        break;
    case NNCW_DTYPE_U8:
        ((uint8_t *)y->data)[i] = is_float ? (uint8_t)sat(f, 0, 255) : (uint8_t)v;
        break;
    case NNCW_DTYPE_I8:
        ((int8_t *)y->data)[i] = is_float ? (int8_t)sat(f, -128, 127) : (int8_t)v;
        break;
    case NNCW_DTYPE_I32:
        ((int32_t *)y->data)[i] =
            is_float ? (int32_t)sat(f, -2147483648.0, 2147483647.0) : (int32_t)v;
        break;
    default:
        ((int64_t *)y->data)[i] = is_float ? sat(f, -9.2e18, 9.2e18) : v;
        break;
    }
}

static enum nncw_status cast_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                     struct nncw_tensor *const in[], int n_in,
                                     struct nncw_tensor *const out[])
{
    (void)ctx, (void)node, (void)n_in;
    int64_t n = nncw_tensor_numel(out[0]);
    if (in[0]->dtype == out[0]->dtype) {
        memcpy(out[0]->data, in[0]->data, nncw_tensor_nbytes(out[0]));
        return NNCW_OK;
    }
    for (int64_t i = 0; i < n; i++)
        convert(in[0], i, out[0]);
    return NNCW_OK;
}

static enum nncw_status cast_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                      struct nncw_tensor *const in[], int n_in,
                                      struct nncw_tensor *const out[],
                                      struct nncw_tensor *const grad_out[],
                                      struct nncw_tensor *const grad_in[])
{
    (void)ctx, (void)node, (void)n_in;
    if (!grad_out[0] || !grad_in[0] || in[0]->dtype != NNCW_DTYPE_F32 ||
        out[0]->dtype != NNCW_DTYPE_F32)
        return NNCW_OK; /* no gradient through an integer */
    int64_t n = nncw_tensor_numel(out[0]);
    for (int64_t i = 0; i < n; i++)
        nncw_tensor_f32(grad_in[0])[i] += nncw_tensor_f32(grad_out[0])[i];
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_cast = {
    "Cast", "Cast", 1, 1, 1, cast_infer, cast_forward, cast_backward,
};
