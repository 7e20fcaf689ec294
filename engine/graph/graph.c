#include "graph/graph_internal.h"

#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/common.h"

enum nncw_status nncw_graph_new(struct nncw_graph **out)
{
    struct nncw_graph *g = nncw_calloc(1, sizeof *g);
    if (!g)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "graph: out of memory");
    *out = g;
    return NNCW_OK;
}

void nncw_graph_free(struct nncw_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_nodes; i++) {
        struct nncw_node *n = g->nodes[i];
        nncw_attr_free_all(n);
        nncw_free(n->name);
        nncw_free(n->in);
        nncw_free(n->out);
        nncw_free(n);
    }
    for (int i = 0; i < g->n_values; i++) {
        nncw_free(g->values[i].name);
        nncw_tensor_fini(&g->values[i].t);
        nncw_tensor_fini(&g->values[i].grad);
    }
    nncw_free(g->nodes);
    nncw_free(g->values);
    nncw_free(g->inputs);
    nncw_free(g->outputs);
    nncw_free(g->params);
    nncw_free(g->order);
    nncw_free(g);
}

static void invalidate(struct nncw_graph *g)
{
    nncw_free(g->order);
    g->order = NULL;
}

/* grows an array of elem-sized items to hold at least need; 0 on success */
static int grow(void **arr, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return 0;
    int ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = nncw_realloc(*arr, (size_t)ncap * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

static int append_int(int **arr, int *n, int v)
{
    /* id lists are small; capacity is n rounded up, so grow by reallocating every time */
    int *p = nncw_realloc(*arr, (size_t)(*n + 1) * sizeof **arr);
    if (!p)
        return -1;
    p[(*n)++] = v;
    *arr = p;
    return 0;
}

static bool value_name_taken(const struct nncw_graph *g, const char *name)
{
    for (int i = 0; i < g->n_values; i++)
        if (strcmp(g->values[i].name, name) == 0)
            return true;
    return false;
}

static enum nncw_status add_value(struct nncw_graph *g, const char *name,
                                  enum nncw_value_kind kind, int *out_id)
{
    if (grow((void **)&g->values, &g->cap_values, g->n_values + 1, sizeof *g->values))
        return NNCW_FAIL(NNCW_ERR_NOMEM, "graph: out of memory adding value '%s'", name);
    struct nncw_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->name = nncw_strdup(name);
    if (!v->name)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "graph: out of memory adding value '%s'", name);
    v->kind = kind;
    v->producer = -1;
    *out_id = g->n_values++;
    return NNCW_OK;
}

enum nncw_status nncw_graph_add_input(struct nncw_graph *g, const char *name, enum nncw_dtype dt,
                                      int ndim, const int64_t *shape, int *out_id)
{
    if (ndim < 0 || ndim > NNCW_MAX_DIMS)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "graph input '%s': %d dimensions", name, ndim);
    if (value_name_taken(g, name))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "graph input '%s': name already used", name);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < (i == 0 ? -1 : 0))
            return NNCW_FAIL(NNCW_ERR_SHAPE, "graph input '%s': dimension %d is %lld", name, i,
                             (long long)shape[i]);
    int id;
    NNCW_TRY(add_value(g, name, NNCW_VALUE_INPUT, &id));
    if (append_int(&g->inputs, &g->n_inputs, id))
        return NNCW_FAIL(NNCW_ERR_NOMEM, "graph: out of memory");
    nncw_tensor_init_borrowed(&g->values[id].t, dt, ndim, shape, NULL);
    g->values[id].dynamic_batch = ndim > 0 && shape[0] == -1;
    *out_id = id;
    return NNCW_OK;
}

enum nncw_status nncw_graph_add_param(struct nncw_graph *g, const char *name,
                                      const struct nncw_tensor *init, bool trainable, int *out_id)
{
    if (!init->storage)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "graph param '%s': tensor owns no storage", name);
    if (value_name_taken(g, name))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "graph param '%s': name already used", name);
    int id;
    NNCW_TRY(add_value(g, name, NNCW_VALUE_PARAM, &id));
    if (append_int(&g->params, &g->n_params, id))
        return NNCW_FAIL(NNCW_ERR_NOMEM, "graph: out of memory");
    struct nncw_value *v = &g->values[id];
    v->t = *init;
    nncw_storage_retain(init->storage);
    v->trainable = trainable && init->dtype == NNCW_DTYPE_F32;
    *out_id = id;
    return NNCW_OK;
}

static bool node_name_taken(const struct nncw_graph *g, const char *name)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i]->name, name) == 0)
            return true;
    return false;
}

enum nncw_status nncw_graph_add_node(struct nncw_graph *g, enum nncw_op op, const char *scope,
                                     int n_in, const int *in_ids, int n_out, int *out_ids,
                                     struct nncw_node **out_node)
{
    if ((unsigned)op >= NNCW_OP_COUNT)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "node '%s': unknown op %d", scope, (int)op);
    const struct nncw_op_def *d = nncw_op_get_def(op);
    if (n_in < d->n_in_min || n_in > d->n_in_max)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "node '%s': %s takes %d to %d inputs, got %d",
                         scope, d->name, d->n_in_min, d->n_in_max, n_in);
    if (n_out < 1 || n_out > d->n_out)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "node '%s': %s has %d outputs, asked for %d",
                         scope, d->name, d->n_out, n_out);
    if (node_name_taken(g, scope))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "node '%s': scope name already used", scope);
    for (int i = 0; i < n_in; i++)
        if (in_ids[i] < -1 || in_ids[i] >= g->n_values || (in_ids[i] == -1 && i < d->n_in_min))
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "node '%s': input %d refers to no value",
                             scope, i);
    if (grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes))
        return NNCW_FAIL(NNCW_ERR_NOMEM, "graph: out of memory adding node '%s'", scope);
    struct nncw_node *n = nncw_calloc(1, sizeof *n);
    if (!n)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "graph: out of memory adding node '%s'", scope);
    n->name = nncw_strdup(scope);
    n->in = nncw_malloc((size_t)(n_in ? n_in : 1) * sizeof *n->in);
    n->out = nncw_malloc((size_t)n_out * sizeof *n->out);
    if (!n->name || !n->in || !n->out)
        goto nomem;
    n->op = op;
    n->index = g->n_nodes;
    n->n_in = n_in;
    if (n_in)
        memcpy(n->in, in_ids, (size_t)n_in * sizeof *n->in);
    for (int i = 0; i < n_out; i++) {
        char vname[512];
        if (n_out == 1)
            snprintf(vname, sizeof vname, "%s", scope);
        else
            snprintf(vname, sizeof vname, "%s:%d", scope, i);
        int id;
        /* activation names follow their node's unique scope, so they cannot clash with
         * another node's; a clash with an input or parameter name gets a suffix */
        if (value_name_taken(g, vname))
            snprintf(vname + strlen(vname), sizeof vname - strlen(vname), "#out%d", i);
        if (add_value(g, vname, NNCW_VALUE_ACT, &id) != NNCW_OK)
            goto nomem;
        g->values[id].producer = n->index;
        n->out[i] = id;
        n->n_out = i + 1;
        out_ids[i] = id;
    }
    g->nodes[g->n_nodes++] = n;
    invalidate(g);
    if (out_node)
        *out_node = n;
    return NNCW_OK;
nomem:
    /* the values already added stay as orphans named after the node: harmless */
    nncw_free(n->name);
    nncw_free(n->in);
    nncw_free(n->out);
    nncw_free(n);
    return NNCW_FAIL(NNCW_ERR_NOMEM, "graph: out of memory adding node '%s'", scope);
}

enum nncw_status nncw_graph_add_output(struct nncw_graph *g, int value_id)
{
    if (value_id < 0 || value_id >= g->n_values)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "graph output: no value %d", value_id);
    if (append_int(&g->outputs, &g->n_outputs, value_id))
        return NNCW_FAIL(NNCW_ERR_NOMEM, "graph: out of memory");
    invalidate(g);
    return NNCW_OK;
}

enum nncw_status nncw_graph_set_value_name(struct nncw_graph *g, int id, const char *name)
{
    if (id < 0 || id >= g->n_values)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "graph: no value %d to rename", id);
    if (strcmp(g->values[id].name, name) == 0)
        return NNCW_OK;
    if (value_name_taken(g, name))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "graph: cannot rename '%s' to '%s': name already used",
                         g->values[id].name, name);
    char *dup = nncw_strdup(name);
    if (!dup)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "graph: out of memory renaming '%s'", name);
    nncw_free(g->values[id].name);
    g->values[id].name = dup;
    return NNCW_OK;
}

enum nncw_op nncw_node_get_op(const struct nncw_node *n)
{
    return n->op;
}

const char *nncw_node_get_name(const struct nncw_node *n)
{
    return n->name;
}

int nncw_node_get_index(const struct nncw_node *n)
{
    return n->index;
}

int nncw_node_count_inputs(const struct nncw_node *n)
{
    return n->n_in;
}

int nncw_node_get_input(const struct nncw_node *n, int i)
{
    return i >= 0 && i < n->n_in ? n->in[i] : -1;
}

int nncw_node_count_outputs(const struct nncw_node *n)
{
    return n->n_out;
}

int nncw_node_get_output(const struct nncw_node *n, int i)
{
    return i >= 0 && i < n->n_out ? n->out[i] : -1;
}

int nncw_graph_count_nodes(const struct nncw_graph *g)
{
    return g->n_nodes;
}

struct nncw_node *nncw_graph_get_node(const struct nncw_graph *g, int index)
{
    return index >= 0 && index < g->n_nodes ? g->nodes[index] : NULL;
}

int nncw_graph_count_values(const struct nncw_graph *g)
{
    return g->n_values;
}

const char *nncw_graph_get_value_name(const struct nncw_graph *g, int id)
{
    NNCW_ASSERT(id >= 0 && id < g->n_values);
    return g->values[id].name;
}

enum nncw_value_kind nncw_graph_get_value_kind(const struct nncw_graph *g, int id)
{
    NNCW_ASSERT(id >= 0 && id < g->n_values);
    return g->values[id].kind;
}

struct nncw_tensor *nncw_graph_get_value_tensor(const struct nncw_graph *g, int id)
{
    NNCW_ASSERT(id >= 0 && id < g->n_values);
    return &g->values[id].t;
}

struct nncw_tensor *nncw_graph_get_value_grad(const struct nncw_graph *g, int id)
{
    NNCW_ASSERT(id >= 0 && id < g->n_values);
    return g->values[id].grad.data ? &g->values[id].grad : NULL;
}

bool nncw_graph_is_trainable(const struct nncw_graph *g, int id)
{
    NNCW_ASSERT(id >= 0 && id < g->n_values);
    return g->values[id].trainable;
}

bool nncw_graph_has_dynamic_batch(const struct nncw_graph *g, int id)
{
    NNCW_ASSERT(id >= 0 && id < g->n_values);
    return g->values[id].dynamic_batch;
}

struct nncw_node *nncw_graph_get_producer(const struct nncw_graph *g, int id)
{
    NNCW_ASSERT(id >= 0 && id < g->n_values);
    int p = g->values[id].producer;
    return p >= 0 ? g->nodes[p] : NULL;
}

int nncw_graph_count_inputs(const struct nncw_graph *g)
{
    return g->n_inputs;
}

int nncw_graph_get_input(const struct nncw_graph *g, int i)
{
    NNCW_ASSERT(i >= 0 && i < g->n_inputs);
    return g->inputs[i];
}

int nncw_graph_count_outputs(const struct nncw_graph *g)
{
    return g->n_outputs;
}

int nncw_graph_get_output(const struct nncw_graph *g, int i)
{
    NNCW_ASSERT(i >= 0 && i < g->n_outputs);
    return g->outputs[i];
}

int nncw_graph_count_params(const struct nncw_graph *g)
{
    return g->n_params;
}

int nncw_graph_get_param(const struct nncw_graph *g, int i)
{
    NNCW_ASSERT(i >= 0 && i < g->n_params);
    return g->params[i];
}

int64_t nncw_graph_count_param_elements(const struct nncw_graph *g)
{
    int64_t n = 0;
    for (int i = 0; i < g->n_params; i++) {
        const struct nncw_value *v = &g->values[g->params[i]];
        if (v->trainable)
            n += nncw_tensor_numel(&v->t);
    }
    return n;
}

enum nncw_status nncw_graph_find_node(const struct nncw_graph *g, const char *scope,
                                      struct nncw_node **out)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i]->name, scope) == 0) {
            *out = g->nodes[i];
            return NNCW_OK;
        }
    return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "no node with scope '%s'", scope);
}

enum nncw_status nncw_scope_matches(const char *pattern, const char *name, bool *out)
{
    if (strncmp(pattern, "{re}", 4) != 0) {
        *out = strcmp(pattern, name) == 0;
        return NNCW_OK;
    }
    regex_t re;
    int rc = regcomp(&re, pattern + 4, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[128];
        regerror(rc, &re, msg, sizeof msg);
        return NNCW_FAIL(NNCW_ERR_PARSE, "scope pattern '%s': %s", pattern, msg);
    }
    *out = regexec(&re, name, 0, NULL, 0) == 0;
    regfree(&re);
    return NNCW_OK;
}

enum nncw_status nncw_graph_alloc_grads(struct nncw_graph *g)
{
    for (int i = 0; i < g->n_params; i++) {
        struct nncw_value *v = &g->values[g->params[i]];
        if (!v->trainable || v->grad.data)
            continue;
        enum nncw_status s = nncw_tensor_init(&v->grad, NNCW_DTYPE_F32, v->t.ndim, v->t.shape);
        if (s != NNCW_OK)
            return NNCW_FAIL(s, "gradient of '%s': out of memory", v->name);
    }
    return NNCW_OK;
}

void nncw_graph_zero_grads(struct nncw_graph *g)
{
    for (int i = 0; i < g->n_params; i++) {
        struct nncw_value *v = &g->values[g->params[i]];
        if (v->grad.data)
            memset(v->grad.data, 0, nncw_tensor_nbytes(&v->grad));
    }
}

enum nncw_status nncw_graph_set_node_input(struct nncw_graph *g, struct nncw_node *n, int port,
                                           int value_id)
{
    if (port < 0 || port >= n->n_in)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "node '%s': no input %d (it has %d)", n->name, port,
                         n->n_in);
    if (value_id < 0 || value_id >= g->n_values)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "node '%s': input %d: value %d does not exist",
                         n->name, port, value_id);
    if (g->values[value_id].producer == n->index)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "node '%s': input %d would be its own output",
                         n->name, port);
    n->in[port] = value_id;
    invalidate(g);
    return NNCW_OK;
}

enum nncw_status nncw_graph_set_output(struct nncw_graph *g, int i, int value_id)
{
    if (i < 0 || i >= g->n_outputs)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "graph: no output %d (it has %d)", i, g->n_outputs);
    if (value_id < 0 || value_id >= g->n_values)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "graph: output %d: value %d does not exist", i,
                         value_id);
    g->outputs[i] = value_id;
    invalidate(g);
    return NNCW_OK;
}
