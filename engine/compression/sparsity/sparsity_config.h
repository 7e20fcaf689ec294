/*
 * The "magnitude_sparsity", "rb_sparsity" and "const_sparsity" entries of a config, typed and
 * defaulted as NNCF 2.0 reads them (fact sheet 1.3).
 *
 *     struct nncw_sparsity_config *sc;
 *     if (nncw_sparsity_config_parse(cfg, 0, &sc) != NNCW_OK)   // cfg->compression[0]
 *         report(nncw_last_error());
 *         // "config 's.json': compression[0].params.sparsity_target: expected a number in
 *         //  [0, 0.999999], got 1"
 *     sc->schedule.target;                                       // 0.5 unless the config says so
 *     nncw_sparsity_config_free(sc);
 *
 * Keys: sparsity_init, params {schedule, sparsity_target, sparsity_target_epoch,
 * sparsity_freeze_epoch, power, concave, update_per_optimizer_step, steps_per_epoch,
 * multistep_steps, multistep_sparsity_levels, patience, step, eps, sparsity_level_setting_mode;
 * magnitude also weight_importance}, initializer {batchnorm_adaptation
 * {num_bn_adaptation_samples}} (magnitude), compression_lr_multiplier (rb), ignored_scopes,
 * target_scopes. const_sparsity takes only the scopes. Unknown keys, wrong types and values out
 * of range are NNCW_ERR_PARSE naming the JSON path, as NNCF's schema rejects them.
 */
#pragma once

#include <stdbool.h>

#include "compression/quantization/quant_config.h"
#include "compression/sparsity/schedulers.h"
#include "config/config.h"
#include "core/status.h"

enum nncw_sparsity_algo {
    NNCW_SPARSITY_MAGNITUDE,
    NNCW_SPARSITY_RB,
    NNCW_SPARSITY_CONST,
    NNCW_SPARSITY_ALGO_COUNT
};

/* how magnitude sparsity ranks weights: |w| / ||W||_2 of the layer, or |w| */
enum nncw_weight_importance {
    NNCW_IMPORTANCE_NORMED_ABS,
    NNCW_IMPORTANCE_ABS,
    NNCW_IMPORTANCE_COUNT
};

struct nncw_sparsity_config {
    enum nncw_sparsity_algo algo;
    char *source;                           /* config file name, for messages */
    char *path;                             /* "compression[i]" */
    struct nncw_sparsity_schedule schedule; /* sparsity_init is schedule.init */
    bool local; /* sparsity_level_setting_mode "local": one level per layer, no scheduler */
    enum nncw_weight_importance importance; /* magnitude: normed_abs */
    int num_bn_adaptation_samples;          /* magnitude: 2000 */
    float compression_lr_multiplier;        /* rb: 0 when not given */
    struct nncw_scope_list ignored, target;
};

/* "magnitude_sparsity", "rb_sparsity", "const_sparsity" */
const char *nncw_sparsity_algo_name(enum nncw_sparsity_algo a);
/* parses cfg->compression[index], which must be one of the three; NNCW_ERR_INVALID_ARG for a bad
 * index or another algorithm, NNCW_ERR_PARSE naming the JSON path, NNCW_ERR_NOMEM */
enum nncw_status nncw_sparsity_config_parse(const struct nncw_config *cfg, int index,
                                            struct nncw_sparsity_config **out);
/* NULL is a no-op */
void nncw_sparsity_config_free(struct nncw_sparsity_config *sc);
