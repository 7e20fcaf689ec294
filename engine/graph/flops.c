/*
** Counting the work of one forward pass, as model summaries do: multiply-accumulates of the
** convolutions and matrix products (what papers call "FLOPs" for ResNet-18's 1.8 G), and
** floating-point operations counting a multiply-add as two plus one per output element of
** every other op.
*/
#include "graph/graph_internal.h"

static int64_t numel(const struct nncw_tensor *t)
{
    int64_t n = nncw_shape_numel(t->ndim, t->shape);
    return n < 0 ? 0 : n;
}

/* multiply-accumulates of one node, 0 for ops that have none */
static int64_t node_macs(const struct nncw_graph *g, const struct nncw_node *n)
{
    const struct nncw_tensor *y = &g->values[n->out[0]].t;
    const struct nncw_tensor *x = n->n_in > 0 && n->in[0] >= 0 ? &g->values[n->in[0]].t : NULL;
    const struct nncw_tensor *w = n->n_in > 1 && n->in[1] >= 0 ? &g->values[n->in[1]].t : NULL;
    if (!x || !w)
        return 0;
    switch (n->op) {
    case NNCW_OP_CONV: /* each output element: C/group * kh * kw products */
        return w->ndim >= 2 ? numel(y) * (numel(w) / (w->shape[0] ? w->shape[0] : 1)) : 0;
    case NNCW_OP_CONVTRANSPOSE: /* each input element: M/group * kh * kw products */
        return w->ndim >= 2 ? numel(x) * (numel(w) / (w->shape[0] ? w->shape[0] : 1)) : 0;
    case NNCW_OP_GEMM:
    case NNCW_OP_MATMUL: { /* each output element: K products, K the shared dimension */
        int64_t k = x->ndim ? x->shape[x->ndim - 1] : 1;
        if (n->op == NNCW_OP_GEMM && x->ndim == 2 && nncw_node_get_attr_int(n, "transA", 0))
            k = x->shape[0];
        return numel(y) * k;
    }
    default:
        return 0;
    }
}

enum nncw_status nncw_graph_count_flops(struct nncw_graph *g, int64_t batch, int64_t *macs,
                                        int64_t *flops)
{
    NNCW_TRY(nncw_graph_infer_shapes(g, batch));
    int64_t m = 0, f = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const struct nncw_node *n = g->nodes[i];
        int64_t k = node_macs(g, n);
        m += k;
        f += k ? 2 * k : numel(&g->values[n->out[0]].t);
    }
    *macs = m;
    *flops = f;
    return NNCW_OK;
}
