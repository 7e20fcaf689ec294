/*
 * The executor: runs a graph forward and backward for one batch size, with activation and
 * gradient memory planned once and reused every step.
 *
 *     struct nncw_exec *ex;
 *     struct nncw_exec_options o = {.batch = 64, .training = true, .backward = true, .seed = 1};
 *     nncw_exec_new(g, &o, &ex);
 *     memcpy(nncw_exec_get_input(ex, 0)->data, images, ...);
 *     nncw_exec_forward(ex);
 *     const struct nncw_tensor *logits = nncw_exec_get_output(ex, 0);
 *     nncw_graph_zero_grads(g);
 *     nncw_exec_backward(ex, (const struct nncw_tensor *[]){&dlogits});  // into param grads
 *     nncw_exec_free(ex);
 *
 * With backward on, every activation is kept until backward; otherwise buffers are shared
 * between values whose lifetimes do not overlap. Gradient buffers are always shared that way.
 * Parameters stay in the graph; an executor must be rebuilt after the graph changes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "core/status.h"
#include "graph/graph.h"
#include "tensor/tensor.h"

struct nncw_exec;

struct nncw_exec_options {
    int64_t batch;     /* replaces the -1 batch dimension of the inputs */
    bool training;     /* op mode: batch-norm batch statistics, dropout */
    bool no_dropout;   /* with training: batch statistics but no dropout (BN adaptation) */
    bool backward;     /* keep activations and plan gradients so backward can run */
    bool input_grads;  /* also compute gradients with respect to the graph inputs */
    uint64_t seed;     /* dropout and other random ops */
    bool profile;      /* time every node's forward and backward */
    bool keep_values;  /* run every node as written: no ReLU fused into the unsigned quantizer
                        * reading it (training executors fuse them; the ReLU's output is then
                        * not computed: see graph/exec_fuse.c), and no Conv -> BatchNorm
                        * [-> Add] [-> Relu] chain fused in inference executors
                        * (graph/exec_fold_bn.c) */
};

/* plans memory for the graph at this batch size; NNCW_ERR_SHAPE naming the node whose shape
 * inference failed, NNCW_ERR_UNSUPPORTED for an op without backward on a gradient path */
enum nncw_status nncw_exec_new(struct nncw_graph *g, const struct nncw_exec_options *opt,
                               struct nncw_exec **out);
void nncw_exec_free(struct nncw_exec *ex);

/* the buffer of graph input i, to be filled before forward */
struct nncw_tensor *nncw_exec_get_input(struct nncw_exec *ex, int i);
/* graph output i after forward */
const struct nncw_tensor *nncw_exec_get_output(const struct nncw_exec *ex, int i);
/* any value after forward (without backward a buffer may have been reused: valid only for
 * outputs and inputs; a training executor does not compute a ReLU fused into its quantizer,
 * nor an inference executor the intermediates of a fused Conv -> BatchNorm chain, unless made
 * with keep_values) */
const struct nncw_tensor *nncw_exec_get_value(const struct nncw_exec *ex, int value_id);
/* gradient of graph input i after backward (input_grads must be set) */
const struct nncw_tensor *nncw_exec_get_input_grad(const struct nncw_exec *ex, int i);
/* bytes of activation, gradient, saved and scratch memory the executor holds */
size_t nncw_exec_get_memory(const struct nncw_exec *ex);
bool nncw_exec_is_training(const struct nncw_exec *ex);
/* with the profile option: seconds spent in a node's forward and backward since the last
 * reset, summed over runs */
void nncw_exec_get_profile(const struct nncw_exec *ex, int node_index, double *forward_s,
                           double *backward_s);
void nncw_exec_reset_profile(struct nncw_exec *ex);

/* Called after each node's forward with the node's index; the node's inputs and outputs are
 * readable through nncw_exec_get_value at that moment (range initialisation and statistics
 * collectors watch values this way without keeping every activation). A status other than
 * NNCW_OK stops the forward pass and is returned by it. */
typedef enum nncw_status (*nncw_exec_observer_fn)(void *user, struct nncw_exec *ex,
                                                  int node_index);
/* NULL fn removes the observer */
void nncw_exec_set_observer(struct nncw_exec *ex, nncw_exec_observer_fn fn, void *user);

/* the random stream of dropout and other random ops (seeded from the options' seed), read and
 * replaced so that a resumed run draws the numbers the interrupted one would have (exec_rng.c) */
struct nncw_rng nncw_exec_get_rng(const struct nncw_exec *ex);
void nncw_exec_set_rng(struct nncw_exec *ex, const struct nncw_rng *rng);

/* runs every node; fails with the failing node's message */
enum nncw_status nncw_exec_forward(struct nncw_exec *ex);
/* back-propagates grad_out[i] (dL/d output i; NULL = zero) into the gradients of trainable
 * parameters (accumulating: zero them first with nncw_graph_zero_grads) and, if asked, of
 * the inputs. Requires the backward option and a preceding forward. */
enum nncw_status nncw_exec_backward(struct nncw_exec *ex, const struct nncw_tensor *const grad_out[]);
