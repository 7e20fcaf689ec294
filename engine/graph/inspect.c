#include "graph/inspect.h"

static const struct nncw_tensor *in_tensor(const struct nncw_graph *g, const struct nncw_node *n,
                                           int i)
{
    int id = nncw_node_get_input(n, i);
    return id >= 0 ? nncw_graph_get_value_tensor(g, id) : NULL;
}

/* elements of the first output (as nncw_graph_count_flops counts them) */
static int64_t out_numel(const struct nncw_graph *g, const struct nncw_node *n)
{
    int64_t k = nncw_tensor_numel(nncw_graph_get_value_tensor(g, nncw_node_get_output(n, 0)));
    return k < 0 ? 0 : k;
}

int64_t nncw_node_count_param_elements(const struct nncw_graph *g, const struct nncw_node *n)
{
    int64_t total = 0;
    for (int i = 0; i < nncw_node_count_inputs(n); i++) {
        int id = nncw_node_get_input(n, i);
        if (id >= 0 && nncw_graph_get_value_kind(g, id) == NNCW_VALUE_PARAM &&
            nncw_graph_is_trainable(g, id))
            total += nncw_tensor_numel(nncw_graph_get_value_tensor(g, id));
    }
    return total;
}

int64_t nncw_node_count_macs(const struct nncw_graph *g, const struct nncw_node *n)
{
    const struct nncw_tensor *x = in_tensor(g, n, 0), *w = in_tensor(g, n, 1);
    if (!x || !w)
        return 0;
    int64_t outs = out_numel(g, n);
    switch (nncw_node_get_op(n)) {
    case NNCW_OP_CONV: /* weight [Cout, Cin/group, k...]: Cin/group * k... per output */
        return w->ndim >= 2 ? outs * (nncw_tensor_numel(w) / (w->shape[0] > 0 ? w->shape[0] : 1))
                            : 0;
    case NNCW_OP_GEMM:
    case NNCW_OP_MATMUL: { /* K products per output, K the shared dimension */
        int64_t k = x->ndim ? x->shape[x->ndim - 1] : 1;
        if (nncw_node_get_op(n) == NNCW_OP_GEMM && x->ndim == 2 &&
            nncw_node_get_attr_int(n, "transA", 0))
            k = x->shape[0];
        return outs * k;
    }
    default:
        return 0;
    }
}

int64_t nncw_node_count_flops(const struct nncw_graph *g, const struct nncw_node *n)
{
    int64_t macs = nncw_node_count_macs(g, n);
    return macs ? 2 * macs : out_numel(g, n);
}

int nncw_graph_find_consumers(const struct nncw_graph *g, int value_id, int *out, int max)
{
    int count = 0;
    for (int i = 0; i < nncw_graph_count_nodes(g); i++) {
        const struct nncw_node *n = nncw_graph_get_node(g, i);
        for (int k = 0; k < nncw_node_count_inputs(n); k++)
            if (nncw_node_get_input(n, k) == value_id) {
                if (count < max)
                    out[count] = i;
                count++;
                break;
            }
    }
    return count;
}
