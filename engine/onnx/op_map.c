/*
** ONNX op types -> nncw ops: one converter per op type that needs more than a 1:1 mapping
** (older opsets, import-time-only ops such as Constant and Shape), and a direct mapping through
** the op table's onnx_name for the rest.
**
** nncw's ops follow the newest semantics of each ONNX op up to opset 17 and accept the older
** attribute forms where ONNX moved an attribute to an input (Squeeze axes, Split split, Pad
** pads, Clip min/max, Slice starts/ends, Reduce axes). What differs in meaning is rewritten
** here: Softmax before opset 13 works on a 2-D view, Upsample and Resize-10 become Resize with
** asymmetric coordinates, legacy broadcasting (opset < 7) becomes a Reshape of the second
** operand, ConstantOfShape and Range are computed at import.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "onnx/onnx_internal.h"

/* ---- helpers ---- */

static bool find_op(const char *op_type, enum nncw_op *out)
{
    for (int i = 0; i < NNCW_OP_COUNT; i++) {
        const char *name = nncw_op_get_def((enum nncw_op)i)->onnx_name;
        if (name && strcmp(name, op_type) == 0) {
            *out = (enum nncw_op)i;
            return true;
        }
    }
    return false;
}

/* a spec for the current node as it is: inputs, used outputs, attributes */
static enum nncw_status spec_from_node(struct nncw_onnx_importer *im, enum nncw_op op,
                                       struct nncw_onnx_spec *s)
{
    memset(s, 0, sizeof *s);
    s->op = op;
    const NncwOnnx__NodeProto *np = im->np;
    if (np->n_input > 16)
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, "%zu inputs (at most 16)",
                                   np->n_input);
    s->n_in = (int)np->n_input;
    for (int i = 0; i < s->n_in; i++)
        NNCW_TRY(nncw_onnx_node_input(im, i, &s->in[i]));
    /* trailing missing inputs are the same as absent ones */
    while (s->n_in > 0 && s->in[s->n_in - 1] < 0)
        s->n_in--;
    int n_out = 0;
    for (int o = 0; (size_t)o < np->n_output && o < 8; o++) {
        NNCW_TRY(nncw_onnx_node_output(im, o, &s->out[o]));
        if (s->out[o] >= 0)
            n_out = o + 1;
    }
    for (size_t o = 8; o < np->n_output; o++) {
        int sym;
        NNCW_TRY(nncw_onnx_node_output(im, (int)o, &sym));
        if (sym >= 0)
            return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, "%zu outputs (at most 8)",
                                       np->n_output);
    }
    s->n_out = n_out;
    s->copy_attrs = true;
    return NNCW_OK;
}

enum nncw_status nncw_onnx_spec_from_node(struct nncw_onnx_importer *im, enum nncw_op op,
                                          struct nncw_onnx_spec *s)
{
    return spec_from_node(im, op, s);
}

static enum nncw_status emit_node(struct nncw_onnx_importer *im, const struct nncw_onnx_spec *s)
{
    if (s->n_out == 0) /* nothing reads any output: the node is dead */
        return NNCW_OK;
    return nncw_onnx_emit(im, s);
}

static enum nncw_status convert_direct(struct nncw_onnx_importer *im)
{
    enum nncw_op op;
    if (!find_op(im->np->op_type, &op))
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, " is not supported");
    struct nncw_onnx_spec s;
    NNCW_TRY(spec_from_node(im, op, &s));
    return emit_node(im, &s);
}

/* a new known int64 vector */
static enum nncw_status const_i64(struct nncw_onnx_importer *im, const char *what, int n,
                                  const int64_t *v, int *sym)
{
    struct nncw_tensor t;
    NNCW_TRY(nncw_tensor_init(&t, NNCW_DTYPE_I64, 1, (int64_t[]){n}));
    if (n)
        memcpy(t.data, v, (size_t)n * sizeof *v);
    return nncw_onnx_const_sym(im, what, &t, sym);
}

static enum nncw_status need_known(struct nncw_onnx_importer *im, int sym, const char *what)
{
    if (sym < 0)
        return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "input '%s' is missing", what);
    if (!im->syms[sym].known)
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED,
                                   "input '%s' must be a constant (nncw plans memory for shapes "
                                   "known at import)",
                                   what);
    return NNCW_OK;
}

/* ---- Constant ---- */

static enum nncw_status constant_value(struct nncw_onnx_importer *im, struct nncw_tensor *t)
{
    const NncwOnnx__NodeProto *np = im->np;
    if (np->n_attribute != 1 || !np->attribute[0]->name)
        return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "expects exactly one value attribute");
    const NncwOnnx__AttributeProto *a = np->attribute[0];
    const char *n = a->name;
    if (strcmp(n, "value") == 0 && a->t) {
        char what[200];
        snprintf(what, sizeof what, "node \"%s\": value", im->node_name);
        return nncw_onnx_tensor_from_proto(a->t, what, t);
    }
    if (strcmp(n, "value_float") == 0 && a->has_f) {
        NNCW_TRY(nncw_tensor_init(t, NNCW_DTYPE_F32, 0, NULL));
        nncw_tensor_f32(t)[0] = a->f;
        return NNCW_OK;
    }
    if (strcmp(n, "value_int") == 0 && a->has_i) {
        NNCW_TRY(nncw_tensor_init(t, NNCW_DTYPE_I64, 0, NULL));
        ((int64_t *)t->data)[0] = a->i;
        return NNCW_OK;
    }
    if (strcmp(n, "value_floats") == 0 && a->n_floats <= (1u << 24)) {
        NNCW_TRY(nncw_tensor_init(t, NNCW_DTYPE_F32, 1, (int64_t[]){(int64_t)a->n_floats}));
        if (a->n_floats)
            memcpy(t->data, a->floats, a->n_floats * sizeof(float));
        return NNCW_OK;
    }
    if (strcmp(n, "value_ints") == 0 && a->n_ints <= (1u << 24)) {
        NNCW_TRY(nncw_tensor_init(t, NNCW_DTYPE_I64, 1, (int64_t[]){(int64_t)a->n_ints}));
        if (a->n_ints)
            memcpy(t->data, a->ints, a->n_ints * sizeof(int64_t));
        return NNCW_OK;
    }
    return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, "a value given as '%s' is not supported",
                               n);
}

static enum nncw_status convert_constant(struct nncw_onnx_importer *im)
{
    struct nncw_tensor t;
    NNCW_TRY(constant_value(im, &t));
    int sym;
    enum nncw_status s = nncw_onnx_node_output(im, 0, &sym);
    if (s != NNCW_OK || sym < 0) {
        nncw_tensor_fini(&t);
        return s;
    }
    nncw_onnx_sym_set_known(im, sym, &t, NULL);
    return NNCW_OK;
}

/* ConstantOfShape: the value (a one-element tensor, default float 0) repeated to the shape */
static enum nncw_status constant_of_shape(struct nncw_onnx_importer *im,
                                          const struct nncw_tensor *shape,
                                          const struct nncw_tensor *value, struct nncw_tensor *t)
{
    if (shape->dtype != NNCW_DTYPE_I64 || shape->ndim != 1 || shape->shape[0] > NNCW_MAX_DIMS)
        return nncw_onnx_fail_node(im, NNCW_ERR_SHAPE,
                                   "the shape input must be a 1-D int64 "
                                   "tensor of at most %d values",
                                   NNCW_MAX_DIMS);
    int nd = (int)shape->shape[0];
    const int64_t *dims = shape->data;
    int64_t numel = nncw_shape_numel(nd, dims);
    size_t es = nncw_dtype_size(value->dtype);
    if (numel < 0 || (uint64_t)numel > im->max_fold_bytes / es ||
        (uint64_t)numel > im->fold_budget / es)
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED,
                                   "the output is too large to build at import");
    im->fold_budget -= (size_t)numel * es;
    NNCW_TRY(nncw_tensor_init(t, value->dtype, nd, dims));
    for (int64_t i = 0; i < numel; i++)
        memcpy((char *)t->data + (size_t)i * es, value->data, es);
    return NNCW_OK;
}

static enum nncw_status convert_constant_of_shape(struct nncw_onnx_importer *im)
{
    int in, out;
    NNCW_TRY(nncw_onnx_node_input(im, 0, &in));
    NNCW_TRY(need_known(im, in, "input"));
    NNCW_TRY(nncw_onnx_node_output(im, 0, &out));
    if (out < 0)
        return NNCW_OK;
    struct nncw_tensor value;
    const NncwOnnx__AttributeProto *a = nncw_onnx_attr_find(im->np, "value");
    if (a && a->t) {
        NNCW_TRY(nncw_onnx_tensor_from_proto(a->t, "ConstantOfShape value", &value));
        if (nncw_tensor_numel(&value) != 1) {
            nncw_tensor_fini(&value);
            return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "value must have one element");
        }
    } else {
        NNCW_TRY(nncw_tensor_init(&value, NNCW_DTYPE_F32, 0, NULL));
    }
    struct nncw_tensor t[2];
    memset(t, 0, sizeof t);
    int nb = im->syms[in].batch_dep ? 2 : 1;
    enum nncw_status s = NNCW_OK;
    for (int b = 0; b < nb && s == NNCW_OK; b++)
        s = constant_of_shape(im, nncw_onnx_sym_tensor(im, in, b), &value, &t[b]);
    nncw_tensor_fini(&value);
    if (s == NNCW_OK)
        nncw_onnx_sym_set_known(im, out, &t[0], nb > 1 ? &t[1] : NULL);
    nncw_tensor_fini(&t[0]);
    nncw_tensor_fini(&t[1]);
    return s;
}

/* ---- Shape and Size: from the tracked shapes ---- */

static enum nncw_status convert_shape(struct nncw_onnx_importer *im)
{
    bool size = strcmp(im->np->op_type, "Size") == 0;
    int in, out;
    NNCW_TRY(nncw_onnx_node_input(im, 0, &in));
    if (in < 0)
        return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "the input is missing");
    NNCW_TRY(nncw_onnx_node_output(im, 0, &out));
    if (out < 0)
        return NNCW_OK;
    struct nncw_tensor t[2];
    memset(t, 0, sizeof t);
    enum nncw_status s = NNCW_OK;
    for (int b = 0; b < 2 && s == NNCW_OK; b++) {
        const struct nncw_tensor *x = nncw_onnx_sym_tensor(im, in, b);
        if (size) {
            s = nncw_tensor_init(&t[b], NNCW_DTYPE_I64, 0, NULL);
            if (s == NNCW_OK)
                ((int64_t *)t[b].data)[0] = nncw_tensor_numel(x);
            continue;
        }
        /* opset 15: start and end select a slice of the dimensions */
        int64_t r = x->ndim, start = nncw_onnx_attr_int(im, "start", 0),
                end = nncw_onnx_attr_int(im, "end", r);
        start = start < 0 ? start + r : start;
        end = end < 0 ? end + r : end;
        start = start < 0 ? 0 : start > r ? r : start;
        end = end < 0 ? 0 : end > r ? r : end;
        int64_t n = end > start ? end - start : 0;
        s = nncw_tensor_init(&t[b], NNCW_DTYPE_I64, 1, &n);
        if (s == NNCW_OK && n)
            memcpy(t[b].data, x->shape + start, (size_t)n * sizeof(int64_t));
    }
    if (s == NNCW_OK)
        nncw_onnx_sym_set_known(im, out, &t[0], &t[1]);
    nncw_tensor_fini(&t[0]);
    nncw_tensor_fini(&t[1]);
    return s;
}

/* ---- Range: computed at import ---- */

static double scalar_at(const struct nncw_tensor *t)
{
    switch (t->dtype) {
    case NNCW_DTYPE_F32:
        return nncw_tensor_f32(t)[0];
    case NNCW_DTYPE_I32:
        return ((const int32_t *)t->data)[0];
    case NNCW_DTYPE_I64:
        return (double)((const int64_t *)t->data)[0];
    default:
        return NAN;
    }
}

static enum nncw_status convert_range(struct nncw_onnx_importer *im)
{
    int in[3], out;
    static const char *const names[] = {"start", "limit", "delta"};
    for (int i = 0; i < 3; i++) {
        NNCW_TRY(nncw_onnx_node_input(im, i, &in[i]));
        NNCW_TRY(need_known(im, in[i], names[i]));
        if (im->syms[in[i]].batch_dep || nncw_tensor_numel(&im->syms[in[i]].t[0]) != 1)
            return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, "'%s' must be a constant scalar",
                                       names[i]);
    }
    NNCW_TRY(nncw_onnx_node_output(im, 0, &out));
    if (out < 0)
        return NNCW_OK;
    const struct nncw_tensor *t0 = &im->syms[in[0]].t[0];
    enum nncw_dtype dt = t0->dtype;
    if (im->syms[in[1]].t[0].dtype != dt || im->syms[in[2]].t[0].dtype != dt)
        return nncw_onnx_fail_node(im, NNCW_ERR_DTYPE, "start, limit and delta differ in type");
    if (dt != NNCW_DTYPE_F32 && dt != NNCW_DTYPE_I32 && dt != NNCW_DTYPE_I64)
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, "type %s is not supported",
                                   nncw_dtype_name(dt));
    double start = scalar_at(t0), limit = scalar_at(&im->syms[in[1]].t[0]),
           delta = scalar_at(&im->syms[in[2]].t[0]);
    double count = delta != 0 ? ceil((limit - start) / delta) : NAN;
    if (!(count < 1e9))
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, "the range is empty-step or too long");
    int64_t n = count > 0 ? (int64_t)count : 0;
    if ((size_t)n * nncw_dtype_size(dt) > im->max_fold_bytes ||
        (size_t)n * nncw_dtype_size(dt) > im->fold_budget)
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, "the range is too long");
    im->fold_budget -= (size_t)n * nncw_dtype_size(dt);
    struct nncw_tensor t;
    NNCW_TRY(nncw_tensor_init(&t, dt, 1, &n));
    for (int64_t i = 0; i < n; i++) {
        if (dt == NNCW_DTYPE_F32) /* accumulate as ONNX's reference does */
            nncw_tensor_f32(&t)[i] = (float)start + (float)i * (float)delta;
        else if (dt == NNCW_DTYPE_I32) /* wraps like int32 arithmetic */
            ((int32_t *)t.data)[i] =
                (int32_t)((uint32_t)((const int32_t *)t0->data)[0] +
                          (uint32_t)i * (uint32_t)((const int32_t *)im->syms[in[2]].t[0].data)[0]);
        else /* int64 arithmetic wraps instead of overflowing */
            ((int64_t *)t.data)[i] =
                (int64_t)((uint64_t)((const int64_t *)t0->data)[0] +
                          (uint64_t)i * (uint64_t)((const int64_t *)im->syms[in[2]].t[0].data)[0]);
    }
    nncw_onnx_sym_set_known(im, out, &t, NULL);
    return NNCW_OK;
}

/* ---- Softmax, LogSoftmax, Hardmax before opset 13: a 2-D view at axis ---- */

static enum nncw_status convert_softmax(struct nncw_onnx_importer *im)
{
    enum nncw_op op;
    if (!find_op(im->np->op_type, &op))
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, " is not supported");
    struct nncw_onnx_spec s;
    NNCW_TRY(spec_from_node(im, op, &s));
    if (im->opset >= 13 || s.n_out == 0 || s.in[0] < 0)
        return emit_node(im, &s);
    const struct nncw_tensor *x = nncw_onnx_sym_tensor(im, s.in[0], 0);
    int64_t r = x->ndim, axis = nncw_onnx_attr_int(im, "axis", 1);
    if (axis < -r || axis > r)
        return nncw_onnx_fail_node(im, NNCW_ERR_SHAPE, "axis %lld is out of range",
                                   (long long)axis);
    if (axis < 0)
        axis += r;
    static const char *const skip[] = {"axis", NULL};
    s.skip_attrs = skip;
    s.n_set = 1;
    s.set[0] = (struct nncw_onnx_attr_set){.name = "axis", .type = NNCW_ATTR_INT, .i = -1};
    if (axis == r - 1) /* the old and new semantics agree */
        return emit_node(im, &s);
    /* Flatten(axis) -> op(axis -1) -> Reshape(back to x's shape) */
    int flat, soft, shape_sym;
    NNCW_TRY(nncw_onnx_temp_sym(im, "flatten", &flat));
    NNCW_TRY(nncw_onnx_temp_sym(im, "softmax2d", &soft));
    struct nncw_onnx_spec f = {.op = NNCW_OP_FLATTEN,
                               .suffix = "/flatten",
                               .n_in = 1,
                               .in = {s.in[0]},
                               .n_out = 1,
                               .out = {flat},
                               .n_set = 1};
    f.set[0] = (struct nncw_onnx_attr_set){.name = "axis", .type = NNCW_ATTR_INT, .i = axis};
    NNCW_TRY(nncw_onnx_emit(im, &f));
    int out = s.out[0];
    s.in[0] = flat;
    s.out[0] = soft;
    NNCW_TRY(nncw_onnx_emit(im, &s));
    struct nncw_tensor shp[2];
    for (int b = 0; b < 2; b++) {
        const struct nncw_tensor *xb = nncw_onnx_sym_tensor(im, f.in[0], b);
        NNCW_TRY(nncw_tensor_init(&shp[b], NNCW_DTYPE_I64, 1, (int64_t[]){xb->ndim}));
        memcpy(shp[b].data, xb->shape, (size_t)xb->ndim * sizeof(int64_t));
    }
    NNCW_TRY(nncw_onnx_temp_sym(im, "shape", &shape_sym));
    nncw_onnx_sym_set_known(im, shape_sym, &shp[0], &shp[1]);
    nncw_tensor_fini(&shp[1]);
    struct nncw_onnx_spec rs = {.op = NNCW_OP_RESHAPE,
                                .suffix = "/reshape",
                                .n_in = 2,
                                .in = {soft, shape_sym},
                                .n_out = 1,
                                .out = {out}};
    return nncw_onnx_emit(im, &rs);
}

/* ---- Upsample and Resize-10: Resize with asymmetric coordinates ---- */

static enum nncw_status convert_upsample(struct nncw_onnx_importer *im)
{
    struct nncw_onnx_spec s;
    enum nncw_op op;
    if (!find_op("Resize", &op))
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, " is not supported");
    bool resize = strcmp(im->np->op_type, "Resize") == 0;
    if (resize && im->opset >= 11)
        return convert_direct(im);
    NNCW_TRY(spec_from_node(im, op, &s));
    if (s.n_out == 0)
        return NNCW_OK;
    int scales = s.n_in > 1 ? s.in[1] : -1;
    if (scales < 0) { /* Upsample-7: scales is an attribute */
        const NncwOnnx__AttributeProto *a = nncw_onnx_attr_find(im->np, "scales");
        if (!a || a->n_floats == 0 || a->n_floats > NNCW_MAX_DIMS)
            return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "no scales");
        struct nncw_tensor t;
        NNCW_TRY(nncw_tensor_init(&t, NNCW_DTYPE_F32, 1, (int64_t[]){(int64_t)a->n_floats}));
        memcpy(t.data, a->floats, a->n_floats * sizeof(float));
        NNCW_TRY(nncw_onnx_const_sym(im, "scales", &t, &scales));
    }
    const char *mode = nncw_onnx_attr_string(im, "mode", "nearest");
    static const char *const skip[] = {"scales", "mode", "height_scale", "width_scale", NULL};
    s.skip_attrs = skip;
    s.copy_attrs = false;
    s.n_in = 3;
    s.in[1] = -1;
    s.in[2] = scales;
    s.n_set = 3;
    s.set[0] = (struct nncw_onnx_attr_set){
        .name = "mode",
        .type = NNCW_ATTR_STRING,
        .s = strcmp(mode, "bilinear") == 0 || strcmp(mode, "linear") == 0 ? "linear" : mode};
    s.set[1] = (struct nncw_onnx_attr_set){
        .name = "coordinate_transformation_mode", .type = NNCW_ATTR_STRING, .s = "asymmetric"};
    s.set[2] =
        (struct nncw_onnx_attr_set){.name = "nearest_mode", .type = NNCW_ATTR_STRING, .s = "floor"};
    return emit_node(im, &s);
}

/* ---- CastLike: Cast to the second input's type ---- */

static enum nncw_status convert_castlike(struct nncw_onnx_importer *im)
{
    enum nncw_op op;
    if (!find_op("Cast", &op))
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, " is not supported");
    struct nncw_onnx_spec s;
    NNCW_TRY(spec_from_node(im, op, &s));
    if (s.n_in != 2 || s.in[1] < 0)
        return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "needs two inputs");
    s.n_in = 1;
    s.copy_attrs = false;
    s.n_set = 1;
    s.set[0] = (struct nncw_onnx_attr_set){
        .name = "to",
        .type = NNCW_ATTR_INT,
        .i = nncw_onnx_dtype_to_proto(nncw_onnx_sym_tensor(im, s.in[1], 0)->dtype)};
    return emit_node(im, &s);
}

/* ---- BatchNormalization: inference form only ---- */

static enum nncw_status convert_batchnorm(struct nncw_onnx_importer *im)
{
    if (nncw_onnx_attr_int(im, "training_mode", 0) != 0)
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED,
                                   "training_mode 1 is not supported (nncw trains through its "
                                   "executor, not the node)");
    if (nncw_onnx_attr_int(im, "spatial", 1) != 1)
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, "spatial 0 is not supported");
    struct nncw_onnx_spec s;
    NNCW_TRY(spec_from_node(im, NNCW_OP_BATCHNORM, &s));
    static const char *const skip[] = {"spatial", "is_test", "consumed_inputs", "training_mode",
                                       NULL};
    s.skip_attrs = skip;
    return emit_node(im, &s);
}

/* ---- binary ops before opset 7: legacy broadcast with an axis ---- */

static enum nncw_status convert_binary(struct nncw_onnx_importer *im)
{
    enum nncw_op op;
    if (!find_op(im->np->op_type, &op))
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, " is not supported");
    struct nncw_onnx_spec s;
    NNCW_TRY(spec_from_node(im, op, &s));
    static const char *const skip[] = {"broadcast", "axis", "consumed_inputs", NULL};
    if (im->opset >= 7 || s.n_out == 0)
        return emit_node(im, &s);
    s.skip_attrs = skip;
    const NncwOnnx__AttributeProto *ax = nncw_onnx_attr_find(im->np, "axis");
    if (!ax || nncw_onnx_attr_int(im, "broadcast", 0) == 0 || s.n_in != 2 || s.in[0] < 0 ||
        s.in[1] < 0)
        return emit_node(im, &s); /* same shapes, or numpy-style trailing alignment */
    /* B is aligned at axis of A: append ones to B's shape to make numpy align it */
    const struct nncw_tensor *a = nncw_onnx_sym_tensor(im, s.in[0], 0);
    int64_t axis = ax->i < 0 ? ax->i + a->ndim : ax->i;
    int64_t shp[2][NNCW_MAX_DIMS];
    int nd = 0;
    for (int b = 0; b < 2; b++) {
        const struct nncw_tensor *bt = nncw_onnx_sym_tensor(im, s.in[1], b);
        nd = (int)(a->ndim - axis);
        if (axis < 0 || bt->ndim > nd || nd > NNCW_MAX_DIMS)
            return nncw_onnx_fail_node(im, NNCW_ERR_SHAPE,
                                       "legacy broadcast axis %lld does not "
                                       "fit",
                                       (long long)ax->i);
        for (int d = 0; d < nd; d++)
            shp[b][d] = d < bt->ndim ? bt->shape[d] : 1;
    }
    int shape_sym, reshaped;
    struct nncw_tensor t[2];
    for (int b = 0; b < 2; b++) {
        NNCW_TRY(nncw_tensor_init(&t[b], NNCW_DTYPE_I64, 1, (int64_t[]){nd}));
        memcpy(t[b].data, shp[b], (size_t)nd * sizeof(int64_t));
    }
    NNCW_TRY(nncw_onnx_temp_sym(im, "shape", &shape_sym));
    nncw_onnx_sym_set_known(im, shape_sym, &t[0], &t[1]);
    nncw_tensor_fini(&t[1]);
    NNCW_TRY(nncw_onnx_temp_sym(im, "broadcast", &reshaped));
    struct nncw_onnx_spec rs = {.op = NNCW_OP_RESHAPE,
                                .suffix = "/broadcast",
                                .n_in = 2,
                                .in = {s.in[1], shape_sym},
                                .n_out = 1,
                                .out = {reshaped}};
    NNCW_TRY(nncw_onnx_emit(im, &rs));
    s.in[1] = reshaped;
    return emit_node(im, &s);
}

/* ---- PRelu: before opset 7 a 1-D slope of C values is per channel (axis 1) ---- */

static enum nncw_status convert_prelu(struct nncw_onnx_importer *im)
{
    struct nncw_onnx_spec s;
    NNCW_TRY(spec_from_node(im, NNCW_OP_PRELU, &s));
    static const char *const skip[] = {"consumed_inputs", NULL};
    s.skip_attrs = skip;
    if (s.n_out == 0 || s.n_in != 2 || s.in[0] < 0 || s.in[1] < 0)
        return emit_node(im, &s);
    const struct nncw_tensor *x = nncw_onnx_sym_tensor(im, s.in[0], 0);
    const struct nncw_tensor *slope = nncw_onnx_sym_tensor(im, s.in[1], 0);
    bool per_channel = slope->ndim == 1 && x->ndim > 2 && slope->shape[0] == x->shape[1] &&
                       slope->shape[0] != x->shape[x->ndim - 1];
    if (im->opset >= 7 || !per_channel)
        return emit_node(im, &s);
    int64_t shp[NNCW_MAX_DIMS];
    shp[0] = slope->shape[0];
    for (int d = 1; d < x->ndim - 1; d++)
        shp[d] = 1;
    int shape_sym, reshaped;
    NNCW_TRY(const_i64(im, "slope_shape", x->ndim - 1, shp, &shape_sym));
    NNCW_TRY(nncw_onnx_temp_sym(im, "slope", &reshaped));
    struct nncw_onnx_spec rs = {.op = NNCW_OP_RESHAPE,
                                .suffix = "/slope",
                                .n_in = 2,
                                .in = {s.in[1], shape_sym},
                                .n_out = 1,
                                .out = {reshaped}};
    NNCW_TRY(nncw_onnx_emit(im, &rs));
    s.in[1] = reshaped;
    return emit_node(im, &s);
}

static enum nncw_status convert_skip_legacy(struct nncw_onnx_importer *im);

/* ---- Concat: more than 16 inputs (DenseNet) become a tree of Concats ---- */

static enum nncw_status convert_concat(struct nncw_onnx_importer *im)
{
    const NncwOnnx__NodeProto *np = im->np;
    if (np->n_input <= 16)
        return convert_skip_legacy(im);
    if (np->n_input > 16 * 16)
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, "%zu inputs", np->n_input);
    int out;
    NNCW_TRY(nncw_onnx_node_output(im, 0, &out));
    if (out < 0)
        return NNCW_OK;
    struct nncw_onnx_spec top = {
        .op = NNCW_OP_CONCAT, .n_out = 1, .out = {out}, .copy_attrs = true};
    for (size_t at = 0; at < np->n_input; at += 16) {
        struct nncw_onnx_spec part = {
            .op = NNCW_OP_CONCAT, .suffix = "/part", .n_out = 1, .copy_attrs = true};
        for (size_t i = at; i < np->n_input && i < at + 16; i++)
            NNCW_TRY(nncw_onnx_node_input(im, (int)i, &part.in[part.n_in++]));
        for (int i = 0; i < part.n_in; i++)
            if (part.in[i] < 0)
                return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "an input is missing");
        NNCW_TRY(nncw_onnx_temp_sym(im, "part", &part.out[0]));
        NNCW_TRY(nncw_onnx_emit(im, &part));
        top.in[top.n_in++] = part.out[0];
    }
    return nncw_onnx_emit(im, &top);
}

/* ---- ops whose old versions carry attributes nncw ignores ---- */

static enum nncw_status convert_skip_legacy(struct nncw_onnx_importer *im)
{
    enum nncw_op op;
    if (!find_op(im->np->op_type, &op))
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, " is not supported");
    struct nncw_onnx_spec s;
    NNCW_TRY(spec_from_node(im, op, &s));
    static const char *const skip[] = {"is_test", "consumed_inputs", "broadcast", NULL};
    s.skip_attrs = skip;
    return emit_node(im, &s);
}

/* ---- attributes that later opsets made inputs ---- */

static const struct {
    const char *op_type;
    int64_t before; /* opsets before this one have the attributes */
    const char *attr[3];
} attr_inputs[] = {
    {"Squeeze", 13, {"axes"}},
    {"Unsqueeze", 13, {"axes"}},
    {"Split", 13, {"split"}},
    {"ReduceSum", 13, {"axes"}},
    {"Slice", 10, {"starts", "ends", "axes"}},
};

static enum nncw_status convert_attr_inputs(struct nncw_onnx_importer *im)
{
    size_t r = 0;
    while (strcmp(attr_inputs[r].op_type, im->np->op_type) != 0)
        r++;
    enum nncw_op op;
    if (!find_op(im->np->op_type, &op))
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, " is not supported");
    struct nncw_onnx_spec s;
    NNCW_TRY(spec_from_node(im, op, &s));
    if (s.n_out == 0)
        return NNCW_OK;
    if (op == NNCW_OP_SPLIT) { /* the number of outputs decides equal parts: keep them all */
        if (im->np->n_output > 8)
            return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, "%zu outputs (at most 8)",
                                       im->np->n_output);
        s.n_out = (int)im->np->n_output;
    }
    if (im->opset >= attr_inputs[r].before)
        return emit_node(im, &s);
    s.skip_attrs = attr_inputs[r].attr;
    for (int k = 0; k < 3 && attr_inputs[r].attr[k]; k++) {
        const NncwOnnx__AttributeProto *a = nncw_onnx_attr_find(im->np, attr_inputs[r].attr[k]);
        if (!a)
            continue;
        if (a->n_ints > NNCW_MAX_DIMS * 64)
            return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "'%s' has %zu values",
                                       attr_inputs[r].attr[k], a->n_ints);
        while (s.n_in < k + 2)
            s.in[s.n_in++] = -1;
        NNCW_TRY(const_i64(im, attr_inputs[r].attr[k], (int)a->n_ints, a->ints, &s.in[k + 1]));
    }
    return emit_node(im, &s);
}

/* ---- the table ---- */

struct rule {
    const char *op_type;
    nncw_onnx_convert_fn fn;
};

static const struct rule rules[] = {
    {"Constant", convert_constant},
    {"ConstantOfShape", convert_constant_of_shape},
    {"Shape", convert_shape},
    {"Size", convert_shape},
    {"Range", convert_range},
    {"Softmax", convert_softmax},
    {"LogSoftmax", convert_softmax},
    {"Hardmax", convert_softmax},
    {"Upsample", convert_upsample},
    {"Resize", convert_upsample},
    {"CastLike", convert_castlike},
    {"BatchNormalization", convert_batchnorm},
    {"Add", convert_binary},
    {"Sub", convert_binary},
    {"Mul", convert_binary},
    {"Div", convert_binary},
    {"Pow", convert_binary},
    {"And", convert_binary},
    {"Or", convert_binary},
    {"Xor", convert_binary},
    {"Equal", convert_binary},
    {"Greater", convert_binary},
    {"Less", convert_binary},
    {"Gemm", convert_skip_legacy},
    {"Dropout", convert_skip_legacy},
    {"Relu", convert_skip_legacy},
    {"LeakyRelu", convert_skip_legacy},
    {"Elu", convert_skip_legacy},
    {"Selu", convert_skip_legacy},
    {"Sigmoid", convert_skip_legacy},
    {"HardSigmoid", convert_skip_legacy},
    {"Tanh", convert_skip_legacy},
    {"Neg", convert_skip_legacy},
    {"Abs", convert_skip_legacy},
    {"Exp", convert_skip_legacy},
    {"Log", convert_skip_legacy},
    {"Sqrt", convert_skip_legacy},
    {"Reciprocal", convert_skip_legacy},
    {"Floor", convert_skip_legacy},
    {"Ceil", convert_skip_legacy},
    {"Clip", convert_skip_legacy},
    {"PRelu", convert_prelu},
    {"Sum", convert_skip_legacy},
    {"Max", convert_skip_legacy},
    {"Min", convert_skip_legacy},
    {"Mean", convert_skip_legacy},
    {"InstanceNormalization", convert_skip_legacy},
    {"Concat", convert_concat},
    {"Squeeze", convert_attr_inputs},
    {"Unsqueeze", convert_attr_inputs},
    {"Split", convert_attr_inputs},
    {"ReduceSum", convert_attr_inputs},
    {"Slice", convert_attr_inputs},
    /* quantization (import_quant.c) */
    {"FakeQuantize", nncw_onnx_convert_fakequantize},
    {"DequantizeLinear", nncw_onnx_convert_dequantizelinear},
};

nncw_onnx_convert_fn nncw_onnx_find_converter(const char *op_type, int64_t opset)
{
    (void)opset;
    enum nncw_op op;
    bool in_table = find_op(op_type, &op);
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].op_type, op_type) == 0) {
            /* converters that rewrite into nncw ops need those ops */
            if (rules[i].fn == convert_constant || rules[i].fn == convert_constant_of_shape ||
                rules[i].fn == convert_shape || rules[i].fn == convert_range || in_table ||
                (rules[i].fn == convert_upsample && find_op("Resize", &op)) ||
                (rules[i].fn == convert_castlike && find_op("Cast", &op)))
                return rules[i].fn;
            return NULL;
        }
    return in_table ? convert_direct : NULL;
}

bool nncw_onnx_is_supported(const char *op_type, int64_t opset)
{
    return nncw_onnx_find_converter(op_type, opset) != NULL;
}

/* ---- export: opsets ---- */

static const struct {
    const char *op_type;
    int since;
} since[] = {
    {"HardSwish", 14},
    {"Trilu", 14},
    {"LayerNormalization", 17},
};

int nncw_onnx_op_since(enum nncw_op op)
{
    const char *name = nncw_op_get_def(op)->onnx_name;
    for (size_t i = 0; name && i < sizeof since / sizeof since[0]; i++)
        if (strcmp(since[i].op_type, name) == 0)
            return since[i].since;
    return 1;
}
