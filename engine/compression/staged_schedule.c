#include "compression/staged_schedule.h"

#include <math.h>

void nncw_staged_lr_wd(const struct nncw_staged_schedule *s, double epoch, float *lr,
                       float *weight_decay)
{
    *lr = s->base_lr;
    if (s->lr_poly_drop_start_epoch >= 0 && epoch >= s->lr_poly_drop_start_epoch) {
        double duration = s->lr_poly_drop_duration_epochs;
        double left = s->lr_poly_drop_start_epoch + duration - epoch;
        *lr = left > 0 ? (float)(s->base_lr * pow(left / duration, 2.1)) : 0.0f;
    }
    *weight_decay = s->base_wd;
    if (s->disable_wd_start_epoch >= 0 && epoch >= s->disable_wd_start_epoch)
        *weight_decay = 0.0f;
}
