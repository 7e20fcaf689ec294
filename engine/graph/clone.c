/* A deep copy of a graph: same value ids and node indices, parameters with their own storage.
 * Compression keeps the float model this way (re-placing quantizers from scratch, distillation
 * teachers, accuracy-aware restarts). */
#include "graph/graph_internal.h"

#include <string.h>

#include "core/alloc.h"

static int *dup_ints(const int *a, int n)
{
    int *p = nncw_malloc((size_t)(n ? n : 1) * sizeof *p);
    if (p && n)
        memcpy(p, a, (size_t)n * sizeof *p);
    return p;
}

static enum nncw_status copy_attrs(struct nncw_node *dst, const struct nncw_node *src)
{
    for (int i = 0; i < src->n_attrs; i++) {
        const struct nncw_attr *a = &src->attrs[i];
        switch (a->type) {
        case ATTR_INT: NNCW_TRY(nncw_node_set_attr_int(dst, a->name, a->u.i)); break;
        case ATTR_FLOAT: NNCW_TRY(nncw_node_set_attr_float(dst, a->name, a->u.f)); break;
        case ATTR_INTS: NNCW_TRY(nncw_node_set_attr_ints(dst, a->name, a->count, a->u.ints)); break;
        case ATTR_FLOATS:
            NNCW_TRY(nncw_node_set_attr_floats(dst, a->name, a->count, a->u.floats));
            break;
        case ATTR_STRING: NNCW_TRY(nncw_node_set_attr_string(dst, a->name, a->u.s)); break;
        }
    }
    return NNCW_OK;
}

static enum nncw_status copy_value(struct nncw_value *dst, const struct nncw_value *src)
{
    memset(dst, 0, sizeof *dst);
    dst->name = nncw_strdup(src->name);
    if (!dst->name)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "graph clone: out of memory");
    dst->kind = src->kind;
    dst->trainable = src->trainable;
    dst->dynamic_batch = src->dynamic_batch;
    dst->producer = src->producer;
    if (src->kind == NNCW_VALUE_PARAM) {
        NNCW_TRY(nncw_tensor_init(&dst->t, src->t.dtype, src->t.ndim, src->t.shape));
        return nncw_tensor_copy(&dst->t, &src->t);
    }
    /* inputs and activations: the shape only */
    nncw_tensor_init_borrowed(&dst->t, src->t.dtype, src->t.ndim, src->t.shape, NULL);
    return NNCW_OK;
}

static enum nncw_status copy_node(struct nncw_node **out, const struct nncw_node *src)
{
    struct nncw_node *n = nncw_calloc(1, sizeof *n);
    if (!n)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "graph clone: out of memory");
    *out = n;
    n->op = src->op;
    n->index = src->index;
    n->n_in = src->n_in;
    n->n_out = src->n_out;
    n->name = nncw_strdup(src->name);
    n->in = dup_ints(src->in, src->n_in);
    n->out = dup_ints(src->out, src->n_out);
    if (!n->name || !n->in || !n->out)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "graph clone: out of memory");
    return copy_attrs(n, src);
}

enum nncw_status nncw_graph_clone(const struct nncw_graph *src, struct nncw_graph **out)
{
    struct nncw_graph *g;
    NNCW_TRY(nncw_graph_new(&g));
    enum nncw_status s = NNCW_OK;
    g->values = nncw_calloc((size_t)(src->n_values ? src->n_values : 1), sizeof *g->values);
    g->nodes = nncw_calloc((size_t)(src->n_nodes ? src->n_nodes : 1), sizeof *g->nodes);
    g->inputs = dup_ints(src->inputs, src->n_inputs);
    g->outputs = dup_ints(src->outputs, src->n_outputs);
    g->params = dup_ints(src->params, src->n_params);
    if (!g->values || !g->nodes || !g->inputs || !g->outputs || !g->params)
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "graph clone: out of memory");
    else {
        g->cap_values = src->n_values ? src->n_values : 1;
        g->cap_nodes = src->n_nodes ? src->n_nodes : 1;
        g->n_inputs = src->n_inputs;
        g->n_outputs = src->n_outputs;
        g->n_params = src->n_params;
    }
    for (int i = 0; i < src->n_values && s == NNCW_OK; i++) {
        g->n_values++; /* counted first so that freeing a partial clone frees this one too */
        s = copy_value(&g->values[i], &src->values[i]);
    }
    for (int i = 0; i < src->n_nodes && s == NNCW_OK; i++) {
        s = copy_node(&g->nodes[i], src->nodes[i]);
        if (g->nodes[i])
            g->n_nodes++;
    }
    if (s != NNCW_OK) {
        nncw_graph_free(g);
        return s;
    }
    *out = g;
    return NNCW_OK;
}

enum nncw_status nncw_graph_assign(struct nncw_graph *dst, const struct nncw_graph *src)
{
    struct nncw_graph *copy;
    NNCW_TRY(nncw_graph_clone(src, &copy));
    struct nncw_graph old = *dst;
    *dst = *copy;
    *copy = old;
    nncw_graph_free(copy); /* frees dst's former contents */
    return NNCW_OK;
}
