/*
** ONNX QuantizeLinear and DequantizeLinear (opsets 10 and 13): inference only, no backward.
**
** QuantizeLinear(x float32, y_scale, [y_zero_point uint8|int8]) -> uint8|int8 (the zero
** point's type; uint8 without one): y = saturate(round(x / y_scale) + y_zero_point), rounding
** half to even, NaN to the zero point. DequantizeLinear(x int8|uint8|int32, x_scale,
** [x_zero_point of x's type, 0 for int32]) -> float32: y = (x - x_zero_point) * x_scale.
** A scale with one element is per-tensor; a 1-D scale of C elements is per-axis along the
** attribute axis (default 1, negative counts from the end; opset 13), and the zero point must
** have the scale's shape. Scales must be positive and finite (checked when the op runs).
*/
#include <math.h>
#include <string.h>

#include "ops/fake_quantize.h"
#include "ops/ops_internal.h"

/* the axis a per-axis scale runs along, or -1 for per-tensor; checks scale and zero point */
static enum nncw_status ql_check(const struct nncw_node *node, const char *label,
                                 const struct nncw_tensor *x, const struct nncw_tensor *scale,
                                 const struct nncw_tensor *zp, int *axis_out)
{
    const char *name = nncw_node_get_name(node);
    char ss[96], xs[96], zs[96];
    if (!scale)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s '%s': the scale input is missing", label, name);
    if (scale->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "%s '%s': the scale is %s, expected float32", label, name,
                         nncw_dtype_name(scale->dtype));
    int64_t n = nncw_tensor_numel(scale);
    int axis = -1;
    if (scale->ndim > 1 || n == 0)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': the scale is %s, expected a scalar or 1-D",
                         label, name, nncw_tensor_shape_str(scale, ss, sizeof ss));
    if (n > 1) {
        int64_t a = nncw_node_get_attr_int(node, "axis", 1);
        if (a < -x->ndim || a >= x->ndim)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s '%s': axis %lld is out of range for %s",
                             label, name, (long long)a, nncw_tensor_shape_str(x, xs, sizeof xs));
        axis = (int)(a < 0 ? a + x->ndim : a);
        if (x->shape[axis] != n)
            return NNCW_FAIL(NNCW_ERR_SHAPE,
                             "%s '%s': the scale has %lld values, the input %s has %lld along "
                             "axis %d",
                             label, name, (long long)n, nncw_tensor_shape_str(x, xs, sizeof xs),
                             (long long)x->shape[axis], axis);
    }
    if (zp && nncw_tensor_numel(zp) != n)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "%s '%s': the zero point is %s, the scale %s", label, name,
                         nncw_tensor_shape_str(zp, zs, sizeof zs),
                         nncw_tensor_shape_str(scale, ss, sizeof ss));
    *axis_out = axis;
    return NNCW_OK;
}

/* [outer, C, inner] around an axis (-1: everything is inner) */
static void axis_view(const struct nncw_tensor *x, int axis, int64_t *outer, int64_t *c,
                      int64_t *inner)
{
    *outer = *c = *inner = 1;
    for (int d = 0; d < x->ndim; d++) {
        if (axis < 0 || d > axis)
            *inner *= x->shape[d];
        else if (d < axis)
            *outer *= x->shape[d];
        else
            *c = x->shape[d];
    }
}

static enum nncw_status check_scales(const struct nncw_node *node, const char *label,
                                     const struct nncw_tensor *scale)
{
    const float *s = nncw_tensor_f32(scale);
    for (int64_t c = 0; c < nncw_tensor_numel(scale); c++)
        if (!(s[c] > 0.0f) || isinf(s[c]))
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s '%s': scale %lld is %g (expected > 0)",
                             label, nncw_node_get_name(node), (long long)c, (double)s[c]);
    return NNCW_OK;
}

static int32_t zp_at(const struct nncw_tensor *zp, int64_t c)
{
    if (!zp)
        return 0;
    switch (zp->dtype) {
    case NNCW_DTYPE_I8:
        return ((const int8_t *)zp->data)[c];
    case NNCW_DTYPE_U8:
        return ((const uint8_t *)zp->data)[c];
    default:
        return ((const int32_t *)zp->data)[c];
    }
}

/* ---- QuantizeLinear ---- */

static enum nncw_status q_infer(const struct nncw_node *node, const struct nncw_tensor *const in[],
                                int n_in, struct nncw_tensor out[])
{
    const char *name = nncw_node_get_name(node);
    const struct nncw_tensor *x = in[0], *zp = n_in > 2 ? in[2] : NULL;
    if (x->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "QuantizeLinear '%s': the input is %s, expected float32",
                         name, nncw_dtype_name(x->dtype));
    if (zp && zp->dtype != NNCW_DTYPE_U8 && zp->dtype != NNCW_DTYPE_I8)
        return NNCW_FAIL(NNCW_ERR_DTYPE,
                         "QuantizeLinear '%s': the zero point is %s, expected uint8 or int8", name,
                         nncw_dtype_name(zp->dtype));
    int axis;
    NNCW_TRY(ql_check(node, "QuantizeLinear", x, in[1], zp, &axis));
    nncw_tensor_init_borrowed(&out[0], zp ? zp->dtype : NNCW_DTYPE_U8, x->ndim, x->shape, NULL);
    return NNCW_OK;
}

/* round(x / scale) + zp saturated to [lo, hi]; the quotient is clamped first so the rounding
 * trick stays exact (anything clamped saturates anyway) */
static inline float quantize_one(float x, float scale, float zp, float lo, float hi)
{
    float v = x / scale, vlo = lo - zp - 1.0f, vhi = hi - zp + 1.0f;
    v = v < vlo ? vlo : v;
    v = v > vhi ? vhi : v;
    v = nncw_round_even(v) + zp;
    v = v != v ? zp : v; /* NaN */
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

static enum nncw_status q_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                  struct nncw_tensor *const in[], int n_in,
                                  struct nncw_tensor *const out[])
{
    (void)ctx;
    const struct nncw_tensor *x = in[0], *scale = in[1], *zp = n_in > 2 ? in[2] : NULL;
    int axis;
    NNCW_TRY(ql_check(node, "QuantizeLinear", x, scale, zp, &axis));
    NNCW_TRY(check_scales(node, "QuantizeLinear", scale));
    bool is_signed = out[0]->dtype == NNCW_DTYPE_I8;
    float lo = is_signed ? -128.0f : 0.0f, hi = is_signed ? 127.0f : 255.0f;
    int64_t outer, c, inner;
    axis_view(x, axis, &outer, &c, &inner);
    const float *xv = nncw_tensor_f32(x), *sv = nncw_tensor_f32(scale);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < c; k++) {
            int64_t off = (o * c + k) * inner;
            float s = sv[k], z = (float)zp_at(zp, k);
            if (is_signed) {
                int8_t *q = (int8_t *)out[0]->data + off;
                for (int64_t i = 0; i < inner; i++)
                    q[i] = (int8_t)quantize_one(xv[off + i], s, z, lo, hi);
            } else {
                uint8_t *q = (uint8_t *)out[0]->data + off;
                for (int64_t i = 0; i < inner; i++)
                    q[i] = (uint8_t)quantize_one(xv[off + i], s, z, lo, hi);
            }
        }
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_quantizelinear = {
    "QuantizeLinear", "QuantizeLinear", 2, 3, 1, q_infer, q_forward, NULL,
};

/* ---- DequantizeLinear ---- */

static enum nncw_status dq_infer(const struct nncw_node *node, const struct nncw_tensor *const in[],
                                 int n_in, struct nncw_tensor out[])
{
    const char *name = nncw_node_get_name(node);
    const struct nncw_tensor *x = in[0], *zp = n_in > 2 ? in[2] : NULL;
    if (x->dtype != NNCW_DTYPE_I8 && x->dtype != NNCW_DTYPE_U8 && x->dtype != NNCW_DTYPE_I32)
        return NNCW_FAIL(NNCW_ERR_DTYPE,
                         "DequantizeLinear '%s': the input is %s, expected int8, uint8 or int32",
                         name, nncw_dtype_name(x->dtype));
    if (zp && zp->dtype != x->dtype)
        return NNCW_FAIL(NNCW_ERR_DTYPE,
                         "DequantizeLinear '%s': the zero point is %s, the input %s", name,
                         nncw_dtype_name(zp->dtype), nncw_dtype_name(x->dtype));
    int axis;
    NNCW_TRY(ql_check(node, "DequantizeLinear", x, in[1], zp, &axis));
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, x->ndim, x->shape, NULL);
    return NNCW_OK;
}

static enum nncw_status dq_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                   struct nncw_tensor *const in[], int n_in,
                                   struct nncw_tensor *const out[])
{
    (void)ctx;
    const struct nncw_tensor *x = in[0], *scale = in[1], *zp = n_in > 2 ? in[2] : NULL;
    int axis;
    NNCW_TRY(ql_check(node, "DequantizeLinear", x, scale, zp, &axis));
    NNCW_TRY(check_scales(node, "DequantizeLinear", scale));
    if (zp && x->dtype == NNCW_DTYPE_I32)
        for (int64_t k = 0; k < nncw_tensor_numel(zp); k++)
            if (zp_at(zp, k) != 0)
                return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                                 "DequantizeLinear '%s': an int32 input needs a zero point of 0",
                                 nncw_node_get_name(node));
    int64_t outer, c, inner;
    axis_view(x, axis, &outer, &c, &inner);
    const float *sv = nncw_tensor_f32(scale);
    float *y = nncw_tensor_f32(out[0]);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < c; k++) {
            int64_t off = (o * c + k) * inner;
            float s = sv[k];
            int32_t z = zp_at(zp, k);
            switch (x->dtype) {
            case NNCW_DTYPE_I8: {
                const int8_t *q = (const int8_t *)x->data + off;
                for (int64_t i = 0; i < inner; i++)
                    y[off + i] = (float)((int32_t)q[i] - z) * s;
                break;
            }
            case NNCW_DTYPE_U8: {
                const uint8_t *q = (const uint8_t *)x->data + off;
                for (int64_t i = 0; i < inner; i++)
                    y[off + i] = (float)((int32_t)q[i] - z) * s;
                break;
            }
            default: {
                const int32_t *q = (const int32_t *)x->data + off;
                for (int64_t i = 0; i < inner; i++)
                    y[off + i] = (float)q[i] * s;
                break;
            }
            }
        }
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_dequantizelinear = {
    "DequantizeLinear", "DequantizeLinear", 2, 3, 1, dq_infer, dq_forward, NULL,
};
