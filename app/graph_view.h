/*
 * A read-only copy of what the workbench shows of a graph: per node its scope, op, output
 * shape, parameters, FLOPs, attributes, inputs, producers and consumers; per parameter its
 * statistics and a histogram. The Lua worker builds one after each action (while nothing
 * else touches the graph); the UI thread reads it at leisure, even while a run changes the
 * weights underneath.
 *
 *     struct graph_view *v;
 *     if (graph_view_build(g, "model", NULL, &v) == NNCW_OK) { // shapes of batch 1 expected
 *         for (int i = 0; i < v->n_nodes; i++)
 *             printf("%s %s %s\n", v->nodes[i].scope, v->nodes[i].op, v->nodes[i].out_shape);
 *         graph_view_release(v);
 *     }
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "compression/compression.h"
#include "core/status.h"
#include "graph/graph.h"
#include "tensor/stats.h"

enum { GRAPH_VIEW_BINS = 240, GRAPH_VIEW_SHAPE = 64 };

/* a value a node reads or writes */
struct graph_view_value {
    const char *name;
    const char *kind;             /* "input", "param", "buffer", "activation" */
    char shape[GRAPH_VIEW_SHAPE]; /* "[32, 1, 3, 3]" */
    int weight;                   /* index in graph_view.weights, or -1 */
};

/* a parameter (weights, biases, buffers) */
struct graph_view_weight {
    const char *name;
    char shape[GRAPH_VIEW_SHAPE];
    const char *dtype;
    bool trainable;
    struct nncw_tensor_stats stats;
    double lo, hi;                   /* the histogram's range (finite min and max) */
    uint32_t bins[GRAPH_VIEW_BINS];  /* counts of finite values in equal-width bins */
    int64_t zeros;                   /* elements exactly 0 (sparsity) */
    int64_t channels, zero_channels; /* ndim >= 2: slices along dim 0, and those all 0 */
};

struct graph_view_node {
    const char *scope, *op;
    int index; /* 0-based, as in the graph */
    char out_shape[GRAPH_VIEW_SHAPE];
    int64_t params, flops, macs;
    int n_inputs, n_outputs, n_attrs, n_producers, n_consumers;
    struct graph_view_value *inputs, *outputs;
    const char **attrs; /* "kernel_shape = [3, 3]" */
    /* compression markers: "Q8" (quantizers of 8 bits feed it, or it is one; "Qw4a8": weights
     * 4 bits, activations 8; "q8": they are disabled for now; "Q" without a compression: an
     * input comes from a quantize op),
     * "S40%" (the sparsity mask it reads is 40% zeros, or that share of its weights is 0),
     * "P3/32" (filter pruning masks 3 of its 32 filters, "Px": its group is excluded; without
     * a compression: output channels of its weight all 0) */
    char marks[32];
    int *producers, *consumers; /* node indices */
};

struct graph_view_block;

struct graph_view {
    atomic_int refs;
    const void *key;  /* the graph's address: equal keys, same graph (while it lives) */
    const char *name; /* what the session calls it ("model") */
    int n_nodes, n_weights;
    struct graph_view_node *nodes;
    int *topo; /* node indices in topological order */
    struct graph_view_weight *weights;
    int64_t params, flops, macs;
    bool compressed; /* the Q marks come from a compression's quantizers */
    char inputs[128], outputs[128];  /* "input [1, 1, 28, 28]" */
    struct graph_view_block *blocks; /* where everything above lives */
};

/* a new view (one reference) of g, whose shapes must be those of batch 1 (the inspection
 * convention), with the quantizer marks of c (a compression of g) or, c NULL, guessed from the
 * ops; NNCW_ERR_NOMEM, or a failure of the graph's topological order */
enum nncw_status graph_view_build(struct nncw_graph *g, const char *name,
                                  const struct nncw_compression *c, struct graph_view **out);
/* the node's index whose scope is exactly scope, or -1 */
int graph_view_find(const struct graph_view *v, const char *scope);
void graph_view_retain(struct graph_view *v);
/* drops a reference; the last one frees the view. NULL is fine */
void graph_view_release(struct graph_view *v);
