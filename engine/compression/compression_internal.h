/* Shared by the compression algorithms: their builders and the sample passes they run. */
#pragma once

#include "compression/compression.h"
#include "graph/exec.h"

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
