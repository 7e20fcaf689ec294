/* A ReLU fused into the unsigned quantizer that reads it, in training executors.
 *
 * Quantization-aware training puts an unsigned SymmetricQuantize after most ReLUs (NNCF's
 * conv-bn-relu pattern). Its lower bound is exactly 0, so it clamps what the ReLU clamps:
 * FQ(relu(x)) = FQ(x) bit for bit, and the range gradient is the same too (below the bound it
 * is level_low / level_high = 0, at 0 the quantization error is 0). Only the input gradient at
 * x = 0 differs (a ReLU passes none there), which the quantizer honours when the executor tells
 * it that a ReLU is fused (nncw_op_ctx_input_relu_fused). Skipping the ReLU saves two of the
 * five passes over the activation in a training step (and the zeroing of a gradient buffer),
 * which is most of what QAT costs over float training in a small CNN.
 *
 * The pair is found once, when the executor is planned; whether the ReLU is skipped is decided
 * at every forward from the quantizer's current attributes (a disabled, signed or asymmetric
 * quantizer needs the ReLU) and kept for the backward that follows. Never with the keep_values
 * option or an observer, which read the ReLU's output.
 */
#include "graph/exec_internal.h"

#include "core/alloc.h"
#include "ops/fake_quantize.h"

bool nncw_op_ctx_input_relu_fused(const struct nncw_op_ctx *ctx)
{
    return ctx->relu_fused;
}

/* the only reader of value v, or -1 (none, several, or a graph output) */
static int sole_reader(const struct nncw_graph *g, int v)
{
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == v)
            return -1;
    int reader = -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i]->n_in; k++)
            if (g->nodes[i]->in[k] == v) {
                if (reader >= 0 || k != 0)
                    return -1;
                reader = i;
            }
    return reader;
}

enum nncw_status nncw_exec_fuse_plan(struct nncw_exec *ex, const int *pos, int *last)
{
    const struct nncw_graph *g = ex->g;
    int nn = g->n_nodes;
    ex->fuse_quantizer = nncw_malloc((size_t)(nn ? nn : 1) * sizeof *ex->fuse_quantizer);
    ex->fuse_relu = nncw_malloc((size_t)(nn ? nn : 1) * sizeof *ex->fuse_relu);
    ex->fused_now = nncw_calloc((size_t)(nn ? nn : 1), sizeof *ex->fused_now);
    if (!ex->fuse_quantizer || !ex->fuse_relu || !ex->fused_now)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "executor: out of memory");
    for (int i = 0; i < nn; i++)
        ex->fuse_quantizer[i] = ex->fuse_relu[i] = -1;
    if (ex->opt.keep_values || !ex->opt.training || !ex->opt.backward)
        return NNCW_OK;
    for (int i = 0; i < nn; i++) {
        const struct nncw_node *r = g->nodes[i];
        if (r->op != NNCW_OP_RELU || r->n_in != 1 || r->n_out != 1 || r->in[0] < 0)
            continue;
        int q = sole_reader(g, r->out[0]);
        if (q < 0 || g->nodes[q]->op != NNCW_OP_QUANTIZE_SYMMETRIC)
            continue;
        ex->fuse_quantizer[i] = q;
        ex->fuse_relu[q] = i;
        /* the quantizer may add into the ReLU input's gradient: that buffer must be live (and
         * zeroed) from the quantizer's backward step on, not only from the ReLU's */
        int x = r->in[0];
        if (last[x] < pos[q])
            last[x] = pos[q];
    }
    return NNCW_OK;
}

/* whether the quantizer reading ReLU r clamps at exactly 0 right now */
static bool quantizer_clamps_at_zero(const struct nncw_exec *ex, int q)
{
    const struct nncw_node *n = ex->g->nodes[q];
    struct nncw_quantizer_attrs a;
    if (nncw_quantizer_get_attrs(n, ex->val[n->in[0]].ndim, &a) != NNCW_OK)
        return false; /* the quantizer's own forward reports the error */
    return a.enabled && !a.asymmetric && a.level_low == 0;
}

bool nncw_exec_fuse_skip(struct nncw_exec *ex, const struct nncw_node *n)
{
    int q = ex->fuse_quantizer[n->index];
    if (q < 0)
        return false;
    ex->fused_now[n->index] = !ex->observer && quantizer_clamps_at_zero(ex, q);
    return ex->fused_now[n->index];
}

void nncw_exec_fuse_args(struct nncw_exec *ex, const struct nncw_node *n,
                         struct nncw_tensor **in, struct nncw_tensor **grad_in)
{
    int r = ex->fuse_relu[n->index];
    ex->ctx.relu_fused = r >= 0 && ex->fused_now[r];
    if (!ex->ctx.relu_fused)
        return;
    int x = ex->g->nodes[r]->in[0];
    in[0] = &ex->val[x];
    if (grad_in)
        grad_in[0] = ex->needs_grad[x] ? &ex->grad[x] : NULL;
}

bool nncw_exec_fuse_skipped(const struct nncw_exec *ex, int node)
{
    return ex->fused_now[node];
}
