/*
 * The learning-rate and weight-decay part of NNCF's staged scheduler (the "params" of the
 * quantization and binarization algorithms), as NNCF's staged training worker applies it:
 * the run trains at base_lr with weight decay base_wd; from lr_poly_drop_start_epoch the
 * rate falls as base_lr * ((finish - e) / duration)^2.1 with e the fractional epoch, reaching
 * zero at finish = start + duration, and weight decay is 0 from disable_wd_start_epoch on.
 */
#pragma once

struct nncw_staged_schedule {
    int lr_poly_drop_start_epoch;     /* -1: no drop */
    int lr_poly_drop_duration_epochs; /* > 0 */
    int disable_wd_start_epoch;       /* -1: weight decay stays */
    float base_lr, base_wd;
};

/* the learning rate and weight decay at fractional epoch e */
void nncw_staged_lr_wd(const struct nncw_staged_schedule *s, double epoch, float *lr,
                       float *weight_decay);
