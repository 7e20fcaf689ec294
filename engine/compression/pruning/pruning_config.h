/*
 * The "filter_pruning" entry of a config, typed and defaulted as NNCF 2.0 reads it (fact sheet
 * 1.4), and the controller state's JSON text (checkpoints).
 *
 *     struct nncw_pruning_config *pc;
 *     if (nncw_pruning_config_parse(cfg, 0, &pc) != NNCW_OK)   // cfg->compression[0]
 *         report(nncw_last_error());
 *         // "config 'p.json': compression[0].params.pruning_target: expected a number in
 *         //  [0, 0.999], got 1.5"
 *     pc->target;                                              // 0.5 unless the config says so
 *     nncw_pruning_config_free(pc);
 *
 * Keys: pruning_init, params {schedule, pruning_target, pruning_flops_target, num_init_steps,
 * pruning_steps, filter_importance, interlayer_ranking_type, all_weights, prune_first_conv,
 * prune_last_conv, prune_downsample_convs, prune_batch_norms, zero_grad, legr_params,
 * save_ranking_coeffs_path, load_ranking_coeffs_path}, initializer {batchnorm_adaptation
 * {num_bn_adaptation_samples}}, ignored_scopes, target_scopes (legr_params: generations,
 * train_steps, max_pruning, random_seed). Unknown keys, wrong types and values out of range are
 * NNCW_ERR_PARSE naming the JSON path.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "compression/quantization/quant_config.h"
#include "config/config.h"
#include "core/status.h"

enum nncw_pruning_schedule_type {
    NNCW_PRUNING_SCHEDULE_BASELINE,
    NNCW_PRUNING_SCHEDULE_EXPONENTIAL,
    NNCW_PRUNING_SCHEDULE_EXPONENTIAL_WITH_BIAS,
    NNCW_PRUNING_SCHEDULE_COUNT
};

enum nncw_filter_importance {
    NNCW_FILTER_IMPORTANCE_L2,
    NNCW_FILTER_IMPORTANCE_L1,
    NNCW_FILTER_IMPORTANCE_GEOMETRIC_MEDIAN,
    NNCW_FILTER_IMPORTANCE_COUNT
};

struct nncw_pruning_config {
    char *source; /* config file name, for messages */
    char *path;   /* "compression[i]" */
    enum nncw_pruning_schedule_type schedule;
    float init;         /* pruning_init */
    float target;       /* pruning_target (0.5), or the FLOPs target when flops is set */
    bool flops;         /* pruning_flops_target given: target is a FLOPs reduction */
    int num_init_steps; /* warm-up epochs without pruning */
    int pruning_steps;  /* epochs from init to target */
    enum nncw_filter_importance importance;
    bool learned_ranking; /* interlayer_ranking_type "learned_ranking" (LeGR) */
    bool all_weights, prune_first_conv, prune_last_conv, prune_downsample_convs;
    bool prune_batch_norms, zero_grad;
    int num_bn_adaptation_samples; /* 2000 */
    struct nncw_scope_list ignored, target_scopes;
    /* LeGR (interlayer_ranking_type "learned_ranking"): legr_params and the coefficient files */
    int legr_generations, legr_train_steps;    /* 400, 200 */
    float legr_max_pruning;                    /* 0.8, or the target when not given */
    uint64_t legr_seed;                        /* 42 */
    char *save_coeffs_path, *load_coeffs_path; /* NULL when not given */
};

const char *nncw_pruning_schedule_name(enum nncw_pruning_schedule_type t);
const char *nncw_filter_importance_name(enum nncw_filter_importance i);
/* parses cfg->compression[index], which must be "filter_pruning"; NNCW_ERR_INVALID_ARG for a bad
 * index or another algorithm, NNCW_ERR_PARSE naming the JSON path, NNCW_ERR_NOMEM */
enum nncw_status nncw_pruning_config_parse(const struct nncw_config *cfg, int index,
                                           struct nncw_pruning_config **out);
/* NULL is a no-op */
void nncw_pruning_config_free(struct nncw_pruning_config *pc);

/* LeGR's ranking coefficients as NNCF saves them: {"<layer>": [a, b], ...}; each of the n names
 * must be there (NNCW_ERR_PARSE naming the file and the missing layer or bad entry) */
enum nncw_status nncw_pruning_coeffs_parse(const char *json, const char *source, int n,
                                           const char *const *names, float *a, float *b);

/* the controller's state as checkpoints keep it */
struct nncw_pruning_state {
    int epoch;      /* the scheduler's current epoch (-1 before the first epoch_step) */
    float level;    /* the pruning level the masks were computed at */
    float target;   /* the scheduler's target (set_pruning_target changes it) */
    bool frozen;    /* masks no longer follow the scheduler */
    bool rate_set;  /* the level was set by hand (set_compression_rate): the scheduler stops */
    int n_excluded; /* groups excluded by hand */
    int excluded[256];
};

/* compact JSON text of st (the caller frees it); NULL when out of memory */
char *nncw_pruning_state_format(const struct nncw_pruning_state *st);
/* NNCW_ERR_PARSE naming the key for text that is not such a state */
enum nncw_status nncw_pruning_state_parse(const char *json, struct nncw_pruning_state *out);
