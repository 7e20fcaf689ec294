/* Conv -> BatchNormalization [-> Add] [-> Relu] run as one convolution and one output pass, in
 * inference executors.
 *
 * In eval mode a batch normalisation is a per-channel affine map, so it folds into the
 * convolution that is its only producer: per output channel k, with a = gamma / sqrt(var + eps),
 * w' = w * a and b' = (b - mean) * a + beta. There is no parameter version counter, so the folded
 * weights are recomputed at every forward; that is only worth it where the weights are small
 * next to the activations the batch normalisation would read and write (FOLD_MAX_WEIGHT_SHARE;
 * at batch 32, 32x32: every convolution of ResNet-20, ResNet-18's first two stages).
 * The residual Add and the ReLU that follow then run as one in-place pass over the convolution's
 * output. Where the weights are too large to fold, the convolution runs as written and the
 * batch normalisation, Add and ReLU become that one pass instead, with the batch normalisation's
 * own arithmetic (bit-identical to the unfused nodes).
 *
 * A chain is found once, when the executor is planned: every intermediate value must have the
 * next node of the chain as its only reader and be no graph output. Never in training
 * executors (batch statistics), with backward (which reads the intermediates), with keep_values,
 * or while an observer is set (it reads every value): the nodes then run as written, and the
 * planned lifetimes (a superset of the unfused ones) serve both ways. A profile charges a fused
 * chain to its convolution and to the node whose turn runs the output pass (the Add, else the
 * batch normalisation); the others show no time.
 */
#include "graph/exec_internal.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "ops/norm.h"
#include "ops/ops.h"

/* fold when the weights have at most this share of the convolution's output elements: folding
 * reads and writes the weights once per forward to save the batch normalisation's pass over the
 * output (batch 32 at 32x32: all of ResNet-20; ResNet-18's layers 1 and 2, not 3 and 4) */
#define FOLD_MAX_WEIGHT_SHARE 0.5

struct fold_chain {
    int conv, bn, add, relu; /* node indices; add and relu -1 when absent */
    int tail;                /* the node at whose turn the output pass runs: add, else bn */
    int resid;               /* value the Add adds to the normalised output, or -1 */
    int out;                 /* value the chain produces */
    bool fold;               /* weights folded into the convolution */
};

struct nncw_exec_fold {
    int n_chains;
    struct fold_chain *chains;
    int *chain_of; /* per node: its chain, or -1 */
    float *buf;    /* the running chain's folded weights and bias, and the factors a and b */
    size_t buf_floats;
};

void nncw_exec_fold_free(struct nncw_exec_fold *f)
{
    if (!f)
        return;
    nncw_free(f->chains);
    nncw_free(f->chain_of);
    nncw_free(f->buf);
    nncw_free(f);
}

void nncw_exec_fold_get_counts(const struct nncw_exec *ex, int *chains, int *folded)
{
    const struct nncw_exec_fold *f = ex->fold;
    *chains = *folded = 0;
    for (int i = 0; f && i < f->n_chains; i++) {
        ++*chains;
        *folded += f->chains[i].fold;
    }
}

size_t nncw_exec_fold_bytes(const struct nncw_exec_fold *f)
{
    return f ? f->buf_floats * sizeof(float) : 0;
}

/* reads[v]: how many input slots read value v; graph outputs count as a reader too */
static int *count_reads(const struct nncw_graph *g)
{
    int *reads = nncw_calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *reads);
    if (!reads)
        return NULL;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i]->n_in; k++)
            if (g->nodes[i]->in[k] >= 0)
                reads[g->nodes[i]->in[k]]++;
    for (int i = 0; i < g->n_outputs; i++)
        reads[g->outputs[i]]++;
    return reads;
}

/* the node that reads value v in its slot 0 (or, for an Add, either slot), when that is v's
 * only reader and v is no graph output; else NULL */
static const struct nncw_node *sole_reader(const struct nncw_graph *g, const int *reads, int v,
                                           enum nncw_op op)
{
    if (reads[v] != 1)
        return NULL;
    for (int i = 0; i < g->n_nodes; i++) {
        const struct nncw_node *n = g->nodes[i];
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == v)
                return n->op == op && (k == 0 || op == NNCW_OP_ADD) ? n : NULL;
    }
    return NULL;
}

static bool same_f32_shape(const struct nncw_tensor *a, const struct nncw_tensor *b)
{
    if (a->dtype != NNCW_DTYPE_F32 || b->dtype != NNCW_DTYPE_F32 || a->ndim != b->ndim)
        return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return false;
    return true;
}

/* a float convolution with a weight [m, ...] (and a float [m] bias, if any), read by a batch
 * normalisation over those m channels whose five inputs are all present and float [m] */
static bool conv_bn_pair(const struct nncw_exec *ex, const struct nncw_node *c,
                         const struct nncw_node *b)
{
    if (c->n_out != 1 || c->n_in < 2 || c->in[0] < 0 || c->in[1] < 0 || b->n_in != 5 ||
        b->n_out != 1)
        return false;
    const struct nncw_tensor *y = &ex->val[c->out[0]], *w = &ex->val[c->in[1]];
    if (y->dtype != NNCW_DTYPE_F32 || y->ndim != 4 || w->dtype != NNCW_DTYPE_F32 || w->ndim != 4 ||
        w->shape[0] != y->shape[1] || !same_f32_shape(y, &ex->val[b->out[0]]))
        return false;
    /* the bias (read while folding) and the batch norm's inputs: float [m] */
    for (int k = 0; k < 5; k++) {
        int v = k == 0 ? (c->n_in > 2 ? c->in[2] : -1) : b->in[k];
        if (k == 0 && v < 0)
            continue; /* no bias */
        const struct nncw_tensor *p = v >= 0 ? &ex->val[v] : NULL;
        if (!p || p->dtype != NNCW_DTYPE_F32 || p->ndim != 1 || p->shape[0] != y->shape[1])
            return false;
    }
    return true;
}

/* the Add and ReLU after the batch normalisation, when they can join the chain: an Add of two
 * normalised convolutions (a residual block's downsampling shortcut) joins the first chain */
static void find_tail(const struct nncw_exec *ex, const int *reads, struct fold_chain *ch)
{
    const struct nncw_graph *g = ex->g;
    const int *chain_of = ex->fold->chain_of;
    const struct nncw_node *a = sole_reader(g, reads, ch->out, NNCW_OP_ADD);
    if (a && chain_of[a->index] < 0 && a->n_in == 2 && a->n_out == 1 && a->in[0] >= 0 &&
        a->in[1] >= 0 && a->in[0] != a->in[1]) {
        int other = a->in[0] == ch->out ? a->in[1] : a->in[0];
        if (same_f32_shape(&ex->val[other], &ex->val[ch->out]) &&
            same_f32_shape(&ex->val[a->out[0]], &ex->val[ch->out])) {
            ch->add = ch->tail = a->index;
            ch->resid = other;
            ch->out = a->out[0];
        }
    }
    const struct nncw_node *r = sole_reader(g, reads, ch->out, NNCW_OP_RELU);
    if (r && chain_of[r->index] < 0 && r->n_in == 1 && r->n_out == 1 &&
        same_f32_shape(&ex->val[r->out[0]], &ex->val[ch->out])) {
        ch->relu = r->index;
        ch->out = r->out[0];
    }
}

/* Lifetimes: a folded convolution writes the chain's output at its own turn; an unfolded one's
 * output is read at the tail's turn, where the chain's output is first written. */
static void extend_lifetimes(const struct nncw_exec *ex, const struct fold_chain *ch,
                             const int *pos, int *first, int *last)
{
    int y = ex->g->nodes[ch->conv]->out[0];
    int at = ch->fold ? pos[ch->conv] : pos[ch->tail];
    if (first[ch->out] > at)
        first[ch->out] = at;
    if (!ch->fold && last[y] < pos[ch->tail])
        last[y] = pos[ch->tail];
}

static enum nncw_status find_chains(struct nncw_exec *ex, const int *reads, const int *pos,
                                    int *first, int *last)
{
    struct nncw_exec_fold *f = ex->fold;
    const struct nncw_graph *g = ex->g;
    size_t need = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const struct nncw_node *c = g->nodes[i];
        if (c->op != NNCW_OP_CONV || c->n_out != 1)
            continue;
        const struct nncw_node *b = sole_reader(g, reads, c->out[0], NNCW_OP_BATCHNORM);
        if (!b || !conv_bn_pair(ex, c, b))
            continue;
        struct fold_chain ch = {.conv = i,
                                .bn = b->index,
                                .add = -1,
                                .relu = -1,
                                .tail = b->index,
                                .resid = -1,
                                .out = b->out[0]};
        find_tail(ex, reads, &ch);
        const struct nncw_tensor *w = &ex->val[c->in[1]], *y = &ex->val[c->out[0]];
        ch.fold =
            (double)nncw_tensor_numel(w) <= FOLD_MAX_WEIGHT_SHARE * (double)nncw_tensor_numel(y);
        /* folded: w', b' and the factors; else the factors a and b */
        size_t floats = (ch.fold ? (size_t)nncw_tensor_numel(w) : 0) + 2 * (size_t)w->shape[0];
        if (floats > need)
            need = floats;
        extend_lifetimes(ex, &ch, pos, first, last);
        int k = f->n_chains++;
        f->chains[k] = ch;
        f->chain_of[ch.conv] = f->chain_of[ch.bn] = k;
        if (ch.add >= 0)
            f->chain_of[ch.add] = k;
        if (ch.relu >= 0)
            f->chain_of[ch.relu] = k;
    }
    f->buf_floats = need;
    f->buf = nncw_malloc((need ? need : 1) * sizeof(float));
    if (!f->buf)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "executor: out of memory for folded batch norms");
    return NNCW_OK;
}

enum nncw_status nncw_exec_fold_plan(struct nncw_exec *ex, const int *pos, int *first, int *last)
{
    const struct nncw_graph *g = ex->g;
    if (ex->opt.training || ex->opt.backward || ex->opt.keep_values)
        return NNCW_OK;
    int nn = g->n_nodes;
    struct nncw_exec_fold *f = nncw_calloc(1, sizeof *f);
    if (!f)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "executor: out of memory");
    ex->fold = f;
    f->chains = nncw_malloc((size_t)(nn ? nn : 1) * sizeof *f->chains);
    f->chain_of = nncw_malloc((size_t)(nn ? nn : 1) * sizeof *f->chain_of);
    int *reads = count_reads(g);
    enum nncw_status s = NNCW_OK;
    if (!f->chains || !f->chain_of || !reads) {
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "executor: out of memory");
        goto out;
    }
    for (int i = 0; i < nn; i++)
        f->chain_of[i] = -1;
    s = find_chains(ex, reads, pos, first, last);
out:
    nncw_free(reads);
    return s;
}

/* the batch normalisation's per-channel factors as its forward computes them: y = x * a + b */
static void bn_factors(const struct nncw_exec *ex, const struct fold_chain *ch, float *a, float *b)
{
    const struct nncw_node *bn = ex->g->nodes[ch->bn];
    const float eps = nncw_node_get_attr_float(bn, "epsilon", 1e-5f);
    const float *gamma = nncw_tensor_f32(&ex->val[bn->in[1]]);
    const float *beta = nncw_tensor_f32(&ex->val[bn->in[2]]);
    const float *mean = nncw_tensor_f32(&ex->val[bn->in[3]]);
    const float *var = nncw_tensor_f32(&ex->val[bn->in[4]]);
    int64_t m = ex->val[bn->in[1]].shape[0];
    for (int64_t k = 0; k < m; k++) {
        a[k] = 1.0f / sqrtf(var[k] + eps) * gamma[k];
        b[k] = beta[k] - mean[k] * a[k];
    }
}

/* the convolution with w' = w * a and b' = b * a + (beta - mean * a), into the chain's output */
static enum nncw_status run_folded_conv(struct nncw_exec *ex, const struct fold_chain *ch)
{
    const struct nncw_node *c = ex->g->nodes[ch->conv];
    const struct nncw_tensor *w = &ex->val[c->in[1]];
    const struct nncw_tensor *bias = c->n_in > 2 && c->in[2] >= 0 ? &ex->val[c->in[2]] : NULL;
    int64_t m = w->shape[0], per = nncw_tensor_numel(w) / m;
    float *wf = ex->fold->buf, *bf = wf + m * per, *a = bf + m;
    bn_factors(ex, ch, a, bf);
    const float *wd = nncw_tensor_f32(w), *bd = bias ? nncw_tensor_f32(bias) : NULL;
    for (int64_t k = 0; k < m; k++) {
        const float ak = a[k];
        for (int64_t e = 0; e < per; e++)
            wf[k * per + e] = wd[k * per + e] * ak;
        if (bd)
            bf[k] += bd[k] * ak;
    }
    struct nncw_tensor wt, bt;
    nncw_tensor_init_borrowed(&wt, NNCW_DTYPE_F32, w->ndim, w->shape, wf);
    nncw_tensor_init_borrowed(&bt, NNCW_DTYPE_F32, 1, &m, bf);
    struct nncw_tensor *in[3] = {&ex->val[c->in[0]], &wt, &bt}, *out[1] = {&ex->val[ch->out]};
    return nncw_op_get_def(NNCW_OP_CONV)->forward(&ex->ctx, c, in, 3, out);
}

/* the output pass: the unfolded batch normalisation (or, folded, nothing), the residual and the
 * ReLU, from the convolution's output into the chain's */
static enum nncw_status run_tail(struct nncw_exec *ex, const struct fold_chain *ch)
{
    const struct nncw_node *c = ex->g->nodes[ch->conv];
    const struct nncw_tensor *y = &ex->val[c->out[0]];
    float *out = nncw_tensor_f32(&ex->val[ch->out]);
    const float *resid = ch->resid >= 0 ? nncw_tensor_f32(&ex->val[ch->resid]) : NULL;
    int64_t n = y->shape[0], m = y->shape[1], s = y->shape[2] * y->shape[3];
    if (ch->fold) {
        if (resid || ch->relu >= 0)
            nncw_kernel_scale_shift_add_relu_f32(n, m, s, out, NULL, NULL, resid, ch->relu >= 0,
                                                 out);
        return NNCW_OK;
    }
    float *a = ex->fold->buf, *b = a + m;
    bn_factors(ex, ch, a, b);
    nncw_kernel_scale_shift_add_relu_f32(n, m, s, nncw_tensor_f32(y), a, b, resid, ch->relu >= 0,
                                         out);
    return NNCW_OK;
}

bool nncw_exec_fold_forward(struct nncw_exec *ex, const struct nncw_node *n,
                            enum nncw_status *status)
{
    const struct nncw_exec_fold *f = ex->fold;
    if (!f || f->chain_of[n->index] < 0 || ex->observer)
        return false;
    const struct fold_chain *ch = &f->chains[f->chain_of[n->index]];
    *status = NNCW_OK;
    if (n->index == ch->conv) {
        if (ch->fold) {
            *status = run_folded_conv(ex, ch);
        } else {
            struct nncw_tensor *in[3], *out[1];
            nncw_exec_node_args(ex, n, in, out);
            *status = nncw_op_get_def(NNCW_OP_CONV)->forward(&ex->ctx, n, in, n->n_in, out);
        }
    } else if (n->index == ch->tail) {
        *status = run_tail(ex, ch);
    }
    return true;
}
