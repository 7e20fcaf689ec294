/* The quantization section of a config: the entry's keys (kept as JSON text by the root parser)
 * parsed into struct nncw_quant_config with NNCF's defaults. Unknown keys are errors, as in
 * NNCF's algorithm schemas (additionalProperties: false). The initializer lives in
 * quant_init_config.c. */
#include "compression/quantization/quant_config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "compression/entry_config.h"
#include "compression/quantization/quantization_internal.h"
#include "compression/quantization/scope_match.h"
#include "core/alloc.h"
#include "core/common.h"
#include "graph/graph.h"

/* ---- typed reads ---- */

void nncw_qcfg_path(char *buf, size_t size, const char *parent, const char *key)
{
    snprintf(buf, size, "%s%s%s", parent, parent[0] ? "." : "", key);
}

void nncw_qcfg_path_index(char *buf, size_t size, const char *parent, int i)
{
    snprintf(buf, size, "%s[%d]", parent, i);
}

enum nncw_status nncw_qcfg_fail(const struct nncw_qcfg_ctx *c, const char *path, const char *fmt,
                                ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return NNCW_FAIL(NNCW_ERR_PARSE, "config '%s': %s: %s", c->source, path, msg);
}

static void describe(const cJSON *item, char *buf, size_t size)
{
    if (cJSON_IsString(item))
        snprintf(buf, size, "\"%.40s%s\"", item->valuestring,
                 strlen(item->valuestring) > 40 ? "..." : "");
    else if (cJSON_IsNumber(item))
        snprintf(buf, size, "%g", item->valuedouble);
    else if (cJSON_IsBool(item))
        snprintf(buf, size, "%s", cJSON_IsTrue(item) ? "true" : "false");
    else if (cJSON_IsNull(item))
        snprintf(buf, size, "null");
    else if (cJSON_IsArray(item))
        snprintf(buf, size, "a list");
    else
        snprintf(buf, size, "an object");
}

enum nncw_status nncw_qcfg_fail_type(const struct nncw_qcfg_ctx *c, const char *path,
                                     const struct cJSON *item, const char *what)
{
    char got[64];
    describe(item, got, sizeof got);
    return nncw_qcfg_fail(c, path, "expected %s, got %s", what, got);
}

enum nncw_status nncw_qcfg_expect_object(const struct nncw_qcfg_ctx *c, const struct cJSON *obj,
                                         const char *path)
{
    if (cJSON_IsObject(obj) || (cJSON_IsArray(obj) && !obj->child))
        return NNCW_OK;
    return nncw_qcfg_fail_type(c, path, obj, "an object");
}

enum nncw_status nncw_qcfg_check_keys(const struct nncw_qcfg_ctx *c, const struct cJSON *obj,
                                      const char *path, const char *const *known)
{
    for (const cJSON *k = obj->child; k; k = k->next) {
        char kp[256];
        nncw_qcfg_path(kp, sizeof kp, path, k->string);
        if (cJSON_GetObjectItemCaseSensitive(obj, k->string) != k)
            return nncw_qcfg_fail(c, kp, "duplicate key");
        bool ok = false;
        for (const char *const *n = known; *n && !ok; n++)
            ok = strcmp(*n, k->string) == 0;
        if (ok)
            continue;
        const char *best = NULL;
        int best_d = 1 << 30;
        char list[512] = "";
        size_t len = 0;
        for (const char *const *n = known; *n; n++) {
            int d = nncw_edit_distance(k->string, *n);
            if (d < best_d) {
                best_d = d;
                best = *n;
            }
            len += (size_t)snprintf(list + len, len < sizeof list ? sizeof list - len : 0, "%s%s",
                                    len ? ", " : "", *n);
        }
        if (best && best_d <= 3)
            return nncw_qcfg_fail(c, kp, "unknown key (did you mean '%s'?)", best);
        return nncw_qcfg_fail(c, kp, "unknown key (known: %s)", list);
    }
    return NNCW_OK;
}

enum nncw_status nncw_qcfg_get_int(const struct nncw_qcfg_ctx *c, const struct cJSON *item,
                                   const char *path, int lo, int hi, int *out)
{
    if (!cJSON_IsNumber(item) || item->valuedouble != floor(item->valuedouble))
        return nncw_qcfg_fail_type(c, path, item, "an integer");
    double v = item->valuedouble;
    if (v < lo || v > hi)
        return nncw_qcfg_fail(c, path, "expected an integer in [%d, %d], got %g", lo, hi, v);
    *out = (int)v;
    return NNCW_OK;
}

enum nncw_status nncw_qcfg_get_float(const struct nncw_qcfg_ctx *c, const struct cJSON *item,
                                     const char *path, double lo, double hi, float *out)
{
    if (!cJSON_IsNumber(item))
        return nncw_qcfg_fail_type(c, path, item, "a number");
    double v = item->valuedouble;
    if (!(v >= lo && v <= hi))
        return nncw_qcfg_fail(c, path, "expected a number in [%g, %g], got %g", lo, hi, v);
    *out = (float)v;
    return NNCW_OK;
}

enum nncw_status nncw_qcfg_get_bool(const struct nncw_qcfg_ctx *c, const struct cJSON *item,
                                    const char *path, bool *out)
{
    if (!cJSON_IsBool(item))
        return nncw_qcfg_fail_type(c, path, item, "true or false");
    *out = cJSON_IsTrue(item);
    return NNCW_OK;
}

enum nncw_status nncw_qcfg_get_string(const struct nncw_qcfg_ctx *c, const struct cJSON *item,
                                      const char *path, char **out)
{
    if (!cJSON_IsString(item))
        return nncw_qcfg_fail_type(c, path, item, "a string");
    char *s = nncw_strdup(item->valuestring);
    if (!s)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    nncw_free(*out);
    *out = s;
    return NNCW_OK;
}

enum nncw_status nncw_qcfg_get_enum(const struct nncw_qcfg_ctx *c, const struct cJSON *item,
                                    const char *path, const char *const *names, int *out)
{
    char list[256] = "";
    size_t len = 0;
    for (int i = 0; names[i]; i++) {
        if (cJSON_IsString(item) && strcmp(item->valuestring, names[i]) == 0) {
            *out = i;
            return NNCW_OK;
        }
        len += (size_t)snprintf(list + len, len < sizeof list ? sizeof list - len : 0, "%s\"%s\"",
                                i ? (names[i + 1] ? ", " : " or ") : "", names[i]);
    }
    return nncw_qcfg_fail_type(c, path, item, list);
}

void nncw_scope_list_fini(struct nncw_scope_list *l)
{
    for (int i = 0; i < l->n; i++)
        nncw_free(l->patterns[i]);
    nncw_free(l->patterns);
    nncw_free(l->path);
    *l = (struct nncw_scope_list){0};
}

static enum nncw_status set_path(char **dst, const char *path)
{
    char *p = nncw_strdup(path);
    if (!p)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    nncw_free(*dst);
    *dst = p;
    return NNCW_OK;
}

enum nncw_status nncw_scope_list_copy(char *const *patterns, int n, const char *path,
                                      struct nncw_scope_list *out)
{
    nncw_scope_list_fini(out);
    NNCW_TRY(set_path(&out->path, path));
    out->patterns = nncw_calloc((size_t)(n ? n : 1), sizeof *out->patterns);
    if (!out->patterns)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    for (int i = 0; i < n; i++) {
        if (!(out->patterns[i] = nncw_strdup(patterns[i])))
            return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
        out->n = i + 1;
    }
    return NNCW_OK;
}

enum nncw_status nncw_qcfg_get_scopes(const struct nncw_qcfg_ctx *c, const struct cJSON *item,
                                      const char *path, struct nncw_scope_list *out)
{
    if (!cJSON_IsArray(item) && !cJSON_IsString(item))
        return nncw_qcfg_fail_type(c, path, item, "a scope or a list of scopes");
    nncw_scope_list_fini(out);
    NNCW_TRY(set_path(&out->path, path));
    int n = cJSON_IsString(item) ? 1 : cJSON_GetArraySize(item);
    out->patterns = nncw_calloc((size_t)(n ? n : 1), sizeof *out->patterns);
    if (!out->patterns)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    out->single = cJSON_IsString(item);
    const cJSON *e = cJSON_IsString(item) ? item : item->child;
    for (int i = 0; i < n; i++, e = e->next) {
        char ep[256];
        if (cJSON_IsString(item))
            snprintf(ep, sizeof ep, "%s", path);
        else
            nncw_qcfg_path_index(ep, sizeof ep, path, i);
        NNCW_TRY(nncw_qcfg_get_string(c, e, ep, &out->patterns[i]));
        out->n = i + 1;
        bool m;
        if (!out->patterns[i][0])
            return nncw_qcfg_fail(c, ep, "empty scope");
        if (nncw_scope_matches(out->patterns[i], "", &m) != NNCW_OK)
            return nncw_qcfg_fail(c, ep, "bad regular expression '%s'", out->patterns[i]);
    }
    return NNCW_OK;
}

/* ---- constraints: weights, activations, scope overrides ---- */

static const char *const mode_names[] = {"symmetric", "asymmetric", NULL};

static enum nncw_status parse_constraint_key(const struct nncw_qcfg_ctx *c, const cJSON *k,
                                             const char *kp, struct nncw_qconstraints *q,
                                             bool *handled)
{
    *handled = true;
    int v;
    if (strcmp(k->string, "bits") == 0) {
        NNCW_TRY(nncw_qcfg_get_int(c, k, kp, 2, 8, &q->bits));
        q->has |= NNCW_QC_BITS;
    } else if (strcmp(k->string, "mode") == 0) {
        NNCW_TRY(nncw_qcfg_get_enum(c, k, kp, mode_names, &v));
        q->mode = (enum nncw_qmode)v;
        q->has |= NNCW_QC_MODE;
    } else if (strcmp(k->string, "signed") == 0) {
        NNCW_TRY(nncw_qcfg_get_bool(c, k, kp, &q->is_signed));
        q->has |= NNCW_QC_SIGNED;
    } else if (strcmp(k->string, "per_channel") == 0) {
        NNCW_TRY(nncw_qcfg_get_bool(c, k, kp, &q->per_channel));
        q->has |= NNCW_QC_PER_CHANNEL;
    } else if (strcmp(k->string, "logarithm_scale") == 0) {
        NNCW_TRY(nncw_qcfg_get_bool(c, k, kp, &q->logarithm_scale));
        q->has |= NNCW_QC_LOG_SCALE;
    } else {
        *handled = false;
    }
    return NNCW_OK;
}

/* combinations no quantizer can have, whatever the device */
static enum nncw_status check_combination(const struct nncw_qcfg_ctx *c,
                                          const struct nncw_qconstraints *q, bool standard_ops)
{
    char kp[256];
    if ((q->has & NNCW_QC_SIGNED) && (q->has & NNCW_QC_MODE) && q->mode == NNCW_QMODE_ASYMMETRIC) {
        nncw_qcfg_path(kp, sizeof kp, q->path, "signed");
        return nncw_qcfg_fail(c, kp,
                              "only symmetric quantizers have a signedness (mode is asymmetric: "
                              "its zero point covers signed and unsigned ranges)");
    }
    if (standard_ops && (q->has & NNCW_QC_BITS) && q->bits != 8) {
        nncw_qcfg_path(kp, sizeof kp, q->path, "bits");
        return nncw_qcfg_fail(c, kp,
                              "%d bits cannot be exported with export_to_onnx_standard_ops "
                              "(QuantizeLinear/DequantizeLinear are 8-bit)",
                              q->bits);
    }
    return NNCW_OK;
}

static enum nncw_status parse_unified(const struct nncw_qcfg_ctx *c, const cJSON *item,
                                      const char *path, struct nncw_quant_config *q)
{
    if (!cJSON_IsArray(item))
        return nncw_qcfg_fail_type(c, path, item, "a list of lists of op names");
    int n = cJSON_GetArraySize(item);
    q->unified_scale_ops = nncw_calloc((size_t)(n ? n : 1), sizeof *q->unified_scale_ops);
    if (!q->unified_scale_ops)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    int i = 0;
    for (const cJSON *e = item->child; e; e = e->next, i++) {
        char ep[256];
        nncw_qcfg_path_index(ep, sizeof ep, path, i);
        q->n_unified = i + 1;
        if (!cJSON_IsArray(e))
            return nncw_qcfg_fail_type(c, ep, e, "a list of op names sharing one scale");
        NNCW_TRY(nncw_qcfg_get_scopes(c, e, ep, &q->unified_scale_ops[i]));
        if (q->unified_scale_ops[i].n < 2)
            return nncw_qcfg_fail(c, ep, "a group of unified scales needs at least two ops");
    }
    return NNCW_OK;
}

static enum nncw_status parse_group(const struct nncw_qcfg_ctx *c, const cJSON *obj,
                                    const char *path, bool activations, struct nncw_quant_config *q,
                                    struct nncw_qgroup_config *g)
{
    static const char *const known_w[] = {
        "mode",           "bits",          "signed", "per_channel", "logarithm_scale",
        "ignored_scopes", "target_scopes", NULL};
    static const char *const known_a[] = {"mode",
                                          "bits",
                                          "signed",
                                          "per_channel",
                                          "logarithm_scale",
                                          "ignored_scopes",
                                          "target_scopes",
                                          "unified_scale_ops",
                                          NULL};
    NNCW_TRY(nncw_qcfg_expect_object(c, obj, path));
    NNCW_TRY(nncw_qcfg_check_keys(c, obj, path, activations ? known_a : known_w));
    for (const cJSON *k = obj->child; k; k = k->next) {
        char kp[256];
        nncw_qcfg_path(kp, sizeof kp, path, k->string);
        bool handled;
        NNCW_TRY(parse_constraint_key(c, k, kp, &g->c, &handled));
        if (handled)
            continue;
        if (strcmp(k->string, "ignored_scopes") == 0)
            NNCW_TRY(nncw_qcfg_get_scopes(c, k, kp, &g->ignored));
        else if (strcmp(k->string, "target_scopes") == 0)
            NNCW_TRY(nncw_qcfg_get_scopes(c, k, kp, &g->target));
        else
            NNCW_TRY(parse_unified(c, k, kp, q));
    }
    return NNCW_OK;
}

static enum nncw_status add_range(struct nncw_quant_config *q, int *index)
{
    struct nncw_quant_initializer *in = &q->init;
    struct nncw_range_init_config *r = nncw_realloc(in->ranges, (size_t)(in->n_ranges + 1) * sizeof *r);
    if (!r)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    in->ranges = r;
    *index = in->n_ranges++;
    r[*index] = (struct nncw_range_init_config){0};
    nncw_range_init_defaults(&r[*index]);
    return NNCW_OK;
}

static enum nncw_status parse_override(const struct nncw_qcfg_ctx *c, const cJSON *obj,
                                       const char *path, struct nncw_quant_config *q,
                                       struct nncw_scope_override *o)
{
    static const char *const known[] = {
        "mode", "bits", "signed", "per_channel", "logarithm_scale", "initializer", NULL};
    o->range_init = -1;
    if (!(o->scope = nncw_strdup(obj->string)) || !(o->c.path = nncw_strdup(path)))
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    bool m;
    if (!obj->string[0] || nncw_scope_matches(obj->string, "", &m) != NNCW_OK)
        return nncw_qcfg_fail(c, path, "bad scope '%s' (an op name or {re}<regex>)", obj->string);
    NNCW_TRY(nncw_qcfg_expect_object(c, obj, path));
    NNCW_TRY(nncw_qcfg_check_keys(c, obj, path, known));
    for (const cJSON *k = obj->child; k; k = k->next) {
        char kp[256];
        nncw_qcfg_path(kp, sizeof kp, path, k->string);
        bool handled;
        NNCW_TRY(parse_constraint_key(c, k, kp, &o->c, &handled));
        if (handled)
            continue;
        /* initializer: {range: {...}} for the quantizers of this scope */
        static const char *const init_keys[] = {"range", NULL};
        NNCW_TRY(nncw_qcfg_expect_object(c, k, kp));
        NNCW_TRY(nncw_qcfg_check_keys(c, k, kp, init_keys));
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(k, "range");
        if (r) {
            char rp[300];
            nncw_qcfg_path(rp, sizeof rp, kp, "range");
            NNCW_TRY(add_range(q, &o->range_init));
            NNCW_TRY(nncw_qcfg_parse_range(c, r, rp, false, &q->init.ranges[o->range_init]));
        }
    }
    return NNCW_OK;
}

static enum nncw_status parse_overrides(const struct nncw_qcfg_ctx *c, const cJSON *obj,
                                        const char *path, struct nncw_quant_config *q)
{
    static const char *const known[] = {"weights", "activations", NULL};
    NNCW_TRY(nncw_qcfg_expect_object(c, obj, path));
    NNCW_TRY(nncw_qcfg_check_keys(c, obj, path, known));
    for (int g = 0; g < 2; g++) {
        const cJSON *grp = cJSON_GetObjectItemCaseSensitive(obj, known[g]);
        if (!grp)
            continue;
        char gp[256];
        nncw_qcfg_path(gp, sizeof gp, path, known[g]);
        NNCW_TRY(nncw_qcfg_expect_object(c, grp, gp));
        int n = cJSON_GetArraySize(grp);
        q->overrides[g] = nncw_calloc((size_t)(n ? n : 1), sizeof *q->overrides[g]);
        if (!q->overrides[g])
            return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
        for (const cJSON *e = grp->child; e; e = e->next) {
            char ep[512];
            nncw_qcfg_path(ep, sizeof ep, gp, e->string);
            if (cJSON_GetObjectItemCaseSensitive(grp, e->string) != e)
                return nncw_qcfg_fail(c, ep, "duplicate key");
            struct nncw_scope_override *o = &q->overrides[g][q->n_overrides[g]++];
            NNCW_TRY(parse_override(c, e, ep, q, o));
            NNCW_TRY(check_combination(c, &o->c, q->export_to_onnx_standard_ops));
        }
    }
    return NNCW_OK;
}

/* ---- the entry ---- */

static const char *const overflow_names[] = {"enable", "first_layer_only", "disable", NULL};
static const char *const preset_names[] = {"", "performance", "mixed", NULL};

static enum nncw_status parse_flag_keys(const struct nncw_qcfg_ctx *c, const cJSON *k,
                                        const char *kp, struct nncw_quant_config *q, bool *handled)
{
    *handled = true;
    int v;
    if (strcmp(k->string, "quantize_inputs") == 0) {
        NNCW_TRY(nncw_qcfg_get_bool(c, k, kp, &q->quantize_inputs));
    } else if (strcmp(k->string, "quantize_outputs") == 0) {
        NNCW_TRY(nncw_qcfg_get_bool(c, k, kp, &q->quantize_outputs));
    } else if (strcmp(k->string, "export_to_onnx_standard_ops") == 0) {
        NNCW_TRY(nncw_qcfg_get_bool(c, k, kp, &q->export_to_onnx_standard_ops));
    } else if (strcmp(k->string, "compression_lr_multiplier") == 0) {
        NNCW_TRY(nncw_qcfg_get_float(c, k, kp, 1e-9, 1e9, &q->compression_lr_multiplier));
    } else if (strcmp(k->string, "preset") == 0) {
        NNCW_TRY(nncw_qcfg_get_enum(c, k, kp, preset_names + 1, &v));
        q->preset = (enum nncw_quant_preset)(v + 1);
    } else {
        *handled = false;
    }
    return NNCW_OK;
}

/* disable_saturation_fix (NNCF 2.0) and overflow_fix (2.5) say the same thing; both may be
 * given when they agree */
static enum nncw_status parse_overflow(const struct nncw_qcfg_ctx *c, const cJSON *root,
                                       const char *path, struct nncw_quant_config *q)
{
    const cJSON *dis = cJSON_GetObjectItemCaseSensitive(root, "disable_saturation_fix");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(root, "overflow_fix");
    char kp[256];
    int v = NNCW_OVERFLOW_FIX_ENABLE;
    if (of) {
        nncw_qcfg_path(kp, sizeof kp, path, "overflow_fix");
        NNCW_TRY(nncw_qcfg_get_enum(c, of, kp, overflow_names, &v));
    }
    if (dis) {
        bool d;
        nncw_qcfg_path(kp, sizeof kp, path, "disable_saturation_fix");
        NNCW_TRY(nncw_qcfg_get_bool(c, dis, kp, &d));
        if (d && of && v != NNCW_OVERFLOW_FIX_DISABLE)
            return nncw_qcfg_fail(c, kp, "true contradicts overflow_fix \"%s\"", overflow_names[v]);
        if (d)
            v = NNCW_OVERFLOW_FIX_DISABLE;
    }
    q->overflow_fix = (enum nncw_overflow_fix)v;
    return NNCW_OK;
}

/* preset (NNCF 2.1+): the default mode of each group where the config gives none */
static void apply_preset(struct nncw_quant_config *q)
{
    if (q->preset == NNCW_PRESET_NONE)
        return;
    if (!(q->weights.c.has & NNCW_QC_MODE)) {
        q->weights.c.has |= NNCW_QC_MODE;
        q->weights.c.mode = NNCW_QMODE_SYMMETRIC;
    }
    if (!(q->activations.c.has & NNCW_QC_MODE)) {
        q->activations.c.has |= NNCW_QC_MODE;
        q->activations.c.mode =
            q->preset == NNCW_PRESET_MIXED ? NNCW_QMODE_ASYMMETRIC : NNCW_QMODE_SYMMETRIC;
    }
}

static enum nncw_status parse_settings(const struct nncw_qcfg_ctx *c, const cJSON *root,
                                       struct nncw_quant_config *q)
{
    static const char *const known[] = {"initializer",
                                        "weights",
                                        "activations",
                                        "quantize_inputs",
                                        "quantize_outputs",
                                        "scope_overrides",
                                        "export_to_onnx_standard_ops",
                                        "disable_saturation_fix",
                                        "overflow_fix",
                                        "preset",
                                        "compression_lr_multiplier",
                                        "algorithm",
                                        "params",
                                        "ignored_scopes",
                                        "target_scopes",
                                        NULL};
    const char *path = q->path;
    NNCW_TRY(nncw_qcfg_check_keys(c, root, path, known));
    for (const cJSON *k = root->child; k; k = k->next) {
        char kp[256];
        nncw_qcfg_path(kp, sizeof kp, path, k->string);
        bool handled;
        NNCW_TRY(parse_flag_keys(c, k, kp, q, &handled));
        if (handled)
            continue;
        if (strcmp(k->string, "weights") == 0)
            NNCW_TRY(parse_group(c, k, kp, false, q, &q->weights));
        else if (strcmp(k->string, "activations") == 0)
            NNCW_TRY(parse_group(c, k, kp, true, q, &q->activations));
        else if (strcmp(k->string, "initializer") == 0)
            NNCW_TRY(nncw_qcfg_parse_initializer(c, k, kp, q));
    }
    NNCW_TRY(parse_overflow(c, root, path, q));
    NNCW_TRY(check_combination(c, &q->weights.c, q->export_to_onnx_standard_ops));
    NNCW_TRY(check_combination(c, &q->activations.c, q->export_to_onnx_standard_ops));
    /* after export_to_onnx_standard_ops is known, so the overrides' bits can be checked */
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(root, "scope_overrides");
    if (so) {
        char kp[256];
        nncw_qcfg_path(kp, sizeof kp, path, "scope_overrides");
        NNCW_TRY(parse_overrides(c, so, kp, q));
    }
    apply_preset(q);
    return NNCW_OK;
}

/* ---- lifecycle ---- */

void nncw_quant_config_free(struct nncw_quant_config *q)
{
    if (!q)
        return;
    nncw_free(q->source);
    nncw_free(q->path);
    nncw_scope_list_fini(&q->ignored);
    nncw_scope_list_fini(&q->target);
    struct nncw_qgroup_config *groups[] = {&q->weights, &q->activations};
    for (int g = 0; g < 2; g++) {
        nncw_free(groups[g]->c.path);
        nncw_scope_list_fini(&groups[g]->ignored);
        nncw_scope_list_fini(&groups[g]->target);
        for (int i = 0; i < q->n_overrides[g]; i++) {
            nncw_free(q->overrides[g][i].scope);
            nncw_free(q->overrides[g][i].c.path);
        }
        nncw_free(q->overrides[g]);
    }
    for (int i = 0; i < q->n_unified; i++)
        nncw_scope_list_fini(&q->unified_scale_ops[i]);
    nncw_free(q->unified_scale_ops);
    for (int i = 0; i < q->init.n_ranges; i++)
        nncw_range_init_fini(&q->init.ranges[i]);
    nncw_free(q->init.ranges);
    nncw_precision_init_fini(&q->init.precision);
    nncw_free(q);
}

/* a config with NNCF's defaults; path is the entry's JSON path */
static enum nncw_status new_defaults(const char *source, const char *path,
                                     enum nncw_target_device device, struct nncw_quant_config **out)
{
    struct nncw_quant_config *q = nncw_calloc(1, sizeof *q);
    if (!q)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    q->device = device;
    q->quantize_inputs = true;
    q->init.num_bn_adaptation_samples = 2000;
    q->params = (struct nncw_staged_params){.batch_multiplier = 1,
                                            .activations_quant_start_epoch = 1,
                                            .weights_quant_start_epoch = 1,
                                            .lr_poly_drop_start_epoch = -1,
                                            .lr_poly_drop_duration_epochs = 30,
                                            .disable_wd_start_epoch = -1,
                                            .base_lr = 1e-3f,
                                            .base_wd = 1e-5f};
    char wp[256], ap[256], rp[256];
    nncw_qcfg_path(wp, sizeof wp, path, "weights");
    nncw_qcfg_path(ap, sizeof ap, path, "activations");
    nncw_qcfg_path(rp, sizeof rp, path, "initializer.range");
    int r;
    enum nncw_status s = NNCW_OK;
    if (!(q->source = nncw_strdup(source)) || !(q->path = nncw_strdup(path)) ||
        !(q->weights.c.path = nncw_strdup(wp)) || !(q->activations.c.path = nncw_strdup(ap)))
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    if (s == NNCW_OK && (s = add_range(q, &r)) == NNCW_OK) {
        q->init.n_range_entries = 1;
        if (!(q->init.ranges[0].path = nncw_strdup(rp)))
            s = NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    }
    if (s != NNCW_OK) {
        nncw_quant_config_free(q);
        return s;
    }
    *out = q;
    return NNCW_OK;
}

enum nncw_status nncw_quant_config_new_default(enum nncw_target_device device,
                                               struct nncw_quant_config **out)
{
    return new_defaults("<defaults>", "compression[0]", device, out);
}

static enum nncw_status parse_entry(const struct nncw_qcfg_ctx *c,
                                    const struct nncw_compression_config *e,
                                    struct nncw_quant_config *q)
{
    struct nncw_entry_json j;
    NNCW_TRY(nncw_entry_config_read(c, e, q->path, &q->ignored, &q->target, &j));
    enum nncw_status s = parse_settings(c, j.settings, q);
    char kp[256];
    nncw_qcfg_path(kp, sizeof kp, q->path, "params");
    if (s == NNCW_OK)
        s = nncw_staged_params_parse(c, j.params, kp, &q->params);
    q->staged = e->has_params; /* NNCF: the presence of params switches the staged scheduler on */
    nncw_entry_config_fini(&j);
    return s;
}

enum nncw_status nncw_quant_config_parse(const struct nncw_config *cfg, int index,
                                         struct nncw_quant_config **out)
{
    if (!cfg || index < 0 || index >= cfg->n_compression)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "config: no compression entry %d", index);
    const struct nncw_compression_config *e = &cfg->compression[index];
    if (strcmp(e->algorithm, "quantization") != 0)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "config '%s': compression[%d] is '%s', not quantization", cfg->source,
                         index, e->algorithm);
    char path[32];
    snprintf(path, sizeof path, "%s", e->path);
    struct nncw_quant_config *q;
    NNCW_TRY(new_defaults(cfg->source, path, cfg->target_device, &q));
    struct nncw_qcfg_ctx c = {q->source};
    enum nncw_status s = parse_entry(&c, e, q);
    if (s != NNCW_OK) {
        nncw_quant_config_free(q);
        return s;
    }
    *out = q;
    return NNCW_OK;
}

/* ---- names ---- */

static const char *const group_names[] = {"both", "weights", "activations"};
_Static_assert(NNCW_ARRAY_LEN(group_names) == NNCW_QGROUP_COUNT, "group_names");

const char *nncw_quantizer_group_name(enum nncw_quantizer_group g)
{
    return (unsigned)g < NNCW_QGROUP_COUNT ? group_names[g] : "?";
}
