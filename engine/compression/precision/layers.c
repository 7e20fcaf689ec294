/* The weighted layers of a quantizer setup as the bit-FLOPs count sees them: multiply-
 * accumulates per sample and the activation quantizers on the data input. */
#include "compression/precision/precision.h"

#include <string.h>

#include "core/alloc.h"

/* multiply-accumulates per sample of a weighted node: every weight element meets one input
 * element per output position (the output's spatial size; 1 for a fully connected layer) */
static int64_t layer_flops(const struct nncw_graph *g, const struct nncw_quantizer_point *pt)
{
    const struct nncw_tensor *w = nncw_graph_get_value_tensor(g, pt->value_id);
    int64_t numel = w ? nncw_tensor_numel(w) : 0;
    const struct nncw_node *n = nncw_graph_get_node(g, pt->node);
    if (!n || nncw_node_count_outputs(n) < 1)
        return numel;
    const struct nncw_tensor *y = nncw_graph_get_value_tensor(g, nncw_node_get_output(n, 0));
    int64_t spatial = 1;
    if (y && nncw_node_get_op(n) != NNCW_OP_GEMM && nncw_node_get_op(n) != NNCW_OP_MATMUL)
        for (int d = 2; d < y->ndim; d++)
            spatial *= y->shape[d] > 0 ? y->shape[d] : 1;
    else if (y && nncw_node_get_op(n) == NNCW_OP_MATMUL)
        for (int d = 1; d + 1 < y->ndim; d++)
            spatial *= y->shape[d] > 0 ? y->shape[d] : 1;
    return numel * spatial;
}

/* the activation point covering the read of (node, port): an input quantizer there, or an
 * output quantizer of the value read; -1 if none */
static int act_at(const struct nncw_graph *g, const struct nncw_quantizer_setup *s, int node,
                  int port)
{
    int v = nncw_node_get_input(nncw_graph_get_node(g, node), port);
    for (int p = 0; p < s->n_points; p++) {
        const struct nncw_quantizer_point *pt = &s->points[p];
        if (pt->is_weight || pt->value_id != v)
            continue;
        for (int t = 0; t < pt->n_targets; t++)
            if (pt->targets[t].node == node && pt->targets[t].port == port)
                return p;
    }
    return -1;
}

/* ops a quantizer is propagated up through (NNCF's quantization-agnostic ops with one data
 * input): the layer reads the quantizer placed above them */
static bool passes_through(enum nncw_op op)
{
    switch (op) {
    case NNCW_OP_FLATTEN:
    case NNCW_OP_RESHAPE:
    case NNCW_OP_MAXPOOL:
    case NNCW_OP_RELU:
    case NNCW_OP_IDENTITY:
    case NNCW_OP_DROPOUT:
    case NNCW_OP_TRANSPOSE:
    case NNCW_OP_PAD:
        return true;
    default:
        return false;
    }
}

static bool is_quantize(enum nncw_op op)
{
    return op == NNCW_OP_QUANTIZE_SYMMETRIC || op == NNCW_OP_QUANTIZE_ASYMMETRIC;
}

static int point_named(const struct nncw_quantizer_setup *s, const char *id)
{
    for (int p = 0; p < s->n_points; p++)
        if (!s->points[p].is_weight && strcmp(s->points[p].id, id) == 0)
            return p;
    return -1;
}

/* the activation quantizer the layer's data input (node, port) reads, looking up through
 * pass-through ops */
static void find_acts(const struct nncw_graph *g, const struct nncw_quantizer_setup *s, int node,
                      int port, struct nncw_precision_layer *l)
{
    for (int hops = 0; hops < 64; hops++) {
        const struct nncw_node *n = nncw_graph_get_node(g, node);
        if (port >= nncw_node_count_inputs(n))
            return;
        int p = act_at(g, s, node, port);
        int v0 = nncw_node_get_input(n, port);
        const struct nncw_node *q = v0 >= 0 ? nncw_graph_get_producer(g, v0) : NULL;
        if (p < 0 && q && is_quantize(nncw_node_get_op(q))) /* a graph already quantized */
            p = point_named(s, nncw_node_get_name(q));
        if (p >= 0) {
            for (int a = 0; a < l->n_acts; a++)
                if (l->acts[a] == p)
                    return;
            if (l->n_acts < NNCW_PRECISION_MAX_ACTS)
                l->acts[l->n_acts++] = p;
            return;
        }
        int v = nncw_node_get_input(n, port);
        const struct nncw_node *up = v >= 0 ? nncw_graph_get_producer(g, v) : NULL;
        if (!up || !passes_through(nncw_node_get_op(up)))
            return;
        node = nncw_node_get_index(up);
        port = 0;
    }
}

enum nncw_status nncw_precision_layers_build(const struct nncw_graph *g,
                                             const struct nncw_quantizer_setup *s,
                                             struct nncw_precision_layers *out)
{
    struct nncw_precision_layers L = {0};
    L.layer = nncw_calloc((size_t)(s->n_weights > 0 ? s->n_weights : 1), sizeof *L.layer);
    if (!L.layer)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "mixed precision: out of memory");
    for (int p = 0; p < s->n_points && L.n < s->n_weights; p++) {
        const struct nncw_quantizer_point *pt = &s->points[p];
        if (!pt->is_weight)
            continue;
        struct nncw_precision_layer *l = &L.layer[L.n++];
        const struct nncw_tensor *w = nncw_graph_get_value_tensor(g, pt->value_id);
        l->point = p;
        l->numel = w ? nncw_tensor_numel(w) : 0;
        l->flops = layer_flops(g, pt);
        /* the data input is port 0 of every weighted op nncw quantizes (conv, gemm, matmul);
         * an embedding's indices are integers and carry no quantizer */
        for (int t = 0; t < pt->n_targets; t++)
            find_acts(g, s, pt->targets[t].node, pt->targets[t].port == 0 ? 1 : 0, l);
    }
    *out = L;
    return NNCW_OK;
}

void nncw_precision_layers_fini(struct nncw_precision_layers *L)
{
    nncw_free(L->layer);
    *L = (struct nncw_precision_layers){0};
}
