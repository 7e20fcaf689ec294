#include "graph/exec_internal.h"

#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/common.h"

bool nncw_op_ctx_is_training(const struct nncw_op_ctx *ctx)
{
    return ctx->ex->opt.training;
}

bool nncw_op_ctx_dropout_active(const struct nncw_op_ctx *ctx)
{
    return ctx->ex->opt.training && !ctx->ex->opt.no_dropout;
}

struct nncw_rng *nncw_op_ctx_rng(struct nncw_op_ctx *ctx)
{
    return &ctx->ex->rng;
}

void *nncw_op_ctx_saved(struct nncw_op_ctx *ctx, const struct nncw_node *node, size_t nbytes)
{
    struct nncw_exec *ex = ctx->ex;
    int i = node->index;
    if (ex->saved_bytes[i] < nbytes) {
        void *p = nncw_calloc(1, nbytes);
        if (!p)
            return NULL;
        nncw_free(ex->saved[i]);
        ex->saved[i] = p;
        ex->saved_bytes[i] = nbytes;
    }
    return ex->saved[i];
}

void *nncw_op_ctx_scratch(struct nncw_op_ctx *ctx, size_t nbytes)
{
    struct nncw_exec *ex = ctx->ex;
    if (ex->scratch_bytes < nbytes) {
        void *p = nncw_malloc(nbytes);
        if (!p)
            return NULL;
        nncw_free(ex->scratch);
        ex->scratch = p;
        ex->scratch_bytes = nbytes;
    }
    return ex->scratch;
}

void nncw_exec_free(struct nncw_exec *ex)
{
    if (!ex)
        return;
    if (ex->saved)
        for (int i = 0; i < ex->g->n_nodes; i++)
            nncw_free(ex->saved[i]);
    nncw_free(ex->saved);
    nncw_free(ex->saved_bytes);
    nncw_free(ex->prof_fwd);
    nncw_free(ex->prof_bwd);
    nncw_free(ex->fuse_quantizer);
    nncw_free(ex->fuse_relu);
    nncw_free(ex->fused_now);
    nncw_exec_fold_free(ex->fold);
    nncw_free(ex->scratch);
    nncw_free(ex->val);
    nncw_free(ex->grad);
    nncw_free(ex->needs_grad);
    nncw_free(ex->grad_start);
    nncw_free(ex->act_mem);
    nncw_free(ex->grad_mem);
    nncw_free(ex->input_mem);
    nncw_free(ex);
}

/* position of each node in the topological order */
static int *topo_positions(const struct nncw_exec *ex)
{
    int n = ex->g->n_nodes;
    int *pos = nncw_malloc((size_t)(n ? n : 1) * sizeof *pos);
    if (pos)
        for (int k = 0; k < n; k++)
            pos[ex->order[k]] = k;
    return pos;
}

/* first and last topological positions at which each value is written and read; outputs live
 * to the end (n) */
static void lifetimes(const struct nncw_exec *ex, const int *pos, int *first, int *last)
{
    const struct nncw_graph *g = ex->g;
    for (int v = 0; v < g->n_values; v++)
        first[v] = last[v] = g->values[v].producer >= 0 ? pos[g->values[v].producer] : -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i]->n_in; k++) {
            int v = g->nodes[i]->in[k];
            if (v >= 0 && pos[i] > last[v])
                last[v] = pos[i];
        }
    for (int i = 0; i < g->n_outputs; i++)
        last[g->outputs[i]] = g->n_nodes;
}

static enum nncw_status plan_activations(struct nncw_exec *ex, const int *first, const int *last)
{
    const struct nncw_graph *g = ex->g;
    int nv = g->n_values;
    size_t *size = nncw_calloc((size_t)nv, sizeof *size);
    size_t *off = nncw_calloc((size_t)nv, sizeof *off);
    int *start = nncw_calloc((size_t)nv, sizeof *start);
    int *end = nncw_calloc((size_t)nv, sizeof *end);
    enum nncw_status s = NNCW_OK;
    if (!size || !off || !start || !end) {
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "executor: out of memory planning");
        goto out;
    }
    for (int v = 0; v < nv; v++) {
        if (g->values[v].kind != NNCW_VALUE_ACT)
            continue;
        size[v] = nncw_tensor_nbytes(&ex->val[v]);
        /* backward needs every activation kept */
        start[v] = ex->opt.backward ? 0 : first[v];
        end[v] = ex->opt.backward ? g->n_nodes : last[v];
    }
    ex->act_bytes = nncw_plan_offsets(nv, size, start, end, off);
    ex->act_mem = nncw_calloc(1, ex->act_bytes ? ex->act_bytes : 1);
    if (!ex->act_mem) {
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "executor: cannot allocate %zu bytes of activations",
                      ex->act_bytes);
        goto out;
    }
    for (int v = 0; v < nv; v++)
        if (g->values[v].kind == NNCW_VALUE_ACT)
            ex->val[v].data = ex->act_mem + off[v];
out:
    nncw_free(size);
    nncw_free(off);
    nncw_free(start);
    nncw_free(end);
    return s;
}

static enum nncw_status alloc_inputs(struct nncw_exec *ex)
{
    const struct nncw_graph *g = ex->g;
    size_t total = 0;
    for (int i = 0; i < g->n_inputs; i++)
        total += (nncw_tensor_nbytes(&ex->val[g->inputs[i]]) + 63) & ~(size_t)63;
    ex->input_bytes = total;
    ex->input_mem = nncw_calloc(1, total ? total : 1);
    if (!ex->input_mem)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "executor: cannot allocate %zu bytes of inputs", total);
    total = 0;
    for (int i = 0; i < g->n_inputs; i++) {
        struct nncw_tensor *t = &ex->val[g->inputs[i]];
        t->data = ex->input_mem + total;
        total += (nncw_tensor_nbytes(t) + 63) & ~(size_t)63;
    }
    return NNCW_OK;
}

/* which values need a gradient: trainable parameters, inputs if asked, and every float
 * activation produced from one of those */
static enum nncw_status mark_grads(struct nncw_exec *ex)
{
    const struct nncw_graph *g = ex->g;
    for (int v = 0; v < g->n_values; v++) {
        const struct nncw_value *val = &g->values[v];
        ex->needs_grad[v] = val->trainable ||
                            (ex->opt.input_grads && val->kind == NNCW_VALUE_INPUT &&
                             val->t.dtype == NNCW_DTYPE_F32);
    }
    for (int k = 0; k < g->n_nodes; k++) {
        const struct nncw_node *n = g->nodes[ex->order[k]];
        bool any = false;
        for (int i = 0; i < n->n_in; i++)
            any |= n->in[i] >= 0 && ex->needs_grad[n->in[i]];
        if (!any)
            continue;
        if (!nncw_op_get_def(n->op)->backward)
            return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "node '%s': op %s has no gradient", n->name,
                             nncw_op_name(n->op));
        for (int o = 0; o < n->n_out; o++)
            ex->needs_grad[n->out[o]] = ex->val[n->out[o]].dtype == NNCW_DTYPE_F32;
    }
    return NNCW_OK;
}

/* Gradient buffers of activations live from the backward step of their last reader to that of
 * their producer; backward step of topological position k is n - k (step 0 sets the output
 * gradients). Input gradients live to the end. */
static enum nncw_status plan_grads(struct nncw_exec *ex, const int *pos, const int *last)
{
    const struct nncw_graph *g = ex->g;
    int nv = g->n_values, nn = g->n_nodes;
    size_t *size = nncw_calloc((size_t)nv, sizeof *size);
    size_t *off = nncw_calloc((size_t)nv, sizeof *off);
    int *end = nncw_calloc((size_t)nv, sizeof *end);
    enum nncw_status s = NNCW_OK;
    if (!size || !off || !end) {
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "executor: out of memory planning");
        goto out;
    }
    for (int v = 0; v < nv; v++) {
        const struct nncw_value *val = &g->values[v];
        if (!ex->needs_grad[v] || val->kind == NNCW_VALUE_PARAM)
            continue;
        size[v] = nncw_tensor_nbytes(&ex->val[v]);
        ex->grad_start[v] = last[v] >= nn || last[v] < 0 ? 0 : nn - last[v];
        if (val->kind == NNCW_VALUE_INPUT) {
            end[v] = nn + 1;
        } else {
            end[v] = nn - pos[val->producer];
            if (ex->grad_start[v] > end[v])
                ex->grad_start[v] = end[v]; /* read by no one: a zero gradient */
        }
    }
    ex->grad_bytes = nncw_plan_offsets(nv, size, ex->grad_start, end, off);
    ex->grad_mem = nncw_calloc(1, ex->grad_bytes ? ex->grad_bytes : 1);
    if (!ex->grad_mem) {
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "executor: cannot allocate %zu bytes of gradients",
                      ex->grad_bytes);
        goto out;
    }
    for (int v = 0; v < nv; v++) {
        const struct nncw_value *val = &g->values[v];
        if (!ex->needs_grad[v])
            continue;
        if (val->kind == NNCW_VALUE_PARAM) {
            ex->grad[v] = val->grad;
            ex->grad[v].storage = NULL;
        } else {
            ex->grad[v] = ex->val[v];
            ex->grad[v].data = ex->grad_mem + off[v];
        }
    }
out:
    nncw_free(size);
    nncw_free(off);
    nncw_free(end);
    return s;
}

static enum nncw_status setup(struct nncw_exec *ex)
{
    struct nncw_graph *g = ex->g;
    NNCW_TRY(nncw_graph_topo_order(g, &ex->order));
    NNCW_TRY(nncw_graph_infer_shapes(g, ex->opt.batch));
    int nv = g->n_values, nn = g->n_nodes;
    ex->val = nncw_calloc((size_t)(nv ? nv : 1), sizeof *ex->val);
    ex->grad = nncw_calloc((size_t)(nv ? nv : 1), sizeof *ex->grad);
    ex->needs_grad = nncw_calloc((size_t)(nv ? nv : 1), sizeof *ex->needs_grad);
    ex->grad_start = nncw_calloc((size_t)(nv ? nv : 1), sizeof *ex->grad_start);
    ex->saved = nncw_calloc((size_t)(nn ? nn : 1), sizeof *ex->saved);
    ex->saved_bytes = nncw_calloc((size_t)(nn ? nn : 1), sizeof *ex->saved_bytes);
    ex->prof_fwd = nncw_calloc((size_t)(nn ? nn : 1), sizeof *ex->prof_fwd);
    ex->prof_bwd = nncw_calloc((size_t)(nn ? nn : 1), sizeof *ex->prof_bwd);
    if (!ex->val || !ex->grad || !ex->needs_grad || !ex->grad_start || !ex->saved ||
        !ex->saved_bytes || !ex->prof_fwd || !ex->prof_bwd)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "executor: out of memory");
    for (int v = 0; v < nv; v++) {
        ex->val[v] = g->values[v].t;
        ex->val[v].storage = NULL; /* borrowed from the graph */
        if (g->values[v].kind != NNCW_VALUE_PARAM)
            ex->val[v].data = NULL;
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (g->values[g->outputs[i]].kind != NNCW_VALUE_ACT)
            return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "graph output '%s' is not computed by a node",
                             g->values[g->outputs[i]].name);
    NNCW_TRY(alloc_inputs(ex));
    int *pos = topo_positions(ex);
    int *first = nncw_malloc((size_t)(nv ? nv : 1) * sizeof *first);
    int *last = nncw_malloc((size_t)(nv ? nv : 1) * sizeof *last);
    enum nncw_status s = NNCW_OK;
    if (!pos || !first || !last) {
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "executor: out of memory");
        goto out;
    }
    lifetimes(ex, pos, first, last);
    s = nncw_exec_fuse_plan(ex, pos, last);
    if (s == NNCW_OK)
        s = nncw_exec_fold_plan(ex, pos, first, last);
    if (s == NNCW_OK)
        s = plan_activations(ex, first, last);
    if (s == NNCW_OK && ex->opt.backward) {
        s = nncw_graph_alloc_grads(g);
        if (s == NNCW_OK)
            s = mark_grads(ex);
        if (s == NNCW_OK)
            s = plan_grads(ex, pos, last);
    }
out:
    nncw_free(pos);
    nncw_free(first);
    nncw_free(last);
    return s;
}

enum nncw_status nncw_exec_new(struct nncw_graph *g, const struct nncw_exec_options *opt,
                               struct nncw_exec **out)
{
    if (opt->batch < 1)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "executor: batch size %lld (must be >= 1)",
                         (long long)opt->batch);
    if (opt->input_grads && !opt->backward)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "executor: input gradients need the backward option");
    if (nncw_graph_count_outputs(g) == 0)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "executor: the graph has no outputs");
    struct nncw_exec *ex = nncw_calloc(1, sizeof *ex);
    if (!ex)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "executor: out of memory");
    ex->g = g;
    ex->opt = *opt;
    ex->ctx.ex = ex;
    nncw_rng_seed(&ex->rng, opt->seed);
    enum nncw_status s = setup(ex);
    if (s != NNCW_OK) {
        nncw_exec_free(ex);
        return s;
    }
    *out = ex;
    return NNCW_OK;
}

struct nncw_tensor *nncw_exec_get_input(struct nncw_exec *ex, int i)
{
    return &ex->val[nncw_graph_get_input(ex->g, i)];
}

const struct nncw_tensor *nncw_exec_get_output(const struct nncw_exec *ex, int i)
{
    return &ex->val[nncw_graph_get_output(ex->g, i)];
}

const struct nncw_tensor *nncw_exec_get_value(const struct nncw_exec *ex, int value_id)
{
    NNCW_ASSERT(value_id >= 0 && value_id < ex->g->n_values);
    return &ex->val[value_id];
}

const struct nncw_tensor *nncw_exec_get_input_grad(const struct nncw_exec *ex, int i)
{
    int v = nncw_graph_get_input(ex->g, i);
    return ex->needs_grad[v] ? &ex->grad[v] : NULL;
}

size_t nncw_exec_get_memory(const struct nncw_exec *ex)
{
    size_t n = ex->act_bytes + ex->grad_bytes + ex->input_bytes + ex->scratch_bytes +
               nncw_exec_fold_bytes(ex->fold);
    for (int i = 0; i < ex->g->n_nodes; i++)
        n += ex->saved_bytes[i];
    return n;
}

bool nncw_exec_is_training(const struct nncw_exec *ex)
{
    return ex->opt.training;
}

double nncw_exec_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void nncw_exec_get_profile(const struct nncw_exec *ex, int node_index, double *forward_s,
                           double *backward_s)
{
    NNCW_ASSERT(node_index >= 0 && node_index < ex->g->n_nodes);
    *forward_s = ex->prof_fwd[node_index];
    *backward_s = ex->prof_bwd[node_index];
}

void nncw_exec_reset_profile(struct nncw_exec *ex)
{
    memset(ex->prof_fwd, 0, (size_t)ex->g->n_nodes * sizeof *ex->prof_fwd);
    memset(ex->prof_bwd, 0, (size_t)ex->g->n_nodes * sizeof *ex->prof_bwd);
}

void nncw_exec_node_args(struct nncw_exec *ex, const struct nncw_node *n, struct nncw_tensor **in,
                         struct nncw_tensor **out)
{
    for (int i = 0; i < n->n_in; i++)
        in[i] = n->in[i] >= 0 ? &ex->val[n->in[i]] : NULL;
    for (int o = 0; o < n->n_out; o++)
        out[o] = &ex->val[n->out[o]];
}

enum nncw_status nncw_exec_forward(struct nncw_exec *ex)
{
    struct nncw_tensor *in[16], *out[8];
    for (int k = 0; k < ex->g->n_nodes; k++) {
        const struct nncw_node *n = ex->g->nodes[ex->order[k]];
        if (nncw_exec_fuse_skip(ex, n))
            continue;
        double t0 = ex->opt.profile ? nncw_exec_now() : 0;
        enum nncw_status st;
        if (!nncw_exec_fold_forward(ex, n, &st)) {
            nncw_exec_node_args(ex, n, in, out);
            nncw_exec_fuse_args(ex, n, in, NULL);
            st = nncw_op_get_def(n->op)->forward(&ex->ctx, n, in, n->n_in, out);
            ex->ctx.relu_fused = false;
        }
        NNCW_TRY(st);
        if (ex->opt.profile)
            ex->prof_fwd[n->index] += nncw_exec_now() - t0;
        if (ex->observer)
            NNCW_TRY(ex->observer(ex->observer_user, ex, n->index));
    }
    ex->forward_done = true;
    return NNCW_OK;
}

void nncw_exec_set_observer(struct nncw_exec *ex, nncw_exec_observer_fn fn, void *user)
{
    ex->observer = fn;
    ex->observer_user = user;
}
