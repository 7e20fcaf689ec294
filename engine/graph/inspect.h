/*
 * Read-only inspection of a graph: parameter counts and FLOPs per node, and the consumers of
 * a value (the producer is nncw_graph_get_producer). What the REPL's summary table and the
 * graph panel show.
 *
 *     nncw_graph_infer_shapes(g, 1);                       // counts are per batch of 1 here
 *     for (int i = 0; i < nncw_graph_count_nodes(g); i++) {
 *         const struct nncw_node *n = nncw_graph_get_node(g, i);
 *         printf("%s %lld %lld\n", nncw_node_get_name(n),
 *                (long long)nncw_node_count_param_elements(g, n),
 *                (long long)nncw_node_count_flops(g, n));
 *     }
 *     int users[8];
 *     int k = nncw_graph_find_consumers(g, value_id, users, 8);   // k may exceed 8
 *
 * The counts follow nncw_graph_count_flops (graph.h), so the nodes' FLOPs add up to the
 * graph's: multiply-accumulates of Conv, Gemm and MatMul count two FLOPs each, every other op
 * one per output element.
 */
#pragma once

#include <stdint.h>

#include "graph/graph.h"

/* elements of the node's trainable parameter inputs (weights and biases; batch-norm running
 * statistics are buffers and do not count, as in PyTorch) */
int64_t nncw_node_count_param_elements(const struct nncw_graph *g, const struct nncw_node *n);
/* multiply-accumulates of the node (Conv, Gemm, MatMul; 0 for other ops) at the shapes of the
 * last nncw_graph_infer_shapes call */
int64_t nncw_node_count_macs(const struct nncw_graph *g, const struct nncw_node *n);
/* floating-point operations of the node: 2 * MACs, or one per output element */
int64_t nncw_node_count_flops(const struct nncw_graph *g, const struct nncw_node *n);
/* the indices of the nodes reading value_id, in node order: writes at most max of them to
 * out (out may be NULL when max is 0) and returns how many there are */
int nncw_graph_find_consumers(const struct nncw_graph *g, int value_id, int *out, int max);
