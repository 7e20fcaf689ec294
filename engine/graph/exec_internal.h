/* Executor internals shared by exec.c (planning, forward) and autograd/ (backward). */
#pragma once

#include "core/rng.h"
#include "graph/exec.h"
#include "graph/graph_internal.h"

struct nncw_op_ctx {
    struct nncw_exec *ex;
};

struct nncw_exec {
    struct nncw_graph *g;
    struct nncw_exec_options opt;
    const int *order;        /* topological order (the graph's) */
    struct nncw_tensor *val; /* per value: shape and data */
    struct nncw_tensor *grad;/* per value: gradient (activations and inputs when needed) */
    bool *needs_grad;        /* per value */
    int *grad_start;         /* per value: backward step at which its gradient buffer is zeroed */
    char *act_mem, *grad_mem, *input_mem;
    size_t act_bytes, grad_bytes, input_bytes;
    void **saved;            /* per node */
    size_t *saved_bytes;
    void *scratch;
    size_t scratch_bytes;
    bool forward_done;
    double *prof_fwd, *prof_bwd; /* per node, with opt.profile */
    nncw_exec_observer_fn observer; /* called after every node's forward, or NULL */
    void *observer_user;
    struct nncw_rng rng;
    struct nncw_op_ctx ctx;
};

/* Assigns offsets to n buffers with lifetimes [start, end] so that buffers alive at the same
 * time never overlap; returns the total size. Sizes are rounded up to 64 bytes. */
size_t nncw_plan_offsets(int n, const size_t *size, const int *start, const int *end,
                         size_t *offset);

double nncw_exec_now(void);

/* the in[]/out[] arrays of a node over the executor's values */
void nncw_exec_node_args(struct nncw_exec *ex, const struct nncw_node *n,
                         struct nncw_tensor **in, struct nncw_tensor **out);
