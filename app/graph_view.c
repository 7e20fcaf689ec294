/* A copy of a graph's inspection data for the panels (built by the worker, read by the UI). */
#include "graph_view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/inspect.h"

/* what a compression does to a node: the widest quantizer of each kind feeding it (0: none)
 * and whether one is enabled; the filters of its pruning group and those masked off */
struct node_compression {
    int weight, activation;
    bool enabled;
    bool prunable, excluded;
    int64_t filters, pruned;
};

/* ---- the view's memory: blocks freed together ---- */

struct graph_view_block {
    struct graph_view_block *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

static void *alloc(struct graph_view *v, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct graph_view_block *b = v->blocks;
    if (!b || b->size - b->used < n) {
        size_t size = n > 60000 ? n : 60000;
        b = malloc(sizeof *b + size);
        if (!b)
            return NULL;
        b->next = v->blocks;
        b->used = 0;
        b->size = size;
        v->blocks = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

static const char *dup_str(struct graph_view *v, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = alloc(v, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---- formatting ---- */

static void shape_str(const struct nncw_tensor *t, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < t->ndim && n < size; d++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
}

/* "name = value" of attribute i */
static const char *attr_str(struct graph_view *v, const struct nncw_node *n, int i)
{
    char buf[512];
    const char *name = nncw_node_get_attr_name(n, i);
    size_t k = (size_t)snprintf(buf, sizeof buf, "%s = ", name);
    const int64_t *ints;
    const float *floats;
    int count;
    switch (nncw_node_get_attr_type(n, i)) {
    case NNCW_ATTR_INT:
        snprintf(buf + k, sizeof buf - k, "%lld", (long long)nncw_node_get_attr_int(n, name, 0));
        break;
    case NNCW_ATTR_FLOAT:
        snprintf(buf + k, sizeof buf - k, "%g", nncw_node_get_attr_float(n, name, 0));
        break;
    case NNCW_ATTR_INTS:
    case NNCW_ATTR_FLOATS:
        count = nncw_node_get_attr_type(n, i) == NNCW_ATTR_INTS
                    ? nncw_node_get_attr_ints(n, name, &ints)
                    : nncw_node_get_attr_floats(n, name, &floats);
        k += (size_t)snprintf(buf + k, sizeof buf - k, "[");
        for (int j = 0; j < count && k < sizeof buf - 8; j++) {
            if (nncw_node_get_attr_type(n, i) == NNCW_ATTR_INTS)
                k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%lld", j ? ", " : "",
                                      (long long)ints[j]);
            else
                k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%g", j ? ", " : "", floats[j]);
        }
        if (k < sizeof buf)
            snprintf(buf + k, sizeof buf - k, "]");
        break;
    default:
        snprintf(buf + k, sizeof buf - k, "\"%s\"", nncw_node_get_attr_string(n, name, ""));
        break;
    }
    return dup_str(v, buf);
}

/* ---- parameters ---- */

static void histogram(const struct nncw_tensor *t, struct graph_view_weight *w)
{
    int64_t numel = nncw_tensor_numel(t);
    w->lo = w->hi = 0;
    bool any = false;
    for (int64_t i = 0; i < numel; i++) {
        double x = nncw_tensor_get_flat(t, i);
        if (!isfinite(x))
            continue;
        if (!any || x < w->lo)
            w->lo = x;
        if (!any || x > w->hi)
            w->hi = x;
        any = true;
    }
    if (!any || !t->data)
        return;
    double width = (w->hi - w->lo) / GRAPH_VIEW_BINS;
    for (int64_t i = 0; i < numel; i++) {
        double x = nncw_tensor_get_flat(t, i);
        if (!isfinite(x))
            continue;
        int b = width > 0 ? (int)((x - w->lo) / width) : GRAPH_VIEW_BINS / 2;
        w->bins[b < 0 ? 0 : b >= GRAPH_VIEW_BINS ? GRAPH_VIEW_BINS - 1 : b]++;
    }
}

/* zero elements and all-zero slices along dim 0 (pruned output channels) */
static void count_zeros(const struct nncw_tensor *t, struct graph_view_weight *w)
{
    int64_t numel = nncw_tensor_numel(t);
    w->channels = t->ndim >= 2 ? t->shape[0] : 0;
    int64_t per = w->channels ? numel / w->channels : numel;
    for (int64_t c = 0, pos = 0; c < (w->channels ? w->channels : 1); c++) {
        int64_t z = 0;
        for (int64_t i = 0; i < per; i++, pos++)
            z += nncw_tensor_get_flat(t, pos) == 0;
        w->zeros += z;
        w->zero_channels += w->channels && per > 0 && z == per;
    }
}

static enum nncw_status add_weight(struct graph_view *v, const struct nncw_graph *g, int id)
{
    const struct nncw_tensor *t = nncw_graph_get_value_tensor(g, id);
    struct graph_view_weight *w = &v->weights[v->n_weights];
    w->name = dup_str(v, nncw_graph_get_value_name(g, id));
    if (!w->name)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "graph view: out of memory");
    shape_str(t, w->shape, sizeof w->shape);
    w->dtype = nncw_dtype_name(t->dtype);
    w->trainable = nncw_graph_is_trainable(g, id);
    nncw_tensor_get_stats(t, &w->stats);
    histogram(t, w);
    if (t->data && t->dtype == NNCW_DTYPE_F32)
        count_zeros(t, w);
    v->n_weights++;
    return NNCW_OK;
}

/* ---- nodes ---- */

static const char *kind_name(const struct nncw_graph *g, int id)
{
    switch (nncw_graph_get_value_kind(g, id)) {
    case NNCW_VALUE_INPUT:
        return "input";
    case NNCW_VALUE_PARAM:
        return nncw_graph_is_trainable(g, id) ? "param" : "buffer";
    default:
        return "activation";
    }
}

static void fill_value(struct graph_view *v, const struct nncw_graph *g, int id,
                       const int *weight_of, struct graph_view_value *out)
{
    out->name = dup_str(v, nncw_graph_get_value_name(g, id));
    out->kind = kind_name(g, id);
    shape_str(nncw_graph_get_value_tensor(g, id), out->shape, sizeof out->shape);
    out->weight = weight_of[id];
}

/* producers without repeats, in input order */
static void fill_producers(struct graph_view *v, const struct nncw_graph *g,
                           const struct nncw_node *n, struct graph_view_node *vn)
{
    vn->producers = alloc(v, sizeof(int) * (size_t)(nncw_node_count_inputs(n) + 1));
    if (!vn->producers)
        return;
    for (int i = 0; i < nncw_node_count_inputs(n); i++) {
        int id = nncw_node_get_input(n, i);
        const struct nncw_node *p = id >= 0 ? nncw_graph_get_producer(g, id) : NULL;
        if (!p)
            continue;
        int pi = nncw_node_get_index(p);
        bool dup = false;
        for (int j = 0; j < vn->n_producers; j++)
            dup = dup || vn->producers[j] == pi;
        if (!dup)
            vn->producers[vn->n_producers++] = pi;
    }
}

/* consumers of any output, in node order (mark is a zeroed scratch array of n_nodes) */
static void fill_consumers(struct graph_view *v, const struct nncw_graph *g,
                           const struct nncw_node *n, struct graph_view_node *vn, char *mark)
{
    int total = 0;
    for (int o = 0; o < nncw_node_count_outputs(n); o++) {
        int id = nncw_node_get_output(n, o);
        int count = nncw_graph_find_consumers(g, id, NULL, 0);
        int *users = malloc(sizeof(int) * (size_t)(count + 1));
        if (!users)
            continue;
        nncw_graph_find_consumers(g, id, users, count);
        for (int k = 0; k < count; k++) {
            total += !mark[users[k]];
            mark[users[k]] = 1;
        }
        free(users);
    }
    vn->consumers = alloc(v, sizeof(int) * (size_t)(total + 1));
    for (int i = 0; i < v->n_nodes; i++) {
        if (mark[i] && vn->consumers)
            vn->consumers[vn->n_consumers++] = i;
        mark[i] = 0;
    }
}

/* the zero share of a sparsity mask feeding node n through its producer p (magnitude and RB
 * sparsity put the weight through a node "<layer>/weight_mask" reading a non-trainable
 * "<layer>/weight_mask._binary_mask"; filter pruning's masks are counted as channels), or -1 */
static double mask_level(const struct graph_view *v, const struct nncw_graph *g,
                         const struct nncw_node *p, const int *weight_of)
{
    for (int k = 0; p && k < nncw_node_count_inputs(p); k++) {
        int id = nncw_node_get_input(p, k);
        if (id < 0 || weight_of[id] < 0 || nncw_graph_is_trainable(g, id))
            continue;
        const struct graph_view_weight *w = &v->weights[weight_of[id]];
        static const char suffix[] = "/weight_mask._binary_mask";
        size_t n = strlen(w->name), m = strlen(suffix);
        if (n >= m && !strcmp(w->name + n - m, suffix) && w->stats.count)
            return (double)w->zeros / (double)w->stats.count;
    }
    return -1;
}

/* "Q8" (every quantizer feeding the node has 8 bits), "Qw4a8" (weights 4, activations 8);
 * "q8": placed but disabled for now (a staged schedule enables them later) */
static size_t quant_mark(char *buf, size_t size, const struct node_compression *b)
{
    int wbits = b->weight, abits = b->activation;
    char q = b->enabled ? 'Q' : 'q';
    if (wbits <= 0 && abits <= 0)
        return 0;
    if (wbits <= 0 || abits <= 0 || wbits == abits)
        return (size_t)snprintf(buf, size, "%c%d ", q, wbits > 0 ? wbits : abits);
    return (size_t)snprintf(buf, size, "%cw%da%d ", q, wbits, abits);
}

/* the compression markers of a node (see graph_view.h); facts: NULL to guess quantizers from
 * the ops feeding the node, else the bits the compression's quantizers give each node */
static void fill_marks(struct graph_view *v, const struct nncw_graph *g, const struct nncw_node *n,
                       struct graph_view_node *vn, const int *weight_of,
                       const struct node_compression *facts)
{
    bool quant = false, sparse = false;
    double mask = -1;
    int64_t zeros = 0, count = 0;
    const struct graph_view_weight *first = NULL;
    for (int k = 0; k < nncw_node_count_inputs(n); k++) {
        int id = nncw_node_get_input(n, k);
        const struct nncw_node *p = id >= 0 ? nncw_graph_get_producer(g, id) : NULL;
        const char *op = p ? nncw_op_name(nncw_node_get_op(p)) : "";
        quant = quant || strstr(op, "Quantize");
        sparse = sparse || strstr(op, "Sparsify");
        double m = mask_level(v, g, p, weight_of);
        mask = m > mask ? m : mask;
    }
    for (int k = 0; k < vn->n_inputs; k++) {
        if (vn->inputs[k].weight < 0)
            continue;
        const struct graph_view_weight *w = &v->weights[vn->inputs[k].weight];
        if (!w->trainable)
            continue;
        first = first ? first : w;
        zeros += w->zeros;
        count += w->stats.count;
    }
    size_t len = 0;
    if (facts)
        len += quant_mark(vn->marks, sizeof vn->marks, &facts[vn->index]);
    else if (quant)
        len += (size_t)snprintf(vn->marks + len, sizeof vn->marks - len, "Q ");
    if (mask >= 0 && len < sizeof vn->marks) /* the mask is what the layer uses */
        len += (size_t)snprintf(vn->marks + len, sizeof vn->marks - len, "S%.0f%% ", 100 * mask);
    else if ((sparse || (count && zeros * 200 > count)) && len < sizeof vn->marks)
        len += (size_t)snprintf(vn->marks + len, sizeof vn->marks - len, "S%.0f%% ",
                                count ? 100.0 * (double)zeros / (double)count : 0.0);
    const struct node_compression *nc = facts ? &facts[vn->index] : NULL;
    if (nc && nc->prunable && len < sizeof vn->marks) /* the pruning masks, from the API */
        len += nc->excluded ? (size_t)snprintf(vn->marks + len, sizeof vn->marks - len, "Px ")
                            : (size_t)snprintf(vn->marks + len, sizeof vn->marks - len,
                                               "P%lld/%lld ", (long long)nc->pruned,
                                               (long long)nc->filters);
    else if (first && first->zero_channels && len < sizeof vn->marks)
        len += (size_t)snprintf(vn->marks + len, sizeof vn->marks - len, "P%lld/%lld ",
                                (long long)first->zero_channels, (long long)first->channels);
    if (len >= sizeof vn->marks)
        len = sizeof vn->marks - 1;
    while (len > 0 && vn->marks[len - 1] == ' ')
        vn->marks[--len] = '\0';
}

static enum nncw_status fill_node(struct graph_view *v, const struct nncw_graph *g, int i,
                                  const int *weight_of, char *mark,
                                  const struct node_compression *facts)
{
    const struct nncw_node *n = nncw_graph_get_node(g, i);
    struct graph_view_node *vn = &v->nodes[i];
    vn->index = i;
    vn->scope = dup_str(v, nncw_node_get_name(n));
    vn->op = nncw_op_name(nncw_node_get_op(n));
    vn->params = nncw_node_count_param_elements(g, n);
    vn->flops = nncw_node_count_flops(g, n);
    vn->macs = nncw_node_count_macs(g, n);
    shape_str(nncw_graph_get_value_tensor(g, nncw_node_get_output(n, 0)), vn->out_shape,
              sizeof vn->out_shape);
    int n_in = nncw_node_count_inputs(n), n_out = nncw_node_count_outputs(n);
    vn->inputs = alloc(v, sizeof *vn->inputs * (size_t)(n_in + 1));
    vn->outputs = alloc(v, sizeof *vn->outputs * (size_t)(n_out + 1));
    vn->attrs = alloc(v, sizeof *vn->attrs * (size_t)(nncw_node_count_attrs(n) + 1));
    if (!vn->scope || !vn->inputs || !vn->outputs || !vn->attrs)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "graph view: out of memory");
    for (int k = 0; k < n_in; k++) {
        int id = nncw_node_get_input(n, k);
        if (id >= 0)
            fill_value(v, g, id, weight_of, &vn->inputs[vn->n_inputs++]);
    }
    for (int k = 0; k < n_out; k++)
        fill_value(v, g, nncw_node_get_output(n, k), weight_of, &vn->outputs[vn->n_outputs++]);
    for (int k = 0; k < nncw_node_count_attrs(n); k++)
        if ((vn->attrs[vn->n_attrs] = attr_str(v, n, k)))
            vn->n_attrs++;
    fill_producers(v, g, n, vn);
    fill_consumers(v, g, n, vn, mark);
    fill_marks(v, g, n, vn, weight_of, facts);
    return NNCW_OK;
}

/* ---- the view ---- */

static void io_str(const struct nncw_graph *g, int count,
                   int (*get)(const struct nncw_graph *, int), char *buf, size_t size)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < count && k < size; i++) {
        int id = get(g, i);
        char shape[GRAPH_VIEW_SHAPE];
        shape_str(nncw_graph_get_value_tensor(g, id), shape, sizeof shape);
        k += (size_t)snprintf(buf + k, size - k, "%s%s %s", i ? ", " : "",
                              nncw_graph_get_value_name(g, id), shape);
    }
}

/* what the compression does to each node: the bits of the quantizers feeding it (through the
 * quantize node's output) or of the quantize node itself, and its pruning group's masks */
static enum nncw_status node_compressions(const struct nncw_graph *g,
                                       const struct nncw_compression *c,
                                       struct node_compression *facts)
{
    int n_nodes = nncw_graph_count_nodes(g);
    for (int i = 0; i < nncw_compression_count_quantizers(c); i++) {
        struct nncw_quantizer_info q;
        NNCW_TRY(nncw_compression_get_quantizer(c, i, &q));
        if (q.node < 0 || q.node >= n_nodes)
            continue;
        const struct nncw_node *qn = nncw_graph_get_node(g, q.node);
        struct node_compression *self = &facts[q.node];
        *(q.is_weight ? &self->weight : &self->activation) = q.bits;
        self->enabled = self->enabled || q.enabled;
        int out = nncw_node_get_output(qn, 0);
        int count = nncw_graph_find_consumers(g, out, NULL, 0);
        int *users = malloc(sizeof(int) * (size_t)(count + 1));
        if (!users)
            return NNCW_FAIL(NNCW_ERR_NOMEM, "graph view: out of memory");
        nncw_graph_find_consumers(g, out, users, count);
        for (int k = 0; k < count; k++) {
            int *bits = q.is_weight ? &facts[users[k]].weight : &facts[users[k]].activation;
            *bits = q.bits > *bits ? q.bits : *bits; /* several inputs: the widest */
            facts[users[k]].enabled = facts[users[k]].enabled || q.enabled;
        }
        free(users);
    }
    for (int i = 0; i < nncw_compression_count_pruning_groups(c); i++) {
        struct nncw_pruning_group_info p;
        NNCW_TRY(nncw_compression_get_pruning_group(c, i, &p));
        for (int m = 0; m < p.n_members; m++) {
            if (p.members[m] < 0 || p.members[m] >= n_nodes)
                continue;
            struct node_compression *nc = &facts[p.members[m]];
            nc->prunable = true;
            nc->excluded = p.excluded;
            nc->filters = p.filters;
            nc->pruned = p.filters - p.kept;
        }
    }
    return NNCW_OK;
}

static enum nncw_status fill(struct graph_view *v, struct nncw_graph *g, int *weight_of, char *mark,
                             const struct node_compression *facts)
{
    const int *order;
    NNCW_TRY(nncw_graph_topo_order(g, &order));
    for (int i = 0; i < v->n_nodes; i++)
        v->topo[i] = order[i];
    for (int p = 0; p < nncw_graph_count_params(g); p++) {
        int id = nncw_graph_get_param(g, p);
        weight_of[id] = v->n_weights;
        NNCW_TRY(add_weight(v, g, id));
    }
    for (int i = 0; i < v->n_nodes; i++)
        NNCW_TRY(fill_node(v, g, i, weight_of, mark, facts));
    v->params = nncw_graph_count_param_elements(g);
    for (int i = 0; i < v->n_nodes; i++) {
        v->flops += v->nodes[i].flops;
        v->macs += v->nodes[i].macs;
    }
    io_str(g, nncw_graph_count_inputs(g), nncw_graph_get_input, v->inputs, sizeof v->inputs);
    io_str(g, nncw_graph_count_outputs(g), nncw_graph_get_output, v->outputs, sizeof v->outputs);
    return NNCW_OK;
}

enum nncw_status graph_view_build(struct nncw_graph *g, const char *name,
                                  const struct nncw_compression *c, struct graph_view **out)
{
    struct graph_view *v = calloc(1, sizeof *v);
    int n_values = nncw_graph_count_values(g);
    int *weight_of = malloc(sizeof(int) * (size_t)(n_values + 1));
    char *mark = calloc((size_t)nncw_graph_count_nodes(g) + 1, 1);
    struct node_compression *facts =
        c ? calloc((size_t)nncw_graph_count_nodes(g) + 1, sizeof *facts) : NULL;
    enum nncw_status s = NNCW_OK;
    if (v)
        atomic_init(&v->refs, 1);
    if (!v || !weight_of || !mark || (c && !facts)) {
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "graph view: out of memory");
        goto out;
    }
    v->key = g;
    v->n_nodes = nncw_graph_count_nodes(g);
    for (int i = 0; i < n_values; i++)
        weight_of[i] = -1;
    v->name = dup_str(v, name);
    v->nodes = alloc(v, sizeof *v->nodes * (size_t)(v->n_nodes + 1));
    v->topo = alloc(v, sizeof *v->topo * (size_t)(v->n_nodes + 1));
    v->weights = alloc(v, sizeof *v->weights * (size_t)(nncw_graph_count_params(g) + 1));
    if (!v->name || !v->nodes || !v->topo || !v->weights) {
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "graph view: out of memory");
        goto out;
    }
    if (c && (s = node_compressions(g, c, facts)) != NNCW_OK)
        goto out;
    v->compressed = c != NULL;
    s = fill(v, g, weight_of, mark, facts);
out:
    free(weight_of);
    free(mark);
    free(facts);
    if (s != NNCW_OK) {
        graph_view_release(v);
        return s;
    }
    *out = v;
    return NNCW_OK;
}

int graph_view_find(const struct graph_view *v, const char *scope)
{
    for (int i = 0; v && i < v->n_nodes; i++)
        if (strcmp(v->nodes[i].scope, scope) == 0)
            return i;
    return -1;
}

void graph_view_retain(struct graph_view *v)
{
    if (v)
        atomic_fetch_add(&v->refs, 1);
}

void graph_view_release(struct graph_view *v)
{
    if (!v || atomic_fetch_sub(&v->refs, 1) != 1)
        return;
    while (v->blocks) {
        struct graph_view_block *b = v->blocks;
        v->blocks = b->next;
        free(b);
    }
    free(v);
}
