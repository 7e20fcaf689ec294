/*
 * The graph IR: values (inputs, parameters, constants, activations) joined by nodes.
 *
 *     struct nncw_graph *g;
 *     nncw_graph_new(&g);
 *     int64_t in_shape[] = {-1, 1, 28, 28};            // -1: the batch dimension
 *     int x, y, w;
 *     nncw_graph_add_input(g, "input", NNCW_DTYPE_F32, 4, in_shape, &x);
 *     nncw_graph_add_param(g, "conv1.weight", &weight, true, &w);   // retains the storage
 *     struct nncw_node *n;
 *     nncw_graph_add_node(g, NNCW_OP_CONV, "Net/conv1", 2, (int[]){x, w}, 1, &y, &n);
 *     nncw_node_set_attr_ints(n, "kernel_shape", 2, (int64_t[]){3, 3});
 *     nncw_graph_add_output(g, y);
 *     ...
 *     nncw_graph_free(g);
 *
 * Values and nodes are referred to by integer ids (value ids, node indices). Node scope names
 * are unique and hierarchical ("ResNet/layer1.0/conv1"); nncw_graph_find_node looks one up
 * exactly, nncw_scope_matches matches NNCF-style patterns ("{re}" prefix = POSIX regex).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "ops/ops.h"
#include "tensor/tensor.h"

struct nncw_graph;
struct nncw_node;

/* the type of a node attribute (ONNX's INT, FLOAT, INTS, FLOATS, STRING) */
enum nncw_attr_type {
    NNCW_ATTR_INT,
    NNCW_ATTR_FLOAT,
    NNCW_ATTR_INTS,
    NNCW_ATTR_FLOATS,
    NNCW_ATTR_STRING,
    NNCW_ATTR_TYPE_COUNT
};

enum nncw_value_kind {
    NNCW_VALUE_INPUT,
    NNCW_VALUE_PARAM, /* weights and buffers (running statistics); trainable or not */
    NNCW_VALUE_ACT,   /* produced by a node */
    NNCW_VALUE_KIND_COUNT
};

/* ---- lifecycle ---- */
enum nncw_status nncw_graph_new(struct nncw_graph **out);
void nncw_graph_free(struct nncw_graph *g);

/* ---- building ---- */
/* a graph input; shape[0] may be -1 for a symbolic batch dimension */
enum nncw_status nncw_graph_add_input(struct nncw_graph *g, const char *name, enum nncw_dtype dt,
                                      int ndim, const int64_t *shape, int *out_id);
/* a parameter initialised from init (its storage is retained, not copied); constants are
 * non-trainable parameters */
enum nncw_status nncw_graph_add_param(struct nncw_graph *g, const char *name,
                                      const struct nncw_tensor *init, bool trainable, int *out_id);
/* a node reading in_ids (-1 for a missing optional input) and producing n_out new
 * activation values written to out_ids; scope must be unique (NNCW_ERR_INVALID_ARG) */
enum nncw_status nncw_graph_add_node(struct nncw_graph *g, enum nncw_op op, const char *scope,
                                     int n_in, const int *in_ids, int n_out, int *out_ids,
                                     struct nncw_node **out_node);
enum nncw_status nncw_graph_add_output(struct nncw_graph *g, int value_id);
/* renames a value (ONNX import keeps the file's tensor names); NNCW_ERR_INVALID_ARG if another
 * value has the name */
enum nncw_status nncw_graph_set_value_name(struct nncw_graph *g, int id, const char *name);

/* rewiring, as compression inserts ops on edges: input `port` of n now reads value_id; graph
 * output i is now value_id. The topological order is recomputed on next use. */
enum nncw_status nncw_graph_set_node_input(struct nncw_graph *g, struct nncw_node *n, int port,
                                           int value_id);
enum nncw_status nncw_graph_set_output(struct nncw_graph *g, int i, int value_id);
/* a deep copy (same value ids and node indices; parameters copied, gradients not) */
enum nncw_status nncw_graph_clone(const struct nncw_graph *src, struct nncw_graph **out);
/* dst becomes a deep copy of src (dst's pointer stays valid for its holders); dst is unchanged
 * if copying fails */
enum nncw_status nncw_graph_assign(struct nncw_graph *dst, const struct nncw_graph *src);

/* attributes (ONNX names); setting an existing name replaces it */
enum nncw_status nncw_node_set_attr_int(struct nncw_node *n, const char *name, int64_t v);
enum nncw_status nncw_node_set_attr_float(struct nncw_node *n, const char *name, float v);
enum nncw_status nncw_node_set_attr_ints(struct nncw_node *n, const char *name, int count,
                                         const int64_t *v);
enum nncw_status nncw_node_set_attr_floats(struct nncw_node *n, const char *name, int count,
                                           const float *v);
enum nncw_status nncw_node_set_attr_string(struct nncw_node *n, const char *name, const char *v);

/* ---- node queries ---- */
enum nncw_op nncw_node_get_op(const struct nncw_node *n);
const char *nncw_node_get_name(const struct nncw_node *n);
int nncw_node_get_index(const struct nncw_node *n);
int nncw_node_count_inputs(const struct nncw_node *n);
int nncw_node_get_input(const struct nncw_node *n, int i); /* value id or -1 */
int nncw_node_count_outputs(const struct nncw_node *n);
int nncw_node_get_output(const struct nncw_node *n, int i);
bool nncw_node_has_attr(const struct nncw_node *n, const char *name);
int64_t nncw_node_get_attr_int(const struct nncw_node *n, const char *name, int64_t def);
float nncw_node_get_attr_float(const struct nncw_node *n, const char *name, float def);
/* number of elements and *out, or -1 if absent */
int nncw_node_get_attr_ints(const struct nncw_node *n, const char *name, const int64_t **out);
int nncw_node_get_attr_floats(const struct nncw_node *n, const char *name, const float **out);
const char *nncw_node_get_attr_string(const struct nncw_node *n, const char *name,
                                      const char *def);
/* attributes by position, in the order they were first set (export walks them) */
int nncw_node_count_attrs(const struct nncw_node *n);
const char *nncw_node_get_attr_name(const struct nncw_node *n, int i);
enum nncw_attr_type nncw_node_get_attr_type(const struct nncw_node *n, int i);

/* ---- graph queries ---- */
int nncw_graph_count_nodes(const struct nncw_graph *g);
struct nncw_node *nncw_graph_get_node(const struct nncw_graph *g, int index);
int nncw_graph_count_values(const struct nncw_graph *g);
const char *nncw_graph_get_value_name(const struct nncw_graph *g, int id);
enum nncw_value_kind nncw_graph_get_value_kind(const struct nncw_graph *g, int id);
/* shape (and data, for parameters) of a value; shapes of activations are those of the last
 * nncw_graph_infer_shapes call */
struct nncw_tensor *nncw_graph_get_value_tensor(const struct nncw_graph *g, int id);
/* gradient of a trainable parameter (NULL before nncw_graph_alloc_grads or if frozen) */
struct nncw_tensor *nncw_graph_get_value_grad(const struct nncw_graph *g, int id);
bool nncw_graph_is_trainable(const struct nncw_graph *g, int id);
/* whether an input's first dimension is the symbolic batch (-1 when it was added) */
bool nncw_graph_has_dynamic_batch(const struct nncw_graph *g, int id);
/* the node producing an activation, NULL otherwise */
struct nncw_node *nncw_graph_get_producer(const struct nncw_graph *g, int id);
int nncw_graph_count_inputs(const struct nncw_graph *g);
int nncw_graph_get_input(const struct nncw_graph *g, int i);
int nncw_graph_count_outputs(const struct nncw_graph *g);
int nncw_graph_get_output(const struct nncw_graph *g, int i);
int nncw_graph_count_params(const struct nncw_graph *g);
int nncw_graph_get_param(const struct nncw_graph *g, int i); /* value id of the i-th param */
/* total elements of trainable parameters */
int64_t nncw_graph_count_param_elements(const struct nncw_graph *g);

/* exact scope lookup; NNCW_ERR_NOT_FOUND naming the scope */
enum nncw_status nncw_graph_find_node(const struct nncw_graph *g, const char *scope,
                                      struct nncw_node **out);
/* NNCF matching: exact name, or "{re}<POSIX extended regex>" searched in the name.
 * NNCW_ERR_PARSE for a bad regex; *out set to the result */
enum nncw_status nncw_scope_matches(const char *pattern, const char *name, bool *out);

/* ---- passes ---- */
/* topological order of node indices into *order (owned by the graph, valid until the graph
 * changes); NNCW_ERR_INVALID_ARG naming a node on a cycle or an undefined input */
enum nncw_status nncw_graph_topo_order(struct nncw_graph *g, const int **order);
/* infers the shape of every activation for the given batch size (replacing -1 dims) */
enum nncw_status nncw_graph_infer_shapes(struct nncw_graph *g, int64_t batch);
/* the work of one forward pass at this batch size (runs shape inference): multiply-accumulates
 * of Conv, ConvTranspose, Gemm and MatMul, and FLOPs (a multiply-add is 2, any other op 1 per
 * output element) */
enum nncw_status nncw_graph_count_flops(struct nncw_graph *g, int64_t batch, int64_t *macs,
                                        int64_t *flops);
/* allocates (zeroed) gradient tensors for trainable parameters; idempotent */
enum nncw_status nncw_graph_alloc_grads(struct nncw_graph *g);
void nncw_graph_zero_grads(struct nncw_graph *g);
