/* The backward pass: reverse topological order, skipping nodes no gradient flows through;
 * gradients meeting at one value are summed because every op's backward accumulates. */
#include <string.h>

#include "graph/exec_internal.h"

static void zero_starting(struct nncw_exec *ex, int step)
{
    for (int v = 0; v < ex->g->n_values; v++)
        if (ex->needs_grad[v] && ex->g->values[v].kind != NNCW_VALUE_PARAM &&
            ex->grad_start[v] == step &&
            !(ex->g->values[v].producer >= 0 && /* not the output of a skipped ReLU */
              nncw_exec_fuse_skipped(ex, ex->g->values[v].producer)))
            memset(ex->grad[v].data, 0, nncw_tensor_nbytes(&ex->grad[v]));
}

static enum nncw_status seed_outputs(struct nncw_exec *ex, const struct nncw_tensor *const grad_out[])
{
    const struct nncw_graph *g = ex->g;
    for (int i = 0; i < g->n_outputs; i++) {
        int v = g->outputs[i];
        if (!grad_out[i] || !ex->needs_grad[v])
            continue;
        if (!nncw_tensor_same_shape(grad_out[i], &ex->val[v]) ||
            grad_out[i]->dtype != NNCW_DTYPE_F32) {
            char a[96], b[96];
            return NNCW_FAIL(NNCW_ERR_SHAPE, "backward: gradient %s for output '%s' of shape %s",
                             nncw_tensor_shape_str(grad_out[i], a, sizeof a), g->values[v].name,
                             nncw_tensor_shape_str(&ex->val[v], b, sizeof b));
        }
        /* an output read by other nodes too: add, since its buffer is zeroed at step 0 */
        const float *src = nncw_tensor_f32(grad_out[i]);
        float *dst = nncw_tensor_f32(&ex->grad[v]);
        int64_t n = nncw_tensor_numel(grad_out[i]);
        for (int64_t j = 0; j < n; j++)
            dst[j] += src[j];
    }
    return NNCW_OK;
}

enum nncw_status nncw_exec_backward(struct nncw_exec *ex, const struct nncw_tensor *const grad_out[])
{
    if (!ex->opt.backward)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "backward: the executor was made without backward");
    if (!ex->forward_done)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "backward: no forward pass to go back through");
    int nn = ex->g->n_nodes;
    zero_starting(ex, 0);
    NNCW_TRY(seed_outputs(ex, grad_out));
    struct nncw_tensor *in[16], *out[8], *gin[16], *gout[8];
    for (int k = nn - 1; k >= 0; k--) {
        const struct nncw_node *n = ex->g->nodes[ex->order[k]];
        zero_starting(ex, nn - k);
        if (nncw_exec_fuse_skipped(ex, n->index))
            continue; /* its quantizer did its backward */
        bool any = false;
        for (int i = 0; i < n->n_in; i++) {
            gin[i] = n->in[i] >= 0 && ex->needs_grad[n->in[i]] ? &ex->grad[n->in[i]] : NULL;
            any |= gin[i] != NULL;
        }
        if (!any)
            continue;
        for (int o = 0; o < n->n_out; o++)
            gout[o] = ex->needs_grad[n->out[o]] ? &ex->grad[n->out[o]] : NULL;
        nncw_exec_node_args(ex, n, in, out);
        nncw_exec_fuse_args(ex, n, in, gin);
        double t0 = ex->opt.profile ? nncw_exec_now() : 0;
        enum nncw_status st =
            nncw_op_get_def(n->op)->backward(&ex->ctx, n, in, n->n_in, out, gout, gin);
        ex->ctx.relu_fused = false;
        NNCW_TRY(st);
        if (ex->opt.profile)
            ex->prof_bwd[n->index] += nncw_exec_now() - t0;
    }
    return NNCW_OK;
}
