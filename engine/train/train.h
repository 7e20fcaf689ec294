/*
 * Training pieces: losses, optimizers and learning-rate schedules.
 *
 *     struct nncw_optim *opt;
 *     struct nncw_optim_config oc = nncw_optim_config_sgd(0.01f, 0.9f, 5e-4f);
 *     nncw_optim_new(g, &oc, &opt);
 *     ... forward ...
 *     float loss;
 *     nncw_loss_cross_entropy(logits, labels, &loss, &dlogits);
 *     nncw_graph_zero_grads(g);
 *     nncw_exec_backward(ex, (const struct nncw_tensor *[]){&dlogits});
 *     nncw_optim_set_lr(opt, nncw_lr_at(&sched, base_lr, epoch));
 *     nncw_optim_step(opt);
 *     nncw_optim_free(opt);
 *
 * Semantics follow PyTorch (torch.optim.SGD, Adam, AdamW, StepLR, MultiStepLR,
 * CosineAnnealingLR), so results can be compared number for number.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "graph/graph.h"
#include "tensor/tensor.h"

/* ---- losses ---- */
/* mean cross-entropy of logits [N, K] against labels (N values in [0, K)); writes the loss
 * and, if dlogits is not NULL, dL/dlogits into it (same shape as logits, overwritten).
 * NNCW_ERR_INVALID_ARG naming the sample for a label out of range. */
enum nncw_status nncw_loss_cross_entropy(const struct nncw_tensor *logits, const int32_t *labels,
                                         float *loss, struct nncw_tensor *dlogits);
/* how many rows of logits [N, K] have their maximum at the label */
int nncw_count_correct(const struct nncw_tensor *logits, const int32_t *labels);

/* ---- optimizers ---- */
enum nncw_optim_type {
    NNCW_OPTIM_SGD,
    NNCW_OPTIM_ADAM,
    NNCW_OPTIM_ADAMW,
    NNCW_OPTIM_TYPE_COUNT
};

struct nncw_optim_config {
    enum nncw_optim_type type;
    float lr;
    float momentum;     /* SGD */
    float dampening;    /* SGD */
    bool nesterov;      /* SGD; needs momentum > 0 and dampening 0 */
    float beta1, beta2; /* Adam */
    float eps;          /* Adam */
    float weight_decay; /* L2 added to the gradient (SGD, Adam), decoupled (AdamW) */
};

struct nncw_optim;

struct nncw_optim_config nncw_optim_config_sgd(float lr, float momentum, float weight_decay);
struct nncw_optim_config nncw_optim_config_adam(float lr, float weight_decay);
const char *nncw_optim_type_name(enum nncw_optim_type t);
/* "sgd", "adam", "adamw"; NNCW_ERR_INVALID_ARG naming the text otherwise */
enum nncw_status nncw_optim_type_parse(const char *s, enum nncw_optim_type *out);

/* an optimizer over the graph's trainable parameters (the graph must outlive it);
 * NNCW_ERR_INVALID_ARG naming the bad setting */
enum nncw_status nncw_optim_new(struct nncw_graph *g, const struct nncw_optim_config *cfg,
                                struct nncw_optim **out);
void nncw_optim_free(struct nncw_optim *o);
void nncw_optim_set_lr(struct nncw_optim *o, float lr);
float nncw_optim_get_lr(const struct nncw_optim *o);
void nncw_optim_set_weight_decay(struct nncw_optim *o, float weight_decay);
float nncw_optim_get_weight_decay(const struct nncw_optim *o);
/* one update from the current gradients */
void nncw_optim_step(struct nncw_optim *o);
/* the learning rate of one parameter is lr * scale (compression parameters such as quantizer
 * scales train with NNCF's compression_lr_multiplier); NNCW_ERR_INVALID_ARG if value_id is not
 * a trainable parameter of the graph */
enum nncw_status nncw_optim_set_param_lr_scale(struct nncw_optim *o, int value_id, float scale);
/* number of steps taken */
int64_t nncw_optim_count_steps(const struct nncw_optim *o);

/* ---- optimizer state, for checkpoints (optim.c) ---- */
struct nncw_optim_slot {
    int value_id;   /* the trainable parameter */
    int64_t numel;
    float *state1;  /* SGD momentum buffer / Adam first moment; NULL when there is none */
    float *state2;  /* Adam second moment; NULL for SGD */
};
/* the parameters the optimizer updates, in the graph's parameter order */
int nncw_optim_count_slots(const struct nncw_optim *o);
/* slot i's buffers: borrowed, and writable so that a checkpoint can restore them */
void nncw_optim_get_slot(const struct nncw_optim *o, int i, struct nncw_optim_slot *out);
const struct nncw_optim_config *nncw_optim_get_config(const struct nncw_optim *o);
/* restores the step count (Adam's bias correction; SGD seeds its buffers on step 1) */
void nncw_optim_set_steps(struct nncw_optim *o, int64_t steps);

/* ---- learning-rate schedules (per epoch, as PyTorch's schedulers stepped each epoch) ---- */
enum nncw_lr_schedule_type {
    NNCW_LR_CONSTANT,
    NNCW_LR_STEP,      /* lr * gamma^(epoch / step_size) */
    NNCW_LR_MULTISTEP, /* lr * gamma^(milestones passed) */
    NNCW_LR_COSINE,    /* eta_min + (lr - eta_min) (1 + cos(pi epoch / t_max)) / 2 */
    NNCW_LR_SCHEDULE_TYPE_COUNT
};

struct nncw_lr_schedule {
    enum nncw_lr_schedule_type type;
    int step_size;
    float gamma;
    int n_milestones;
    int milestones[16];
    int t_max;
    float eta_min;
    int warmup_epochs; /* linear warm-up from lr / 10 (0: none) */
};

/* the learning rate for an epoch (0-based) */
float nncw_lr_at(const struct nncw_lr_schedule *s, float base_lr, int epoch);
const char *nncw_lr_schedule_name(enum nncw_lr_schedule_type t);
/* "constant", "step", "multistep", "cosine" */
enum nncw_status nncw_lr_schedule_parse(const char *s, enum nncw_lr_schedule_type *out);
