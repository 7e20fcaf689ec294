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
    enum nncw_compression_stage (*stage)(const void *self);
    /* appends human-readable statistics (NUL-terminated text the caller frees) */
    enum nncw_status (*statistics)(const void *self, char **text);
    /* how the compressed graph is written to ONNX (quantizer op flavour) */
    void (*export_options)(const void *self, struct nncw_onnx_export_options *eo);
    /* NNCF's compression_rate: what the algorithm measures (sparsity: the model's sparsity
     * level) and what setting it does (sparsity: the level the masks aim at) */
    float (*compression_rate)(const void *self);
    enum nncw_status (*set_compression_rate)(void *self, float rate);
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
 * of the whole model); NNCW_ERR_NOT_FOUND when none has */
enum nncw_status nncw_compression_get_rate(const struct nncw_compression *c, float *rate);
/* sets it on that algorithm (sparsity: its level); the algorithm's error, or NNCW_ERR_NOT_FOUND */
enum nncw_status nncw_compression_set_rate(struct nncw_compression *c, float rate);

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
