/*
** Graph IR -> ONNX ModelProto (opset 13 by default).
**
** Parameters become initializers (raw little-endian data borrowed from the graph while
** packing), graph inputs keep a symbolic first dimension "batch" when the graph has one,
** outputs carry the shapes shape inference gives. Nodes are written in topological order with
** their scope names and attributes. nncw-only ops are spelled in ONNX (Swish as Sigmoid and
** Mul, Embedding as Gather), and the opset-6/10 attribute forms some ops accept (Clip min/max,
** Pad pads/value, Dropout ratio) become the inputs opset 13 wants.
**
** Everything the message points to is allocated from a small arena freed in one go.
*/
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "onnx/onnx_internal.h"

struct block {
    struct block *next;
    max_align_t data[];
};

struct nncw_onnx_exporter {
    struct nncw_graph *g;
    const struct nncw_onnx_export_options *opt; /* never NULL */
    int opset;
    bool openvino_domain; /* a node of org.openvinotoolkit was written (export_quant.c) */
    struct block *blocks;
    NncwOnnx__NodeProto **nodes;
    size_t n_nodes, cap_nodes;
    NncwOnnx__TensorProto **inits;
    size_t n_inits, cap_inits;
};

static void *ex_alloc(struct nncw_onnx_exporter *e, size_t n)
{
    struct block *b = nncw_calloc(1, sizeof *b + n);
    if (!b)
        return NULL;
    b->next = e->blocks;
    e->blocks = b;
    return b->data;
}

static char *ex_strdup(struct nncw_onnx_exporter *e, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = ex_alloc(e, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static bool push(struct nncw_onnx_exporter *e, void ***arr, size_t *n, size_t *cap, void *item)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        void **p = nncw_realloc(*arr, nc * sizeof *p);
        if (!p)
            return false;
        *arr = p;
        *cap = nc;
    }
    (*arr)[(*n)++] = item;
    (void)e;
    return true;
}

#define NOMEM() NNCW_FAIL(NNCW_ERR_NOMEM, "onnx export: out of memory")

/* ---- initializers ---- */

/* an initializer describing t (whose data must live until packing) */
static enum nncw_status add_init(struct nncw_onnx_exporter *e, const char *name,
                                 const struct nncw_tensor *t)
{
    NncwOnnx__TensorProto *tp = ex_alloc(e, sizeof *tp);
    int64_t *dims = ex_alloc(e, NNCW_MAX_DIMS * sizeof *dims);
    char *nm = ex_strdup(e, name);
    if (!tp || !dims || !nm)
        return NOMEM();
    if (nncw_onnx_dtype_to_proto(t->dtype) == NNCW_ONNX_DT_UNDEFINED)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "onnx export: '%s' is %s, which ONNX lacks", name,
                         nncw_dtype_name(t->dtype));
    const struct nncw_tensor *src = t;
    struct nncw_tensor c;
    if (!nncw_tensor_is_contiguous(t)) { /* pack a contiguous copy kept in the arena */
        void *data = ex_alloc(e, nncw_tensor_nbytes(t));
        if (!data)
            return NOMEM();
        nncw_tensor_init_borrowed(&c, t->dtype, t->ndim, t->shape, data);
        NNCW_TRY(nncw_tensor_copy(&c, t));
        src = &c;
    }
    nncw_onnx_tensor_to_proto(src, nm, dims, tp);
    if (!push(e, (void ***)&e->inits, &e->n_inits, &e->cap_inits, tp))
        return NOMEM();
    return NNCW_OK;
}

/* a new scalar or vector initializer with arena-owned data; returns its name */
static enum nncw_status add_const(struct nncw_onnx_exporter *e, const char *name,
                                  enum nncw_dtype dt, int n, const void *v, bool scalar)
{
    size_t nb = (size_t)n * nncw_dtype_size(dt);
    void *data = ex_alloc(e, nb ? nb : 1);
    if (!data)
        return NOMEM();
    if (nb)
        memcpy(data, v, nb);
    struct nncw_tensor t;
    int64_t shape[1] = {n};
    nncw_tensor_init_borrowed(&t, dt, scalar ? 0 : 1, shape, data);
    return add_init(e, name, &t);
}

/* ---- nodes ---- */

static NncwOnnx__NodeProto *new_node(struct nncw_onnx_exporter *e, const char *op_type,
                                     const char *name, int n_in, int n_out, int max_attrs)
{
    NncwOnnx__NodeProto *np = ex_alloc(e, sizeof *np);
    if (!np)
        return NULL;
    nncw_onnx__node_proto__init(np);
    np->op_type = ex_strdup(e, op_type);
    np->name = ex_strdup(e, name);
    np->input = ex_alloc(e, (size_t)(n_in + 1) * sizeof *np->input);
    np->output = ex_alloc(e, (size_t)(n_out + 1) * sizeof *np->output);
    np->attribute = ex_alloc(e, (size_t)(max_attrs + 1) * sizeof *np->attribute);
    if (!np->op_type || !np->name || !np->input || !np->output || !np->attribute)
        return NULL;
    np->n_input = (size_t)n_in;
    np->n_output = (size_t)n_out;
    for (int i = 0; i < n_in; i++)
        np->input[i] = "";
    return np;
}

static NncwOnnx__AttributeProto *new_attr(struct nncw_onnx_exporter *e, NncwOnnx__NodeProto *np,
                                          const char *name)
{
    NncwOnnx__AttributeProto *a = ex_alloc(e, sizeof *a);
    if (!a)
        return NULL;
    nncw_onnx__attribute_proto__init(a);
    a->name = ex_strdup(e, name);
    if (!a->name)
        return NULL;
    a->has_type = 1;
    np->attribute[np->n_attribute++] = a;
    return a;
}

static enum nncw_status attr_int(struct nncw_onnx_exporter *e, NncwOnnx__NodeProto *np,
                                 const char *name, int64_t v)
{
    NncwOnnx__AttributeProto *a = new_attr(e, np, name);
    if (!a)
        return NOMEM();
    a->type = NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = v;
    return NNCW_OK;
}

static enum nncw_status copy_attr(struct nncw_onnx_exporter *e, const struct nncw_node *n, int i,
                                  NncwOnnx__NodeProto *np)
{
    const char *name = nncw_node_get_attr_name(n, i);
    NncwOnnx__AttributeProto *a = new_attr(e, np, name);
    if (!a)
        return NOMEM();
    const int64_t *ints;
    const float *floats;
    int count;
    switch (nncw_node_get_attr_type(n, i)) {
    case NNCW_ATTR_INT:
        a->type = NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
        a->has_i = 1;
        a->i = nncw_node_get_attr_int(n, name, 0);
        break;
    case NNCW_ATTR_FLOAT:
        a->type = NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
        a->has_f = 1;
        a->f = nncw_node_get_attr_float(n, name, 0.0f);
        break;
    case NNCW_ATTR_INTS:
        a->type = NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
        count = nncw_node_get_attr_ints(n, name, &ints);
        a->n_ints = count > 0 ? (size_t)count : 0;
        a->ints = (int64_t *)ints;
        break;
    case NNCW_ATTR_FLOATS:
        a->type = NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
        count = nncw_node_get_attr_floats(n, name, &floats);
        a->n_floats = count > 0 ? (size_t)count : 0;
        a->floats = (float *)floats;
        break;
    default: {
        const char *s = nncw_node_get_attr_string(n, name, "");
        a->type = NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
        a->has_s = 1;
        a->s.len = strlen(s);
        a->s.data = (uint8_t *)s;
        break;
    }
    }
    return NNCW_OK;
}

static const char *value_name(const struct nncw_onnx_exporter *e, int id)
{
    /* a disabled quantizer is not written: its readers read its input */
    return id >= 0 ? nncw_graph_get_value_name(e->g, nncw_onnx_export_quant_alias(e->g, id)) : "";
}

/* an attribute of the old form that becomes input `slot`: its initializer is named after the
 * node */
static enum nncw_status attr_to_input(struct nncw_onnx_exporter *e, const struct nncw_node *n,
                                      NncwOnnx__NodeProto *np, int slot, const char *attr,
                                      const char *what)
{
    char name[600];
    snprintf(name, sizeof name, "%s/%s", nncw_node_get_name(n), what);
    const int64_t *ints;
    int count = nncw_node_get_attr_ints(n, attr, &ints);
    if (count >= 0) {
        NNCW_TRY(add_const(e, name, NNCW_DTYPE_I64, count, ints, false));
    } else {
        float v = nncw_node_get_attr_float(n, attr, 0.0f);
        NNCW_TRY(add_const(e, name, NNCW_DTYPE_F32, 1, &v, true));
    }
    while ((int)np->n_input <= slot)
        np->input[np->n_input++] = "";
    np->input[slot] = ex_strdup(e, name);
    return np->input[slot] ? NNCW_OK : NOMEM();
}

/* opset-13 spelling of attributes that older opsets had: which become inputs */
struct moved_attr {
    enum nncw_op op;
    const char *attr;
    int slot;
    const char *what;
};

static const struct moved_attr moved[] = {
    {NNCW_OP_CLIP, "min", 1, "min"},        {NNCW_OP_CLIP, "max", 2, "max"},
    {NNCW_OP_PAD, "pads", 1, "pads"},       {NNCW_OP_PAD, "value", 2, "constant_value"},
    {NNCW_OP_DROPOUT, "ratio", 1, "ratio"},
};

static const struct moved_attr *moved_of(enum nncw_op op, const char *attr)
{
    for (size_t i = 0; i < sizeof moved / sizeof moved[0]; i++)
        if (moved[i].op == op && strcmp(moved[i].attr, attr) == 0)
            return &moved[i];
    return NULL;
}

static enum nncw_status export_generic(struct nncw_onnx_exporter *e, const struct nncw_node *n,
                                       const char *op_type)
{
    int n_in = nncw_node_count_inputs(n), n_out = nncw_node_count_outputs(n);
    int n_attrs = nncw_node_count_attrs(n);
    NncwOnnx__NodeProto *np = new_node(e, op_type, nncw_node_get_name(n), n_in + 3, n_out, n_attrs);
    if (!np)
        return NOMEM();
    np->n_input = (size_t)n_in;
    for (int i = 0; i < n_in; i++)
        np->input[i] = (char *)value_name(e, nncw_node_get_input(n, i));
    for (int o = 0; o < n_out; o++)
        np->output[o] = (char *)value_name(e, nncw_node_get_output(n, o));
    enum nncw_op op = nncw_node_get_op(n);
    for (int i = 0; i < n_attrs; i++) {
        const char *name = nncw_node_get_attr_name(n, i);
        const struct moved_attr *m = moved_of(op, name);
        if (!m) {
            NNCW_TRY(copy_attr(e, n, i, np));
            continue;
        }
        /* the input wins when the node has both */
        if (m->slot < n_in && nncw_node_get_input(n, m->slot) >= 0)
            continue;
        NNCW_TRY(attr_to_input(e, n, np, m->slot, name, m->what));
    }
    if (!push(e, (void ***)&e->nodes, &e->n_nodes, &e->cap_nodes, np))
        return NOMEM();
    return NNCW_OK;
}

/* Swish(x) = x * Sigmoid(x) */
static enum nncw_status export_swish(struct nncw_onnx_exporter *e, const struct nncw_node *n)
{
    char name[600], mid[600];
    snprintf(name, sizeof name, "%s/sigmoid", nncw_node_get_name(n));
    snprintf(mid, sizeof mid, "%s/sigmoid", value_name(e, nncw_node_get_output(n, 0)));
    const char *x = value_name(e, nncw_node_get_input(n, 0));
    NncwOnnx__NodeProto *s = new_node(e, "Sigmoid", name, 1, 1, 0);
    NncwOnnx__NodeProto *m = new_node(e, "Mul", nncw_node_get_name(n), 2, 1, 0);
    if (!s || !m || !(s->output[0] = ex_strdup(e, mid)))
        return NOMEM();
    s->input[0] = (char *)x;
    m->input[0] = (char *)x;
    m->input[1] = s->output[0];
    m->output[0] = (char *)value_name(e, nncw_node_get_output(n, 0));
    if (!push(e, (void ***)&e->nodes, &e->n_nodes, &e->cap_nodes, s) ||
        !push(e, (void ***)&e->nodes, &e->n_nodes, &e->cap_nodes, m))
        return NOMEM();
    return NNCW_OK;
}

/* Embedding(weight, indices) = Gather(weight, indices, axis 0) */
static enum nncw_status export_embedding(struct nncw_onnx_exporter *e, const struct nncw_node *n)
{
    NncwOnnx__NodeProto *np = new_node(e, "Gather", nncw_node_get_name(n), 2, 1, 1);
    if (!np)
        return NOMEM();
    np->input[0] = (char *)value_name(e, nncw_node_get_input(n, 0));
    np->input[1] = (char *)value_name(e, nncw_node_get_input(n, 1));
    np->output[0] = (char *)value_name(e, nncw_node_get_output(n, 0));
    NNCW_TRY(attr_int(e, np, "axis", 0));
    if (!push(e, (void ***)&e->nodes, &e->n_nodes, &e->cap_nodes, np))
        return NOMEM();
    return NNCW_OK;
}

static enum nncw_status export_node(struct nncw_onnx_exporter *e, const struct nncw_node *n)
{
    enum nncw_op op = nncw_node_get_op(n);
    if (op == NNCW_OP_SWISH)
        return export_swish(e, n);
    if (op == NNCW_OP_EMBEDDING)
        return export_embedding(e, n);
    if (nncw_onnx_is_quant_op(op))
        return nncw_onnx_export_quant_node(e, n);
    const char *onnx = nncw_op_get_def(op)->onnx_name;
    if (!onnx)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "onnx export: node '%s': op %s has no ONNX form",
                         nncw_node_get_name(n), nncw_op_name(op));
    int since = nncw_onnx_op_since(op);
    if (since > e->opset)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                         "onnx export: node '%s': op %s needs opset %d (exporting %d)",
                         nncw_node_get_name(n), onnx, since, e->opset);
    return export_generic(e, n, onnx);
}

/* ---- services for export_quant.c ---- */

struct nncw_graph *nncw_onnx_ex_graph(const struct nncw_onnx_exporter *e)
{
    return e->g;
}

const struct nncw_onnx_export_options *nncw_onnx_ex_options(const struct nncw_onnx_exporter *e)
{
    return e->opt;
}

void *nncw_onnx_ex_alloc(struct nncw_onnx_exporter *e, size_t n)
{
    return ex_alloc(e, n);
}

char *nncw_onnx_ex_strdup(struct nncw_onnx_exporter *e, const char *s)
{
    return ex_strdup(e, s);
}

NncwOnnx__NodeProto *nncw_onnx_ex_new_node(struct nncw_onnx_exporter *e, const char *op_type,
                                           const char *name, int n_in, int n_out, int max_attrs)
{
    return new_node(e, op_type, name, n_in, n_out, max_attrs);
}

enum nncw_status nncw_onnx_ex_push_node(struct nncw_onnx_exporter *e, NncwOnnx__NodeProto *np)
{
    if (np->domain && strcmp(np->domain, NNCW_ONNX_OPENVINO_DOMAIN) == 0)
        e->openvino_domain = true;
    return push(e, (void ***)&e->nodes, &e->n_nodes, &e->cap_nodes, np) ? NNCW_OK : NOMEM();
}

enum nncw_status nncw_onnx_ex_attr_int(struct nncw_onnx_exporter *e, NncwOnnx__NodeProto *np,
                                       const char *name, int64_t v)
{
    return attr_int(e, np, name, v);
}

enum nncw_status nncw_onnx_ex_add_init(struct nncw_onnx_exporter *e, const char *name,
                                       const struct nncw_tensor *t)
{
    return add_init(e, name, t);
}

const char *nncw_onnx_ex_value_name(const struct nncw_onnx_exporter *e, int id)
{
    return value_name(e, id);
}

/* ---- graph inputs and outputs ---- */

static NncwOnnx__ValueInfoProto *value_info(struct nncw_onnx_exporter *e, const char *name,
                                            enum nncw_dtype dt, int ndim, const int64_t *shape,
                                            const bool *batch_dim)
{
    NncwOnnx__ValueInfoProto *vi = ex_alloc(e, sizeof *vi);
    NncwOnnx__TypeProto *tp = ex_alloc(e, sizeof *tp);
    NncwOnnx__TypeProto__Tensor *tt = ex_alloc(e, sizeof *tt);
    NncwOnnx__TensorShapeProto *sp = ex_alloc(e, sizeof *sp);
    NncwOnnx__TensorShapeProto__Dimension **dims = ex_alloc(e, (size_t)(ndim + 1) * sizeof *dims);
    if (!vi || !tp || !tt || !sp || !dims)
        return NULL;
    nncw_onnx__value_info_proto__init(vi);
    nncw_onnx__type_proto__init(tp);
    nncw_onnx__type_proto__tensor__init(tt);
    nncw_onnx__tensor_shape_proto__init(sp);
    for (int d = 0; d < ndim; d++) {
        dims[d] = ex_alloc(e, sizeof **dims);
        if (!dims[d])
            return NULL;
        nncw_onnx__tensor_shape_proto__dimension__init(dims[d]);
        if (batch_dim[d]) {
            dims[d]->value_case = NNCW_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dims[d]->dim_param = "batch";
        } else {
            dims[d]->value_case = NNCW_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dims[d]->dim_value = shape[d];
        }
    }
    sp->n_dim = (size_t)ndim;
    sp->dim = dims;
    tt->has_elem_type = 1;
    tt->elem_type = nncw_onnx_dtype_to_proto(dt);
    tt->shape = sp;
    tp->value_case = NNCW_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->name = ex_strdup(e, name);
    vi->type = tp;
    return vi->name ? vi : NULL;
}

/* graph output shapes; a dimension that changes with the batch size is symbolic */
static enum nncw_status output_infos(struct nncw_onnx_exporter *e, bool dynamic,
                                     NncwOnnx__ValueInfoProto **out)
{
    struct nncw_graph *g = e->g;
    int n = nncw_graph_count_outputs(g);
    int64_t(*shape2)[NNCW_MAX_DIMS] = nncw_calloc((size_t)(n ? n : 1), sizeof *shape2);
    if (!shape2)
        return NOMEM();
    enum nncw_status s = NNCW_OK;
    if (dynamic) {
        s = nncw_graph_infer_shapes(g, 2);
        for (int i = 0; i < n && s == NNCW_OK; i++)
            memcpy(shape2[i], nncw_graph_get_value_tensor(g, nncw_graph_get_output(g, i))->shape,
                   sizeof shape2[i]);
    }
    if (s == NNCW_OK)
        s = nncw_graph_infer_shapes(g, 1);
    for (int i = 0; i < n && s == NNCW_OK; i++) {
        int id = nncw_graph_get_output(g, i);
        const struct nncw_tensor *t = nncw_graph_get_value_tensor(g, id);
        bool batch[NNCW_MAX_DIMS] = {false};
        for (int d = 0; dynamic && d < t->ndim; d++)
            batch[d] = shape2[i][d] != t->shape[d];
        out[i] =
            value_info(e, nncw_graph_get_value_name(g, id), t->dtype, t->ndim, t->shape, batch);
        if (!out[i])
            s = NOMEM();
    }
    nncw_free(shape2);
    return s;
}

static enum nncw_status build_graph(struct nncw_onnx_exporter *e, NncwOnnx__GraphProto *gp)
{
    struct nncw_graph *g = e->g;
    const int *order;
    NNCW_TRY(nncw_graph_topo_order(g, &order));
    NNCW_TRY(nncw_graph_infer_shapes(g, 1)); /* quantizer export reads the ranks of values */
    for (int k = 0; k < nncw_graph_count_nodes(g); k++)
        NNCW_TRY(export_node(e, nncw_graph_get_node(g, order[k])));
    for (int i = 0; i < nncw_graph_count_params(g); i++) {
        int id = nncw_graph_get_param(g, i);
        if (nncw_onnx_export_quant_drops_param(e, id)) /* ranges become FakeQuantize inputs */
            continue;
        NNCW_TRY(add_init(e, nncw_graph_get_value_name(g, id), nncw_graph_get_value_tensor(g, id)));
    }
    int n_in = nncw_graph_count_inputs(g), n_out = nncw_graph_count_outputs(g);
    NncwOnnx__ValueInfoProto **ins = ex_alloc(e, (size_t)(n_in + 1) * sizeof *ins);
    NncwOnnx__ValueInfoProto **outs = ex_alloc(e, (size_t)(n_out + 1) * sizeof *outs);
    if (!ins || !outs)
        return NOMEM();
    bool dynamic = false;
    for (int i = 0; i < n_in; i++) {
        int id = nncw_graph_get_input(g, i);
        const struct nncw_tensor *t = nncw_graph_get_value_tensor(g, id);
        bool batch[NNCW_MAX_DIMS] = {false};
        batch[0] = nncw_graph_has_dynamic_batch(g, id);
        dynamic |= batch[0];
        ins[i] =
            value_info(e, nncw_graph_get_value_name(g, id), t->dtype, t->ndim, t->shape, batch);
        if (!ins[i])
            return NOMEM();
    }
    NNCW_TRY(output_infos(e, dynamic, outs));
    gp->name = "nncw";
    gp->n_node = e->n_nodes;
    gp->node = e->nodes;
    gp->n_initializer = e->n_inits;
    gp->initializer = e->inits;
    gp->n_input = (size_t)n_in;
    gp->input = ins;
    gp->n_output = (size_t)n_out;
    gp->output = outs;
    return NNCW_OK;
}

enum nncw_status nncw_onnx_export_buffer(struct nncw_graph *g,
                                         const struct nncw_onnx_export_options *opt, void **data,
                                         size_t *len)
{
    int opset = opt && opt->opset ? opt->opset : NNCW_ONNX_DEFAULT_OPSET;
    if (opset < NNCW_ONNX_DEFAULT_OPSET || opset > NNCW_ONNX_MAX_OPSET)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "onnx export: opset %d (nncw writes %d to %d)",
                         opset, NNCW_ONNX_DEFAULT_OPSET, NNCW_ONNX_MAX_OPSET);
    if (nncw_graph_count_outputs(g) == 0)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "onnx export: the graph has no outputs");
    static const struct nncw_onnx_export_options defaults = {0};
    struct nncw_onnx_exporter e = {.g = g, .opt = opt ? opt : &defaults};
    /* raise the opset to what the graph's ops need */
    for (int k = 0; k < nncw_graph_count_nodes(g); k++) {
        int since = nncw_onnx_op_since(nncw_node_get_op(nncw_graph_get_node(g, k)));
        if (since > opset)
            opset = since;
    }
    e.opset = opset;
    NncwOnnx__ModelProto model;
    NncwOnnx__GraphProto graph;
    NncwOnnx__OperatorSetIdProto os, os_openvino;
    NncwOnnx__OperatorSetIdProto *osp[2] = {&os, &os_openvino};
    nncw_onnx__model_proto__init(&model);
    nncw_onnx__graph_proto__init(&graph);
    nncw_onnx__operator_set_id_proto__init(&os);
    os.domain = "";
    os.has_version = 1;
    os.version = opset;
    nncw_onnx__operator_set_id_proto__init(&os_openvino);
    os_openvino.domain = NNCW_ONNX_OPENVINO_DOMAIN;
    os_openvino.has_version = 1;
    os_openvino.version = 1;
    model.has_ir_version = 1;
    model.ir_version = opset <= 13 ? 7 : 8;
    model.producer_name = (char *)(opt && opt->producer ? opt->producer : "nncw");
    model.n_opset_import = 1;
    model.opset_import = osp;
    model.graph = &graph;
    enum nncw_status s = build_graph(&e, &graph);
    if (e.openvino_domain)
        model.n_opset_import = 2;
    if (s == NNCW_OK) {
        size_t n = nncw_onnx__model_proto__get_packed_size(&model);
        uint8_t *buf = nncw_malloc(n ? n : 1);
        if (!buf) {
            s = NNCW_FAIL(NNCW_ERR_NOMEM, "onnx export: cannot allocate %zu bytes", n);
        } else {
            nncw_onnx__model_proto__pack(&model, buf);
            *data = buf;
            *len = n;
        }
    }
    while (e.blocks) {
        struct block *b = e.blocks;
        e.blocks = b->next;
        nncw_free(b);
    }
    nncw_free(e.nodes);
    nncw_free(e.inits);
    return s;
}

enum nncw_status nncw_onnx_export_file(struct nncw_graph *g, const char *path,
                                       const struct nncw_onnx_export_options *opt)
{
    void *data;
    size_t len;
    NNCW_TRY(nncw_onnx_export_buffer(g, opt, &data, &len));
    /* write beside the target and rename, so a failure never leaves half a model */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    enum nncw_status s = NNCW_OK;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        s = NNCW_FAIL(NNCW_ERR_IO, "%s: cannot create the file", path);
    } else {
        bool ok = fwrite(data, 1, len, f) == len;
        ok = fclose(f) == 0 && ok;
        if (!ok || rename(tmp, path) != 0) {
            remove(tmp);
            s = NNCW_FAIL(NNCW_ERR_IO, "%s: write error", path);
        }
    }
    nncw_free(data);
    return s;
}
