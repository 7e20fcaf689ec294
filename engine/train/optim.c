#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/common.h"
#include "train/train.h"

struct nncw_optim {
    struct nncw_graph *g;
    struct nncw_optim_config cfg;
    int n;          /* trainable parameters */
    int *ids;       /* their value ids */
    float *lr_scale; /* per parameter: multiplier of the learning rate (1 by default) */
    float **state1; /* momentum buffer / Adam first moment */
    float **state2; /* Adam second moment */
    int64_t steps;
};

static const char *const type_names[] = {"sgd", "adam", "adamw"};
_Static_assert(NNCW_ARRAY_LEN(type_names) == NNCW_OPTIM_TYPE_COUNT, "type_names out of date");

const char *nncw_optim_type_name(enum nncw_optim_type t)
{
    return (unsigned)t < NNCW_OPTIM_TYPE_COUNT ? type_names[t] : "?";
}

enum nncw_status nncw_optim_type_parse(const char *s, enum nncw_optim_type *out)
{
    for (int i = 0; i < NNCW_OPTIM_TYPE_COUNT; i++)
        if (strcmp(s, type_names[i]) == 0) {
            *out = (enum nncw_optim_type)i;
            return NNCW_OK;
        }
    return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "unknown optimizer '%s' (sgd, adam or adamw)", s);
}

struct nncw_optim_config nncw_optim_config_sgd(float lr, float momentum, float weight_decay)
{
    return (struct nncw_optim_config){.type = NNCW_OPTIM_SGD, .lr = lr, .momentum = momentum,
                                      .weight_decay = weight_decay, .beta1 = 0.9f,
                                      .beta2 = 0.999f, .eps = 1e-8f};
}

struct nncw_optim_config nncw_optim_config_adam(float lr, float weight_decay)
{
    return (struct nncw_optim_config){.type = NNCW_OPTIM_ADAM, .lr = lr, .beta1 = 0.9f,
                                      .beta2 = 0.999f, .eps = 1e-8f,
                                      .weight_decay = weight_decay};
}

static enum nncw_status check_config(const struct nncw_optim_config *c)
{
    if ((unsigned)c->type >= NNCW_OPTIM_TYPE_COUNT)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "optimizer: unknown type %d", (int)c->type);
    if (!(c->lr >= 0) || !isfinite(c->lr))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "optimizer: learning rate %g must be >= 0", c->lr);
    if (!(c->momentum >= 0 && c->momentum < 1))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "optimizer: momentum %g must be in [0, 1)",
                         c->momentum);
    if (!(c->weight_decay >= 0))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "optimizer: weight decay %g must be >= 0",
                         c->weight_decay);
    if (c->nesterov && (c->momentum <= 0 || c->dampening != 0))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "optimizer: nesterov needs momentum > 0 and zero dampening");
    if (c->type != NNCW_OPTIM_SGD &&
        !(c->beta1 >= 0 && c->beta1 < 1 && c->beta2 >= 0 && c->beta2 < 1 && c->eps > 0))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "optimizer: betas must be in [0, 1), eps > 0");
    return NNCW_OK;
}

void nncw_optim_free(struct nncw_optim *o)
{
    if (!o)
        return;
    for (int i = 0; i < o->n; i++) {
        if (o->state1)
            nncw_free(o->state1[i]);
        if (o->state2)
            nncw_free(o->state2[i]);
    }
    nncw_free(o->state1);
    nncw_free(o->state2);
    nncw_free(o->ids);
    nncw_free(o->lr_scale);
    nncw_free(o);
}

enum nncw_status nncw_optim_new(struct nncw_graph *g, const struct nncw_optim_config *cfg,
                                struct nncw_optim **out)
{
    NNCW_TRY(check_config(cfg));
    NNCW_TRY(nncw_graph_alloc_grads(g));
    struct nncw_optim *o = nncw_calloc(1, sizeof *o);
    if (!o)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "optimizer: out of memory");
    o->g = g;
    o->cfg = *cfg;
    int np = nncw_graph_count_params(g);
    o->ids = nncw_calloc((size_t)(np ? np : 1), sizeof *o->ids);
    o->lr_scale = nncw_calloc((size_t)(np ? np : 1), sizeof *o->lr_scale);
    o->state1 = nncw_calloc((size_t)(np ? np : 1), sizeof *o->state1);
    o->state2 = nncw_calloc((size_t)(np ? np : 1), sizeof *o->state2);
    if (!o->ids || !o->lr_scale || !o->state1 || !o->state2)
        goto nomem;
    for (int i = 0; i < np; i++) {
        int id = nncw_graph_get_param(g, i);
        if (!nncw_graph_is_trainable(g, id))
            continue;
        int64_t n = nncw_tensor_numel(nncw_graph_get_value_tensor(g, id));
        bool need1 = cfg->type != NNCW_OPTIM_SGD || cfg->momentum > 0;
        bool need2 = cfg->type != NNCW_OPTIM_SGD;
        float *s1 = need1 ? nncw_calloc((size_t)n, sizeof(float)) : NULL;
        float *s2 = need2 ? nncw_calloc((size_t)n, sizeof(float)) : NULL;
        o->ids[o->n] = id;
        o->lr_scale[o->n] = 1.0f;
        o->state1[o->n] = s1;
        o->state2[o->n] = s2;
        o->n++;
        if ((need1 && !s1) || (need2 && !s2))
            goto nomem;
    }
    *out = o;
    return NNCW_OK;
nomem:
    nncw_optim_free(o);
    return NNCW_FAIL(NNCW_ERR_NOMEM, "optimizer: out of memory for its state");
}

void nncw_optim_set_lr(struct nncw_optim *o, float lr)
{
    o->cfg.lr = lr;
}

float nncw_optim_get_lr(const struct nncw_optim *o)
{
    return o->cfg.lr;
}

void nncw_optim_set_weight_decay(struct nncw_optim *o, float weight_decay)
{
    o->cfg.weight_decay = weight_decay;
}

float nncw_optim_get_weight_decay(const struct nncw_optim *o)
{
    return o->cfg.weight_decay;
}

int64_t nncw_optim_count_steps(const struct nncw_optim *o)
{
    return o->steps;
}

/* ---- state for checkpoints ---- */
int nncw_optim_count_slots(const struct nncw_optim *o)
{
    return o->n;
}

void nncw_optim_get_slot(const struct nncw_optim *o, int i, struct nncw_optim_slot *out)
{
    NNCW_ASSERT(i >= 0 && i < o->n);
    *out = (struct nncw_optim_slot){
        .value_id = o->ids[i],
        .numel = nncw_tensor_numel(nncw_graph_get_value_tensor(o->g, o->ids[i])),
        .state1 = o->state1[i],
        .state2 = o->state2[i]};
}

const struct nncw_optim_config *nncw_optim_get_config(const struct nncw_optim *o)
{
    return &o->cfg;
}

void nncw_optim_set_steps(struct nncw_optim *o, int64_t steps)
{
    o->steps = steps;
}

/* torch.optim.SGD: the first step seeds the momentum buffer with the gradient */
static void sgd_update(const struct nncw_optim_config *c, bool first, float *w, const float *g,
                       float *buf, int64_t n)
{
    float lr = c->lr, wd = c->weight_decay, mu = c->momentum, damp = 1.0f - c->dampening;
    for (int64_t i = 0; i < n; i++) {
        float d = g[i] + wd * w[i];
        if (buf) {
            buf[i] = first ? d : mu * buf[i] + damp * d;
            d = c->nesterov ? d + mu * buf[i] : buf[i];
        }
        w[i] -= lr * d;
    }
}

static void adam_update(const struct nncw_optim_config *c, int64_t step, float *w, const float *g,
                        float *m, float *v, int64_t n)
{
    float b1 = c->beta1, b2 = c->beta2, lr = c->lr, wd = c->weight_decay;
    float bc1 = 1.0f - powf(b1, (float)step), bc2 = 1.0f - powf(b2, (float)step);
    float step_size = lr / bc1, sqrt_bc2 = sqrtf(bc2);
    bool decoupled = c->type == NNCW_OPTIM_ADAMW;
    for (int64_t i = 0; i < n; i++) {
        float d = g[i];
        if (decoupled)
            w[i] *= 1.0f - lr * wd;
        else
            d += wd * w[i];
        m[i] = b1 * m[i] + (1.0f - b1) * d;
        v[i] = b2 * v[i] + (1.0f - b2) * d * d;
        w[i] -= step_size * m[i] / (sqrtf(v[i]) / sqrt_bc2 + c->eps);
    }
}

void nncw_optim_step(struct nncw_optim *o)
{
    o->steps++;
    for (int i = 0; i < o->n; i++) {
        struct nncw_tensor *w = nncw_graph_get_value_tensor(o->g, o->ids[i]);
        struct nncw_tensor *g = nncw_graph_get_value_grad(o->g, o->ids[i]);
        NNCW_ASSERT(g != NULL);
        int64_t n = nncw_tensor_numel(w);
        struct nncw_optim_config c = o->cfg;
        c.lr *= o->lr_scale[i];
        if (c.type == NNCW_OPTIM_SGD)
            sgd_update(&c, o->steps == 1, nncw_tensor_f32(w), nncw_tensor_f32(g), o->state1[i],
                       n);
        else
            adam_update(&c, o->steps, nncw_tensor_f32(w), nncw_tensor_f32(g), o->state1[i],
                        o->state2[i], n);
    }
}

enum nncw_status nncw_optim_set_param_lr_scale(struct nncw_optim *o, int value_id, float scale)
{
    if (!(scale >= 0) || !isfinite(scale))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "optimizer: learning-rate multiplier %g must be >= 0",
                         (double)scale);
    for (int i = 0; i < o->n; i++)
        if (o->ids[i] == value_id) {
            o->lr_scale[i] = scale;
            return NNCW_OK;
        }
    return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "optimizer: '%s' is not a trainable parameter",
                     nncw_graph_get_value_name(o->g, value_id));
}
