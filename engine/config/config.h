/*
 * NNCF-style configuration: a JSON file (or the same document built from a Lua table),
 * validated and parsed into typed, defaulted C structs. Nothing past this module sees JSON.
 *
 *     struct nncw_config *cfg;
 *     if (nncw_config_load("configs/quantization.json", &cfg) != NNCW_OK)
 *         report(nncw_last_error());   // "config 'quantization.json': optimizer.base_lr:
 *                                      //  expected a number, got string"
 *     for (int i = 0; i < cfg->n_compression; i++)
 *         use(cfg->compression[i].algorithm, cfg->compression[i].params_json);
 *     struct nncw_train_options o = nncw_train_defaults();
 *     nncw_config_apply_train(cfg, &o);                 // epochs, batch_size, seed, optimizer
 *     nncw_config_free(cfg);
 *
 * Root keys: input_info (an object or a list of them: sample_size, type, filler, keyword),
 * target_device, compression (an object or a list of {algorithm, params, ignored_scopes,
 * target_scopes, ...}), and the training keys NNCF's example configs carry: model,
 * pretrained, dataset, num_classes, batch_size, epochs, seed and optimizer {type, base_lr,
 * weight_decay, momentum, nesterov, schedule_type, steps, gamma, step_size, t_max,
 * warmup_epochs}. Keys NNCF's sample scripts read that nncw has no use for (workers,
 * multiprocessing_distributed, log_dir, print_freq, ...) are accepted and ignored.
 * Unknown keys are logged as warnings naming their JSON path and kept in cfg->warnings.
 * Wrong types and values fail with NNCW_ERR_PARSE naming the path ("compression[1].
 * ignored_scopes[0]"). Each compression entry's own keys (params, and algorithm settings such
 * as initializer or weights) are kept as compact JSON text for the algorithm's parser.
 *
 * Lua tables cannot tell an empty list from an empty object, so an empty array is accepted
 * wherever an object is expected.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "tensor/tensor.h"
#include "train/trainer.h"

#define NNCW_CONFIG_MAX_INPUTS 8
#define NNCW_CONFIG_MAX_STEPS 16

enum nncw_target_device {
    NNCW_DEVICE_ANY,
    NNCW_DEVICE_CPU,
    NNCW_DEVICE_GPU,
    NNCW_DEVICE_VPU,
    NNCW_DEVICE_CPU_SPR,
    NNCW_DEVICE_TRIAL,
    NNCW_DEVICE_COUNT
};

/* which optional keys were given (bits of nncw_config.has and nncw_optimizer_config.has) */
enum nncw_config_key {
    NNCW_CFG_MODEL = 1u << 0,
    NNCW_CFG_PRETRAINED = 1u << 1,
    NNCW_CFG_DATASET = 1u << 2,
    NNCW_CFG_NUM_CLASSES = 1u << 3,
    NNCW_CFG_BATCH_SIZE = 1u << 4,
    NNCW_CFG_EPOCHS = 1u << 5,
    NNCW_CFG_SEED = 1u << 6,
    NNCW_CFG_OPTIMIZER = 1u << 7,
    NNCW_CFG_TARGET_DEVICE = 1u << 8,
    NNCW_CFG_INPUT_INFO = 1u << 9,
    NNCW_CFG_ACCURACY_AWARE = 1u << 10, /* accuracy_aware_training (see nncw_aat_config) */
};

enum nncw_optimizer_key {
    NNCW_OPT_TYPE = 1u << 0,
    NNCW_OPT_BASE_LR = 1u << 1,
    NNCW_OPT_WEIGHT_DECAY = 1u << 2,
    NNCW_OPT_MOMENTUM = 1u << 3,
    NNCW_OPT_NESTEROV = 1u << 4,
    NNCW_OPT_SCHEDULE = 1u << 5,
    NNCW_OPT_STEPS = 1u << 6,
    NNCW_OPT_GAMMA = 1u << 7,
    NNCW_OPT_STEP_SIZE = 1u << 8,
    NNCW_OPT_T_MAX = 1u << 9,
    NNCW_OPT_WARMUP = 1u << 10,
};

struct nncw_input_info {
    int ndim;
    int64_t sample_size[NNCW_MAX_DIMS];
    enum nncw_dtype dtype; /* "float" (default) -> F32, "long" -> I64 */
    char filler[16];       /* "zeros", "ones" or "random" (default) */
    char *keyword;         /* NULL if absent */
};

struct nncw_compression_config {
    char *algorithm; /* one of NNCF's names: "quantization", "magnitude_sparsity", ... */
    char path[32];   /* the entry's JSON path for messages: "compression" or "compression[1]" */
    int n_ignored, n_target;
    char **ignored_scopes; /* exact scopes or "{re}..." patterns */
    char **target_scopes;
    char *params_json;   /* the "params" object as compact JSON, "{}" if absent */
    bool has_params;     /* "params" was given (NNCF: its presence switches staged schedulers on) */
    char *settings_json; /* the entry's other keys as one compact JSON object ("{}": none) */
};

struct nncw_optimizer_config {
    unsigned has; /* enum nncw_optimizer_key bits */
    enum nncw_optim_type type;
    float base_lr, weight_decay, momentum, gamma;
    bool nesterov;
    enum nncw_lr_schedule_type schedule;
    int n_steps;
    int steps[NNCW_CONFIG_MAX_STEPS]; /* multistep milestones (epochs) */
    int step_size, t_max, warmup_epochs;
};

/* accuracy_aware_training (NNCF 2.1+ root key {mode, params}); train/accuracy_aware.h runs it.
 * Exactly one of the two degradations is given; the other is NaN. */
enum nncw_aat_mode {
    NNCW_AAT_EARLY_EXIT,
    NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL,
    NNCW_AAT_MODE_COUNT
};

struct nncw_aat_config {
    enum nncw_aat_mode mode;
    float maximal_relative_accuracy_degradation; /* percent of the uncompressed metric */
    float maximal_absolute_accuracy_degradation; /* metric units */
    int maximal_total_epochs;                    /* 10000 */
    int initial_training_phase_epochs;           /* 5 (adaptive only) */
    int patience_epochs;                         /* 3 (adaptive only) */
    float initial_compression_rate_step;         /* 0.1 (adaptive only) */
    float compression_rate_step_reduction_factor; /* 0.5 (adaptive only) */
    float lr_reduction_factor;                   /* 0.5 (adaptive only) */
    float minimal_compression_rate_step;         /* 0.025 (adaptive only) */
};

struct nncw_config {
    char *source; /* the file name, or the name given to nncw_config_parse */
    unsigned has; /* enum nncw_config_key bits */
    int n_inputs;
    struct nncw_input_info inputs[NNCW_CONFIG_MAX_INPUTS];
    enum nncw_target_device target_device; /* ANY by default */
    int n_compression;
    struct nncw_compression_config *compression;
    char *model, *dataset; /* NULL if absent */
    bool pretrained;
    int num_classes, batch_size, epochs;
    uint64_t seed;
    struct nncw_optimizer_config optimizer;
    int n_warnings;
    char **warnings; /* "unknown key 'optimiser'" messages with their paths */
    struct nncw_aat_config accuracy_aware; /* when has & NNCW_CFG_ACCURACY_AWARE */
};

/* reads and parses a JSON file. NNCW_ERR_IO naming the path, NNCW_ERR_PARSE naming the line
 * and column of bad JSON or the key path of a bad value, NNCW_ERR_NOMEM */
enum nncw_status nncw_config_load(const char *path, struct nncw_config **out);
/* parses JSON text; source names it in messages (NULL: "<string>"); errors as load */
enum nncw_status nncw_config_parse(const char *json, const char *source, struct nncw_config **out);
/* NULL is a no-op */
void nncw_config_free(struct nncw_config *cfg);

/* copies the given training keys (epochs, batch_size, seed, optimizer) into o, leaving the
 * others as they are */
void nncw_config_apply_train(const struct nncw_config *cfg, struct nncw_train_options *o);
/* "ANY", "CPU", ... */
const char *nncw_target_device_name(enum nncw_target_device d);
/* interactive scope edits of compression[entry].ignored_scopes (adding one already there is a
 * no-op; removing one that is not there is NNCW_ERR_NOT_FOUND) */
enum nncw_status nncw_config_add_ignored_scope(struct nncw_config *cfg, int entry,
                                               const char *pattern);
enum nncw_status nncw_config_remove_ignored_scope(struct nncw_config *cfg, int entry,
                                                  const char *pattern);
/* NNCF's defaults of accuracy_aware_training's params for a mode (no degradation set: NaN) */
struct nncw_aat_config nncw_aat_config_defaults(enum nncw_aat_mode mode);
/* "early_exit", "adaptive_compression_level" */
const char *nncw_aat_mode_name(enum nncw_aat_mode mode);
/* NNCF's algorithm names, NULL-terminated */
const char *const *nncw_config_algorithm_names(void);
