/*
** Which filters filter pruning may remove, and which must go together (NNCF's pruning node
** selector and clusterization, fact sheet 5.4), found by propagating channel labels through
** the graph in topological order.
**
** A Conv with group 1 starts a cluster: its output channels. Batch norms, activations that map
** 0 to 0, pooling and dropout pass their input's channels on; a depthwise Conv follows its
** producer (its filters are pruned with it); Add, Sub and Mul of two activations join their
** inputs' clusters (one shared mask); Concat on the channel axis appends its inputs' segments;
** Flatten turns each channel into H*W columns that a Gemm reading it loses with the channel.
** Anything else (Reshape, MatMul, Softmax, Div, graph outputs, ...) cannot take pruned input, so
** the clusters reaching it are blocked, as are clusters with a conv that the config keeps: the
** first convs (unless prune_first_conv), the last ones (unless prune_last_conv), stride > 1
** (unless prune_downsample_convs), grouped non-depthwise convs, and ignored or untargeted scopes.
** Activations with f(0) != 0 (Sigmoid, HardSigmoid) are stops too, so that removing a zeroed
** channel never changes the outputs.
*/
#include <string.h>

#include "compression/pruning/pruning_internal.h"
#include "compression/quantization/scope_match.h"
#include "core/alloc.h"

int nncw_prune_root(const struct nncw_prune_analysis *an, int c)
{
    while (an->parent[c] != c)
        c = an->parent[c];
    return c;
}

static void join(struct nncw_prune_analysis *an, int a, int b)
{
    a = nncw_prune_root(an, a);
    b = nncw_prune_root(an, b);
    if (a != b)
        an->parent[b > a ? b : a] = b > a ? a : b; /* the earlier cluster stays the root */
}

static bool is_float_param(const struct nncw_graph *g, int v)
{
    return v >= 0 && nncw_graph_get_value_kind(g, v) == NNCW_VALUE_PARAM &&
           nncw_graph_get_value_tensor(g, v)->dtype == NNCW_DTYPE_F32;
}

static bool is_quantizer(enum nncw_op op)
{
    return op == NNCW_OP_QUANTIZE_SYMMETRIC || op == NNCW_OP_QUANTIZE_ASYMMETRIC;
}

/* through a weight mask node this algorithm inserted, to the parameter it masks */
static int unmask(const struct nncw_graph *g, int v)
{
    const struct nncw_node *p = v >= 0 ? nncw_graph_get_producer(g, v) : NULL;
    if (!p || nncw_node_get_op(p) != NNCW_OP_MUL)
        return v;
    const char *name = nncw_node_get_name(p);
    size_t len = strlen(name), sl = strlen(NNCW_PRUNING_WEIGHT_MASK);
    return len > sl && !strcmp(name + len - sl, NNCW_PRUNING_WEIGHT_MASK)
               ? nncw_node_get_input(p, 0)
               : v;
}

bool nncw_prune_find_weight(const struct nncw_graph *g, const struct nncw_node *n, int *param,
                            int *reader, int *port)
{
    int v = nncw_node_count_inputs(n) > 1 ? nncw_node_get_input(n, 1) : -1;
    if (v < 0)
        return false;
    if (is_float_param(g, unmask(g, v))) {
        *param = unmask(g, v), *reader = nncw_node_get_index(n), *port = 1;
        return true;
    }
    const struct nncw_node *q = nncw_graph_get_producer(g, v);
    if (q && is_quantizer(nncw_node_get_op(q)) &&
        is_float_param(g, unmask(g, nncw_node_get_input(q, 0)))) {
        *param = unmask(g, nncw_node_get_input(q, 0)), *reader = nncw_node_get_index(q), *port = 0;
        return true;
    }
    return false;
}

/* ---- labels ---- */

static enum nncw_status set_label(struct nncw_prune_label *l, int n,
                                  const struct nncw_prune_seg *segs, int64_t mult)
{
    nncw_free(l->segs);
    *l = (struct nncw_prune_label){0};
    if (n == 0)
        return NNCW_OK;
    if (!(l->segs = nncw_malloc((size_t)n * sizeof *segs)))
        return NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning: out of memory");
    memcpy(l->segs, segs, (size_t)n * sizeof *segs);
    l->n = n;
    l->mult = mult;
    return NNCW_OK;
}

static void block_label(struct nncw_prune_analysis *an, const struct nncw_prune_label *l)
{
    for (int i = 0; i < l->n; i++)
        if (l->segs[i].cluster >= 0)
            an->blocked[l->segs[i].cluster] = true;
}

static const struct nncw_prune_label *label_of(const struct nncw_prune_analysis *an, int v)
{
    static const struct nncw_prune_label none = {0};
    return v >= 0 && v < an->n_values ? &an->labels[v] : &none;
}

/* ---- per op family ---- */

struct walk {
    struct nncw_graph *g;
    const struct nncw_pruning_config *pc;
    struct nncw_prune_analysis *an;
    bool *after_conv; /* per value: a conv lies between a graph input and it */
    bool *to_output;  /* per value: it reaches a graph output without passing a conv */
};

static bool selected(const struct nncw_pruning_config *pc, const char *name)
{
    if (nncw_scope_list_matches(&pc->ignored, name))
        return false;
    return pc->target_scopes.n == 0 || nncw_scope_list_matches(&pc->target_scopes, name);
}

/* whether the config lets this group-1 conv's filters go (NNCF's prunable-layer switches) */
static bool conv_prunable(const struct walk *w, const struct nncw_node *n)
{
    int param, reader, port;
    if (!nncw_prune_find_weight(w->g, n, &param, &reader, &port))
        return false;
    if (!selected(w->pc, nncw_node_get_name(n)))
        return false;
    if (!w->pc->prune_first_conv && !w->after_conv[nncw_node_get_input(n, 0)])
        return false;
    if (!w->pc->prune_last_conv && w->to_output[nncw_node_get_output(n, 0)])
        return false;
    const int64_t *strides;
    int ns = nncw_node_get_attr_ints(n, "strides", &strides);
    for (int i = 0; i < ns && !w->pc->prune_downsample_convs; i++)
        if (strides[i] > 1)
            return false;
    return true;
}

static enum nncw_status visit_conv(struct walk *w, const struct nncw_node *n)
{
    struct nncw_prune_analysis *an = w->an;
    int x = nncw_node_get_input(n, 0), y = nncw_node_get_output(n, 0);
    const struct nncw_prune_label *in = label_of(an, x);
    int64_t group = nncw_node_get_attr_int(n, "group", 1);
    const struct nncw_tensor *yt = nncw_graph_get_value_tensor(w->g, y);
    int64_t c_out = yt->ndim >= 2 ? yt->shape[1] : 0;
    const struct nncw_tensor *xt = nncw_graph_get_value_tensor(w->g, x);
    int64_t c_in = xt->ndim >= 2 ? xt->shape[1] : 0;
    if (in->mult != 1 && in->n)
        block_label(an, in);
    if (group > 1 && group == c_in && c_in == c_out && in->mult == 1) {
        int param, reader, port; /* depthwise: follows its producer */
        if (!nncw_prune_find_weight(w->g, n, &param, &reader, &port))
            block_label(an, in);
        return set_label(&an->labels[y], in->n, in->segs, 1);
    }
    if (group > 1) { /* grouped: its input channels cannot change */
        block_label(an, in);
        return NNCW_OK;
    }
    int c = an->n_clusters++;
    an->parent[c] = c;
    an->channels[c] = c_out;
    an->blocked[c] = !conv_prunable(w, n);
    struct nncw_prune_seg seg = {c, c_out};
    return set_label(&an->labels[y], 1, &seg, 1);
}

static bool same_structure(const struct nncw_prune_label *a, const struct nncw_prune_label *b)
{
    if (a->n != b->n || a->mult != b->mult)
        return false;
    for (int i = 0; i < a->n; i++)
        if (a->segs[i].len != b->segs[i].len)
            return false;
    return true;
}

/* Add/Sub/Mul: one shared mask for the clusters meeting here */
static enum nncw_status visit_elementwise(struct walk *w, const struct nncw_node *n)
{
    struct nncw_prune_analysis *an = w->an;
    const struct nncw_prune_label *first = NULL;
    bool ok = true;
    for (int i = 0; i < nncw_node_count_inputs(n); i++) {
        int v = nncw_node_get_input(n, i);
        if (v < 0)
            continue;
        if (nncw_graph_get_value_kind(w->g, v) == NNCW_VALUE_PARAM) {
            ok = ok && nncw_tensor_numel(nncw_graph_get_value_tensor(w->g, v)) == 1;
            continue;
        }
        const struct nncw_prune_label *l = label_of(an, v);
        if (!first)
            first = l;
        else if (!same_structure(first, l) || !l->n)
            ok = false;
    }
    if (!first || !first->n)
        ok = false;
    for (int i = 0; ok && i < first->n; i++)
        for (int k = 0; k < nncw_node_count_inputs(n); k++) {
            int v = nncw_node_get_input(n, k);
            if (v < 0 || nncw_graph_get_value_kind(w->g, v) == NNCW_VALUE_PARAM)
                continue;
            int a = first->segs[i].cluster, b = label_of(an, v)->segs[i].cluster;
            if (a >= 0 && b >= 0)
                join(an, a, b);
            else if (a >= 0 || b >= 0) /* a channel that stays meets one that could go */
                an->blocked[a >= 0 ? a : b] = true;
        }
    if (!ok) {
        for (int i = 0; i < nncw_node_count_inputs(n); i++)
            block_label(an, label_of(an, nncw_node_get_input(n, i)));
        return NNCW_OK;
    }
    return set_label(&an->labels[nncw_node_get_output(n, 0)], first->n, first->segs, first->mult);
}

static enum nncw_status visit_concat(struct walk *w, const struct nncw_node *n)
{
    struct nncw_prune_analysis *an = w->an;
    int y = nncw_node_get_output(n, 0);
    int ndim = nncw_graph_get_value_tensor(w->g, y)->ndim;
    int64_t axis = nncw_node_get_attr_int(n, "axis", 0);
    bool ok = ndim >= 2 && (axis == 1 || axis == 1 - ndim);
    int total = 0;
    for (int i = 0; i < nncw_node_count_inputs(n); i++) {
        const struct nncw_prune_label *l = label_of(an, nncw_node_get_input(n, i));
        ok = ok && l->mult <= 1;
        total += l->n ? l->n : 1;
    }
    if (!ok) {
        for (int i = 0; i < nncw_node_count_inputs(n); i++)
            block_label(an, label_of(an, nncw_node_get_input(n, i)));
        return NNCW_OK;
    }
    struct nncw_prune_seg *segs = nncw_malloc((size_t)total * sizeof *segs);
    if (!segs)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning: out of memory");
    int k = 0;
    for (int i = 0; i < nncw_node_count_inputs(n); i++) {
        int v = nncw_node_get_input(n, i);
        const struct nncw_prune_label *l = label_of(an, v);
        if (l->n) {
            memcpy(segs + k, l->segs, (size_t)l->n * sizeof *segs);
            k += l->n;
        } else { /* an input without prunable channels: its channels stay */
            const struct nncw_tensor *t = nncw_graph_get_value_tensor(w->g, v);
            segs[k++] = (struct nncw_prune_seg){-1, t->ndim >= 2 ? t->shape[1] : 0};
        }
    }
    enum nncw_status s = set_label(&an->labels[y], k, segs, 1);
    nncw_free(segs);
    return s;
}

static enum nncw_status visit_flatten(struct walk *w, const struct nncw_node *n)
{
    struct nncw_prune_analysis *an = w->an;
    int x = nncw_node_get_input(n, 0);
    const struct nncw_prune_label *in = label_of(an, x);
    const struct nncw_tensor *xt = nncw_graph_get_value_tensor(w->g, x);
    if (!in->n)
        return NNCW_OK;
    if (nncw_node_get_attr_int(n, "axis", 1) != 1 || in->mult != 1 || xt->ndim < 2) {
        block_label(an, in);
        return NNCW_OK;
    }
    int64_t mult = 1;
    for (int d = 2; d < xt->ndim; d++)
        mult *= xt->shape[d];
    return set_label(&an->labels[nncw_node_get_output(n, 0)], in->n, in->segs, mult);
}

/* Gemm reading a flattened activation loses its input columns; its outputs stay */
static enum nncw_status visit_gemm(struct walk *w, const struct nncw_node *n)
{
    const struct nncw_prune_label *in = label_of(w->an, nncw_node_get_input(n, 0));
    int param, reader, port;
    if (in->n && (nncw_node_get_attr_int(n, "transA", 0) != 0 ||
                  !nncw_prune_find_weight(w->g, n, &param, &reader, &port) ||
                  nncw_graph_get_value_tensor(w->g, nncw_node_get_input(n, 0))->ndim != 2))
        block_label(w->an, in);
    return NNCW_OK;
}

/* ops whose output channel c depends on input channel c alone, with f(0) = 0 */
static bool passes_channels(enum nncw_op op)
{
    switch (op) {
    case NNCW_OP_BATCHNORM:
    case NNCW_OP_RELU:
    case NNCW_OP_CLIP:
    case NNCW_OP_LEAKYRELU:
    case NNCW_OP_ELU:
    case NNCW_OP_HARDSWISH:
    case NNCW_OP_SWISH:
    case NNCW_OP_TANH:
    case NNCW_OP_MAXPOOL:
    case NNCW_OP_AVGPOOL:
    case NNCW_OP_GLOBALAVGPOOL:
    case NNCW_OP_GLOBALMAXPOOL:
    case NNCW_OP_DROPOUT:
    case NNCW_OP_IDENTITY:
    case NNCW_OP_QUANTIZE_SYMMETRIC:
    case NNCW_OP_QUANTIZE_ASYMMETRIC:
        return true;
    default:
        return false;
    }
}

static enum nncw_status visit_pass(struct walk *w, const struct nncw_node *n)
{
    struct nncw_prune_analysis *an = w->an;
    const struct nncw_prune_label *in = label_of(an, nncw_node_get_input(n, 0));
    bool ok = nncw_node_get_op(n) == NNCW_OP_DROPOUT || in->mult == 1;
    /* Clip's bounds must keep 0 at 0 */
    if (nncw_node_get_op(n) == NNCW_OP_CLIP)
        ok = ok && nncw_node_get_attr_float(n, "min", -1.0f) <= 0.0f;
    for (int i = 1; i < nncw_node_count_inputs(n); i++) {
        int v = nncw_node_get_input(n, i);
        ok = ok && (v < 0 || nncw_graph_get_value_kind(w->g, v) == NNCW_VALUE_PARAM);
    }
    if (!ok) {
        block_label(an, in);
        return NNCW_OK;
    }
    for (int o = 0; o < nncw_node_count_outputs(n) && o < 1; o++)
        NNCW_TRY(set_label(&an->labels[nncw_node_get_output(n, o)], in->n, in->segs, in->mult));
    return NNCW_OK;
}

static enum nncw_status visit(struct walk *w, const struct nncw_node *n)
{
    enum nncw_op op = nncw_node_get_op(n);
    if (op == NNCW_OP_CONV)
        return visit_conv(w, n);
    if (op == NNCW_OP_ADD || op == NNCW_OP_SUB || op == NNCW_OP_MUL)
        return visit_elementwise(w, n);
    if (op == NNCW_OP_CONCAT)
        return visit_concat(w, n);
    if (op == NNCW_OP_FLATTEN)
        return visit_flatten(w, n);
    if (op == NNCW_OP_GEMM)
        return visit_gemm(w, n);
    if (passes_channels(op))
        return visit_pass(w, n);
    for (int i = 0; i < nncw_node_count_inputs(n); i++) /* a stop */
        block_label(w->an, label_of(w->an, nncw_node_get_input(n, i)));
    return NNCW_OK;
}

/* ---- first and last convs ---- */

static void mark_first_last(struct walk *w, const int *order, int nodes)
{
    struct nncw_graph *g = w->g;
    for (int k = 0; k < nodes; k++) {
        const struct nncw_node *n = nncw_graph_get_node(g, order[k]);
        bool after = nncw_node_get_op(n) == NNCW_OP_CONV;
        for (int i = 0; i < nncw_node_count_inputs(n) && !after; i++) {
            int v = nncw_node_get_input(n, i);
            after = v >= 0 && w->after_conv[v];
        }
        for (int o = 0; o < nncw_node_count_outputs(n); o++)
            w->after_conv[nncw_node_get_output(n, o)] = after;
    }
    for (int i = 0; i < nncw_graph_count_outputs(g); i++)
        w->to_output[nncw_graph_get_output(g, i)] = true;
    for (int k = nodes - 1; k >= 0; k--) {
        const struct nncw_node *n = nncw_graph_get_node(g, order[k]);
        if (nncw_node_get_op(n) == NNCW_OP_CONV)
            continue;
        bool reach = false;
        for (int o = 0; o < nncw_node_count_outputs(n); o++)
            reach = reach || w->to_output[nncw_node_get_output(n, o)];
        for (int i = 0; reach && i < nncw_node_count_inputs(n); i++)
            if (nncw_node_get_input(n, i) >= 0)
                w->to_output[nncw_node_get_input(n, i)] = true;
    }
}

void nncw_prune_analysis_fini(struct nncw_prune_analysis *an)
{
    for (int v = 0; an->labels && v < an->n_values; v++)
        nncw_free(an->labels[v].segs);
    nncw_free(an->labels);
    nncw_free(an->parent);
    nncw_free(an->blocked);
    nncw_free(an->channels);
    *an = (struct nncw_prune_analysis){0};
}

static enum nncw_status walk_graph(struct walk *w)
{
    const int *order;
    NNCW_TRY(nncw_graph_topo_order(w->g, &order));
    int nodes = nncw_graph_count_nodes(w->g);
    mark_first_last(w, order, nodes);
    for (int k = 0; k < nodes; k++)
        NNCW_TRY(visit(w, nncw_graph_get_node(w->g, order[k])));
    /* the model's outputs keep their channels */
    for (int i = 0; i < nncw_graph_count_outputs(w->g); i++)
        block_label(w->an, label_of(w->an, nncw_graph_get_output(w->g, i)));
    struct nncw_prune_analysis *an = w->an;
    for (int c = 0; c < an->n_clusters; c++)
        if (an->blocked[c])
            an->blocked[nncw_prune_root(an, c)] = true;
    for (int c = 0; c < an->n_clusters; c++)
        an->blocked[c] = an->blocked[nncw_prune_root(an, c)];
    return NNCW_OK;
}

enum nncw_status nncw_prune_analyse(struct nncw_graph *g, const struct nncw_pruning_config *pc,
                                    struct nncw_prune_analysis *an)
{
    *an = (struct nncw_prune_analysis){0};
    NNCW_TRY(nncw_scope_check_list(g, pc->source, &pc->ignored));
    NNCW_TRY(nncw_scope_check_list(g, pc->source, &pc->target_scopes));
    NNCW_TRY(nncw_graph_infer_shapes(g, 1));
    int values = nncw_graph_count_values(g), nodes = nncw_graph_count_nodes(g);
    size_t nv = (size_t)(values ? values : 1), nn = (size_t)(nodes ? nodes : 1);
    an->n_values = values;
    an->labels = nncw_calloc(nv, sizeof *an->labels);
    an->parent = nncw_calloc(nn, sizeof *an->parent);
    an->blocked = nncw_calloc(nn, sizeof *an->blocked);
    an->channels = nncw_calloc(nn, sizeof *an->channels);
    struct walk w = {g, pc, an, nncw_calloc(nv, sizeof(bool)), nncw_calloc(nv, sizeof(bool))};
    enum nncw_status s = NNCW_OK;
    if (!an->labels || !an->parent || !an->blocked || !an->channels || !w.after_conv ||
        !w.to_output)
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning: out of memory");
    if (s == NNCW_OK)
        s = walk_graph(&w);
    nncw_free(w.after_conv);
    nncw_free(w.to_output);
    if (s != NNCW_OK)
        nncw_prune_analysis_fini(an);
    return s;
}
