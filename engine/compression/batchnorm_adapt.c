#include "compression/compression_internal.h"

#include "core/alloc.h"
#include "ops/ops.h"

struct bn_pass {
    struct nncw_graph *g;
    float *momentum; /* per node: the momentum to restore (NaN: not a batch norm) */
};

/* batch k (0-based) gets momentum k / (k + 1): the running statistics become the plain
 * average of the k + 1 batches seen, whatever they were before */
static enum nncw_status set_momentum(void *user, struct nncw_exec *ex, int64_t k)
{
    (void)ex;
    struct bn_pass *p = user;
    float m = (float)k / (float)(k + 1);
    for (int i = 0; i < nncw_graph_count_nodes(p->g); i++) {
        struct nncw_node *n = nncw_graph_get_node(p->g, i);
        if (nncw_node_get_op(n) == NNCW_OP_BATCHNORM)
            NNCW_TRY(nncw_node_set_attr_float(n, "momentum", m));
    }
    return NNCW_OK;
}

enum nncw_status nncw_batchnorm_adapt(struct nncw_graph *g, const struct nncw_dataset *data,
                                      int64_t samples, int batch_size, uint64_t seed)
{
    int nodes = nncw_graph_count_nodes(g);
    struct bn_pass p = {.g = g, .momentum = nncw_malloc((size_t)(nodes ? nodes : 1) * sizeof(float))};
    if (!p.momentum)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "batch-norm adaptation: out of memory");
    int bns = 0;
    for (int i = 0; i < nodes; i++) {
        struct nncw_node *n = nncw_graph_get_node(g, i);
        bool bn = nncw_node_get_op(n) == NNCW_OP_BATCHNORM;
        p.momentum[i] = bn ? nncw_node_get_attr_float(n, "momentum", 0.9f) : 0;
        bns += bn;
    }
    enum nncw_status s = NNCW_OK;
    if (bns) {
        struct nncw_exec_options eo = {.training = true, .no_dropout = true, .seed = seed};
        s = nncw_forward_samples(g, data, samples, batch_size, seed, &eo, set_momentum, NULL, &p);
        for (int i = 0; i < nodes; i++) {
            struct nncw_node *n = nncw_graph_get_node(g, i);
            if (nncw_node_get_op(n) == NNCW_OP_BATCHNORM) {
                enum nncw_status r = nncw_node_set_attr_float(n, "momentum", p.momentum[i]);
                if (s == NNCW_OK)
                    s = r;
            }
        }
    }
    nncw_free(p.momentum);
    return s;
}
