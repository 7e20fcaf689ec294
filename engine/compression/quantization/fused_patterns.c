/* NNCF's fused patterns (nncf/torch/hardware/fused_patterns.py): chains such as
 * Conv -> BatchNorm -> ReLU that a runtime executes as one op, so quantizers sit at the output of
 * the chain and never between its ops. */
#include "compression/quantization/op_traits.h"

#include "core/alloc.h"

enum kind { K_OTHER, K_LINEAR, K_ARITH, K_BN, K_ACT };

static enum kind kind_of(enum nncw_op op)
{
    switch (op) {
    case NNCW_OP_CONV:
    case NNCW_OP_CONVTRANSPOSE:
    case NNCW_OP_GEMM:
    case NNCW_OP_MATMUL:
        return K_LINEAR;
    case NNCW_OP_ADD:
    case NNCW_OP_MUL:
        return K_ARITH;
    case NNCW_OP_BATCHNORM:
        return K_BN;
    case NNCW_OP_RELU:
    case NNCW_OP_CLIP:
    case NNCW_OP_ELU:
    case NNCW_OP_PRELU:
    case NNCW_OP_SIGMOID:
    case NNCW_OP_SWISH:
    case NNCW_OP_HARDSWISH:
    case NNCW_OP_HARDSIGMOID:
        return K_ACT;
    default:
        return K_OTHER;
    }
}

struct fuse_ctx {
    struct nncw_graph *g;
    int *uses;       /* per value: node input slots reading it, plus graph outputs */
    int *consumer;   /* per value: the last node reading it */
    const int *head; /* per node: group head so far, -1 unassigned */
};

/* the node that continues a chain from n: n's only output feeds exactly one input of one
 * node, at port 0, and that node's other inputs are parameters (weights, constants) */
static struct nncw_node *chain_next(const struct fuse_ctx *c, const struct nncw_node *n)
{
    if (nncw_node_count_outputs(n) != 1)
        return NULL;
    int v = nncw_node_get_output(n, 0);
    if (c->uses[v] != 1 || c->consumer[v] < 0)
        return NULL;
    struct nncw_node *next = nncw_graph_get_node(c->g, c->consumer[v]);
    if (c->head[c->consumer[v]] >= 0 || nncw_node_get_input(next, 0) != v)
        return NULL;
    for (int i = 1; i < nncw_node_count_inputs(next); i++) {
        int in = nncw_node_get_input(next, i);
        if (in >= 0 && nncw_graph_get_value_kind(c->g, in) != NNCW_VALUE_PARAM)
            return NULL;
    }
    return next;
}

static enum kind next_kind(const struct fuse_ctx *c, const struct nncw_node *n)
{
    const struct nncw_node *next = n ? chain_next(c, n) : NULL;
    return next ? kind_of(nncw_node_get_op(next)) : K_OTHER;
}

/* a bias Add after a linear op: Add(x, parameter), as ONNX writes Linear without Gemm */
static bool is_bias_add(const struct fuse_ctx *c, const struct nncw_node *n)
{
    const struct nncw_node *next = chain_next(c, n);
    return next && nncw_node_get_op(next) == NNCW_OP_ADD && nncw_node_count_inputs(next) == 2;
}

/* the members of the longest pattern starting at n, into members[]; returns the count */
static int match(const struct fuse_ctx *c, struct nncw_node *n, struct nncw_node **members)
{
    int count = 0;
    members[count++] = n;
    enum kind k = kind_of(nncw_node_get_op(n));
    if (k == K_OTHER)
        return count;
    if (k == K_LINEAR && is_bias_add(c, n))
        members[count++] = chain_next(c, n);
    struct nncw_node *last = members[count - 1];
    if (k == K_BN || k == K_ACT) { /* BN + act, act + BN */
        enum kind want = k == K_BN ? K_ACT : K_BN;
        if (next_kind(c, last) == want)
            members[count++] = chain_next(c, last);
        return count;
    }
    enum kind k1 = next_kind(c, last); /* linear/arith followed by BN and/or act */
    if (k1 != K_BN && k1 != K_ACT)
        return count;
    members[count++] = chain_next(c, last);
    enum kind want = k1 == K_BN ? K_ACT : K_BN;
    last = members[count - 1];
    if (next_kind(c, last) == want)
        members[count++] = chain_next(c, last);
    return count;
}

enum nncw_status nncw_quant_fuse_patterns(struct nncw_graph *g, int *head)
{
    const int *order;
    NNCW_TRY(nncw_graph_topo_order(g, &order));
    int nn = nncw_graph_count_nodes(g), nv = nncw_graph_count_values(g);
    int *uses = nncw_calloc((size_t)(nv ? nv : 1), sizeof *uses);
    int *consumer = nncw_malloc((size_t)(nv ? nv : 1) * sizeof *consumer);
    if (!uses || !consumer) {
        nncw_free(uses);
        nncw_free(consumer);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "quantization: out of memory");
    }
    for (int v = 0; v < nv; v++)
        consumer[v] = -1;
    for (int i = 0; i < nn; i++) {
        const struct nncw_node *n = nncw_graph_get_node(g, i);
        head[i] = -1;
        for (int p = 0; p < nncw_node_count_inputs(n); p++) {
            int v = nncw_node_get_input(n, p);
            if (v >= 0) {
                uses[v]++;
                consumer[v] = i;
            }
        }
    }
    for (int i = 0; i < nncw_graph_count_outputs(g); i++)
        uses[nncw_graph_get_output(g, i)]++;
    struct fuse_ctx c = {g, uses, consumer, head};
    for (int k = 0; k < nn; k++) { /* topological order: the earliest head takes the longest */
        if (head[order[k]] >= 0)
            continue;
        struct nncw_node *members[4];
        int m = match(&c, nncw_graph_get_node(g, order[k]), members);
        for (int j = 0; j < m; j++)
            head[nncw_node_get_index(members[j])] = order[k];
    }
    nncw_free(uses);
    nncw_free(consumer);
    return NNCW_OK;
}
