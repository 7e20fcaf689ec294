/*
** The sparsity schedules of NNCF (nncf/common/sparsity/schedulers.py and the decay schedules
** of nncf/common/schedulers.py) as functions of the epoch and step, plus the state NNCF keeps
** in its scheduler objects.
**
** Timing: NNCF calls epoch_step() at the start of each epoch and step() at the start of each
** training iteration; nncw's training loop calls epoch_begin before an epoch's first step and
** step_end after each optimizer step. The per-step polynomial level NNCF sets at the start of
** local step k is the one nncw sets after step k - 1 (and at the epoch's start for k = 0), so
** every batch trains at the same level as under NNCF.
**
** Departure: NNCF's adaptive scheduler evaluates its counter twice per epoch step (once to set
** the level and once more to pass it on); nncw evaluates it once, as the schedule describes.
*/
#include "compression/sparsity/schedulers.h"

#include <math.h>

#include "core/common.h"

static const char *const type_names[] = {"polynomial", "exponential", "adaptive", "multistep"};
_Static_assert(NNCW_ARRAY_LEN(type_names) == NNCW_SCHEDULE_TYPE_COUNT, "type_names");

const char *nncw_sparsity_schedule_name(enum nncw_sparsity_schedule_type t)
{
    return (unsigned)t < NNCW_SCHEDULE_TYPE_COUNT ? type_names[t] : "?";
}

void nncw_sparsity_schedule_defaults(struct nncw_sparsity_schedule *s,
                                     enum nncw_sparsity_schedule_type type)
{
    *s = (struct nncw_sparsity_schedule){.type = type,
                                         .init = 0.0f,
                                         .target = 0.5f,
                                         .target_epoch = 90,
                                         .freeze_epoch = 100,
                                         .power = 0.9f,
                                         .concave = true,
                                         .n_steps = 1,
                                         .steps = {90},
                                         .levels = {0.1f, 0.5f},
                                         .patience = 1,
                                         .step = 0.05f,
                                         .eps = 0.03f};
}

float nncw_sparsity_polynomial_level(const struct nncw_sparsity_schedule *s, int epoch,
                                     int64_t local_step, int64_t steps_per_epoch)
{
    if (s->target_epoch == 0)
        return s->target;
    double e = epoch;
    if (local_step >= 0 && steps_per_epoch >= 1)
        e += (double)local_step / (double)steps_per_epoch;
    double p = e / s->target_epoch;
    p = p < 0.0 ? 0.0 : p > 1.0 ? 1.0 : p;
    double init = s->init, target = s->target;
    if (s->concave)
        return (float)(target - (target - init) * pow(1.0 - p, s->power));
    return (float)(init + (target - init) * pow(p, s->power));
}

float nncw_sparsity_exponential_level(const struct nncw_sparsity_schedule *s, int epoch)
{
    double d0 = 1.0 - s->init, d1 = 1.0 - s->target;
    double density = d1;
    if (s->target_epoch != 0) {
        density = d0 * pow(d1 / d0, (double)epoch / s->target_epoch);
        if (density < d1)
            density = d1;
    }
    double level = 1.0 - density;
    return (float)(level < s->target ? level : s->target);
}

float nncw_sparsity_multistep_level(const struct nncw_sparsity_schedule *s, int epoch)
{
    int k = 0;
    while (k < s->n_steps && s->steps[k] <= epoch)
        k++;
    return s->levels[k];
}

float nncw_sparsity_adaptive_level(const struct nncw_sparsity_schedule *s, float current,
                                   float measured, int *counted_epochs)
{
    if (measured >= current - s->eps)
        (*counted_epochs)++;
    float level = current;
    if (*counted_epochs >= s->patience) {
        *counted_epochs = 0;
        level = current + s->step;
    }
    return level < s->target ? level : s->target;
}

enum nncw_compression_stage nncw_sparsity_stage(float level, float target, bool local)
{
    if (local)
        return NNCW_STAGE_FULLY_COMPRESSED;
    if (level == 0.0f)
        return NNCW_STAGE_UNCOMPRESSED;
    if (level >= target)
        return NNCW_STAGE_FULLY_COMPRESSED;
    return NNCW_STAGE_PARTIALLY_COMPRESSED;
}

/* ---- state ---- */

void nncw_sparsity_scheduler_init(struct nncw_sparsity_scheduler *sch,
                                  const struct nncw_sparsity_schedule *s)
{
    *sch = (struct nncw_sparsity_scheduler){
        .s = *s,
        .epoch = -1,
        .steps_per_epoch = s->steps_per_epoch,
        .level = s->type == NNCW_SCHEDULE_MULTISTEP ? s->levels[0] : s->init};
}

static bool per_step(const struct nncw_sparsity_scheduler *sch)
{
    return sch->s.type == NNCW_SCHEDULE_POLYNOMIAL && sch->s.per_step;
}

/* NNCF measures steps_per_epoch during the first epoch when the config does not give it */
static enum nncw_status settle_steps_per_epoch(struct nncw_sparsity_scheduler *sch)
{
    sch->skipping = false;
    if (!per_step(sch))
        return NNCW_OK;
    if (sch->steps_in_epoch > 0) {
        if (sch->steps_per_epoch == 0)
            sch->steps_per_epoch = sch->steps_in_epoch;
        else if (sch->steps_per_epoch != sch->steps_in_epoch)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "sparsity schedule: params.steps_per_epoch is %lld but the epoch "
                             "took %lld optimizer steps",
                             (long long)sch->steps_per_epoch, (long long)sch->steps_in_epoch);
    }
    sch->skipping = sch->steps_per_epoch == 0;
    return NNCW_OK;
}

static float level_now(struct nncw_sparsity_scheduler *sch, float measured)
{
    const struct nncw_sparsity_schedule *s = &sch->s;
    switch (s->type) {
    case NNCW_SCHEDULE_POLYNOMIAL:
        return nncw_sparsity_polynomial_level(
            s, sch->epoch, per_step(sch) ? sch->steps_in_epoch : -1, sch->steps_per_epoch);
    case NNCW_SCHEDULE_EXPONENTIAL:
        return nncw_sparsity_exponential_level(s, sch->epoch);
    case NNCW_SCHEDULE_ADAPTIVE:
        return nncw_sparsity_adaptive_level(s, sch->level, measured, &sch->counted_epochs);
    case NNCW_SCHEDULE_MULTISTEP:
    default:
        return nncw_sparsity_multistep_level(s, sch->epoch);
    }
}

enum nncw_status nncw_sparsity_scheduler_epoch_step(struct nncw_sparsity_scheduler *sch, int epoch,
                                                    float measured, bool *update)
{
    *update = false;
    NNCW_TRY(settle_steps_per_epoch(sch));
    if (sch->skipping)
        return NNCW_OK;
    sch->steps_in_epoch = 0;
    sch->epoch = epoch;
    sch->level = level_now(sch, measured);
    sch->frozen = epoch >= sch->s.freeze_epoch;
    *update = true;
    return NNCW_OK;
}

void nncw_sparsity_scheduler_step(struct nncw_sparsity_scheduler *sch, bool *update)
{
    *update = false;
    sch->steps_in_epoch++;
    if (sch->skipping || !per_step(sch) || sch->epoch < 0)
        return;
    sch->level = level_now(sch, 0.0f);
    *update = true;
}
