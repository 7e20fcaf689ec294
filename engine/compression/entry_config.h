/*
 * What every algorithm's config parser reads first from its entry of "compression" (the root
 * parser, engine/config, has already split the entry into scopes, settings and params): the
 * ignored and target scopes, copied and checked, and the settings and params objects as JSON
 * trees. Also the staged scheduler's params that quantization and binarization share.
 *
 *     struct nncw_entry_json j;
 *     NNCW_TRY(nncw_entry_config_read(&c, e, path, &q->ignored, &q->target, &j));
 *     s = parse_settings(&c, j.settings, q);          // then j.params at "<path>.params"
 *     nncw_entry_config_fini(&j);
 */
#pragma once

#include "compression/quantization/quantization_internal.h"
#include "config/config.h"

struct nncw_entry_json {
    struct cJSON *settings, *params; /* never NULL after a successful read ("{}" if absent) */
};

/* target may be NULL for an algorithm that takes no target scopes (then none may be given) */
enum nncw_status nncw_entry_config_read(const struct nncw_qcfg_ctx *c,
                                        const struct nncw_compression_config *e,
                                        const char *path, struct nncw_scope_list *ignored,
                                        struct nncw_scope_list *target,
                                        struct nncw_entry_json *out);
void nncw_entry_config_fini(struct nncw_entry_json *j);

/* an "initializer" object holding only batchnorm_adaptation {num_bn_adaptation_samples}, as
 * sparsity, filter pruning and binarization take it; *num_samples is kept when absent */
enum nncw_status nncw_bn_initializer_parse(const struct nncw_qcfg_ctx *c, const struct cJSON *obj,
                                           const char *path, int *num_samples);

/* the staged scheduler's "params" object into p (defaults already there). batch_multiplier
 * (gradient accumulation in NNCF's staged worker) must be 1: nncw steps the optimizer every
 * batch, and a setting that silently trains differently is worse than a clear error */
enum nncw_status nncw_staged_params_parse(const struct nncw_qcfg_ctx *c, const struct cJSON *obj,
                                          const char *path, struct nncw_staged_params *p);
