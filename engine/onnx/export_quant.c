/*
** Writing quantizers to ONNX (NNCF's export): each enabled SymmetricQuantize or
** AsymmetricQuantize becomes
**   - OpenVINO's FakeQuantize (domain org.openvinotoolkit) with inputs x, input_low,
**     input_high, output_low = input_low, output_high = input_high and levels, the ranges
**     initializers shaped to broadcast (x's rank, C at the channel axis: [C, 1, 1, 1] for conv
**     weights, [1, C, 1, 1] for NCHW activations; scalars per-tensor), or
**   - with standard_ops, QuantizeLinear + DequantizeLinear (8-bit: 255 or 256 levels) with
**     scale = range / (level_high - level_low) and the zero point that puts 0 on its level,
**     int8 when level_low < 0, else uint8; per-channel scales use the axis attribute
**     (opset 13).
** The ranges written are the quantizer's levels (nncw_quantizer_get_ranges: after |.| + eps,
** exp and the asymmetric zero-point tune), so the exported model computes what nncw computes.
**
** Half-range quantizers (CPU saturation fix) trained on the 7-bit grid are written with 256
** levels of the same step, after clamping x to the 7-bit range, so only every second level of
** the 8-bit grid is reachable: for weights the clamp is applied to the weight initializer, for
** activations it is a Max and a Min node. The same clamp is written in front of a
** QuantizeLinear whose levels do not fill its integer type (narrow range [-127, 127]), since
** QuantizeLinear saturates at the type's bounds.
**
** Disabled quantizers are not written: whatever read them reads their input (export.c asks
** nncw_onnx_export_quant_alias), unless the quantizer computes a graph output, which then
** comes from an Identity. Range parameters, and weights written clamped, are not written as
** themselves.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "onnx/onnx_internal.h"
#include "ops/binarize.h"
#include "ops/fake_quantize.h"

#define NOMEM() NNCW_FAIL(NNCW_ERR_NOMEM, "onnx export: out of memory")

static bool is_trainable_quantizer(enum nncw_op op)
{
    return op == NNCW_OP_QUANTIZE_SYMMETRIC || op == NNCW_OP_QUANTIZE_ASYMMETRIC;
}

/* binarization's ops: written as 2-level FakeQuantize (see write_binarizer) */
static bool is_binarizer(enum nncw_op op)
{
    return op == NNCW_OP_XNOR_BINARIZE || op == NNCW_OP_DOREFA_BINARIZE ||
           op == NNCW_OP_ACTIVATION_BINARIZE;
}

bool nncw_onnx_is_quant_op(enum nncw_op op)
{
    return is_trainable_quantizer(op) || op == NNCW_OP_FAKEQUANTIZE || is_binarizer(op);
}

static bool is_enabled(const struct nncw_node *n)
{
    return nncw_node_get_attr_int(n, "enabled", 1) != 0;
}

static bool is_graph_output(const struct nncw_graph *g, int id)
{
    for (int i = 0; i < nncw_graph_count_outputs(g); i++)
        if (nncw_graph_get_output(g, i) == id)
            return true;
    return false;
}

int nncw_onnx_export_quant_alias(const struct nncw_graph *g, int id)
{
    for (int depth = 0; depth < 1000 && id >= 0; depth++) {
        const struct nncw_node *p = nncw_graph_get_producer(g, id);
        enum nncw_op op = p ? nncw_node_get_op(p) : NNCW_OP_COUNT;
        if (!p || !(is_trainable_quantizer(op) || is_binarizer(op)) || is_enabled(p) ||
            is_graph_output(g, id))
            return id;
        id = nncw_node_get_input(p, 0);
    }
    return id;
}

/* ---- what one quantizer is written as ---- */

struct qplan {
    const struct nncw_node *n;
    struct nncw_quantizer_attrs a;
    int x, y;                 /* value ids */
    int rank;                 /* of x */
    int64_t count;            /* range values (1 or C) */
    bool per_channel;         /* count > 1 */
    int64_t ll, lh;           /* the written levels */
    float *low, *high;        /* the written range, count values */
    float *range;             /* high - low, as the quantizer computes it */
    float *clip_lo, *clip_hi; /* the trained range, when x must be clamped first */
    bool clamp;
};

/* the written levels of a quantizer, and whether x must be clamped to the trained range first
 * (the half-range fix; QuantizeLinear saturating at its type's bounds, not the levels') */
static void written_levels(const struct nncw_quantizer_attrs *a, bool standard_ops, int64_t *ll,
                           int64_t *lh, bool *clamp)
{
    *ll = a->half_range ? 2 * a->level_low : a->level_low;
    *lh = a->half_range ? 2 * a->level_high + 1 : a->level_high;
    bool full = *ll < 0 ? *ll == -128 && *lh == 127 : *ll == 0 && *lh == 255;
    *clamp = a->half_range || (standard_ops && !full);
}

static enum nncw_status plan_quantizer(struct nncw_onnx_exporter *e, const struct nncw_node *n,
                                       struct qplan *q)
{
    struct nncw_graph *g = nncw_onnx_ex_graph(e);
    const char *name = nncw_node_get_name(n), *label = nncw_op_name(nncw_node_get_op(n));
    memset(q, 0, sizeof *q);
    q->n = n;
    q->x = nncw_node_get_input(n, 0);
    q->y = nncw_node_get_output(n, 0);
    q->rank = nncw_graph_get_value_tensor(g, q->x)->ndim;
    NNCW_TRY(nncw_quantizer_get_attrs(n, q->rank, &q->a));
    const struct nncw_tensor *p[2] = {NULL, NULL};
    for (int i = 0; i < (q->a.asymmetric ? 2 : 1); i++) {
        int id = nncw_node_get_input(n, i + 1);
        if (id < 0 || nncw_graph_get_value_kind(g, id) != NNCW_VALUE_PARAM)
            return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                             "onnx export: %s '%s': its range input %d is computed, not a "
                             "parameter",
                             label, name, i + 1);
        p[i] = nncw_graph_get_value_tensor(g, id);
    }
    q->count = nncw_tensor_numel(p[0]);
    q->per_channel = q->count > 1;
    if (q->per_channel && (q->a.axis < 0 || q->a.axis >= q->rank))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "onnx export: %s '%s': %lld range values but axis %d", label, name,
                         (long long)q->count, q->a.axis);
    size_t nb = (size_t)q->count * sizeof(float);
    float *grid_low = nncw_onnx_ex_alloc(e, nb), *range = nncw_onnx_ex_alloc(e, nb);
    q->low = nncw_onnx_ex_alloc(e, nb);
    q->high = nncw_onnx_ex_alloc(e, nb);
    q->range = nncw_onnx_ex_alloc(e, nb);
    q->clip_lo = nncw_onnx_ex_alloc(e, nb);
    q->clip_hi = nncw_onnx_ex_alloc(e, nb);
    if (!grid_low || !range || !q->low || !q->high || !q->range || !q->clip_lo || !q->clip_hi)
        return NOMEM();
    NNCW_TRY(nncw_quantizer_get_ranges(n, &q->a, p[0], p[1], grid_low, range));
    bool standard = nncw_onnx_ex_options(e)->standard_ops;
    written_levels(&q->a, standard, &q->ll, &q->lh, &q->clamp);
    int64_t levels = q->lh - q->ll + 1;
    if (standard && levels != 255 && levels != 256)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                         "onnx export: %s '%s' has %lld levels; QuantizeLinear/DequantizeLinear "
                         "need 8 bits (255 or 256 levels): export with FakeQuantize instead",
                         label, name, (long long)levels);
    if (standard && (q->ll < -128 || q->lh > 255 || (q->ll < 0 && q->lh > 127)))
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                         "onnx export: %s '%s': levels %lld..%lld fit neither int8 nor uint8",
                         label, name, (long long)q->ll, (long long)q->lh);
    double steps = (double)(q->a.level_high - q->a.level_low);
    for (int64_t c = 0; c < q->count; c++) {
        /* value of level k is (k - shift) * step; the written levels keep the step */
        double step = (double)range[c] / steps;
        double shift = nearbyint(-(double)grid_low[c] / step) + (double)q->a.level_low;
        q->clip_lo[c] = grid_low[c];
        q->clip_hi[c] = grid_low[c] + range[c];
        if (q->a.half_range) {
            q->low[c] = (float)(((double)q->ll - shift) * step);
            q->high[c] = (float)(((double)q->lh - shift) * step);
            q->range[c] = (float)((double)(q->lh - q->ll) * step);
        } else {
            q->low[c] = grid_low[c];
            q->high[c] = grid_low[c] + range[c];
            q->range[c] = range[c];
        }
    }
    return NNCW_OK;
}

/* ---- pieces ---- */

/* a float initializer of the range values: x's rank with count at the axis (rank 0 for one) */
static enum nncw_status range_init(struct nncw_onnx_exporter *e, const struct qplan *q,
                                   const char *name, const float *v, bool flat)
{
    size_t nb = (size_t)q->count * sizeof(float);
    float *data = nncw_onnx_ex_alloc(e, nb);
    if (!data)
        return NOMEM();
    memcpy(data, v, nb);
    int64_t shape[NNCW_MAX_DIMS];
    int ndim = 0;
    if (q->per_channel && flat) {
        ndim = 1;
        shape[0] = q->count;
    } else if (q->per_channel) {
        ndim = q->rank;
        for (int d = 0; d < ndim; d++)
            shape[d] = d == q->a.axis ? q->count : 1;
    }
    struct nncw_tensor t;
    nncw_tensor_init_borrowed(&t, NNCW_DTYPE_F32, ndim, shape, data);
    return nncw_onnx_ex_add_init(e, name, &t);
}

static char *node_path(struct nncw_onnx_exporter *e, const struct nncw_node *n, const char *what)
{
    char buf[1200];
    snprintf(buf, sizeof buf, "%s/%s", nncw_node_get_name(n), what);
    return nncw_onnx_ex_strdup(e, buf);
}

/* a weight whose only reader is this quantizer: written clamped under its own name */
static bool owns_weight(const struct nncw_graph *g, int x)
{
    if (nncw_graph_get_value_kind(g, x) != NNCW_VALUE_PARAM || is_graph_output(g, x))
        return false;
    int readers = 0;
    for (int k = 0; k < nncw_graph_count_nodes(g); k++) {
        const struct nncw_node *m = nncw_graph_get_node(g, k);
        for (int i = 0; i < nncw_node_count_inputs(m); i++)
            readers += nncw_node_get_input(m, i) == x;
    }
    return readers == 1;
}

/* x clamped to the trained range: a clamped copy of a weight, or Max + Min nodes; the name of
 * what the quantizer reads into *out */
static enum nncw_status clamp_input(struct nncw_onnx_exporter *e, const struct qplan *q,
                                    const char **out)
{
    struct nncw_graph *g = nncw_onnx_ex_graph(e);
    const char *xname = nncw_onnx_ex_value_name(e, q->x);
    int xid = nncw_onnx_export_quant_alias(g, q->x);
    const struct nncw_tensor *xt = nncw_graph_get_value_tensor(g, xid);
    if (nncw_graph_get_value_kind(g, xid) == NNCW_VALUE_PARAM && xt->data &&
        xt->dtype == NNCW_DTYPE_F32) {
        int64_t numel = nncw_tensor_numel(xt), inner = 1;
        for (int d = q->a.axis + 1; q->per_channel && d < xt->ndim; d++)
            inner *= xt->shape[d];
        float *data = nncw_onnx_ex_alloc(e, (size_t)numel * sizeof(float));
        if (!data)
            return NOMEM();
        struct nncw_tensor c;
        nncw_tensor_init_borrowed(&c, NNCW_DTYPE_F32, xt->ndim, xt->shape, data);
        NNCW_TRY(nncw_tensor_copy(&c, xt));
        for (int64_t i = 0; i < numel; i++) {
            int64_t ch = q->per_channel ? (i / inner) % q->count : 0;
            data[i] = data[i] < q->clip_lo[ch] ? q->clip_lo[ch] : data[i];
            data[i] = data[i] > q->clip_hi[ch] ? q->clip_hi[ch] : data[i];
        }
        const char *name =
            xid == q->x && owns_weight(g, xid) ? xname : node_path(e, q->n, "clamped");
        if (!name)
            return NOMEM();
        NNCW_TRY(nncw_onnx_ex_add_init(e, name, &c));
        *out = name;
        return NNCW_OK;
    }
    char *lo = node_path(e, q->n, "clamp_low"), *hi = node_path(e, q->n, "clamp_high");
    char *mid = node_path(e, q->n, "clamped_below"), *res = node_path(e, q->n, "clamped");
    char *max_name = node_path(e, q->n, "Max"), *min_name = node_path(e, q->n, "Min");
    if (!lo || !hi || !mid || !res || !max_name || !min_name)
        return NOMEM();
    NNCW_TRY(range_init(e, q, lo, q->clip_lo, false));
    NNCW_TRY(range_init(e, q, hi, q->clip_hi, false));
    NncwOnnx__NodeProto *mx = nncw_onnx_ex_new_node(e, "Max", max_name, 2, 1, 0);
    NncwOnnx__NodeProto *mn = nncw_onnx_ex_new_node(e, "Min", min_name, 2, 1, 0);
    if (!mx || !mn)
        return NOMEM();
    mx->input[0] = (char *)xname;
    mx->input[1] = lo;
    mx->output[0] = mid;
    mn->input[0] = mid;
    mn->input[1] = hi;
    mn->output[0] = res;
    NNCW_TRY(nncw_onnx_ex_push_node(e, mx));
    NNCW_TRY(nncw_onnx_ex_push_node(e, mn));
    *out = res;
    return NNCW_OK;
}

static enum nncw_status write_fakequantize(struct nncw_onnx_exporter *e, const struct qplan *q,
                                           const char *x)
{
    char *lo = node_path(e, q->n, "input_low"), *hi = node_path(e, q->n, "input_high");
    NncwOnnx__NodeProto *np =
        nncw_onnx_ex_new_node(e, "FakeQuantize", nncw_node_get_name(q->n), 5, 1, 1);
    if (!lo || !hi || !np)
        return NOMEM();
    NNCW_TRY(range_init(e, q, lo, q->low, false));
    NNCW_TRY(range_init(e, q, hi, q->high, false));
    np->domain = NNCW_ONNX_OPENVINO_DOMAIN;
    np->input[0] = (char *)x;
    np->input[1] = np->input[3] = lo;
    np->input[2] = np->input[4] = hi;
    np->output[0] = (char *)nncw_onnx_ex_value_name(e, q->y);
    NNCW_TRY(nncw_onnx_ex_attr_int(e, np, "levels", q->lh - q->ll + 1));
    return nncw_onnx_ex_push_node(e, np);
}

static enum nncw_status write_qdq(struct nncw_onnx_exporter *e, const struct qplan *q,
                                  const char *x)
{
    bool is_signed = q->ll < 0;
    size_t nf = (size_t)q->count * sizeof(float);
    float *scale = nncw_onnx_ex_alloc(e, nf);
    void *zp = nncw_onnx_ex_alloc(e, (size_t)q->count);
    if (!scale || !zp)
        return NOMEM();
    for (int64_t c = 0; c < q->count; c++) {
        int32_t z;
        nncw_quantizer_affine(q->low[c], q->range[c], q->ll, q->lh, &scale[c], &z);
        if (is_signed)
            ((int8_t *)zp)[c] = (int8_t)z;
        else
            ((uint8_t *)zp)[c] = (uint8_t)z;
    }
    char *sname = node_path(e, q->n, "scale"), *zname = node_path(e, q->n, "zero_point");
    char *qname = node_path(e, q->n, "quantized");
    char *qnode = node_path(e, q->n, "QuantizeLinear");
    if (!sname || !zname || !qname || !qnode)
        return NOMEM();
    NNCW_TRY(range_init(e, q, sname, scale, true));
    struct nncw_tensor zt;
    int64_t shape[1] = {q->count};
    nncw_tensor_init_borrowed(&zt, is_signed ? NNCW_DTYPE_I8 : NNCW_DTYPE_U8,
                              q->per_channel ? 1 : 0, shape, zp);
    NNCW_TRY(nncw_onnx_ex_add_init(e, zname, &zt));
    NncwOnnx__NodeProto *qn = nncw_onnx_ex_new_node(e, "QuantizeLinear", qnode, 3, 1, 1);
    NncwOnnx__NodeProto *dq =
        nncw_onnx_ex_new_node(e, "DequantizeLinear", nncw_node_get_name(q->n), 3, 1, 1);
    if (!qn || !dq)
        return NOMEM();
    qn->input[0] = (char *)x;
    qn->input[1] = dq->input[1] = sname;
    qn->input[2] = dq->input[2] = zname;
    qn->output[0] = dq->input[0] = qname;
    dq->output[0] = (char *)nncw_onnx_ex_value_name(e, q->y);
    if (q->per_channel) {
        NNCW_TRY(nncw_onnx_ex_attr_int(e, qn, "axis", q->a.axis));
        NNCW_TRY(nncw_onnx_ex_attr_int(e, dq, "axis", q->a.axis));
    }
    NNCW_TRY(nncw_onnx_ex_push_node(e, qn));
    return nncw_onnx_ex_push_node(e, dq);
}

/* an imported FakeQuantize: as it came, in its domain */
static enum nncw_status write_imported_fakequantize(struct nncw_onnx_exporter *e,
                                                    const struct nncw_node *n)
{
    NncwOnnx__NodeProto *np =
        nncw_onnx_ex_new_node(e, "FakeQuantize", nncw_node_get_name(n), 5, 1, 1);
    if (!np)
        return NOMEM();
    np->domain = NNCW_ONNX_OPENVINO_DOMAIN;
    for (int i = 0; i < 5; i++)
        np->input[i] = (char *)nncw_onnx_ex_value_name(e, nncw_node_get_input(n, i));
    np->output[0] = (char *)nncw_onnx_ex_value_name(e, nncw_node_get_output(n, 0));
    NNCW_TRY(nncw_onnx_ex_attr_int(e, np, "levels", nncw_node_get_attr_int(n, "levels", 0)));
    return nncw_onnx_ex_push_node(e, np);
}

/* a disabled quantizer computing a graph output: Identity */
static enum nncw_status write_identity(struct nncw_onnx_exporter *e, const struct nncw_node *n)
{
    NncwOnnx__NodeProto *np = nncw_onnx_ex_new_node(e, "Identity", nncw_node_get_name(n), 1, 1, 0);
    if (!np)
        return NOMEM();
    np->input[0] = (char *)nncw_onnx_ex_value_name(e, nncw_node_get_input(n, 0));
    np->output[0] =
        (char *)nncw_graph_get_value_name(nncw_onnx_ex_graph(e), nncw_node_get_output(n, 0));
    return nncw_onnx_ex_push_node(e, np);
}

/* ---- binarization: FakeQuantize with levels 2 (NNCF's export) ----
 * weights:     input and output range [-m, m], m = mean |w| per output filter (XNOR, shaped
 *              [C, 1, 1, 1]) or of the tensor (DoReFa, a scalar): x <= 0 gives -m, x > 0 m
 * activations: input range [s t_c, s t_c] ([1, C, 1, 1]), output range [0, s]: x <= s t_c
 *              gives 0, above it s
 * The binarizers' scale and threshold parameters are not written as themselves. */

static enum nncw_status float_init(struct nncw_onnx_exporter *e, const char *name, int ndim,
                                   const int64_t *shape, const float *v, int64_t count)
{
    float *data = nncw_onnx_ex_alloc(e, (size_t)count * sizeof(float));
    if (!data)
        return NOMEM();
    memcpy(data, v, (size_t)count * sizeof(float));
    struct nncw_tensor t;
    nncw_tensor_init_borrowed(&t, NNCW_DTYPE_F32, ndim, shape, data);
    return nncw_onnx_ex_add_init(e, name, &t);
}

static const struct nncw_tensor *binarizer_param(const struct nncw_graph *g,
                                                 const struct nncw_node *n, int port)
{
    int id = nncw_node_get_input(n, port);
    if (id < 0 || nncw_graph_get_value_kind(g, id) != NNCW_VALUE_PARAM)
        return NULL;
    return nncw_graph_get_value_tensor(g, id);
}

static enum nncw_status write_binarizer(struct nncw_onnx_exporter *e, const struct nncw_node *n)
{
    struct nncw_graph *g = nncw_onnx_ex_graph(e);
    const char *name = nncw_node_get_name(n), *label = nncw_op_name(nncw_node_get_op(n));
    bool acts = nncw_node_get_op(n) == NNCW_OP_ACTIVATION_BINARIZE;
    const struct nncw_tensor *p0 = binarizer_param(g, n, acts ? 1 : 0);
    const struct nncw_tensor *p1 = acts ? binarizer_param(g, n, 2) : NULL;
    if (!p0 || (acts && !p1))
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                         "onnx export: %s '%s': its %s is computed, not a parameter", label, name,
                         acts ? "scale or threshold" : "weight");
    int64_t count = acts ? nncw_tensor_numel(p1)
                         : nncw_node_get_op(n) == NNCW_OP_XNOR_BINARIZE ? p0->shape[0] : 1;
    int rank = nncw_graph_get_value_tensor(g, nncw_node_get_input(n, 0))->ndim;
    float *lo = nncw_onnx_ex_alloc(e, (size_t)count * sizeof(float));
    float *hi = nncw_onnx_ex_alloc(e, (size_t)count * sizeof(float));
    if (!lo || !hi)
        return NOMEM();
    float s = acts ? expf(nncw_tensor_f32(p0)[0]) : 0.0f, zero = 0.0f;
    if (acts)
        for (int64_t c = 0; c < count; c++)
            lo[c] = hi[c] = s / (1.0f + expf(-nncw_tensor_f32(p1)[c]));
    else {
        nncw_binarize_weight_scales(p0, count > 1, hi);
        for (int64_t c = 0; c < count; c++)
            lo[c] = -hi[c];
    }
    int64_t shape[NNCW_MAX_DIMS];
    for (int d = 0; d < rank; d++)
        shape[d] = d == (acts ? 1 : 0) ? count : 1;
    int ndim = count > 1 ? rank : 0;
    char *il = node_path(e, n, "input_low"), *ih = node_path(e, n, "input_high");
    char *ol = acts ? node_path(e, n, "output_low") : il;
    char *oh = acts ? node_path(e, n, "output_high") : ih;
    NncwOnnx__NodeProto *np = nncw_onnx_ex_new_node(e, "FakeQuantize", name, 5, 1, 1);
    if (!il || !ih || !ol || !oh || !np)
        return NOMEM();
    NNCW_TRY(float_init(e, il, ndim, shape, lo, count));
    NNCW_TRY(float_init(e, ih, ndim, shape, hi, count));
    if (acts) {
        NNCW_TRY(float_init(e, ol, 0, shape, &zero, 1));
        NNCW_TRY(float_init(e, oh, 0, shape, &s, 1));
    }
    np->domain = NNCW_ONNX_OPENVINO_DOMAIN;
    np->input[0] = (char *)nncw_onnx_ex_value_name(e, nncw_node_get_input(n, 0));
    np->input[1] = il;
    np->input[2] = ih;
    np->input[3] = ol;
    np->input[4] = oh;
    np->output[0] = (char *)nncw_onnx_ex_value_name(e, nncw_node_get_output(n, 0));
    NNCW_TRY(nncw_onnx_ex_attr_int(e, np, "levels", 2));
    return nncw_onnx_ex_push_node(e, np);
}

enum nncw_status nncw_onnx_export_quant_node(struct nncw_onnx_exporter *e,
                                             const struct nncw_node *n)
{
    struct nncw_graph *g = nncw_onnx_ex_graph(e);
    if (nncw_node_get_op(n) == NNCW_OP_FAKEQUANTIZE)
        return write_imported_fakequantize(e, n);
    if (!is_enabled(n))
        return is_graph_output(g, nncw_node_get_output(n, 0)) ? write_identity(e, n) : NNCW_OK;
    if (is_binarizer(nncw_node_get_op(n)))
        return write_binarizer(e, n);
    struct qplan q;
    NNCW_TRY(plan_quantizer(e, n, &q));
    const char *x = nncw_onnx_ex_value_name(e, q.x);
    if (q.clamp)
        NNCW_TRY(clamp_input(e, &q, &x));
    return nncw_onnx_ex_options(e)->standard_ops ? write_qdq(e, &q, x)
                                                 : write_fakequantize(e, &q, x);
}

/* ---- parameters the quantizers write ---- */

bool nncw_onnx_export_quant_drops_param(const struct nncw_onnx_exporter *e, int id)
{
    const struct nncw_graph *g = nncw_onnx_ex_graph(e);
    if (is_graph_output(g, id))
        return false;
    int ranges = 0, clamped = 0, others = 0;
    for (int k = 0; k < nncw_graph_count_nodes(g); k++) {
        const struct nncw_node *m = nncw_graph_get_node(g, k);
        bool quantizer = is_trainable_quantizer(nncw_node_get_op(m));
        for (int i = 0; i < nncw_node_count_inputs(m); i++) {
            if (nncw_node_get_input(m, i) != id)
                continue;
            if (nncw_node_get_op(m) == NNCW_OP_ACTIVATION_BINARIZE && i >= 1) {
                ranges++; /* a binarizer's scale or threshold */
                continue;
            }
            if (quantizer && i >= 1) {
                ranges++;
                continue;
            }
            struct nncw_quantizer_attrs a;
            int64_t ll, lh;
            bool clamp = false;
            if (quantizer && is_enabled(m)) {
                if (nncw_quantizer_get_attrs(m, -1, &a) == NNCW_OK)
                    written_levels(&a, nncw_onnx_ex_options(e)->standard_ops, &ll, &lh, &clamp);
                else /* export reports it when it reaches the node */
                    nncw_error_clear();
            }
            if (clamp)
                clamped++;
            else
                others++;
        }
    }
    return others == 0 && ((ranges > 0 && clamped == 0) || (ranges == 0 && clamped == 1));
}
