/*
** RB (regularization-based) sparsity (fact sheet 5.2): every weight has a trainable logit s
** (init logit(0.99)) whose sigmoid is the probability of keeping it; the RBSparsify op samples
** the mask while training and uses [s > 0] otherwise. The loss pulls the share of kept weights
** (the density) towards the scheduled one:
**   global: L = ((D - (1 - level)) / 0.05)^2, D = sum [s > 0] / N over all sparsified weights
**   local:  L = (sum_l |D_l - (1 - level_l)| / 0.05)^2 with the per-layer densities D_l
** and, the threshold being a straight-through estimator, dD/ds_i = sigmoid'(s_i) / N. Its
** gradient goes into the logits' gradients; at sparsity_freeze_epoch the loss is switched off
** and the masks freeze ([s > 0] copied into the mask parameter the op then reads).
**
** The mask parameter ("._binary_mask", NNCF's buffer) holds [s > 0] whenever the controller
** reads it (statistics, the loss, epoch steps), so a checkpoint carries the current masks.
*/
#include <math.h>
#include <string.h>

#include "compression/sparsity/sparsity_internal.h"

#define RB_LOSS_P 0.05f

static const float *logits_of(const struct nncw_sparsity *sp, int i)
{
    return nncw_tensor_f32(nncw_graph_get_value_tensor(sp->g, sp->layers[i].logits));
}

static float sigmoid(float z)
{
    return 1.0f / (1.0f + expf(-z));
}

static void rb_refresh(const struct nncw_sparsity *sp)
{
    if (sp->frozen)
        return;
    for (int i = 0; i < sp->n; i++) {
        const float *s = logits_of(sp, i);
        float *m = nncw_tensor_f32(nncw_graph_get_value_tensor(sp->g, sp->layers[i].mask));
        for (int64_t k = 0; k < nncw_sparse_layer_numel(sp, i); k++)
            m[k] = s[k] > 0.0f ? 1.0f : 0.0f;
    }
}

static int64_t kept(const struct nncw_sparsity *sp, int i)
{
    const float *s = logits_of(sp, i);
    int64_t c = 0;
    for (int64_t k = 0; k < nncw_sparse_layer_numel(sp, i); k++)
        c += s[k] > 0.0f;
    return c;
}

/* adds coef * sigmoid'(s) to the logits' gradient of layer i (if it has one) */
static void add_grad(const struct nncw_sparsity *sp, int i, float coef)
{
    struct nncw_tensor *gt = nncw_graph_get_value_grad(sp->g, sp->layers[i].logits);
    if (!gt || coef == 0.0f)
        return;
    float *gs = nncw_tensor_f32(gt);
    const float *s = logits_of(sp, i);
    for (int64_t k = 0; k < nncw_sparse_layer_numel(sp, i); k++) {
        float p = sigmoid(s[k]);
        gs[k] += coef * p * (1.0f - p);
    }
}

/* D_l - (1 - level_l) of layer i (local mode) */
static float layer_diff(const struct nncw_sparsity *sp, int i)
{
    int64_t n = nncw_sparse_layer_numel(sp, i);
    return (float)((double)kept(sp, i) / (double)n) - (1.0f - sp->layers[i].target);
}

/* the loss, and with grads its gradient into the logits */
static float rb_loss_value(const struct nncw_sparsity *sp, bool grads)
{
    if (sp->frozen || sp->n == 0)
        return 0.0f;
    const float p2 = RB_LOSS_P * RB_LOSS_P;
    if (!sp->cfg->local) {
        int64_t c = 0;
        for (int i = 0; i < sp->n; i++)
            c += kept(sp, i);
        float diff = (float)((double)c / (double)sp->total) - (1.0f - sp->level);
        for (int i = 0; grads && i < sp->n; i++)
            add_grad(sp, i, 2.0f * diff / p2 / (float)sp->total);
        return diff * diff / p2;
    }
    /* the layers' densities are counted twice (sum first, then each layer's share) rather
     * than kept, so the loss needs no memory */
    float sum = 0.0f;
    for (int i = 0; i < sp->n; i++)
        sum += fabsf(layer_diff(sp, i));
    for (int i = 0; grads && i < sp->n; i++) {
        float d = layer_diff(sp, i), sign = (d > 0.0f) - (d < 0.0f);
        add_grad(sp, i, 2.0f * sum / p2 * sign / (float)nncw_sparse_layer_numel(sp, i));
    }
    return sum * sum / p2;
}

enum nncw_status nncw_sparsity_rb_loss(void *self, float *loss)
{
    struct nncw_sparsity *sp = self;
    *loss = rb_loss_value(sp, true);
    rb_refresh(sp);
    return NNCW_OK;
}

float nncw_sparsity_rb_lr_scale(void *self, int value_id)
{
    const struct nncw_sparsity *sp = self;
    float m = sp->cfg->compression_lr_multiplier;
    for (int i = 0; m > 0.0f && i < sp->n; i++)
        if (sp->layers[i].logits == value_id)
            return m;
    return 1.0f;
}

static enum nncw_status rb_apply(struct nncw_sparsity *sp, float level)
{
    sp->level = level;
    if (sp->cfg->local)
        for (int i = 0; i < sp->n; i++)
            sp->layers[i].target = level;
    return NNCW_OK;
}

static enum nncw_status rb_freeze(struct nncw_sparsity *sp)
{
    rb_refresh(sp);
    for (int i = 0; i < sp->n; i++)
        NNCW_TRY(
            nncw_node_set_attr_int(nncw_graph_get_node(sp->g, sp->layers[i].node), "frozen", 1));
    sp->frozen = true;
    return NNCW_OK;
}

static char *rb_statistics(const struct nncw_sparsity *sp)
{
    static const char *const labels[] = {
        "A target level of the sparsity for the algorithm for the current epoch",
        "The probability that one weight will be zeroed", "The sparsity loss"};
    double keep = 0;
    for (int i = 0; i < sp->n; i++) {
        const float *s = logits_of(sp, i);
        for (int64_t k = 0; k < nncw_sparse_layer_numel(sp, i); k++)
            keep += sigmoid(s[k]);
    }
    float values[] = {sp->level, sp->total ? 1.0f - (float)(keep / (double)sp->total) : 0.0f,
                      rb_loss_value(sp, false)};
    return nncw_sparsity_value_table("Statistics of the RB-sparsity algorithm", 3, labels, values);
}

static const struct nncw_sparsity_ops rb_ops = {
    .apply_level = rb_apply,
    .freeze = rb_freeze,
    .refresh = rb_refresh,
    .algo_statistics = rb_statistics,
};

enum nncw_status nncw_sparsity_rb_setup(struct nncw_sparsity *sp)
{
    sp->ops = &rb_ops;
    NNCW_TRY(nncw_sparsity_insert_masks(sp, true));
    return rb_apply(sp, sp->cfg->schedule.init);
}
