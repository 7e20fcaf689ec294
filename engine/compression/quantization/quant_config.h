/*
 * The "quantization" entry of an NNCF config's compression section, typed and defaulted.
 *
 *     struct nncw_config *cfg;                              // nncw_config_load(...)
 *     struct nncw_quant_config *q;
 *     if (nncw_quant_config_parse(cfg, 0, &q) != NNCW_OK)   // cfg->compression[0]
 *         report(nncw_last_error());
 *         // "config 'q.json': compression[0].activations.bits: expected an integer, got "8""
 *     q->quantize_inputs;                                   // true unless the config says so
 *     nncw_quant_config_free(q);
 *
 * Keys (NNCF 2.0, plus preset and overflow_fix of later versions): initializer {range (an
 * object or a per-layer list), batchnorm_adaptation, precision}, weights and activations
 * {mode, bits, signed, per_channel, logarithm_scale, ignored_scopes, target_scopes;
 * activations also unified_scale_ops}, quantize_inputs, quantize_outputs, scope_overrides
 * {weights, activations: {scope: {mode, bits, signed, per_channel, logarithm_scale,
 * initializer {range}}}}, export_to_onnx_standard_ops, disable_saturation_fix, overflow_fix,
 * params (the staged scheduler), preset, compression_lr_multiplier, and the entry's
 * ignored_scopes / target_scopes. As in NNCF's schema, an unknown key is an error; so are wrong
 * types, values out of range and combinations no quantizer can have. Every message names the
 * JSON path. Whether a scope matches anything is checked against a graph by the quantizer
 * setup, and bits/modes against a device by nncw_quant_config_check_hw.
 */
#pragma once

#include <stdbool.h>

#include "compression/quantization/hw_config.h"
#include "compression/quantization/qconfig.h"
#include "compression/quantization/range_init.h"
#include "config/config.h"
#include "core/status.h"

/* scope patterns and the JSON path of the list they came from */
struct nncw_scope_list {
    int n;
    char **patterns; /* exact node names or "{re}<regex>" */
    char *path;      /* e.g. "compression[0].weights.ignored_scopes" */
    bool single;     /* given as one string rather than a list: path names the pattern */
};

enum nncw_quantizer_group {
    NNCW_QGROUP_BOTH, /* no target_quantizer_group given */
    NNCW_QGROUP_WEIGHTS,
    NNCW_QGROUP_ACTIVATIONS,
    NNCW_QGROUP_COUNT
};

/* one initializer.range entry (or a scope override's) */
struct nncw_range_init_config {
    char *path;                     /* JSON path of the entry */
    int num_init_samples;           /* 256 */
    enum nncw_range_init type; /* mean_min_max */
    float min_percentile;           /* params.min_percentile, 0.1 */
    float max_percentile;           /* params.max_percentile, 99.9 */
    enum nncw_quantizer_group group;
    struct nncw_scope_list target, ignored; /* per-layer entries only */
};

/* constraints on quantizer configurations: a "weights"/"activations" section or a
 * scope_overrides entry; only the fields flagged in has are constrained */
enum nncw_qconstraint_key {
    NNCW_QC_BITS = 1u << 0,
    NNCW_QC_MODE = 1u << 1,
    NNCW_QC_SIGNED = 1u << 2,
    NNCW_QC_PER_CHANNEL = 1u << 3,
    NNCW_QC_LOG_SCALE = 1u << 4,
};

struct nncw_qconstraints {
    unsigned has; /* enum nncw_qconstraint_key bits */
    int bits;
    enum nncw_qmode mode;
    bool is_signed, per_channel, logarithm_scale;
    char *path; /* JSON path of the object, e.g. "compression[0].activations" */
};

struct nncw_qgroup_config {
    struct nncw_qconstraints c;
    struct nncw_scope_list ignored, target;
};

struct nncw_scope_override {
    char *scope; /* the pattern (the override's key) */
    struct nncw_qconstraints c;
    int range_init; /* index into init.ranges of its initializer.range, -1 if none */
};

enum nncw_precision_type {
    NNCW_PRECISION_MANUAL,
    NNCW_PRECISION_HAWQ,
    NNCW_PRECISION_AUTOQ,
    NNCW_PRECISION_TYPE_COUNT
};

struct nncw_bitwidth_scope {
    int bits;
    char *id; /* a quantizer id: "<node>|WEIGHT", "<node>|OUTPUT", "<node>|INPUT<port>" */
};

/* initializer.precision (kept for mixed-precision initialisation) */
struct nncw_precision_init {
    enum nncw_precision_type type;
    int n_bits;
    int bits[8];             /* candidate bit widths, [2, 4, 8] */
    int num_data_points;     /* HAWQ 100 */
    int iter_number;         /* HAWQ 200, AutoQ 0 (episodes) */
    float tolerance;         /* HAWQ 1e-4 */
    float compression_ratio; /* HAWQ 1.5, AutoQ 0.15 */
    float eval_subset_ratio; /* AutoQ 1.0 */
    int warmup_iter_number;  /* AutoQ 10 */
    int n_bitwidth_per_scope;
    struct nncw_bitwidth_scope *bitwidth_per_scope; /* manual */
    char *traces_per_layer_path;                    /* NULL if absent */
    bool dump_init_precision_data;
    bool strict_assignment; /* bitwidth_assignment_mode "strict" (default "liberal") */
};

struct nncw_quant_initializer {
    bool range_per_layer; /* initializer.range was a list */
    int n_range_entries;  /* initializer.range entries: ranges[0 .. n_range_entries) */
    int n_ranges;         /* then one per scope override with its own range */
    struct nncw_range_init_config *ranges;
    bool has_bn_adaptation;
    int num_bn_adaptation_samples; /* 2000 */
    bool has_precision;
    struct nncw_precision_init precision;
};

/* params: the staged scheduler (switched on by a non-empty params object) */
struct nncw_staged_params {
    int batch_multiplier;              /* 1 */
    int activations_quant_start_epoch; /* 1 */
    int weights_quant_start_epoch;     /* 1 */
    int lr_poly_drop_start_epoch;      /* -1: none */
    int lr_poly_drop_duration_epochs;  /* 30 */
    int disable_wd_start_epoch;        /* -1: none */
    float base_lr, base_wd;            /* 1e-3, 1e-5 */
};

enum nncw_overflow_fix {
    NNCW_OVERFLOW_FIX_ENABLE, /* default (CPU/ANY only): 8-bit weights train on 7 bits */
    NNCW_OVERFLOW_FIX_FIRST_LAYER_ONLY,
    NNCW_OVERFLOW_FIX_DISABLE,
    NNCW_OVERFLOW_FIX_COUNT
};

enum nncw_quant_preset {
    NNCW_PRESET_NONE, /* not given: modes come from the hardware config's order */
    NNCW_PRESET_PERFORMANCE,
    NNCW_PRESET_MIXED,
    NNCW_PRESET_COUNT
};

struct nncw_quant_config {
    char *source; /* config file name, for messages */
    char *path;   /* "compression[i]" */
    enum nncw_target_device device;
    struct nncw_scope_list ignored, target; /* the entry's own, for weights and activations */
    struct nncw_qgroup_config weights, activations;
    int n_unified;
    struct nncw_scope_list *unified_scale_ops; /* activations.unified_scale_ops */
    int n_overrides[2];                        /* [0] weights, [1] activations */
    struct nncw_scope_override *overrides[2];
    struct nncw_quant_initializer init;
    bool quantize_inputs, quantize_outputs, export_to_onnx_standard_ops;
    enum nncw_overflow_fix overflow_fix; /* disable_saturation_fix: true means DISABLE */
    enum nncw_quant_preset preset;
    float compression_lr_multiplier; /* 0: not given */
    bool staged;
    struct nncw_staged_params params;
};

/* ---- lifecycle ---- */
/* parses cfg->compression[index] (algorithm "quantization"); NNCW_ERR_INVALID_ARG for a bad
 * index or another algorithm, NNCW_ERR_PARSE naming the JSON path, NNCW_ERR_NOMEM */
enum nncw_status nncw_quant_config_parse(const struct nncw_config *cfg, int index,
                                         struct nncw_quant_config **out);
/* NNCF's defaults for a device (an entry {"algorithm": "quantization"}) */
enum nncw_status nncw_quant_config_new_default(enum nncw_target_device device,
                                               struct nncw_quant_config **out);
/* NULL is a no-op */
void nncw_quant_config_free(struct nncw_quant_config *q);

/* ---- checks ---- */
/* checks the weights/activations constraints and scope overrides against a hardware config
 * (NULL: TRIAL, always fine): each must allow at least one configuration the device lists for
 * some op. NNCW_ERR_PARSE naming the JSON path of the key that rules everything out. */
enum nncw_status nncw_quant_config_check_hw(const struct nncw_quant_config *q,
                                            const struct nncw_hw_config *hw);

/* ---- constraints ---- */
/* the configs of list[n] that satisfy c, in order, into out[n] (forced signedness and
 * logarithm_scale set from c); returns how many */
int nncw_qconstraints_filter(const struct nncw_qconstraints *c, const struct nncw_qconfig *list,
                             int n, struct nncw_qconfig *out);
/* c applied to one config the way NNCF does without a hardware config: given fields replace */
struct nncw_qconfig nncw_qconstraints_apply(const struct nncw_qconstraints *c,
                                            struct nncw_qconfig q);
/* over's fields on top of base's (path from over) */
struct nncw_qconstraints nncw_qconstraints_merge(const struct nncw_qconstraints *base,
                                                 const struct nncw_qconstraints *over);
/* the JSON key ("bits", "mode", ...) of the single constraint that alone leaves nothing of
 * list, or NULL when only a combination does */
const char *nncw_qconstraints_culprit(const struct nncw_qconstraints *c,
                                      const struct nncw_qconfig *list, int n);

/* names: "mean_min_max", "manual", "enable", "performance", "weights" */
const char *nncw_quantizer_group_name(enum nncw_quantizer_group g);
