#include "graph/graph_internal.h"

#include <string.h>

#include "core/alloc.h"

/* Kahn's algorithm over node indices; ties broken by insertion order so the order (and thus
 * every run) is deterministic. */
enum nncw_status nncw_graph_topo_order(struct nncw_graph *g, const int **order)
{
    if (g->order) {
        *order = g->order;
        return NNCW_OK;
    }
    enum nncw_status s = NNCW_OK;
    int n = g->n_nodes;
    int *result = nncw_malloc((size_t)(n ? n : 1) * sizeof *result);
    int *pending = nncw_calloc((size_t)(n ? n : 1), sizeof *pending);
    if (!result || !pending) {
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "graph: out of memory sorting nodes");
        goto out;
    }
    /* pending[i] = inputs of node i produced by a node not yet placed */
    for (int i = 0; i < n; i++)
        for (int k = 0; k < g->nodes[i]->n_in; k++) {
            int v = g->nodes[i]->in[k];
            if (v >= 0 && g->values[v].producer >= 0)
                pending[i]++;
        }
    int placed = 0;
    bool progress = true;
    while (placed < n && progress) {
        progress = false;
        for (int i = 0; i < n; i++) {
            if (pending[i] != 0)
                continue;
            pending[i] = -1;
            result[placed++] = i;
            progress = true;
            const struct nncw_node *node = g->nodes[i];
            for (int j = 0; j < n; j++)
                for (int k = 0; k < g->nodes[j]->n_in; k++)
                    for (int o = 0; o < node->n_out; o++)
                        if (g->nodes[j]->in[k] == node->out[o])
                            pending[j]--;
        }
    }
    if (placed < n) {
        for (int i = 0; i < n; i++)
            if (pending[i] > 0) {
                s = NNCW_FAIL(NNCW_ERR_INVALID_ARG, "graph: node '%s' is on a cycle",
                              g->nodes[i]->name);
                break;
            }
        goto out;
    }
    g->order = result;
    result = NULL;
    *order = g->order;
out:
    nncw_free(result);
    nncw_free(pending);
    return s;
}

enum nncw_status nncw_graph_infer_shapes(struct nncw_graph *g, int64_t batch)
{
    const int *order;
    NNCW_TRY(nncw_graph_topo_order(g, &order));
    for (int i = 0; i < g->n_inputs; i++) {
        struct nncw_value *v = &g->values[g->inputs[i]];
        if (v->dynamic_batch) {
            int64_t shape[NNCW_MAX_DIMS];
            memcpy(shape, v->t.shape, sizeof shape);
            shape[0] = batch;
            nncw_tensor_init_borrowed(&v->t, v->t.dtype, v->t.ndim, shape, NULL);
        }
    }
    const struct nncw_tensor *in[16];
    struct nncw_tensor out[8];
    for (int k = 0; k < g->n_nodes; k++) {
        struct nncw_node *n = g->nodes[order[k]];
        const struct nncw_op_def *d = nncw_op_get_def(n->op);
        if (n->n_in > 16 || n->n_out > 8)
            return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "node '%s': too many inputs or outputs",
                             n->name);
        for (int i = 0; i < n->n_in; i++)
            in[i] = n->in[i] >= 0 ? &g->values[n->in[i]].t : NULL;
        memset(out, 0, sizeof out);
        NNCW_TRY(d->infer(n, in, n->n_in, out));
        for (int o = 0; o < n->n_out; o++) {
            struct nncw_tensor *t = &g->values[n->out[o]].t;
            nncw_tensor_init_borrowed(t, out[o].dtype, out[o].ndim, out[o].shape, NULL);
        }
    }
    return NNCW_OK;
}
