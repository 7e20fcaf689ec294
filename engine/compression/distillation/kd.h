/*
 * Knowledge distillation (NNCF's knowledge_distillation, fact sheet 7): a teacher, the float
 * model as it was before any algorithm changed it, runs on every training batch and the
 * student (the compressed model) learns its outputs as well as the labels.
 *
 *     struct nncw_kd_config k;
 *     nncw_kd_config_parse(cfg, 1, &k);               // {"type": "softmax", "temperature": 2}
 *     float ds[N * C] = {0};
 *     float loss = nncw_kd_softmax_loss(student, teacher, N, C, 2.0f, 1.0f, ds);
 *
 * The losses (NNCF 2.1+, with scale and temperature; 2.0 is scale 1, T 1):
 *   mse:     scale * mean((s - t)^2) over all N * C outputs
 *   softmax: scale * T^2 * (1/N) sum_n sum_c -softmax(t/T)_nc log softmax(s/T)_nc
 *            (NNCF's -mean(log_softmax(s/T) * softmax(t/T)) * C * T^2: a per-sample cross
 *            entropy against the teacher's softened distribution)
 * Their gradients with respect to the student's logits:
 *   mse:     scale * 2 (s - t) / (N C)
 *   softmax: scale * T / N * (softmax(s/T) - softmax(t/T))
 */
#pragma once

#include <stdint.h>

#include "config/config.h"
#include "core/status.h"

enum nncw_kd_type { NNCW_KD_MSE, NNCW_KD_SOFTMAX, NNCW_KD_TYPE_COUNT };

struct nncw_kd_config {
    enum nncw_kd_type type; /* required */
    float temperature;      /* softmax only: 1 */
    float scale;            /* 1 */
};

/* "mse", "softmax" */
const char *nncw_kd_type_name(enum nncw_kd_type t);
/* parses cfg->compression[index] (knowledge_distillation): type (required), temperature,
 * scale. NNCW_ERR_PARSE naming the JSON path of an unknown key, a wrong type or a bad value;
 * NNCW_ERR_INVALID_ARG for a bad index or another algorithm */
enum nncw_status nncw_kd_config_parse(const struct nncw_config *cfg, int index,
                                      struct nncw_kd_config *out);

/* the losses of n (mse: elements; softmax: rows x cols) student outputs s against teacher
 * outputs t; each adds its gradient with respect to s into ds when ds is not NULL */
float nncw_kd_mse_loss(const float *s, const float *t, int64_t n, float scale, float *ds);
float nncw_kd_softmax_loss(const float *s, const float *t, int64_t rows, int64_t cols,
                           float temperature, float scale, float *ds);
