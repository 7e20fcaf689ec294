/*
 * NNCF's sparsity schedulers (nncf/common/sparsity/schedulers.py): the level a sparsity
 * algorithm aims at for each epoch (or optimizer step), the epoch its masks freeze at, and the
 * compression stage a level means. The level functions are pure; the scheduler struct adds the
 * state NNCF's scheduler objects keep (epoch, steps in the epoch, the adaptive counter).
 *
 *     struct nncw_sparsity_schedule s;
 *     nncw_sparsity_schedule_defaults(&s, NNCW_SCHEDULE_POLYNOMIAL);  // 0 -> 0.5 by epoch 90
 *     float l = nncw_sparsity_polynomial_level(&s, 45, -1, 0);         // 0.5 - 0.5 * 0.5^0.9
 *
 *     struct nncw_sparsity_scheduler sch;
 *     nncw_sparsity_scheduler_init(&sch, &s);
 *     bool update;
 *     nncw_sparsity_scheduler_epoch_step(&sch, 0, measured, &update);  // training loop: epoch 0
 *     if (update) set_level(sch.level);                                 // masks follow
 *     nncw_sparsity_scheduler_step(&sch, &update);                      // after each step
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "compression/compression.h"
#include "core/status.h"

#define NNCW_SPARSITY_MAX_MULTISTEP 32

enum nncw_sparsity_schedule_type {
    NNCW_SCHEDULE_POLYNOMIAL,
    NNCW_SCHEDULE_EXPONENTIAL,
    NNCW_SCHEDULE_ADAPTIVE,
    NNCW_SCHEDULE_MULTISTEP,
    NNCW_SCHEDULE_TYPE_COUNT
};

/* the "params" of a sparsity entry that shape its schedule (NNCF's defaults in comments) */
struct nncw_sparsity_schedule {
    enum nncw_sparsity_schedule_type type;
    float init;              /* sparsity_init (an entry key, not a param): 0 */
    float target;            /* sparsity_target: 0.5 (multistep: the last level) */
    int target_epoch;        /* sparsity_target_epoch: 90 */
    int freeze_epoch;        /* sparsity_freeze_epoch: 100 */
    float power;             /* polynomial: 0.9 */
    bool concave;            /* polynomial: true */
    bool per_step;           /* polynomial: update_per_optimizer_step, false */
    int64_t steps_per_epoch; /* polynomial per step: 0 = measure during the first epoch */
    int n_steps;             /* multistep: multistep_steps [90] (sorted) */
    int steps[NNCW_SPARSITY_MAX_MULTISTEP];
    float levels[NNCW_SPARSITY_MAX_MULTISTEP + 1]; /* multistep_sparsity_levels [0.1, 0.5] */
    int patience;                                  /* adaptive: 1 */
    float step, eps;                               /* adaptive: 0.05, 0.03 */
};

void nncw_sparsity_schedule_defaults(struct nncw_sparsity_schedule *s,
                                     enum nncw_sparsity_schedule_type type);
/* "polynomial", "exponential", "adaptive", "multistep" */
const char *nncw_sparsity_schedule_name(enum nncw_sparsity_schedule_type t);

/* ---- levels (pure) ---- */
/* progress p = clamp((epoch + local_step / steps_per_epoch) / target_epoch, 0, 1) (local_step < 0
 * or steps_per_epoch < 1: epoch only); concave: target - (target - init)(1 - p)^power, convex:
 * init + (target - init) p^power; target_epoch 0: target */
float nncw_sparsity_polynomial_level(const struct nncw_sparsity_schedule *s, int epoch,
                                     int64_t local_step, int64_t steps_per_epoch);
/* density decays exponentially from 1 - init to 1 - target over target_epoch epochs:
 * min(1 - max(d0 (d1 / d0)^(epoch / target_epoch), d1), target) */
float nncw_sparsity_exponential_level(const struct nncw_sparsity_schedule *s, int epoch);
/* levels[k] where k = the number of steps <= epoch */
float nncw_sparsity_multistep_level(const struct nncw_sparsity_schedule *s, int epoch);
/* one adaptive epoch: an epoch whose measured sparsity reached current - eps counts; after
 * patience such epochs the level grows by step (the count restarts), at most to target */
float nncw_sparsity_adaptive_level(const struct nncw_sparsity_schedule *s, float current,
                                   float measured, int *counted_epochs);
/* NNCF's stage of a sparsity controller: local mode FULLY; level 0 UNCOMPRESSED; level >= target
 * FULLY; otherwise PARTIALLY */
enum nncw_compression_stage nncw_sparsity_stage(float level, float target, bool local);

/* ---- the scheduler's state ---- */
struct nncw_sparsity_scheduler {
    struct nncw_sparsity_schedule s;
    int epoch;               /* -1 before the first epoch step */
    int64_t steps_in_epoch;  /* optimizer steps since the epoch began */
    int64_t steps_per_epoch; /* per-step polynomial: configured or measured, 0 unknown */
    bool skipping;           /* per step without steps_per_epoch: the first epoch only counts */
    int counted_epochs;      /* adaptive */
    float level;             /* the level in effect */
    bool frozen;             /* epoch >= freeze_epoch */
};

void nncw_sparsity_scheduler_init(struct nncw_sparsity_scheduler *sch,
                                  const struct nncw_sparsity_schedule *s);
/* the training loop begins epoch (0-based). measured is the model's sparsity now (adaptive
 * only). *update tells whether the level is recomputed (masks follow it even when it is
 * unchanged, as NNCF recomputes them). NNCW_ERR_INVALID_ARG when a configured steps_per_epoch
 * differs from the steps the last epoch took */
enum nncw_status nncw_sparsity_scheduler_epoch_step(struct nncw_sparsity_scheduler *sch, int epoch,
                                                    float measured, bool *update);
/* after an optimizer step; *update for the per-step polynomial schedule */
void nncw_sparsity_scheduler_step(struct nncw_sparsity_scheduler *sch, bool *update);
