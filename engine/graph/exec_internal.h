/* Executor internals shared by exec.c (planning, forward) and autograd/ (backward). */
#pragma once

#include "core/rng.h"
#include "graph/exec.h"
#include "graph/graph_internal.h"

struct nncw_op_ctx {
    struct nncw_exec *ex;
    bool relu_fused; /* the running quantizer reads a fused ReLU's input (exec_fuse.c) */
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
    int *fuse_quantizer;     /* per node: for a ReLU, the quantizer it may fuse into, or -1 */
    int *fuse_relu;          /* per node: for that quantizer, the ReLU, or -1 */
    bool *fused_now;         /* per node: the ReLU was skipped by the last forward */
    struct nncw_exec_fold *fold; /* Conv -> BN [-> Add] [-> ReLU] chains (exec_fold_bn.c) */
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

/* ReLU -> unsigned quantizer fusion (exec_fuse.c): finds the pairs (and lengthens the gradient
 * lifetime of each ReLU's input in last[]); whether forward skips node n (recorded for the
 * backward); the quantizer's in[] (and grad_in[], may be NULL) moved to the ReLU's input;
 * whether the last forward skipped node index `node` */
enum nncw_status nncw_exec_fuse_plan(struct nncw_exec *ex, const int *pos, int *last);
bool nncw_exec_fuse_skip(struct nncw_exec *ex, const struct nncw_node *n);
void nncw_exec_fuse_args(struct nncw_exec *ex, const struct nncw_node *n,
                         struct nncw_tensor **in, struct nncw_tensor **grad_in);
bool nncw_exec_fuse_skipped(const struct nncw_exec *ex, int node);

/* Conv -> BatchNormalization [-> Add] [-> Relu] chains of inference executors (exec_fold_bn.c):
 * finds them (moving first[] writes and last[] reads of the values they touch earlier/later);
 * runs node n's share of its chain if it has one and returns true with the status (false: run
 * n as written); frees; bytes held */
struct nncw_exec_fold;
enum nncw_status nncw_exec_fold_plan(struct nncw_exec *ex, const int *pos, int *first, int *last);
bool nncw_exec_fold_forward(struct nncw_exec *ex, const struct nncw_node *n,
                            enum nncw_status *status);
void nncw_exec_fold_free(struct nncw_exec_fold *f);
size_t nncw_exec_fold_bytes(const struct nncw_exec_fold *f);
/* how many chains the executor runs fused, and how many of them fold the weights (tests) */
void nncw_exec_fold_get_counts(const struct nncw_exec *ex, int *chains, int *folded);
