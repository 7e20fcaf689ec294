/*
** Which weights a sparsity entry masks and how the mask ops go into the graph.
**
** NNCF sparsifies the weights of its Conv1d/2d/3d, Linear, ConvTranspose2d/3d, Embedding and
** EmbeddingBag modules with a pre-op on the weight; in nncw's graph these are the weight inputs
** of Conv, ConvTranspose, Gemm, MatMul (input 1 when it is a float parameter), Embedding and a
** Gather over a 2-D float parameter (an exported nn.Embedding). The entry's ignored_scopes and
** target_scopes select by the scope of the node reading the weight, which is also the layer's
** name in the statistics. A weight read by several such nodes gets one mask.
**
** NNCF orders weight pre-ops so that the sparsity mask is applied first and the weight
** quantizer sees the masked weight. Quantization builds before sparsity (compression.c), so a
** weight that already has a quantizer gets its mask between the weight and the quantizer.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compression/quantization/scope_match.h"
#include "compression/sparsity/sparsity_internal.h"
#include "core/alloc.h"

static bool is_float_param(const struct nncw_graph *g, int v)
{
    return v >= 0 && nncw_graph_get_value_kind(g, v) == NNCW_VALUE_PARAM &&
           nncw_graph_get_value_tensor(g, v)->dtype == NNCW_DTYPE_F32;
}

/* the input of n that holds its weight, or -1 */
static int weight_port(const struct nncw_graph *g, const struct nncw_node *n)
{
    switch (nncw_node_get_op(n)) {
    case NNCW_OP_CONV:
    case NNCW_OP_CONVTRANSPOSE:
    case NNCW_OP_GEMM:
    case NNCW_OP_MATMUL:
        return nncw_node_count_inputs(n) > 1 ? 1 : -1;
    case NNCW_OP_EMBEDDING:
        return 0;
    case NNCW_OP_GATHER: {
        int v = nncw_node_get_input(n, 0);
        return is_float_param(g, v) && nncw_graph_get_value_tensor(g, v)->ndim == 2 ? 0 : -1;
    }
    default:
        return -1;
    }
}

static bool is_quantizer(const struct nncw_node *n)
{
    enum nncw_op op = nncw_node_get_op(n);
    return op == NNCW_OP_QUANTIZE_SYMMETRIC || op == NNCW_OP_QUANTIZE_ASYMMETRIC;
}

static bool is_mask_node(const struct nncw_node *n)
{
    if (!n)
        return false;
    if (nncw_node_get_op(n) == NNCW_OP_RB_SPARSIFY)
        return true;
    const char *name = nncw_node_get_name(n);
    size_t len = strlen(name), sl = strlen(NNCW_SPARSITY_NODE_SUFFIX);
    return nncw_node_get_op(n) == NNCW_OP_MUL && len > sl &&
           !strcmp(name + len - sl, NNCW_SPARSITY_NODE_SUFFIX);
}

/* where a mask goes for the weight of node n: the float parameter and the input that reads it
 * (n's, or that of the weight quantizer in between); *masked when a mask is there already */
struct site {
    int weight;
    int reader, port;
};

static bool find_site(const struct nncw_graph *g, const struct nncw_node *n, struct site *out,
                      bool *masked)
{
    *masked = false;
    int port = weight_port(g, n);
    int v = port >= 0 ? nncw_node_get_input(n, port) : -1;
    if (v < 0)
        return false;
    if (is_float_param(g, v)) {
        *out = (struct site){v, nncw_node_get_index(n), port};
        return true;
    }
    const struct nncw_node *p = nncw_graph_get_producer(g, v);
    if (p && is_quantizer(p)) {
        int w = nncw_node_get_input(p, 0);
        if (is_float_param(g, w)) {
            *out = (struct site){w, nncw_node_get_index(p), 0};
            return true;
        }
        p = nncw_graph_get_producer(g, w);
    }
    *masked = is_mask_node(p);
    return false;
}

static bool selected(const struct nncw_sparsity_config *cfg, const char *name)
{
    if (nncw_scope_list_matches(&cfg->ignored, name))
        return false;
    return cfg->target.n == 0 || nncw_scope_list_matches(&cfg->target, name);
}

/* ---- inserting ---- */

static enum nncw_status add_filled(struct nncw_graph *g, const char *name,
                                   const struct nncw_tensor *like, float value, bool trainable,
                                   int *id)
{
    struct nncw_tensor t;
    NNCW_TRY(nncw_tensor_init(&t, NNCW_DTYPE_F32, like->ndim, like->shape));
    nncw_tensor_fill_f32(&t, value);
    enum nncw_status s = nncw_graph_add_param(g, name, &t, trainable, id);
    nncw_tensor_fini(&t);
    return s;
}

static enum nncw_status insert_one(struct nncw_graph *g, struct nncw_sparse_layer *l, bool rb)
{
    char scope[600], pname[640];
    snprintf(scope, sizeof scope, "%s%s", l->name, NNCW_SPARSITY_NODE_SUFFIX);
    const struct nncw_tensor *w = nncw_graph_get_value_tensor(g, l->weight);
    snprintf(pname, sizeof pname, "%s._binary_mask", scope);
    NNCW_TRY(add_filled(g, pname, w, 1.0f, false, &l->mask));
    int y;
    struct nncw_node *n;
    if (rb) {
        /* NNCF starts every weight with keep probability 0.99 */
        snprintf(pname, sizeof pname, "%s._mask", scope);
        NNCW_TRY(add_filled(g, pname, w, logf(0.99f / 0.01f), true, &l->logits));
        NNCW_TRY(nncw_graph_add_node(g, NNCW_OP_RB_SPARSIFY, scope, 3,
                                     (int[]){l->weight, l->logits, l->mask}, 1, &y, &n));
    } else {
        l->logits = -1;
        NNCW_TRY(
            nncw_graph_add_node(g, NNCW_OP_MUL, scope, 2, (int[]){l->weight, l->mask}, 1, &y, &n));
    }
    l->node = nncw_node_get_index(n);
    return NNCW_OK;
}

/* every reader of the weight that find_site chose gets the masked value */
static enum nncw_status rewire(struct nncw_graph *g, const struct site *sites, int n_sites,
                               const struct nncw_sparse_layer *l)
{
    int y = nncw_node_get_output(nncw_graph_get_node(g, l->node), 0);
    for (int k = 0; k < n_sites; k++)
        if (sites[k].weight == l->weight) {
            struct nncw_node *r = nncw_graph_get_node(g, sites[k].reader);
            if (nncw_node_get_input(r, sites[k].port) != y)
                NNCW_TRY(nncw_graph_set_node_input(g, r, sites[k].port, y));
        }
    return NNCW_OK;
}

/* the layers in topological order, one per weight, and the sites that read each */
static enum nncw_status collect(struct nncw_sparsity *sp, struct site *sites, int *n_sites)
{
    struct nncw_graph *g = sp->g;
    const int *order;
    NNCW_TRY(nncw_graph_topo_order(g, &order));
    int nodes = nncw_graph_count_nodes(g);
    *n_sites = 0;
    for (int k = 0; k < nodes; k++) {
        const struct nncw_node *n = nncw_graph_get_node(g, order[k]);
        struct site st;
        bool masked;
        const char *name = nncw_node_get_name(n);
        bool found = find_site(g, n, &st, &masked);
        if (!selected(sp->cfg, name))
            continue;
        if (masked)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "config '%s': %s: the weight of '%s' has a sparsity mask already "
                             "(one sparsity algorithm per weight)",
                             sp->cfg->source, sp->cfg->path, name);
        if (!found)
            continue;
        sites[(*n_sites)++] = st;
        bool seen = false;
        for (int i = 0; i < sp->n && !seen; i++)
            seen = sp->layers[i].weight == st.weight;
        if (seen)
            continue;
        struct nncw_sparse_layer *l = &sp->layers[sp->n];
        *l = (struct nncw_sparse_layer){.weight = st.weight, .node = -1, .mask = -1, .logits = -1};
        if (!(l->name = nncw_strdup(name)))
            return NNCW_FAIL(NNCW_ERR_NOMEM, "sparsity: out of memory");
        sp->n++;
        sp->total += nncw_tensor_numel(nncw_graph_get_value_tensor(g, st.weight));
    }
    return NNCW_OK;
}

enum nncw_status nncw_sparsity_insert_masks(struct nncw_sparsity *sp, bool rb)
{
    struct nncw_graph *g = sp->g;
    NNCW_TRY(nncw_scope_check_list(g, sp->cfg->source, &sp->cfg->ignored));
    NNCW_TRY(nncw_scope_check_list(g, sp->cfg->source, &sp->cfg->target));
    int nodes = nncw_graph_count_nodes(g);
    struct site *sites = nncw_calloc((size_t)(nodes ? nodes : 1), sizeof *sites);
    sp->layers = nncw_calloc((size_t)(nodes ? nodes : 1), sizeof *sp->layers);
    if (!sites || !sp->layers) {
        nncw_free(sites);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "sparsity: out of memory");
    }
    int n_sites = 0;
    enum nncw_status s = collect(sp, sites, &n_sites);
    /* everything above only reads the graph; from here on it changes */
    for (int i = 0; i < sp->n && s == NNCW_OK; i++) {
        s = insert_one(g, &sp->layers[i], rb);
        if (s == NNCW_OK)
            s = rewire(g, sites, n_sites, &sp->layers[i]);
    }
    nncw_free(sites);
    return s;
}

const float *nncw_sparse_layer_mask(const struct nncw_sparsity *sp, int i)
{
    return nncw_tensor_f32(nncw_graph_get_value_tensor(sp->g, sp->layers[i].mask));
}

int64_t nncw_sparse_layer_numel(const struct nncw_sparsity *sp, int i)
{
    return nncw_tensor_numel(nncw_graph_get_value_tensor(sp->g, sp->layers[i].weight));
}
