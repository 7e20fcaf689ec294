#include <math.h>
#include <string.h>

#include "core/common.h"
#include "train/train.h"

static const char *const schedule_names[] = {"constant", "step", "multistep", "cosine"};
_Static_assert(NNCW_ARRAY_LEN(schedule_names) == NNCW_LR_SCHEDULE_TYPE_COUNT,
               "schedule_names out of date");

const char *nncw_lr_schedule_name(enum nncw_lr_schedule_type t)
{
    return (unsigned)t < NNCW_LR_SCHEDULE_TYPE_COUNT ? schedule_names[t] : "?";
}

enum nncw_status nncw_lr_schedule_parse(const char *s, enum nncw_lr_schedule_type *out)
{
    for (int i = 0; i < NNCW_LR_SCHEDULE_TYPE_COUNT; i++)
        if (strcmp(s, schedule_names[i]) == 0) {
            *out = (enum nncw_lr_schedule_type)i;
            return NNCW_OK;
        }
    return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                     "unknown learning-rate schedule '%s' (constant, step, multistep or cosine)",
                     s);
}

float nncw_lr_at(const struct nncw_lr_schedule *s, float base_lr, int epoch)
{
    if (epoch < s->warmup_epochs)
        return base_lr * (0.1f + 0.9f * (float)epoch / (float)s->warmup_epochs);
    switch (s->type) {
    case NNCW_LR_STEP:
        return s->step_size > 0 ? base_lr * powf(s->gamma, (float)(epoch / s->step_size))
                                : base_lr;
    case NNCW_LR_MULTISTEP: {
        int passed = 0;
        for (int i = 0; i < s->n_milestones; i++)
            passed += epoch >= s->milestones[i];
        return base_lr * powf(s->gamma, (float)passed);
    }
    case NNCW_LR_COSINE: {
        if (s->t_max <= 0)
            return base_lr;
        int e = epoch < s->t_max ? epoch : s->t_max;
        return s->eta_min +
               (base_lr - s->eta_min) * 0.5f * (1.0f + cosf(3.14159265358979f * (float)e / (float)s->t_max));
    }
    case NNCW_LR_CONSTANT:
    default:
        return base_lr;
    }
}
