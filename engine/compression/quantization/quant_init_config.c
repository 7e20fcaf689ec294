/* The quantization initializer section: range (one object or a per-layer list),
 * batchnorm_adaptation and precision (manual, HAWQ, AutoQ), with NNCF's defaults. */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "compression/quantization/quantization_internal.h"
#include "core/alloc.h"

void nncw_range_init_defaults(struct nncw_range_init_config *r)
{
    r->num_init_samples = 256;
    r->type = NNCW_RANGE_MEAN_MIN_MAX;
    r->min_percentile = 0.1f;
    r->max_percentile = 99.9f;
    r->group = NNCW_QGROUP_BOTH;
}

void nncw_range_init_fini(struct nncw_range_init_config *r)
{
    nncw_free(r->path);
    nncw_scope_list_fini(&r->target);
    nncw_scope_list_fini(&r->ignored);
}

void nncw_precision_init_fini(struct nncw_precision_init *p)
{
    for (int i = 0; i < p->n_bitwidth_per_scope; i++)
        nncw_free(p->bitwidth_per_scope[i].id);
    nncw_free(p->bitwidth_per_scope);
    nncw_free(p->traces_per_layer_path);
    *p = (struct nncw_precision_init){0};
}

static enum nncw_status nomem(void)
{
    return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
}

/* ---- range ---- */

static enum nncw_status parse_percentiles(const struct nncw_qcfg_ctx *c, const cJSON *obj,
                                          const char *path, struct nncw_range_init_config *r)
{
    static const char *const known[] = {"min_percentile", "max_percentile", NULL};
    NNCW_TRY(nncw_qcfg_expect_object(c, obj, path));
    NNCW_TRY(nncw_qcfg_check_keys(c, obj, path, known));
    char kp[256];
    const cJSON *lo = cJSON_GetObjectItemCaseSensitive(obj, "min_percentile");
    const cJSON *hi = cJSON_GetObjectItemCaseSensitive(obj, "max_percentile");
    if (lo) {
        nncw_qcfg_path(kp, sizeof kp, path, "min_percentile");
        NNCW_TRY(nncw_qcfg_get_float(c, lo, kp, 0, 100, &r->min_percentile));
    }
    if (hi) {
        nncw_qcfg_path(kp, sizeof kp, path, "max_percentile");
        NNCW_TRY(nncw_qcfg_get_float(c, hi, kp, 0, 100, &r->max_percentile));
    }
    if (r->min_percentile >= r->max_percentile) {
        nncw_qcfg_path(kp, sizeof kp, path, hi ? "max_percentile" : "min_percentile");
        return nncw_qcfg_fail(c, kp, "min_percentile (%g) must be below max_percentile (%g)",
                              r->min_percentile, r->max_percentile);
    }
    return NNCW_OK;
}

enum nncw_status nncw_qcfg_parse_range(const struct nncw_qcfg_ctx *c, const struct cJSON *item,
                                       const char *path, bool per_layer, struct nncw_range_init_config *r)
{
    static const char *const known[] = {"num_init_samples", "type", "params", NULL};
    static const char *const known_layer[] = {
        "num_init_samples",       "type", "params", "target_scopes", "ignored_scopes",
        "target_quantizer_group", NULL};
    static const char *const types[] = {"min_max",    "mean_min_max",    "threesigma",
                                        "percentile", "mean_percentile", "mixed_min_max",
                                        NULL};
    static const char *const groups[] = {"weights", "activations", NULL};
    nncw_range_init_fini(r);
    *r = (struct nncw_range_init_config){0};
    nncw_range_init_defaults(r);
    if (!(r->path = nncw_strdup(path)))
        return nomem();
    NNCW_TRY(nncw_qcfg_expect_object(c, item, path));
    NNCW_TRY(nncw_qcfg_check_keys(c, item, path, per_layer ? known_layer : known));
    for (const cJSON *k = item->child; k; k = k->next) {
        char kp[256];
        nncw_qcfg_path(kp, sizeof kp, path, k->string);
        int v;
        if (strcmp(k->string, "num_init_samples") == 0) {
            NNCW_TRY(nncw_qcfg_get_int(c, k, kp, 0, 1 << 30, &r->num_init_samples));
        } else if (strcmp(k->string, "type") == 0) {
            NNCW_TRY(nncw_qcfg_get_enum(c, k, kp, types, &v));
            r->type = (enum nncw_range_init)v;
        } else if (strcmp(k->string, "params") == 0) {
            NNCW_TRY(parse_percentiles(c, k, kp, r));
        } else if (strcmp(k->string, "target_scopes") == 0) {
            NNCW_TRY(nncw_qcfg_get_scopes(c, k, kp, &r->target));
        } else if (strcmp(k->string, "ignored_scopes") == 0) {
            NNCW_TRY(nncw_qcfg_get_scopes(c, k, kp, &r->ignored));
        } else {
            NNCW_TRY(nncw_qcfg_get_enum(c, k, kp, groups, &v));
            r->group = v == 0 ? NNCW_QGROUP_WEIGHTS : NNCW_QGROUP_ACTIVATIONS;
        }
    }
    return NNCW_OK;
}

static enum nncw_status parse_range_list(const struct nncw_qcfg_ctx *c, const cJSON *item,
                                         const char *path, struct nncw_quant_config *q)
{
    struct nncw_quant_initializer *in = &q->init;
    int n = cJSON_GetArraySize(item);
    struct nncw_range_init_config *r = nncw_realloc(in->ranges, (size_t)n * sizeof *r);
    if (!r)
        return nomem();
    in->ranges = r;
    for (int i = in->n_ranges; i < n; i++)
        r[i] = (struct nncw_range_init_config){0};
    in->n_ranges = in->n_range_entries = n;
    in->range_per_layer = true;
    int i = 0;
    for (const cJSON *e = item->child; e; e = e->next, i++) {
        char ep[256];
        nncw_qcfg_path_index(ep, sizeof ep, path, i);
        NNCW_TRY(nncw_qcfg_parse_range(c, e, ep, true, &r[i]));
    }
    return NNCW_OK;
}

/* ---- precision ---- */

static enum nncw_status parse_bits_list(const struct nncw_qcfg_ctx *c, const cJSON *item,
                                        const char *path, struct nncw_precision_init *p)
{
    if (!cJSON_IsArray(item) || !item->child)
        return nncw_qcfg_fail_type(c, path, item, "a non-empty list of bit widths");
    p->n_bits = 0;
    int i = 0;
    for (const cJSON *e = item->child; e; e = e->next, i++) {
        char ep[256];
        nncw_qcfg_path_index(ep, sizeof ep, path, i);
        if (p->n_bits == (int)(sizeof p->bits / sizeof p->bits[0]))
            return nncw_qcfg_fail(c, ep, "at most %d bit widths", p->n_bits);
        NNCW_TRY(nncw_qcfg_get_int(c, e, ep, 2, 8, &p->bits[p->n_bits++]));
    }
    return NNCW_OK;
}

/* "<node>|WEIGHT", "<node>|OUTPUT" or "<node>|INPUT<port>" */
static bool is_quantizer_id(const char *id)
{
    const char *bar = strrchr(id, '|');
    if (!bar || bar == id)
        return false;
    if (strcmp(bar + 1, "WEIGHT") == 0 || strcmp(bar + 1, "OUTPUT") == 0)
        return true;
    if (strncmp(bar + 1, "INPUT", 5) != 0 || !bar[6])
        return false;
    for (const char *d = bar + 6; *d; d++)
        if (*d < '0' || *d > '9')
            return false;
    return true;
}

static enum nncw_status parse_bitwidth_per_scope(const struct nncw_qcfg_ctx *c, const cJSON *item,
                                                 const char *path, struct nncw_precision_init *p)
{
    if (!cJSON_IsArray(item))
        return nncw_qcfg_fail_type(c, path, item, "a list of [bits, \"<quantizer id>\"]");
    int n = cJSON_GetArraySize(item);
    p->bitwidth_per_scope = nncw_calloc((size_t)(n ? n : 1), sizeof *p->bitwidth_per_scope);
    if (!p->bitwidth_per_scope)
        return nomem();
    int i = 0;
    for (const cJSON *e = item->child; e; e = e->next, i++) {
        char ep[256], bp[300], ip[300];
        nncw_qcfg_path_index(ep, sizeof ep, path, i);
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2)
            return nncw_qcfg_fail_type(c, ep, e, "[bits, \"<quantizer id>\"]");
        struct nncw_bitwidth_scope *b = &p->bitwidth_per_scope[i];
        p->n_bitwidth_per_scope = i + 1;
        nncw_qcfg_path_index(bp, sizeof bp, ep, 0);
        nncw_qcfg_path_index(ip, sizeof ip, ep, 1);
        NNCW_TRY(nncw_qcfg_get_int(c, e->child, bp, 2, 8, &b->bits));
        NNCW_TRY(nncw_qcfg_get_string(c, e->child->next, ip, &b->id));
        if (!is_quantizer_id(b->id))
            return nncw_qcfg_fail(c, ip,
                                  "'%s' is not a quantizer id (<node>|WEIGHT, <node>|OUTPUT or "
                                  "<node>|INPUT<port>)",
                                  b->id);
    }
    return NNCW_OK;
}

static void precision_defaults(struct nncw_precision_init *p)
{
    p->n_bits = 3;
    p->bits[0] = 2, p->bits[1] = 4, p->bits[2] = 8;
    p->num_data_points = 100;
    p->iter_number = p->type == NNCW_PRECISION_AUTOQ ? 0 : 200;
    p->tolerance = 1e-4f;
    p->compression_ratio = p->type == NNCW_PRECISION_AUTOQ ? 0.15f : 1.5f;
    p->eval_subset_ratio = 1.0f;
    p->warmup_iter_number = 10;
}

static enum nncw_status parse_precision_key(const struct nncw_qcfg_ctx *c, const cJSON *k,
                                            const char *kp, struct nncw_precision_init *p)
{
    const char *key = k->string;
    if (strcmp(key, "bits") == 0)
        return parse_bits_list(c, k, kp, p);
    if (strcmp(key, "num_data_points") == 0)
        return nncw_qcfg_get_int(c, k, kp, 1, 1 << 30, &p->num_data_points);
    if (strcmp(key, "iter_number") == 0)
        return nncw_qcfg_get_int(c, k, kp, 0, 1 << 30, &p->iter_number);
    if (strcmp(key, "warmup_iter_number") == 0)
        return nncw_qcfg_get_int(c, k, kp, 0, 1 << 30, &p->warmup_iter_number);
    if (strcmp(key, "tolerance") == 0)
        return nncw_qcfg_get_float(c, k, kp, 1e-30, 1e9, &p->tolerance);
    if (strcmp(key, "compression_ratio") == 0)
        return nncw_qcfg_get_float(c, k, kp, 1e-9, 1e9, &p->compression_ratio);
    if (strcmp(key, "eval_subset_ratio") == 0)
        return nncw_qcfg_get_float(c, k, kp, 1e-9, 1, &p->eval_subset_ratio);
    if (strcmp(key, "bitwidth_per_scope") == 0)
        return parse_bitwidth_per_scope(c, k, kp, p);
    if (strcmp(key, "traces_per_layer_path") == 0)
        return nncw_qcfg_get_string(c, k, kp, &p->traces_per_layer_path);
    if (strcmp(key, "dump_init_precision_data") == 0)
        return nncw_qcfg_get_bool(c, k, kp, &p->dump_init_precision_data);
    if (strcmp(key, "bitwidth_assignment_mode") == 0) {
        static const char *const modes[] = {"liberal", "strict", NULL};
        int v;
        NNCW_TRY(nncw_qcfg_get_enum(c, k, kp, modes, &v));
        p->strict_assignment = v == 1;
        return NNCW_OK;
    }
    return NNCW_OK; /* "type", read first */
}

static enum nncw_status parse_precision(const struct nncw_qcfg_ctx *c, const cJSON *obj,
                                        const char *path, struct nncw_precision_init *p)
{
    static const char *const known[] = {"type",
                                        "bits",
                                        "num_data_points",
                                        "iter_number",
                                        "tolerance",
                                        "compression_ratio",
                                        "eval_subset_ratio",
                                        "warmup_iter_number",
                                        "bitwidth_per_scope",
                                        "traces_per_layer_path",
                                        "dump_init_precision_data",
                                        "bitwidth_assignment_mode",
                                        NULL};
    static const char *const types[] = {"manual", "hawq", "autoq", NULL};
    NNCW_TRY(nncw_qcfg_expect_object(c, obj, path));
    NNCW_TRY(nncw_qcfg_check_keys(c, obj, path, known));
    char kp[256];
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "type");
    if (t) {
        int v;
        nncw_qcfg_path(kp, sizeof kp, path, "type");
        NNCW_TRY(nncw_qcfg_get_enum(c, t, kp, types, &v));
        p->type = (enum nncw_precision_type)v;
    }
    precision_defaults(p);
    for (const cJSON *k = obj->child; k; k = k->next) {
        nncw_qcfg_path(kp, sizeof kp, path, k->string);
        NNCW_TRY(parse_precision_key(c, k, kp, p));
    }
    if (p->type == NNCW_PRECISION_MANUAL && !p->n_bitwidth_per_scope) {
        nncw_qcfg_path(kp, sizeof kp, path, "bitwidth_per_scope");
        return nncw_qcfg_fail(c, kp,
                              "missing (manual precision needs [bits, \"<quantizer id>\"] pairs)");
    }
    return NNCW_OK;
}

/* ---- the initializer ---- */

enum nncw_status nncw_qcfg_parse_initializer(const struct nncw_qcfg_ctx *c,
                                             const struct cJSON *item, const char *path,
                                             struct nncw_quant_config *q)
{
    static const char *const known[] = {"range", "batchnorm_adaptation", "precision", NULL};
    NNCW_TRY(nncw_qcfg_expect_object(c, item, path));
    NNCW_TRY(nncw_qcfg_check_keys(c, item, path, known));
    for (const cJSON *k = item->child; k; k = k->next) {
        char kp[256];
        nncw_qcfg_path(kp, sizeof kp, path, k->string);
        if (strcmp(k->string, "range") == 0) {
            if (cJSON_IsArray(k) && k->child)
                NNCW_TRY(parse_range_list(c, k, kp, q));
            else
                NNCW_TRY(nncw_qcfg_parse_range(c, k, kp, false, &q->init.ranges[0]));
        } else if (strcmp(k->string, "batchnorm_adaptation") == 0) {
            static const char *const bn_keys[] = {"num_bn_adaptation_samples", NULL};
            NNCW_TRY(nncw_qcfg_expect_object(c, k, kp));
            NNCW_TRY(nncw_qcfg_check_keys(c, k, kp, bn_keys));
            q->init.has_bn_adaptation = true;
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(k, "num_bn_adaptation_samples");
            char np[300];
            nncw_qcfg_path(np, sizeof np, kp, "num_bn_adaptation_samples");
            if (n)
                NNCW_TRY(
                    nncw_qcfg_get_int(c, n, np, 0, 1 << 30, &q->init.num_bn_adaptation_samples));
        } else {
            q->init.has_precision = true;
            NNCW_TRY(parse_precision(c, k, kp, &q->init.precision));
        }
    }
    return NNCW_OK;
}
