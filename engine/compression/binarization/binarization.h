/*
 * The "binarization" algorithm (NNCF's, fact sheet 1.5 and 6): Conv weights binarized by XNOR
 * (sign x mean |w| per output filter) or DoReFa (sign x mean |w| of the tensor), and each
 * binarized Conv's input by activation binarization with a trainable scale and per-channel
 * threshold. A staged scheduler switches activations on at activations_quant_start_epoch and
 * weights at weights_quant_start_epoch; with "params" in the config it also drives the learning
 * rate and weight decay (staged_schedule.h).
 *
 *     struct nncw_binarization_config *bc;
 *     if (nncw_binarization_config_parse(cfg, 0, &bc) != NNCW_OK)   // cfg->compression[0]
 *         report(nncw_last_error());
 *         // "config 'b.json': compression[0].mode: expected one of "xnor", "dorefa", got ..."
 *     nncw_binarization_config_free(bc);
 *
 * Keys: mode ("xnor" default, "dorefa"), params {batch_multiplier (1 only),
 * activations_quant_start_epoch, weights_quant_start_epoch, lr_poly_drop_start_epoch,
 * lr_poly_drop_duration_epochs, disable_wd_start_epoch, base_lr, base_wd}, initializer
 * {batchnorm_adaptation {num_bn_adaptation_samples}}, compression_lr_multiplier,
 * ignored_scopes, target_scopes. Unknown keys, wrong types and values out of range are
 * NNCW_ERR_PARSE naming the JSON path.
 */
#pragma once

#include <stdbool.h>

#include "compression/quantization/quant_config.h"
#include "config/config.h"
#include "core/status.h"

enum nncw_binarization_mode {
    NNCW_BINARIZATION_XNOR,
    NNCW_BINARIZATION_DOREFA,
    NNCW_BINARIZATION_MODE_COUNT
};

struct nncw_binarization_config {
    char *source; /* config file name, for messages */
    char *path;   /* "compression" or "compression[i]" */
    enum nncw_binarization_mode mode;
    bool has_params;                  /* "params" given: LR / weight-decay override on */
    struct nncw_staged_params params; /* quantization's defaults: start epochs 1, 1 */
    int num_bn_adaptation_samples;    /* 2000 */
    float compression_lr_multiplier;  /* 0: not given */
    struct nncw_scope_list ignored, target;
};

/* "xnor", "dorefa" */
const char *nncw_binarization_mode_name(enum nncw_binarization_mode m);
/* parses cfg->compression[index] ("binarization"); NNCW_ERR_INVALID_ARG for a bad index or
 * another algorithm, NNCW_ERR_PARSE naming the JSON path, NNCW_ERR_NOMEM */
enum nncw_status nncw_binarization_config_parse(const struct nncw_config *cfg, int index,
                                                struct nncw_binarization_config **out);
/* NULL is a no-op */
void nncw_binarization_config_free(struct nncw_binarization_config *bc);
