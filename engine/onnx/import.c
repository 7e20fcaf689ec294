/*
** ONNX ModelProto -> graph IR.
**
** The importer walks the graph's nodes in file order (ONNX requires a topological order) with a
** symbol table from tensor names to what they stand for: a value of the graph being built, or a
** value known at import time (an initializer, a Constant, a frozen input, or the result of
** folding a node whose inputs are all known). Known values enter the graph lazily, as
** parameters, when a real node first reads one, so constants consumed only by folding never
** appear. Each node goes through its converter (op_map.c), which describes one or more nncw
** nodes as specs; nncw_onnx_emit folds a spec or adds it to the graph.
**
** Shapes are tracked during import by calling each op's shape inference, so Shape nodes fold.
** When an input has a symbolic batch dimension, everything is tracked at two batch sizes: a
** known value that differs between them depends on the batch. A Reshape target that does is
** rewritten with -1 in its one batch-proportional entry (the PyTorch `x.view(x.size(0), -1)`
** pattern); anything else batch-dependent that must be constant is refused with a message.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/common.h"
#include "onnx/onnx_internal.h"

#define MAX_NAME 4096
#define IMPORT_BATCH_A 2
#define IMPORT_BATCH_B 3

/* ---- messages ---- */

enum nncw_status nncw_onnx_fail_node(struct nncw_onnx_importer *im, enum nncw_status code,
                                     const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *op = im->np ? nncw_onnx_str(im->np->op_type) : "?";
    return NNCW_FAIL(code, "node \"%s\": op %s (opset %lld)%s%s", im->node_name, op,
                     (long long)im->opset, msg[0] == ' ' ? "" : ": ", msg);
}

/* re-raises the last error with the node and op in front */
static enum nncw_status wrap_node_error(struct nncw_onnx_importer *im, enum nncw_status s)
{
    char msg[768];
    snprintf(msg, sizeof msg, "%s", nncw_last_error());
    return nncw_onnx_fail_node(im, s, "%s", msg);
}

/* ---- symbols for the current node ---- */

enum nncw_status nncw_onnx_node_input(struct nncw_onnx_importer *im, int i, int *sym)
{
    *sym = -1;
    if (i < 0 || (size_t)i >= im->np->n_input || !im->np->input[i][0])
        return NNCW_OK;
    int k = nncw_onnx_sym_find(im, im->np->input[i]);
    if (k < 0)
        return nncw_onnx_fail_node(im, NNCW_ERR_PARSE,
                                   "input %d '%s' is not defined by an earlier node, an "
                                   "initializer or a graph input",
                                   i, im->np->input[i]);
    *sym = k;
    return NNCW_OK;
}

enum nncw_status nncw_onnx_node_output(struct nncw_onnx_importer *im, int i, int *sym)
{
    *sym = -1;
    if (i < 0 || (size_t)i >= im->np->n_output || !im->np->output[i][0] ||
        !nncw_onnx_is_used(im, im->np->output[i]))
        return NNCW_OK;
    enum nncw_status s = nncw_onnx_sym_new(im, im->np->output[i], sym);
    return s == NNCW_OK ? s : wrap_node_error(im, s);
}

enum nncw_status nncw_onnx_temp_sym(struct nncw_onnx_importer *im, const char *what, int *sym)
{
    char name[MAX_NAME + 64];
    snprintf(name, sizeof name, "%s/%s", im->node_name, what);
    size_t len = strlen(name);
    for (int k = 2; nncw_onnx_sym_find(im, name) >= 0; k++)
        snprintf(name + len, sizeof name - len, "_%d", k);
    return nncw_onnx_sym_new(im, name, sym);
}

enum nncw_status nncw_onnx_const_sym(struct nncw_onnx_importer *im, const char *what,
                                     struct nncw_tensor *t, int *sym)
{
    enum nncw_status s = nncw_onnx_temp_sym(im, what, sym);
    if (s != NNCW_OK) {
        nncw_tensor_fini(t);
        return s;
    }
    nncw_onnx_sym_set_known(im, *sym, t, NULL);
    return NNCW_OK;
}

/* ---- putting values into the graph ---- */

/* a parameter for a known symbol, named after it (with a suffix if an activation took the
 * name) */
static enum nncw_status add_param_named(struct nncw_onnx_importer *im, const char *name,
                                        const struct nncw_tensor *t, bool trainable, int *id)
{
    char buf[MAX_NAME + 32];
    snprintf(buf, sizeof buf, "%s", name);
    for (int k = 2;; k++) {
        enum nncw_status s = nncw_graph_add_param(im->g, buf, t, trainable, id);
        if (s != NNCW_ERR_INVALID_ARG || k > 1000)
            return s;
        snprintf(buf, sizeof buf, "%s#%d", name, k);
    }
}

/* the target shape a Reshape computes (ONNX rules), for the batch rewrite */
static bool reshape_target(const struct nncw_tensor *x, const struct nncw_tensor *sh,
                           bool allowzero, int64_t *out, int *ndim)
{
    if (sh->ndim != 1 || sh->shape[0] > NNCW_MAX_DIMS || sh->dtype != NNCW_DTYPE_I64)
        return false;
    int n = (int)sh->shape[0], neg = -1;
    int64_t known = 1, total = nncw_tensor_numel(x);
    for (int i = 0; i < n; i++) {
        int64_t v = ((const int64_t *)sh->data)[i];
        if (v == 0 && !allowzero) {
            if (i >= x->ndim)
                return false;
            v = x->shape[i];
        }
        if (v == -1) {
            if (neg >= 0)
                return false;
            neg = i;
        } else if (v < 0 || (v > 0 && known > INT64_MAX / 16 / v)) {
            return false;
        } else {
            known *= v;
        }
        out[i] = v;
    }
    if (neg >= 0) {
        if (known == 0 || total % known)
            return false;
        out[neg] = total / known;
    }
    *ndim = n;
    return true;
}

/* Reshape's target depends on the batch: rewrite it with -1 in its one batch-proportional
 * entry (x.view(x.size(0), -1) and friends) */
static enum nncw_status reshape_batch_fix(struct nncw_onnx_importer *im,
                                          const struct nncw_onnx_spec *s, int *fixed_sym)
{
    const struct nncw_onnx_sym *x = &im->syms[s->in[0]], *sh = &im->syms[s->in[1]];
    bool allowzero = nncw_onnx_attr_int(im, "allowzero", 0) != 0;
    int64_t y[2][NNCW_MAX_DIMS];
    int nd[2];
    int at = -1, n_diff = 0;
    bool ok = reshape_target(&x->t[0], &sh->t[0], allowzero, y[0], &nd[0]) &&
              reshape_target(&x->t[1], &sh->t[1], allowzero, y[1], &nd[1]) && nd[0] == nd[1];
    for (int d = 0; ok && d < nd[0]; d++)
        if (y[0][d] != y[1][d]) {
            at = d;
            n_diff++;
        }
    if (!ok || n_diff != 1 || y[0][at] * im->batch[1] != y[1][at] * im->batch[0])
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED,
                                   "the target shape '%s' depends on the batch size in a way "
                                   "nncw cannot express; export the model with a fixed batch "
                                   "size",
                                   sh->name);
    y[0][at] = -1;
    struct nncw_tensor t;
    NNCW_TRY(nncw_tensor_init(&t, NNCW_DTYPE_I64, 1, (int64_t[]){nd[0]}));
    memcpy(t.data, y[0], (size_t)nd[0] * sizeof(int64_t));
    return nncw_onnx_const_sym(im, "shape", &t, fixed_sym);
}

/* input i of the spec as a graph value, adding a known symbol as a parameter; *sym may be
 * replaced (the Reshape batch rewrite) */
static enum nncw_status materialize(struct nncw_onnx_importer *im, const struct nncw_onnx_spec *s,
                                    int i, int *sym, int *id)
{
    struct nncw_onnx_sym *v = &im->syms[*sym];
    if (v->value >= 0) {
        *id = v->value;
        return NNCW_OK;
    }
    if (v->batch_dep) {
        if (s->op != NNCW_OP_RESHAPE || i != 1)
            return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED,
                                       "input '%s' depends on the batch size, but nncw needs it "
                                       "constant; export the model with a fixed batch size",
                                       v->name);
        NNCW_TRY(reshape_batch_fix(im, s, sym));
        v = &im->syms[*sym];
    }
    /* initializers are weights, except the running statistics of batch norm and the ranges of
     * imported quantizers */
    bool quant_range =
        i >= 1 && (s->op == NNCW_OP_FAKEQUANTIZE || s->op == NNCW_OP_QUANTIZELINEAR ||
                   s->op == NNCW_OP_DEQUANTIZELINEAR);
    bool trainable = v->init && v->t[0].dtype == NNCW_DTYPE_F32 &&
                     !(s->op == NNCW_OP_BATCHNORM && i >= 3) && !quant_range;
    enum nncw_status st = add_param_named(im, v->name, &v->t[0], trainable, &v->value);
    if (st != NNCW_OK)
        return wrap_node_error(im, st);
    *id = v->value;
    return NNCW_OK;
}

/* the shapes of the outputs of a new node, at each import batch */
static enum nncw_status track_shapes(struct nncw_onnx_importer *im, const struct nncw_onnx_spec *s,
                                     const int *syms_in, const struct nncw_node *n)
{
    const struct nncw_op_def *d = nncw_op_get_def(s->op);
    for (int b = 0; b < im->n_batch; b++) {
        const struct nncw_tensor *in[16];
        struct nncw_tensor out[8];
        memset(out, 0, sizeof out);
        for (int i = 0; i < s->n_in; i++)
            in[i] = syms_in[i] >= 0 ? nncw_onnx_sym_tensor(im, syms_in[i], b) : NULL;
        enum nncw_status st = d->infer(n, in, s->n_in, out);
        if (st != NNCW_OK)
            return wrap_node_error(im, st);
        for (int o = 0; o < s->n_out; o++) {
            if (nncw_shape_numel(out[o].ndim, out[o].shape) < 0)
                return nncw_onnx_fail_node(im, NNCW_ERR_SHAPE, "output %d is too large", o);
            if (s->out[o] < 0)
                continue;
            struct nncw_onnx_sym *v = &im->syms[s->out[o]];
            nncw_tensor_init_borrowed(&v->t[b], out[o].dtype, out[o].ndim, out[o].shape, NULL);
            if (im->n_batch == 1)
                v->t[1] = v->t[0];
        }
    }
    return NNCW_OK;
}

static enum nncw_status add_real_node(struct nncw_onnx_importer *im, const struct nncw_onnx_spec *s)
{
    int ids[16], syms_in[16];
    for (int i = 0; i < s->n_in; i++) {
        syms_in[i] = s->in[i];
        ids[i] = -1;
        if (s->in[i] >= 0)
            NNCW_TRY(materialize(im, s, i, &syms_in[i], &ids[i]));
    }
    char base[MAX_NAME + 64], scope[MAX_NAME + 80];
    snprintf(base, sizeof base, "%s%s", im->node_name, s->suffix ? s->suffix : "");
    NNCW_TRY(nncw_onnx_unique_scope(im, base, scope, sizeof scope));
    struct nncw_node *n;
    int outs[8];
    enum nncw_status st =
        nncw_graph_add_node(im->g, s->op, scope, s->n_in, ids, s->n_out, outs, &n);
    if (st != NNCW_OK)
        return wrap_node_error(im, st);
    NNCW_TRY(nncw_onnx_apply_attrs(im, s, n));
    for (int o = 0; o < s->n_out; o++) {
        if (s->out[o] < 0)
            continue;
        struct nncw_onnx_sym *v = &im->syms[s->out[o]];
        v->value = outs[o];
        /* keep the file's tensor names; a clash with a generated name just keeps that one */
        if (nncw_graph_set_value_name(im->g, outs[o], v->name) != NNCW_OK)
            nncw_error_clear();
    }
    return track_shapes(im, s, syms_in, n);
}

static enum nncw_status fold_spec(struct nncw_onnx_importer *im, const struct nncw_onnx_spec *s,
                                  bool *folded)
{
    int nb = 1;
    for (int i = 0; i < s->n_in; i++)
        if (s->in[i] >= 0 && im->syms[s->in[i]].batch_dep)
            nb = 2;
    struct nncw_tensor outs[2][8];
    memset(outs, 0, sizeof outs);
    enum nncw_status st = NNCW_OK;
    *folded = false;
    for (int b = 0; b < nb && st == NNCW_OK; b++) {
        bool too_big = false;
        st = nncw_onnx_fold(im, s, b, outs[b], &too_big);
        if (st == NNCW_OK && too_big)
            goto out;
    }
    if (st != NNCW_OK) {
        st = wrap_node_error(im, st);
        goto out;
    }
    for (int o = 0; o < s->n_out; o++)
        if (s->out[o] >= 0)
            nncw_onnx_sym_set_known(im, s->out[o], &outs[0][o], nb > 1 ? &outs[1][o] : NULL);
    *folded = true;
out:
    for (int b = 0; b < 2; b++)
        for (int o = 0; o < 8; o++)
            nncw_tensor_fini(&outs[b][o]);
    return st;
}

static bool is_graph_output(const struct nncw_onnx_importer *im, const char *name)
{
    for (size_t i = 0; i < im->graph->n_output; i++)
        if (strcmp(nncw_onnx_str(im->graph->output[i]->name), name) == 0)
            return true;
    return false;
}

enum nncw_status nncw_onnx_emit(struct nncw_onnx_importer *im, const struct nncw_onnx_spec *s)
{
    const struct nncw_op_def *d = nncw_op_get_def(s->op);
    if (s->n_in < d->n_in_min || s->n_in > d->n_in_max)
        return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "%d inputs (the op takes %d to %d)", s->n_in,
                                   d->n_in_min, d->n_in_max);
    if (s->n_out > d->n_out)
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED,
                                   "output %d is used, but nncw computes only %d output%s",
                                   s->n_out - 1, d->n_out, d->n_out > 1 ? "s" : "");
    bool all_known = true;
    for (int i = 0; i < s->n_in; i++) {
        if (s->in[i] < 0 && i < d->n_in_min)
            return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "required input %d is missing", i);
        if (s->in[i] >= 0 && !im->syms[s->in[i]].known)
            all_known = false;
    }
    /* An Identity computing a graph output from a constant stays a node: that is how a
     * constant output is exported, so export -> import -> export is stable. */
    if (s->op == NNCW_OP_IDENTITY && all_known && s->out[0] >= 0 &&
        is_graph_output(im, im->syms[s->out[0]].name))
        all_known = false;
    if (all_known && s->n_in > 0 && !s->keep_node) {
        bool folded;
        NNCW_TRY(fold_spec(im, s, &folded));
        if (folded)
            return NNCW_OK;
    }
    return add_real_node(im, s);
}

/* ---- graph inputs, initializers, outputs ---- */

static enum nncw_status add_initializers(struct nncw_onnx_importer *im)
{
    const NncwOnnx__GraphProto *gp = im->graph;
    if (gp->n_sparse_initializer)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "sparse initializers are not supported");
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const NncwOnnx__TensorProto *tp = gp->initializer[i];
        const char *name = nncw_onnx_str(tp->name);
        if (!name[0])
            return NNCW_FAIL(NNCW_ERR_PARSE, "initializer %zu has no name", i);
        char what[MAX_NAME + 32];
        snprintf(what, sizeof what, "initializer '%s'", name);
        struct nncw_tensor t;
        NNCW_TRY(nncw_onnx_tensor_from_proto(tp, what, &t));
        int sym;
        enum nncw_status s = nncw_onnx_sym_new(im, name, &sym);
        if (s != NNCW_OK) {
            nncw_tensor_fini(&t);
            return s;
        }
        nncw_onnx_sym_set_known(im, sym, &t, NULL);
        im->syms[sym].init = true;
    }
    return NNCW_OK;
}

static const struct nncw_onnx_binding *find_binding(const struct nncw_onnx_importer *im,
                                                    const char *name)
{
    for (int i = 0; i < im->opt->n_bindings; i++)
        if (im->opt->bindings[i].name && strcmp(im->opt->bindings[i].name, name) == 0)
            return &im->opt->bindings[i];
    return NULL;
}

/* dtype and shape of a graph input (-1 for a symbolic first dimension) */
static enum nncw_status input_type(const struct nncw_onnx_importer *im,
                                   const NncwOnnx__ValueInfoProto *vi, enum nncw_dtype *dt,
                                   int *ndim, int64_t *shape)
{
    const char *name = nncw_onnx_str(vi->name);
    const NncwOnnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != NNCW_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "graph input '%s': only tensors are supported",
                         name);
    const NncwOnnx__TypeProto__Tensor *tt = tp->tensor_type;
    int32_t et = tt->has_elem_type ? tt->elem_type : 0;
    if (!nncw_onnx_dtype_from_proto(et, dt))
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "graph input '%s': data type %s is not supported",
                         name, nncw_onnx_dtype_proto_name(et));
    const struct nncw_onnx_binding *bd = find_binding(im, name);
    if (bd && bd->value) {
        if (bd->value->dtype != *dt)
            return NNCW_FAIL(NNCW_ERR_DTYPE,
                             "graph input '%s': the given value is %s, the model "
                             "expects %s",
                             name, nncw_dtype_name(bd->value->dtype), nncw_dtype_name(*dt));
        *ndim = bd->value->ndim;
        memcpy(shape, bd->value->shape, (size_t)*ndim * sizeof *shape);
        return NNCW_OK;
    }
    if (!tt->shape)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                         "graph input '%s' has no shape; nncw plans memory for known shapes", name);
    if (tt->shape->n_dim > NNCW_MAX_DIMS)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "graph input '%s' has %zu dimensions (at most %d)",
                         name, tt->shape->n_dim, NNCW_MAX_DIMS);
    *ndim = (int)tt->shape->n_dim;
    for (int d = 0; d < *ndim; d++) {
        const NncwOnnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
        bool fixed = dim->value_case == NNCW_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        if (fixed && (dim->dim_value < 0 || dim->dim_value > (1ll << 40)))
            return NNCW_FAIL(NNCW_ERR_PARSE, "graph input '%s': dimension %d is %lld", name, d,
                             (long long)dim->dim_value);
        if (!fixed && d > 0)
            return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                             "graph input '%s': dimension %d ('%s') is symbolic; only the first "
                             "(batch) dimension may be",
                             name, d,
                             dim->value_case ==
                                     NNCW_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                                 ? nncw_onnx_str(dim->dim_param)
                                 : "?");
        shape[d] = fixed ? dim->dim_value : -1;
    }
    int64_t probe[NNCW_MAX_DIMS]; /* the size at the largest import batch */
    memcpy(probe, shape, (size_t)*ndim * sizeof *probe);
    if (*ndim > 0 && probe[0] == -1)
        probe[0] = IMPORT_BATCH_B;
    if (nncw_shape_numel(*ndim, probe) < 0)
        return NNCW_FAIL(NNCW_ERR_PARSE, "graph input '%s' is too large", name);
    return NNCW_OK;
}

static enum nncw_status add_inputs(struct nncw_onnx_importer *im)
{
    const NncwOnnx__GraphProto *gp = im->graph;
    /* first pass: is there a symbolic batch? */
    im->n_batch = 1;
    im->batch[0] = im->batch[1] = 1;
    for (size_t i = 0; i < gp->n_input; i++) {
        const NncwOnnx__ValueInfoProto *vi = gp->input[i];
        const char *name = nncw_onnx_str(vi->name);
        if (nncw_onnx_sym_find(im, name) >= 0)
            continue;
        const struct nncw_onnx_binding *bd = find_binding(im, name);
        if (bd && bd->freeze)
            continue;
        enum nncw_dtype dt;
        int ndim;
        int64_t shape[NNCW_MAX_DIMS];
        NNCW_TRY(input_type(im, vi, &dt, &ndim, shape));
        if (ndim > 0 && shape[0] == -1) {
            im->n_batch = 2;
            im->batch[0] = IMPORT_BATCH_A;
            im->batch[1] = IMPORT_BATCH_B;
        }
    }
    for (size_t i = 0; i < gp->n_input; i++) {
        const NncwOnnx__ValueInfoProto *vi = gp->input[i];
        const char *name = nncw_onnx_str(vi->name);
        if (!name[0])
            return NNCW_FAIL(NNCW_ERR_PARSE, "graph input %zu has no name", i);
        if (nncw_onnx_sym_find(im, name) >= 0)
            continue; /* an initializer: old exporters list weights as inputs too */
        const struct nncw_onnx_binding *bd = find_binding(im, name);
        int sym;
        if (bd && bd->freeze && bd->value) {
            struct nncw_tensor t;
            NNCW_TRY(nncw_tensor_init_copy(&t, bd->value));
            enum nncw_status s = nncw_onnx_sym_new(im, name, &sym);
            if (s != NNCW_OK) {
                nncw_tensor_fini(&t);
                return s;
            }
            nncw_onnx_sym_set_known(im, sym, &t, NULL);
            continue;
        }
        enum nncw_dtype dt;
        int ndim;
        int64_t shape[NNCW_MAX_DIMS];
        NNCW_TRY(input_type(im, vi, &dt, &ndim, shape));
        NNCW_TRY(nncw_onnx_sym_new(im, name, &sym));
        struct nncw_onnx_sym *v = &im->syms[sym];
        NNCW_TRY(nncw_graph_add_input(im->g, name, dt, ndim, shape, &v->value));
        for (int b = 0; b < 2; b++) {
            int64_t sh[NNCW_MAX_DIMS];
            memcpy(sh, shape, sizeof sh);
            if (ndim > 0 && sh[0] == -1)
                sh[0] = im->batch[b];
            nncw_tensor_init_borrowed(&v->t[b], dt, ndim, sh, NULL);
        }
    }
    return NNCW_OK;
}

/* an Identity node for a graph output that no node computes (an input, a weight, a constant,
 * or an output listed twice) */
static enum nncw_status identity_output(struct nncw_onnx_importer *im, int sym)
{
    struct nncw_onnx_sym *v = &im->syms[sym];
    if (v->known && v->batch_dep)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                         "graph output '%s' is a constant that depends on the batch size", v->name);
    int in = v->value;
    if (in < 0) {
        char name[MAX_NAME + 16];
        snprintf(name, sizeof name, "%s:const", v->name);
        NNCW_TRY(add_param_named(im, name, &v->t[0], false, &in));
    }
    char base[MAX_NAME + 16], scope[MAX_NAME + 32];
    snprintf(base, sizeof base, "Identity_%s", v->name);
    NNCW_TRY(nncw_onnx_unique_scope(im, base, scope, sizeof scope));
    int out;
    NNCW_TRY(nncw_graph_add_node(im->g, NNCW_OP_IDENTITY, scope, 1, &in, 1, &out, NULL));
    if (v->value < 0) {
        v->value = out; /* the output takes the tensor's name */
        if (nncw_graph_set_value_name(im->g, out, v->name) != NNCW_OK)
            nncw_error_clear();
    }
    return nncw_graph_add_output(im->g, out);
}

static enum nncw_status add_outputs(struct nncw_onnx_importer *im)
{
    const NncwOnnx__GraphProto *gp = im->graph;
    if (gp->n_output == 0)
        return NNCW_FAIL(NNCW_ERR_PARSE, "the graph has no outputs");
    for (size_t i = 0; i < gp->n_output; i++) {
        const char *name = nncw_onnx_str(gp->output[i]->name);
        int sym = nncw_onnx_sym_find(im, name);
        if (sym < 0)
            return NNCW_FAIL(NNCW_ERR_PARSE,
                             "graph output '%s' is computed by no "
                             "node",
                             name);
        struct nncw_onnx_sym *v = &im->syms[sym];
        bool computed =
            v->value >= 0 && nncw_graph_get_value_kind(im->g, v->value) == NNCW_VALUE_ACT;
        for (int k = 0; computed && k < nncw_graph_count_outputs(im->g); k++)
            computed = nncw_graph_get_output(im->g, k) != v->value;
        if (computed)
            NNCW_TRY(nncw_graph_add_output(im->g, v->value));
        else
            NNCW_TRY(identity_output(im, sym));
    }
    return NNCW_OK;
}

/* ---- nodes ---- */

static enum nncw_status import_node(struct nncw_onnx_importer *im, size_t index)
{
    const NncwOnnx__NodeProto *np = im->graph->node[index];
    im->np = np;
    const char *op = nncw_onnx_str(np->op_type);
    const char *name = nncw_onnx_str(np->name);
    if (strlen(name) > 128)
        snprintf(im->node_name, sizeof im->node_name, "%.128s...", name);
    else if (name[0])
        snprintf(im->node_name, sizeof im->node_name, "%s", name);
    else /* stable generated names: the op type and the node's position */
        snprintf(im->node_name, sizeof im->node_name, "%.64s_%zu", op[0] ? op : "node", index);
    if (!op[0])
        return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "the node has no op type");
    if (np->n_input > 64 || np->n_output > 64)
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED, "%zu inputs and %zu outputs",
                                   np->n_input, np->n_output);
    const char *domain = nncw_onnx_str(np->domain);
    if (domain[0] && strcmp(domain, "ai.onnx") != 0 && !nncw_onnx_is_known_custom_op(domain, op))
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                         "node \"%s\": op %s.%s is not supported (only the "
                         "default ONNX domain is, and " NNCW_ONNX_OPENVINO_DOMAIN
                         "'s FakeQuantize)",
                         im->node_name, domain, op);
    if (im->opset == 0)
        return NNCW_FAIL(NNCW_ERR_PARSE,
                         "node \"%s\": op %s: the model imports no opset of the "
                         "default domain",
                         im->node_name, op);
    nncw_onnx_convert_fn fn = nncw_onnx_find_converter(op, im->opset);
    if (!fn)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "node \"%s\": op %s (opset %lld) is not supported",
                         im->node_name, op, (long long)im->opset);
    return fn(im);
}

static enum nncw_status read_opset(struct nncw_onnx_importer *im, const NncwOnnx__ModelProto *m)
{
    im->opset = 0;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const char *d = nncw_onnx_str(m->opset_import[i]->domain);
        if (!d[0] || strcmp(d, "ai.onnx") == 0)
            im->opset = m->opset_import[i]->has_version ? m->opset_import[i]->version : 0;
    }
    if (m->n_opset_import == 0 && m->has_ir_version && m->ir_version < 3)
        im->opset = 1; /* IR versions before 3 had no opset_import: opset 1 */
    if (im->opset < 0)
        return NNCW_FAIL(NNCW_ERR_PARSE, "opset %lld of the default domain", (long long)im->opset);
    if (im->opset > NNCW_ONNX_MAX_OPSET)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "opset %lld is newer than nncw knows (up to %d)",
                         (long long)im->opset, NNCW_ONNX_MAX_OPSET);
    return NNCW_OK;
}

static enum nncw_status import_model(struct nncw_onnx_importer *im, const NncwOnnx__ModelProto *m)
{
    NNCW_TRY(read_opset(im, m));
    if (!m->graph)
        return NNCW_FAIL(NNCW_ERR_PARSE, "the model has no graph");
    im->graph = m->graph;
    NNCW_TRY(nncw_graph_new(&im->g));
    NNCW_TRY(nncw_onnx_collect_used(im));
    NNCW_TRY(add_initializers(im));
    NNCW_TRY(add_inputs(im));
    for (size_t i = 0; i < m->graph->n_node; i++)
        NNCW_TRY(import_node(im, i));
    im->np = NULL;
    NNCW_TRY(add_outputs(im));
    /* a last check of the whole graph, as the executor will see it */
    return nncw_graph_infer_shapes(im->g, im->batch[0]);
}

static void importer_fini(struct nncw_onnx_importer *im)
{
    nncw_onnx_symtab_fini(im);
    nncw_graph_free(im->g);
}

/* imports from memory; every failure is prefixed with `what` (the path) */
static enum nncw_status import_data(const void *data, size_t len,
                                    const struct nncw_onnx_import_options *opt, const char *what,
                                    struct nncw_graph **out)
{
    static const struct nncw_onnx_import_options defaults = {0};
    ProtobufCMessage *m = NULL;
    NNCW_TRY(nncw_onnx_unpack(&nncw_onnx__model_proto__descriptor, data, len, what, &m));
    struct nncw_onnx_importer im;
    memset(&im, 0, sizeof im);
    im.opt = opt ? opt : &defaults;
    im.max_fold_bytes = im.opt->max_fold_bytes ? im.opt->max_fold_bytes : (size_t)64 << 20;
    im.fold_budget = 16 * im.max_fold_bytes;
    enum nncw_status s = import_model(&im, (const NncwOnnx__ModelProto *)m);
    if (s == NNCW_OK) {
        *out = im.g;
        im.g = NULL;
    } else {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", nncw_last_error());
        s = NNCW_FAIL(s, "%s: %s", what, msg);
    }
    importer_fini(&im);
    nncw_onnx_message_free(m);
    return s;
}

enum nncw_status nncw_onnx_import_buffer(const void *data, size_t len,
                                         const struct nncw_onnx_import_options *opt,
                                         struct nncw_graph **out)
{
    return import_data(data, len, opt, "onnx model", out);
}

enum nncw_status nncw_onnx_import_file(const char *path, const struct nncw_onnx_import_options *opt,
                                       struct nncw_graph **out)
{
    void *data = NULL;
    size_t len = 0;
    NNCW_TRY(nncw_onnx_read_file(path, opt ? opt->max_file_bytes : 0, &data, &len));
    enum nncw_status s = import_data(data, len, opt, path, out);
    nncw_free(data);
    return s;
}
