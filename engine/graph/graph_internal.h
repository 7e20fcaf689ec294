/* Graph internals, shared by graph.c, attr.c, topo.c, shape_infer.c and the executor. */
#pragma once

#include "graph/graph.h"

enum attr_type { ATTR_INT, ATTR_FLOAT, ATTR_INTS, ATTR_FLOATS, ATTR_STRING };

struct nncw_attr {
    char *name;
    enum attr_type type;
    int count;
    union {
        int64_t i;
        float f;
        int64_t *ints;
        float *floats;
        char *s;
    } u;
};

struct nncw_node {
    enum nncw_op op;
    int index;
    char *name;
    int n_in, n_out;
    int *in;  /* value ids, -1 = missing optional */
    int *out; /* value ids */
    int n_attrs;
    struct nncw_attr *attrs;
};

struct nncw_value {
    char *name;
    enum nncw_value_kind kind;
    bool trainable;
    bool dynamic_batch;      /* input whose first dimension is the batch (-1) */
    int producer;            /* node index for activations, -1 otherwise */
    struct nncw_tensor t;    /* shape; data and storage for parameters */
    struct nncw_tensor grad; /* trainable parameters, after nncw_graph_alloc_grads */
};

struct nncw_graph {
    int n_nodes, cap_nodes;
    struct nncw_node **nodes;
    int n_values, cap_values;
    struct nncw_value *values;
    int n_inputs, n_outputs, n_params;
    int *inputs, *outputs, *params;
    int *order; /* topological order, NULL when stale */
};

void nncw_attr_free_all(struct nncw_node *n);
