/*
** NNCF's filter pruning schedulers (fact sheet 5.4), as a function of the epoch. During the
** num_init_steps warm-up epochs the level is 0. Then:
**   baseline               the target at once; the masks freeze immediately;
**   exponential            density 1 - level decays exponentially from 1 - init at warm-up end
**                          to 1 - target pruning_steps - 1 epochs later;
**   exponential_with_bias  level = a * exp(-k e) + b with level(0) = init, level(T) = target
**                          and level(T / 8) = 0.75 target (T = pruning_steps - 1);
** both exponential ones are clipped at the target and freeze at epoch num_init_steps +
** pruning_steps.
*/
#include <math.h>

#include "compression/pruning/pruning_internal.h"

/* exponential_with_bias: with x = exp(-k T / 8) the three conditions leave one equation in x,
 * increasing on (0, 1): solved by bisection */
static void bias_curve(double init, double target, double t_end, double *a, double *k, double *b)
{
    double lo = 1e-12, hi = 1.0 - 1e-12;
    for (int it = 0; it < 200; it++) {
        double x = 0.5 * (lo + hi);
        double bx = (0.75 * target - init * x) / (1.0 - x);
        double f = (init - bx) * pow(x, 8) + bx - target;
        if (f > 0)
            hi = x;
        else
            lo = x;
    }
    double x = 0.5 * (lo + hi);
    *b = (0.75 * target - init * x) / (1.0 - x);
    *a = init - *b;
    *k = -8.0 * log(x) / t_end;
}

float nncw_pruning_schedule_level(const struct nncw_pruning_config *pc, float target, int epoch,
                                  bool *frozen)
{
    *frozen = false;
    if (epoch < pc->num_init_steps)
        return 0.0f;
    if (pc->schedule == NNCW_PRUNING_SCHEDULE_BASELINE) {
        *frozen = true;
        return target;
    }
    *frozen = epoch >= pc->num_init_steps + pc->pruning_steps;
    double e = epoch - pc->num_init_steps, t_end = pc->pruning_steps - 1;
    double init = pc->init, level;
    if (t_end <= 0 || e >= t_end || init >= target)
        return target;
    if (pc->schedule == NNCW_PRUNING_SCHEDULE_EXPONENTIAL) {
        double k = log((1.0 - init) / (1.0 - target)) / t_end;
        level = 1.0 - (1.0 - init) * exp(-k * e);
    } else {
        double a, k, b;
        bias_curve(init, target, t_end, &a, &k, &b);
        level = a * exp(-k * e) + b;
    }
    return (float)(level < target ? level : target);
}
