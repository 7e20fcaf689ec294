/*
** RBSparsify: NNCF's regularization-based sparsity applied to a weight (nncw's own op, no ONNX
** form). Inputs: weight w (f32), logits s (f32, the shape of w) and optionally a frozen mask m
** (f32 0/1, the shape of w). Attributes: frozen (int, 0) and eps (float, 1e-6).
**
**   y = w * mask, where
**   training and not frozen: mask = [sigmoid(s + logit(u)) > 1/2] = [s + logit(u) > 0],
**                            u ~ U(0, 1) clamped to [eps, 1 - eps], drawn per element on every
**                            forward from the executor's generator (a Bernoulli(sigmoid(s))
**                            sample, NNCF's reparametrisation)
**   frozen with m:           mask = m (the controller fixed it when the masks froze)
**   otherwise:               mask = [s > 0] (sigmoid(s) > 1/2, NNCF's eval mask)
**
** Backward treats the threshold as a straight-through estimator (NNCF's STThreshold: the
** gradient passes it unchanged), so with z = s + logit(u) in training and z = s otherwise:
**   dL/dw = g * mask
**   dL/ds = g * w * sigmoid(z) (1 - sigmoid(z))   (none when frozen: the logits do not train)
** The gradient of s is an estimator, not the derivative of the step (which is 0 almost
** everywhere); the gradient of w is exact.
*/
#include <math.h>
#include <string.h>

#include "ops/ops_internal.h"

static enum nncw_status rb_infer(const struct nncw_node *node, const struct nncw_tensor *const in[],
                                 int n_in, struct nncw_tensor out[])
{
    const char *name = nncw_node_get_name(node);
    static const char *const what[] = {"weight", "logits", "mask"};
    char a[96], b[96];
    for (int i = 0; i < n_in; i++) {
        if (!in[i]) {
            if (i < 2)
                return NNCW_FAIL(NNCW_ERR_SHAPE, "RBSparsify '%s': the %s input is missing", name,
                                 what[i]);
            continue;
        }
        if (in[i]->dtype != NNCW_DTYPE_F32)
            return NNCW_FAIL(NNCW_ERR_DTYPE, "RBSparsify '%s': %s is %s, expected float32", name,
                             what[i], nncw_dtype_name(in[i]->dtype));
        if (i > 0 && !nncw_tensor_same_shape(in[i], in[0]))
            return NNCW_FAIL(NNCW_ERR_SHAPE, "RBSparsify '%s': %s is %s, the weight %s", name,
                             what[i], nncw_tensor_shape_str(in[i], a, sizeof a),
                             nncw_tensor_shape_str(in[0], b, sizeof b));
    }
    float eps = nncw_node_get_attr_float(node, "eps", 1e-6f);
    if (!(eps >= 0.0f && eps < 0.5f))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "RBSparsify '%s': eps %g is outside [0, 0.5)", name,
                         (double)eps);
    nncw_tensor_init_borrowed(&out[0], NNCW_DTYPE_F32, in[0]->ndim, in[0]->shape, NULL);
    return NNCW_OK;
}

/* how this run computes the mask */
enum rb_mode { RB_SAMPLED, RB_FROZEN_MASK, RB_EVAL };

static enum rb_mode rb_mode(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                            struct nncw_tensor *const in[], int n_in)
{
    bool frozen = nncw_node_get_attr_int(node, "frozen", 0) != 0;
    if (frozen)
        return n_in > 2 && in[2] ? RB_FROZEN_MASK : RB_EVAL;
    return nncw_op_ctx_is_training(ctx) ? RB_SAMPLED : RB_EVAL;
}

static float logit(float u)
{
    return logf(u) - logf(1.0f - u);
}

static float sigmoid_slope(float z)
{
    float p = 1.0f / (1.0f + expf(-z));
    return p * (1.0f - p);
}

/* the z of a sampled run: one per element, kept for backward */
static float *saved_z(struct nncw_op_ctx *ctx, const struct nncw_node *node, int64_t n)
{
    float *z = nncw_op_ctx_saved(ctx, node, (size_t)(n ? n : 1) * sizeof(float));
    if (!z)
        NNCW_FAIL(NNCW_ERR_NOMEM, "RBSparsify '%s': out of memory for the sampled mask",
                  nncw_node_get_name(node));
    return z;
}

static enum nncw_status rb_forward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                   struct nncw_tensor *const in[], int n_in,
                                   struct nncw_tensor *const out[])
{
    int64_t n = nncw_tensor_numel(in[0]);
    const float *w = nncw_tensor_f32(in[0]), *s = nncw_tensor_f32(in[1]);
    float *y = nncw_tensor_f32(out[0]);
    switch (rb_mode(ctx, node, in, n_in)) {
    case RB_SAMPLED: {
        float *z = saved_z(ctx, node, n);
        if (!z)
            return NNCW_ERR_NOMEM;
        float eps = nncw_node_get_attr_float(node, "eps", 1e-6f);
        struct nncw_rng *rng = nncw_op_ctx_rng(ctx);
        for (int64_t i = 0; i < n; i++) {
            float u = nncw_rng_uniform(rng);
            u = u < eps ? eps : u > 1.0f - eps ? 1.0f - eps : u;
            z[i] = s[i] + logit(u);
            y[i] = z[i] > 0.0f ? w[i] : 0.0f;
        }
        break;
    }
    case RB_FROZEN_MASK: {
        const float *m = nncw_tensor_f32(in[2]);
        for (int64_t i = 0; i < n; i++)
            y[i] = w[i] * m[i];
        break;
    }
    case RB_EVAL:
        for (int64_t i = 0; i < n; i++)
            y[i] = s[i] > 0.0f ? w[i] : 0.0f;
        break;
    }
    return NNCW_OK;
}

static enum nncw_status rb_backward(struct nncw_op_ctx *ctx, const struct nncw_node *node,
                                    struct nncw_tensor *const in[], int n_in,
                                    struct nncw_tensor *const out[],
                                    struct nncw_tensor *const grad_out[],
                                    struct nncw_tensor *const grad_in[])
{
    (void)out;
    if (!grad_out[0])
        return NNCW_OK;
    int64_t n = nncw_tensor_numel(in[0]);
    const float *w = nncw_tensor_f32(in[0]), *s = nncw_tensor_f32(in[1]);
    const float *g = nncw_tensor_f32(grad_out[0]);
    float *gw = grad_in[0] ? nncw_tensor_f32(grad_in[0]) : NULL;
    float *gs = grad_in[1] ? nncw_tensor_f32(grad_in[1]) : NULL;
    enum rb_mode mode = rb_mode(ctx, node, in, n_in);
    if (mode == RB_FROZEN_MASK) {
        const float *m = nncw_tensor_f32(in[2]);
        for (int64_t i = 0; gw && i < n; i++)
            gw[i] += g[i] * m[i];
        return NNCW_OK; /* frozen logits get no gradient */
    }
    const float *z = s;
    if (mode == RB_SAMPLED && !(z = saved_z(ctx, node, n)))
        return NNCW_ERR_NOMEM;
    bool frozen = nncw_node_get_attr_int(node, "frozen", 0) != 0;
    for (int64_t i = 0; i < n; i++) {
        if (gw && z[i] > 0.0f)
            gw[i] += g[i];
        if (gs && !frozen)
            gs[i] += g[i] * w[i] * sigmoid_slope(z[i]);
    }
    return NNCW_OK;
}

const struct nncw_op_def nncw_op_def_rb_sparsify = {
    "RBSparsify", NULL, 2, 3, 1, rb_infer, rb_forward, rb_backward,
};
