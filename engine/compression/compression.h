/*
 * Compression as NNCF structures it: each entry of a config's "compression" list is an
 * algorithm whose builder transforms the graph in place (inserts quantizers, masks, ...) and
 * whose controller the training loop drives (scheduler epoch_step/step, loss, statistics,
 * compression stage). Several algorithms combine into one composite controller.
 *
 *     struct nncw_compression *c;
 *     struct nncw_compression_init init = {.data = train_set, .batch_size = 64, .seed = 1};
 *     if (nncw_compression_create(g, cfg, &init, &c) != NNCW_OK)   // build + initialise
 *         report(nncw_last_error());
 *     struct nncw_train_hooks h = nncw_compression_train_hooks(c);
 *     nncw_trainer_set_hooks(trainer, &h);                          // QAT, sparsity training...
 *     char *text;
 *     nncw_compression_statistics(c, &text);                       // NNCF-style tables
 *     nncw_compression_free(c);                                     // the graph keeps its ops
 *
 * Building runs the algorithms' initialisers on init->data (quantizer range initialisation,
 * then batch-norm adaptation, as NNCF's initializer sections ask); with no data the graph is
 * only transformed (a placement-only run) and parameters keep their defaults.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "compression/precision/hutchinson.h"
#include "config/config.h"
#include "core/status.h"
#include "data/data.h"
#include "graph/graph.h"
#include "onnx/onnx.h"
#include "train/trainer.h"

enum nncw_compression_stage {
    NNCW_STAGE_UNCOMPRESSED,
    NNCW_STAGE_PARTIALLY_COMPRESSED,
    NNCW_STAGE_FULLY_COMPRESSED,
};

struct nncw_compression_init {
    const struct nncw_dataset *data; /* initialisation samples; NULL: no initialisation */
    int batch_size;                  /* of the initialisation passes (0: 64) */
    uint64_t seed;                   /* which samples, in which order */
    const char *hw_config_dir;       /* NULL: the built-in hardware configs */
    /* mixed precision: HAWQ reports each Hutchinson iteration here and stops (the build then
     * fails with NNCW_ERR_CANCELLED) when it returns false; NULL: no reports */
    nncw_precision_progress_fn precision_progress;
    void *precision_user;
};

/* What every algorithm's controller implements (members other than name and free may be
 * NULL). self is the algorithm's own state. */
struct nncw_compression_algo {
    const char *name; /* NNCF's algorithm name */
    void *self;
    enum nncw_status (*epoch_step)(void *self, int epoch);
    enum nncw_status (*step)(void *self, int64_t global_step);
    enum nncw_status (*loss)(void *self, float *loss);
    /* after the training forward, before backward: a loss on the model's output (knowledge
     * distillation) that adds its gradient into dlogits; input is the batch the model saw */
    enum nncw_status (*output_loss)(void *self, const struct nncw_tensor *input,
                                    const struct nncw_tensor *logits, struct nncw_tensor *dlogits,
                                    float *loss);
    float (*lr_scale)(void *self, int value_id); /* 1 for parameters it does not own */
    /* before each optimizer step (epoch fractional): replaces the run's learning rate and
     * weight decay (staged scheduler) */
    enum nncw_status (*lr_wd_override)(void *self, double epoch, float *lr, float *weight_decay);
    enum nncw_compression_stage (*stage)(const void *self);
    /* appends human-readable statistics (NUL-terminated text the caller frees) */
    enum nncw_status (*statistics)(const void *self, char **text);
    /* how the compressed graph is written to ONNX (quantizer op flavour) */
    void (*export_options)(const void *self, struct nncw_onnx_export_options *eo);
    /* NNCF's compression_rate: what the algorithm measures (sparsity: the model's sparsity
     * level) and what setting it does (sparsity: the level the masks aim at) */
    float (*compression_rate)(const void *self);
    enum nncw_status (*set_compression_rate)(void *self, float rate);
    /* the controller's state (scheduler position, current level, frozen flags, ...) as
     * compact JSON text the caller frees, and restored from such text (checkpoints, resume).
     * The builder's state is not here: the config rebuilds the same graph, and quantizer
     * ranges and masks are graph parameters and buffers that checkpoints already carry.
     * set_state fails with NNCW_ERR_PARSE naming the key for text it cannot use. */
    enum nncw_status (*get_state)(const void *self, char **json);
    enum nncw_status (*set_state)(void *self, const char *json);
    void (*free)(void *self);
};

struct nncw_compression;

/* builds every algorithm of cfg->compression on g, in order, then initialises them. g, cfg and
 * init->data are borrowed for the compression's lifetime (scope edits change cfg).
 * NNCW_ERR_PARSE naming the JSON path of a bad setting, NNCW_ERR_UNSUPPORTED for an algorithm
 * nncw does not implement yet; g is unchanged if building fails (but for out of memory) */
enum nncw_status nncw_compression_create(struct nncw_graph *g, struct nncw_config *cfg,
                                         const struct nncw_compression_init *init,
                                         struct nncw_compression **out);
void nncw_compression_free(struct nncw_compression *c);

int nncw_compression_count_algos(const struct nncw_compression *c);
const struct nncw_compression_algo *nncw_compression_get_algo(const struct nncw_compression *c,
                                                              int i);
/* the first algorithm with that NNCF name, or NULL */
const struct nncw_compression_algo *
nncw_compression_find_algo(const struct nncw_compression *c, const char *name);

/* the composite scheduler and loss, as the training loop's hooks */
struct nncw_train_hooks nncw_compression_train_hooks(struct nncw_compression *c);
enum nncw_status nncw_compression_epoch_step(struct nncw_compression *c, int epoch);
enum nncw_status nncw_compression_step(struct nncw_compression *c, int64_t global_step);
/* the least compressed of the algorithms' stages */
enum nncw_compression_stage nncw_compression_get_stage(const struct nncw_compression *c);
const char *nncw_compression_stage_name(enum nncw_compression_stage s);
/* sets what the algorithms ask of ONNX export (e.g. QuantizeLinear/DequantizeLinear) */
void nncw_compression_export_options(const struct nncw_compression *c,
                                     struct nncw_onnx_export_options *eo);
/* every algorithm's statistics, one block each */
enum nncw_status nncw_compression_statistics(const struct nncw_compression *c, char **text);
/* NNCF's compression_rate of the first algorithm that has one (sparsity: the measured sparsity
 * of the whole model; filter pruning: the level, or the measured FLOPs reduction with a FLOPs
 * target); NNCW_ERR_NOT_FOUND when none has */
enum nncw_status nncw_compression_get_rate(const struct nncw_compression *c, float *rate);
/* sets it on that algorithm (sparsity: its level); the algorithm's error, or NNCW_ERR_NOT_FOUND */
enum nncw_status nncw_compression_set_rate(struct nncw_compression *c, float rate);

/* ---- NNCF's scheduler API and the compression state (checkpoints, resumed runs) ---- */
/* NNCF's disable_scheduler: from now on epoch_step and step only record the position and the
 * algorithms keep their level (the accuracy-aware loop sets rates itself) */
void nncw_compression_disable_scheduler(struct nncw_compression *c);
bool nncw_compression_is_scheduler_disabled(const struct nncw_compression *c);
/* the last epoch and step the scheduler was given (-1 before the first, as NNCF's) */
void nncw_compression_get_scheduler_position(const struct nncw_compression *c, int *epoch,
                                             int64_t *step);
/* the float model the compression started from (the distillation teacher, rebuilds) */
const struct nncw_graph *nncw_compression_get_original(const struct nncw_compression *c);
/* everything a checkpoint needs beyond parameters, as compact JSON the caller frees: the
 * scheduler position, the interactive edits (quantizer changes, ignored-scope edits) and each
 * algorithm's get_state under its name:
 *   {"format":1,"current_epoch":E,"current_step":S,"scheduler_disabled":false,"stage":"...",
 *    "quantizer_edits":[...],"scope_edits":[...],"algorithms":[{"name":..,"state":{..}},..]} */
enum nncw_status nncw_compression_get_state(const struct nncw_compression *c, char **json);
/* restores such a state into a compression built from the same config: replays the edits if
 * c has none yet (rebuilding the graph from the float model, so parameters must be loaded
 * afterwards), then each algorithm's state. NNCW_ERR_PARSE naming the key of bad text,
 * NNCW_ERR_INVALID_ARG when the algorithms or the edits do not match */
enum nncw_status nncw_compression_set_state(struct nncw_compression *c, const char *json);

/* ---- sparsity (magnitude_sparsity, rb_sparsity, const_sparsity) ---- */
/* the level the sparsity algorithm aims at now (its scheduler's or the one set last; const: the
 * measured level); NNCW_ERR_NOT_FOUND when c has none */
enum nncw_status nncw_compression_get_sparsity_level(const struct nncw_compression *c,
                                                     float *level);
/* sets it (0 <= level < 1): magnitude recomputes its masks, RB retargets its loss.
 * NNCW_ERR_INVALID_ARG for a level out of range, frozen masks or const sparsity */
enum nncw_status nncw_compression_set_sparsity_level(struct nncw_compression *c, float level);

/* ---- quantizers ---- */
struct nncw_quantizer_info {
    const char *id;     /* NNCF's quantizer id, also the quantize node's name */
    int node;           /* the quantize node */
    bool is_weight, asymmetric, is_signed, per_channel, half_range, enabled;
    int bits;
    int unified_group;  /* -1: none */
    int64_t channels;   /* parameter elements (1 per-tensor) */
    float low, high;    /* the range in use (per-channel: the lowest low, the highest high) */
    int n_alternatives; /* other configurations the hardware config allows here */
};

int nncw_compression_count_quantizers(const struct nncw_compression *c);
enum nncw_status nncw_compression_get_quantizer(const struct nncw_compression *c, int i,
                                                struct nncw_quantizer_info *out);

/* ---- interactive edits (workbench, REPL) ----
 * Each rebuilds the compressed graph from the float model the compression started from, with
 * the config and data it was created with plus every edit so far, and initialises it again:
 * parameters trained since are not kept. A rejected edit leaves everything as it was. */
struct nncw_quantizer_change {
    int bits;        /* 0: keep */
    int mode;        /* enum nncw_qmode, -1: keep */
    int per_channel; /* 0 or 1, -1: keep */
};
/* the quantizers whose id matches pattern (exact or "{re}..."); NNCW_ERR_NOT_FOUND when none
 * does, NNCW_ERR_INVALID_ARG naming a quantizer whose hardware config does not allow the change
 * (with the configurations it allows) */
enum nncw_status nncw_compression_set_quantizers(struct nncw_compression *c, const char *pattern,
                                                 const struct nncw_quantizer_change *ch);
/* adds (ignore) or removes a pattern of compression[entry].ignored_scopes */
enum nncw_status nncw_compression_ignore_scope(struct nncw_compression *c, int entry,
                                               const char *pattern, bool ignore);

/* Batch-norm adaptation (NNCF's common initialisation step): forward passes over samples of
 * data with batch norms using batch statistics (dropout off), so the running statistics match
 * the compressed network. The running mean and variance become the cumulative average over
 * the ceil(samples / batch_size) batches, independent of each node's momentum. */
enum nncw_status nncw_batchnorm_adapt(struct nncw_graph *g, const struct nncw_dataset *data,
                                      int64_t samples, int batch_size, uint64_t seed);

/* ---- mixed precision (initializer.precision: manual, HAWQ) ----
 * HAWQ measures per-layer Hessian traces once; what it solved (the metric-vs-ratio curve of
 * every candidate bit configuration and the chosen point) stays readable, and picking another
 * point or pinning a layer's bits re-solves from the stored traces and rebuilds the quantized
 * graph (as nncw_compression_set_quantizers does). */
struct nncw_hawq_layer {
    const char *id;    /* the weight quantizer's id */
    double trace;      /* average Hessian trace per parameter */
    int64_t numel;     /* weight elements */
    int bits;          /* in the chosen point */
    int pinned_bits;   /* 0: free */
};
struct nncw_hawq_point {
    double ratio;      /* bit-FLOPs compression ratio against INT8 */
    double metric;     /* sum over layers of trace x ||Q(W) - W||^2 */
    bool meets_ratio;  /* ratio >= the requested compression_ratio */
};
/* what HAWQ solved: layer and curve-point counts, the chosen point, the Hutchinson iterations
 * run. NNCW_ERR_NOT_FOUND when c has no HAWQ result (not HAWQ, or no data to measure on) */
enum nncw_status nncw_compression_hawq_summary(const struct nncw_compression *c, int *n_layers,
                                               int *n_points, int *chosen, int *iterations);
/* layer i in setup order; NNCW_ERR_INVALID_ARG out of range */
enum nncw_status nncw_compression_hawq_get_layer(const struct nncw_compression *c, int i,
                                                 struct nncw_hawq_layer *out);
/* curve point k; bits (NULL or n_layers entries) receives its weight bit widths */
enum nncw_status nncw_compression_hawq_get_point(const struct nncw_compression *c, int k,
                                                 struct nncw_hawq_point *out, int *bits);
/* the requested compression ratio and the candidate bit widths (ascending, at most 8, into
 * bits) of the last solve; returns how many bit widths, -1 (with the error set) without a
 * HAWQ result */
int nncw_compression_hawq_candidates(const struct nncw_compression *c, double *target_ratio,
                                     int *bits);
/* applies curve point k (-1: back to the best meeting the ratio) and rebuilds */
enum nncw_status nncw_compression_hawq_choose(struct nncw_compression *c, int k);
/* pins the weight quantizer id to bits (0 frees it), re-solves and rebuilds; a pin the curve
 * cannot meet is refused (NNCW_ERR_INVALID_ARG / NNCW_ERR_PARSE) and nothing changes */
enum nncw_status nncw_compression_hawq_pin(struct nncw_compression *c, const char *id, int bits);
/* measures the traces again (the config's num_data_points, iter_number, tolerance) on data
 * (NULL: the data c was created with), reporting each Hutchinson iteration to progress (NULL:
 * none; returning false stops with NNCW_ERR_CANCELLED), then re-solves keeping the pins and
 * rebuilds. NNCW_ERR_NOT_FOUND when the config's initializer.precision is not hawq,
 * NNCW_ERR_INVALID_ARG without data; on failure the previous traces and model stay */
enum nncw_status nncw_compression_hawq_run(struct nncw_compression *c,
                                           const struct nncw_dataset *data,
                                           nncw_precision_progress_fn progress, void *user);
/* writes the traces as JSON, for initializer.precision.traces_per_layer_path; NNCW_ERR_IO */
enum nncw_status nncw_compression_hawq_save_traces(const struct nncw_compression *c,
                                                   const char *path);
/* the bit-FLOPs compression ratio of the quantizers as they are now (INT8 = 1) */
enum nncw_status nncw_compression_bitops_ratio(const struct nncw_compression *c, double *ratio);

/* ---- filter pruning ----
 * Groups of filters pruned with one shared mask (convs joined by residual adds, depthwise
 * convs with their producer); ids are stable for the compression's life (0 .. count-1). */
struct nncw_pruning_group_info {
    int id;
    int n_members;
    const int *members; /* conv node indices (borrowed, valid until c changes) */
    int64_t filters;    /* output channels of each member */
    int64_t kept;       /* filters the current mask keeps */
    bool excluded;      /* excluded by hand: never pruned */
    float importance_min, importance_mean, importance_max; /* the criterion over the filters */
};

struct nncw_pruning_cost {
    int64_t flops_full, flops_pruned;   /* convs and Gemms, 2 per multiply-add, batch 1 */
    int64_t params_full, params_pruned; /* their weights and biases */
    float level, target;                /* the pruning level now, and the scheduler's target */
};

/* 0 when c has no filter_pruning */
int nncw_compression_count_pruning_groups(const struct nncw_compression *c);
/* NNCW_ERR_NOT_FOUND without filter_pruning, NNCW_ERR_INVALID_ARG for a bad index */
enum nncw_status nncw_compression_get_pruning_group(const struct nncw_compression *c, int i,
                                                    struct nncw_pruning_group_info *out);
/* the scope of member m of group i (borrowed), NULL for bad indices */
const char *nncw_compression_get_pruning_group_member(const struct nncw_compression *c, int i,
                                                      int m);
/* excludes a group from pruning (its mask becomes all ones) or includes it again; the masks
 * are recomputed at the current level */
enum nncw_status nncw_compression_exclude_pruning_group(struct nncw_compression *c, int i,
                                                        bool exclude);
/* the scheduler's target level (pruning_target, or the FLOPs target); the level of the current
 * epoch follows at once. NNCW_ERR_INVALID_ARG outside [0, 0.999] */
enum nncw_status nncw_compression_set_pruning_target(struct nncw_compression *c, float target);
/* FLOPs and parameters of the model now and as if the masked filters were removed */
enum nncw_status nncw_compression_get_pruning_cost(const struct nncw_compression *c,
                                                   struct nncw_pruning_cost *out);
/* a new graph with the masked filters removed (conv outputs, batch norms, the next convs' input
 * channels, Gemm columns after Flatten) and the mask ops dropped; its outputs equal the masked
 * model's. *table (may be NULL) receives a per-layer text table the caller frees.
 * NNCW_ERR_NOT_FOUND without filter_pruning, NNCW_ERR_UNSUPPORTED for what cannot be shrunk */
enum nncw_status nncw_compression_prune_graph(const struct nncw_compression *c,
                                              struct nncw_graph **out, char **table);

/* LeGR (NNCF's learned_ranking): an evolutionary search of per-group affine ranking
 * coefficients (see docs/pruning.md). The model's weights are restored afterwards; the best
 * coefficients are kept (also when stopped) and rank the filters globally from then on. */
struct nncw_legr_options {
    const struct nncw_dataset *train, *val; /* training steps; the reward: -validation loss */
    int generations;                        /* 400 */
    int train_steps;                        /* per candidate, 200 */
    int batch_size;                         /* 64 */
    float max_pruning;                      /* the FLOPs reduction every candidate is pruned to */
    uint64_t seed;                          /* 42 */
    /* after each generation: return false to stop (NNCW_ERR_CANCELLED); may be NULL */
    bool (*progress)(void *user, int generation, int generations, double reward, double best);
    void *user;
};
struct nncw_legr_options nncw_legr_defaults(void);
/* NNCW_ERR_INVALID_ARG for missing data or bad options, NNCW_ERR_CANCELLED when stopped */
enum nncw_status nncw_compression_legr_search(struct nncw_compression *c,
                                              const struct nncw_legr_options *o);
/* group i's coefficients (1, 0 until learned or loaded) */
enum nncw_status nncw_compression_get_ranking_coeffs(const struct nncw_compression *c, int i,
                                                     float *a, float *b);
/* as NNCF's save_ranking_coeffs_path/load_ranking_coeffs_path: {"<first conv>": [a, b], ...};
 * NNCW_ERR_IO, NNCW_ERR_PARSE naming the file and the layer */
enum nncw_status nncw_compression_save_ranking_coeffs(const struct nncw_compression *c,
                                                      const char *path);
enum nncw_status nncw_compression_load_ranking_coeffs(struct nncw_compression *c,
                                                      const char *path);
