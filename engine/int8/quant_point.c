/*
** Quantizers as the integer path sees them: a node whose output is a fake-quantized value,
** read into codes 0..qmax with a zero point and a step per channel. Three forms:
**   SymmetricQuantize / AsymmetricQuantize (NNCF): the ranges of ops/fake_quantize.h, and the
**     same arithmetic as its kernel, so codes are bit-identical to the float model's levels;
**   FakeQuantize (OpenVINO): input range = the levels; the output range must put 0 on a level;
**   DequantizeLinear fed by QuantizeLinear with the same scale and zero point (ONNX QDQ), or
**     by a constant int8/uint8 tensor (quantized weights): int8 codes are shifted by 128.
** Parameters are copied when the plan is built.
*/
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "int8/plan_internal.h"
#include "ops/fake_quantize.h"

static bool is_param(struct nncw_graph *g, int v)
{
    return v >= 0 && nncw_graph_get_value_kind(g, v) == NNCW_VALUE_PARAM;
}

static bool alloc_channels(struct i8_qpoint *q, int channels)
{
    q->channels = channels;
    size_t n = (size_t)channels;
    q->lo = nncw_calloc(n, sizeof *q->lo);
    q->hi = nncw_calloc(n, sizeof *q->hi);
    q->s = nncw_calloc(n, sizeof *q->s);
    q->inv_s = nncw_calloc(n, sizeof *q->inv_s);
    q->zp = nncw_calloc(n, sizeof *q->zp);
    return q->lo && q->hi && q->s && q->inv_s && q->zp;
}

void nncw_i8_qpoint_fini(struct i8_qpoint *q)
{
    nncw_free(q->lo);
    nncw_free(q->hi);
    nncw_free(q->s);
    nncw_free(q->inv_s);
    nncw_free(q->zp);
    memset(q, 0, sizeof *q);
}

/* ---- NNCF's trainable quantizers ---- */

static bool parse_nncf(struct nncw_graph *g, const struct nncw_exec *ex, struct nncw_node *n,
                       struct i8_qpoint *q, const char **why)
{
    const struct nncw_tensor *x = nncw_exec_get_value(ex, nncw_node_get_input(n, 0));
    struct nncw_quantizer_attrs a;
    if (nncw_quantizer_get_attrs(n, x->ndim, &a) != NNCW_OK) {
        *why = "invalid quantizer attributes";
        return false;
    }
    if (!a.enabled) {
        *why = "quantizer disabled";
        return false;
    }
    int p0 = nncw_node_get_input(n, 1), p1 = a.asymmetric ? nncw_node_get_input(n, 2) : -1;
    if (!is_param(g, p0) || (a.asymmetric && !is_param(g, p1))) {
        *why = "quantizer ranges are not parameters";
        return false;
    }
    if (nncw_quantizer_levels(&a) > 256) {
        *why = "more than 256 levels";
        return false;
    }
    const struct nncw_tensor *t0 = nncw_graph_get_value_tensor(g, p0);
    const struct nncw_tensor *t1 = a.asymmetric ? nncw_graph_get_value_tensor(g, p1) : NULL;
    int channels = (int)nncw_tensor_numel(t0);
    if (channels > 1 && (a.axis < 0 || x->shape[a.axis] != channels)) {
        *why = "quantizer parameters do not match its axis";
        return false;
    }
    if (!alloc_channels(q, channels)) {
        *why = NULL; /* out of memory */
        return false;
    }
    q->mode = I8_Q_NNCF;
    q->axis = channels > 1 ? a.axis : -1;
    q->qmax = (int32_t)(a.level_high - a.level_low);
    if (nncw_quantizer_get_ranges(n, &a, t0, t1, q->lo, q->s) != NNCW_OK) {
        *why = "empty or non-finite quantizer range";
        return false;
    }
    /* the constants of ops/fake_quantize.c, computed the same way */
    float levels = (float)(a.level_high - a.level_low);
    for (int c = 0; c < channels; c++) {
        float range = q->s[c];
        q->hi[c] = q->lo[c] + range;
        q->s[c] = levels / range;
        q->inv_s[c] = range / levels;
        q->zp[c] = (int32_t)nncw_round_even((0.0f - q->lo[c]) * q->s[c]);
    }
    return true;
}

/* ---- OpenVINO FakeQuantize ---- */

/* the axis of x a range input varies along (-1: one value), or -2 if several */
static int range_axis(const struct nncw_tensor *r, const struct nncw_tensor *x)
{
    int axis = -1;
    for (int k = 0; k < r->ndim; k++)
        if (r->shape[k] > 1) {
            if (axis != -1)
                return -2;
            axis = x->ndim - r->ndim + k;
        }
    return axis;
}

static bool parse_ov(struct nncw_graph *g, const struct nncw_exec *ex, struct nncw_node *n,
                     struct i8_qpoint *q, const char **why)
{
    const struct nncw_tensor *x = nncw_exec_get_value(ex, nncw_node_get_input(n, 0));
    const struct nncw_tensor *r[4];
    int axis = -1, channels = 1;
    for (int i = 0; i < 4; i++) {
        int v = nncw_node_get_input(n, i + 1);
        if (!is_param(g, v)) {
            *why = "FakeQuantize ranges are not parameters";
            return false;
        }
        r[i] = nncw_graph_get_value_tensor(g, v);
        int ax = range_axis(r[i], x);
        if (ax == -2 || (ax >= 0 && axis >= 0 && ax != axis)) {
            *why = "FakeQuantize ranges vary along more than one axis";
            return false;
        }
        if (ax >= 0) {
            axis = ax;
            channels = (int)x->shape[ax];
        }
    }
    int64_t levels = nncw_node_get_attr_int(n, "levels", 0);
    if (levels < 2 || levels > 256) {
        *why = levels > 256 ? "more than 256 levels" : "FakeQuantize with fewer than 2 levels";
        return false;
    }
    if (!alloc_channels(q, channels)) {
        *why = NULL; /* out of memory */
        return false;
    }
    q->mode = I8_Q_OV;
    q->axis = axis;
    q->qmax = (int32_t)(levels - 1);
    for (int c = 0; c < channels; c++) {
        float v[4];
        for (int i = 0; i < 4; i++)
            v[i] = nncw_tensor_f32(r[i])[nncw_tensor_numel(r[i]) > 1 ? c : 0];
        float step = (v[3] - v[2]) / (float)q->qmax, zp = -v[2] / step;
        if (!(v[1] > v[0]) || !(step > 0.0f) || !isfinite(step) || !isfinite(v[1] - v[0])) {
            *why = "FakeQuantize with an empty or inverted range";
            return false;
        }
        if (fabsf(zp - nearbyintf(zp)) > 1e-3f || nearbyintf(zp) < 0.0f ||
            nearbyintf(zp) > (float)q->qmax) {
            *why = "FakeQuantize output range without 0 on a level";
            return false;
        }
        q->lo[c] = v[0];
        q->hi[c] = v[1];
        q->s[c] = (float)q->qmax / (v[1] - v[0]);
        q->inv_s[c] = step;
        q->zp[c] = (int32_t)nearbyintf(zp);
    }
    return true;
}

/* ---- ONNX QDQ ---- */

static int32_t int_at(const struct nncw_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case NNCW_DTYPE_I8:
        return ((const int8_t *)t->data)[i];
    case NNCW_DTYPE_U8:
        return ((const uint8_t *)t->data)[i];
    default:
        return ((const int32_t *)t->data)[i];
    }
}

/* scale and zero point inputs of a QuantizeLinear / DequantizeLinear are the same constants */
static bool same_qparams(struct nncw_graph *g, struct nncw_node *a, struct nncw_node *b)
{
    for (int i = 1; i < 3; i++) {
        int va = i < nncw_node_count_inputs(a) ? nncw_node_get_input(a, i) : -1;
        int vb = i < nncw_node_count_inputs(b) ? nncw_node_get_input(b, i) : -1;
        if (va == vb)
            continue;
        if (va < 0 || vb < 0 || !is_param(g, va) || !is_param(g, vb))
            return false;
        const struct nncw_tensor *ta = nncw_graph_get_value_tensor(g, va);
        const struct nncw_tensor *tb = nncw_graph_get_value_tensor(g, vb);
        if (ta->dtype != tb->dtype || nncw_tensor_numel(ta) != nncw_tensor_numel(tb) ||
            memcmp(ta->data, tb->data, nncw_tensor_nbytes(ta)) != 0)
            return false;
    }
    return nncw_node_get_attr_int(a, "axis", 1) == nncw_node_get_attr_int(b, "axis", 1);
}

static bool parse_qdq(struct nncw_graph *g, const struct nncw_exec *ex, struct nncw_node *n,
                      struct i8_qpoint *q, const char **why)
{
    int in = nncw_node_get_input(n, 0);
    const struct nncw_tensor *codes = nncw_exec_get_value(ex, in);
    if (codes->dtype != NNCW_DTYPE_I8 && codes->dtype != NNCW_DTYPE_U8) {
        *why = "DequantizeLinear of 32-bit integers";
        return false;
    }
    struct nncw_node *ql = nncw_graph_get_producer(g, in);
    if (ql && nncw_node_get_op(ql) == NNCW_OP_QUANTIZELINEAR && same_qparams(g, ql, n)) {
        q->head = nncw_node_get_index(ql);
        q->x = nncw_node_get_input(ql, 0);
    } else if (is_param(g, in)) {
        q->codes = in;
    } else {
        *why = "DequantizeLinear not fed by a matching QuantizeLinear or constant";
        return false;
    }
    int sv = nncw_node_get_input(n, 1);
    int zv = nncw_node_count_inputs(n) > 2 ? nncw_node_get_input(n, 2) : -1;
    if (!is_param(g, sv) || (zv >= 0 && !is_param(g, zv))) {
        *why = "DequantizeLinear scale or zero point not constant";
        return false;
    }
    const struct nncw_tensor *st = nncw_graph_get_value_tensor(g, sv);
    const struct nncw_tensor *zt = zv >= 0 ? nncw_graph_get_value_tensor(g, zv) : NULL;
    int channels = (int)nncw_tensor_numel(st);
    if (!alloc_channels(q, channels)) {
        *why = NULL; /* out of memory */
        return false;
    }
    int64_t axis = nncw_node_get_attr_int(n, "axis", 1);
    q->axis = channels > 1 ? (int)(axis < 0 ? axis + codes->ndim : axis) : -1;
    q->mode = I8_Q_ONNX;
    q->qmax = 255;
    int32_t shift = codes->dtype == NNCW_DTYPE_I8 ? 128 : 0;
    for (int c = 0; c < channels; c++) {
        float scale = nncw_tensor_f32(st)[c];
        if (!(scale > 0.0f) || !isfinite(scale)) {
            *why = "DequantizeLinear scale not positive";
            return false;
        }
        q->s[c] = scale;
        q->inv_s[c] = scale;
        q->zp[c] = (zt ? int_at(zt, c) : 0) + shift;
    }
    return true;
}

enum nncw_status nncw_i8_qpoint_parse(struct nncw_graph *g, const struct nncw_exec *ex, int n,
                                      struct i8_qpoint *q, bool *is_point, const char **why)
{
    struct nncw_node *node = nncw_graph_get_node(g, n);
    memset(q, 0, sizeof *q);
    q->node = n;
    q->head = q->codes = -1;
    q->x = nncw_node_get_input(node, 0);
    q->out = nncw_node_get_output(node, 0);
    bool ok;
    switch (nncw_node_get_op(node)) {
    case NNCW_OP_QUANTIZE_SYMMETRIC:
    case NNCW_OP_QUANTIZE_ASYMMETRIC:
        ok = parse_nncf(g, ex, node, q, why);
        break;
    case NNCW_OP_FAKEQUANTIZE:
        ok = parse_ov(g, ex, node, q, why);
        break;
    case NNCW_OP_DEQUANTIZELINEAR:
        q->x = -1;
        ok = parse_qdq(g, ex, node, q, why);
        break;
    default:
        *why = "not a quantizer";
        ok = false;
    }
    *is_point = ok;
    if (!ok) {
        nncw_i8_qpoint_fini(q);
        if (!*why)
            return NNCW_FAIL(NNCW_ERR_NOMEM, "int8: out of memory reading quantizer '%s'",
                             nncw_node_get_name(node));
        return NNCW_OK;
    }
    q->weight = q->codes >= 0 || is_param(g, q->x);
    return NNCW_OK;
}

/* ---- arithmetic ---- */

/* the code round(t) + add saturated to [0, qmax]; t may be far out of range or NaN (-> add) */
static inline uint8_t to_code(float t, float add, float qmax)
{
    /* clamped first so the rounding trick stays exact; NaN falls through both tests */
    t = t < -1.0f - add ? -1.0f - add : t;
    t = t > qmax + 1.0f - add ? qmax + 1.0f - add : t;
    t = nncw_round_even(t) + add;
    t = t != t ? add : t;
    t = t < 0.0f ? 0.0f : t;
    return (uint8_t)(t > qmax ? qmax : t);
}

void nncw_i8_quantize(const struct i8_qpoint *q, int c, const float *restrict x, int64_t n,
                      float act_lo, float act_hi, uint8_t *restrict out)
{
    float lo = q->lo[c], hi = q->hi[c], s = q->s[c], qmax = (float)q->qmax;
    switch (q->mode) {
    case I8_Q_NNCF: {
        /* clamp(act(x), lo, hi) is one clamp; NaN goes to the bottom (both tests fail) */
        float a = act_lo > lo ? act_lo : lo, b = act_hi < hi ? act_hi : hi;
        for (int64_t i = 0; i < n; i++) {
            float v = x[i] >= a ? x[i] : a;
            v = v <= b ? v : b;
            out[i] = (uint8_t)(int32_t)nncw_round_even((v - lo) * s);
        }
        break;
    }
    case I8_Q_OV: {
        /* x <= lo gives 0 and x > hi gives qmax, as (v - lo) / (hi - lo) is then 0 or 1 */
        float a = act_lo > lo ? act_lo : lo, b = act_hi < hi ? act_hi : hi, d = hi - lo;
        for (int64_t i = 0; i < n; i++) {
            float v = x[i] >= a ? x[i] : a;
            v = v <= b ? v : b;
            out[i] = (uint8_t)(int32_t)nncw_round_even((v - lo) / d * qmax);
        }
        break;
    }
    default: {
        float zp = (float)q->zp[c];
        for (int64_t i = 0; i < n; i++) {
            float v = x[i] < act_lo ? act_lo : x[i] > act_hi ? act_hi : x[i];
            out[i] = to_code(v / s, zp, qmax);
        }
        break;
    }
    }
}

int32_t nncw_i8_code(const struct i8_qpoint *q, int c, float y)
{
    uint8_t code;
    nncw_i8_quantize(q, c, &y, 1, -INFINITY, INFINITY, &code);
    return code;
}

void nncw_i8_affine(const struct i8_qpoint *q, int c, float *alpha, float *beta)
{
    switch (q->mode) {
    case I8_Q_NNCF:
        *alpha = q->s[c];
        *beta = -q->lo[c] * q->s[c];
        break;
    case I8_Q_OV:
        *alpha = (float)q->qmax / (q->hi[c] - q->lo[c]);
        *beta = -q->lo[c] * *alpha;
        break;
    default:
        *alpha = 1.0f / q->s[c];
        *beta = (float)q->zp[c];
        break;
    }
}
