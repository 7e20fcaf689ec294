/* Shared by the compression algorithms: their builders and the sample passes they run. */
#pragma once

#include "compression/compression.h"
#include "graph/exec.h"

struct nncw_hawq_state;
struct nncw_quantizer_setup;

/* interactive quantizer edits, applied in order after the setup is built */
struct nncw_quantizer_edit {
    char *pattern;
    struct nncw_quantizer_change change;
};

struct nncw_compression_edits {
    int n;
    const struct nncw_quantizer_edit *quantizers;
    /* the float model before any algorithm changed it (knowledge distillation's teacher) */
    const struct nncw_graph *original;
    /* mixed precision: HAWQ's measured traces, pins and picked point, kept across rebuilds */
    struct nncw_hawq_state *hawq;
};

/* An algorithm's builder: reads cfg->compression[entry], transforms g and fills *out (name,
 * self and the callbacks). It asks for batch-norm adaptation afterwards by setting
 * *bn_samples (NNCF's initializer.batchnorm_adaptation.num_bn_adaptation_samples). */
typedef enum nncw_status (*nncw_compression_build_fn)(struct nncw_graph *g,
                                                      const struct nncw_config *cfg, int entry,
                                                      const struct nncw_compression_init *init,
                                                      const struct nncw_compression_edits *edits,
                                                      struct nncw_compression_algo *out,
                                                      int64_t *bn_samples);

enum nncw_status nncw_quantization_build(struct nncw_graph *g, const struct nncw_config *cfg,
                                         int entry, const struct nncw_compression_init *init,
                                         const struct nncw_compression_edits *edits,
                                         struct nncw_compression_algo *out, int64_t *bn_samples);
/* sparsity (compression/sparsity) and knowledge distillation (compression/distillation) */
enum nncw_status nncw_magnitude_sparsity_build(struct nncw_graph *g, const struct nncw_config *cfg,
                                               int entry, const struct nncw_compression_init *init,
                                               const struct nncw_compression_edits *edits,
                                               struct nncw_compression_algo *out,
                                               int64_t *bn_samples);
enum nncw_status nncw_rb_sparsity_build(struct nncw_graph *g, const struct nncw_config *cfg,
                                        int entry, const struct nncw_compression_init *init,
                                        const struct nncw_compression_edits *edits,
                                        struct nncw_compression_algo *out, int64_t *bn_samples);
enum nncw_status nncw_const_sparsity_build(struct nncw_graph *g, const struct nncw_config *cfg,
                                           int entry, const struct nncw_compression_init *init,
                                           const struct nncw_compression_edits *edits,
                                           struct nncw_compression_algo *out, int64_t *bn_samples);
enum nncw_status nncw_knowledge_distillation_build(struct nncw_graph *g,
                                                   const struct nncw_config *cfg, int entry,
                                                   const struct nncw_compression_init *init,
                                                   const struct nncw_compression_edits *edits,
                                                   struct nncw_compression_algo *out,
                                                   int64_t *bn_samples);
/* filter pruning (compression/pruning) */
enum nncw_status nncw_filter_pruning_build(struct nncw_graph *g, const struct nncw_config *cfg,
                                           int entry, const struct nncw_compression_init *init,
                                           const struct nncw_compression_edits *edits,
                                           struct nncw_compression_algo *out,
                                           int64_t *bn_samples);
/* binarization (compression/binarization) */
enum nncw_status nncw_binarization_build(struct nncw_graph *g, const struct nncw_config *cfg,
                                         int entry, const struct nncw_compression_init *init,
                                         const struct nncw_compression_edits *edits,
                                         struct nncw_compression_algo *out, int64_t *bn_samples);
/* the quantization controller's quantizers (self of its algo) */
int nncw_quantization_count(const void *self);
enum nncw_status nncw_quantization_info(const void *self, int i, struct nncw_quantizer_info *out);

/* Called before each batch of a sample pass (k counts from 0). */
typedef enum nncw_status (*nncw_batch_fn)(void *user, struct nncw_exec *ex, int64_t k);

/* Forward passes of g over ceil(samples / batch_size) full batches of data drawn in a seeded
 * shuffled order, with exec options opt (batch set here); before() runs before each batch's
 * forward and the observer after every node. No gradients. */
enum nncw_status nncw_forward_samples(struct nncw_graph *g, const struct nncw_dataset *data,
                                      int64_t samples, int batch_size, uint64_t seed,
                                      const struct nncw_exec_options *opt, nncw_batch_fn before,
                                      nncw_exec_observer_fn observer, void *user);

/* ---- mixed precision (compression/precision) ---- */
/* the HAWQ state the compression keeps for its rebuilds (never NULL after create) */
struct nncw_hawq_state *nncw_compression_get_hawq_state(const struct nncw_compression *c);
/* rebuilds with the current config, edits and HAWQ state; on failure the model is as before */
enum nncw_status nncw_compression_rebuild(struct nncw_compression *c);
/* rebuilds as above, with data (NULL: the compression's own) and a progress report for the
 * Hutchinson iterations of a HAWQ that must measure (nncw_compression_hawq_run) */
enum nncw_status nncw_compression_rebuild_measuring(struct nncw_compression *c,
                                                    const struct nncw_dataset *data,
                                                    nncw_precision_progress_fn progress,
                                                    void *user);
/* the config the compression was created with */
const struct nncw_config *nncw_compression_get_config(const struct nncw_compression *c);
/* the model being compressed */
const struct nncw_graph *nncw_compression_get_graph(const struct nncw_compression *c);
/* the quantization controller's setup and graph (self of its algo) */
const struct nncw_quantizer_setup *nncw_quantization_get_setup(const void *self);
