/* Loading a config: file -> cJSON -> the root keys, with typed reads that name key paths. */
#include "config/config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "config/config_internal.h"
#include "core/alloc.h"
#include "core/common.h"
#include "core/log.h"

enum { MAX_CONFIG_BYTES = 16 << 20 };

static const char *const device_names[] = {
    [NNCW_DEVICE_ANY] = "ANY", [NNCW_DEVICE_CPU] = "CPU",         [NNCW_DEVICE_GPU] = "GPU",
    [NNCW_DEVICE_VPU] = "VPU", [NNCW_DEVICE_CPU_SPR] = "CPU_SPR", [NNCW_DEVICE_TRIAL] = "TRIAL",
};
_Static_assert(NNCW_ARRAY_LEN(device_names) == NNCW_DEVICE_COUNT, "device_names out of date");

const char *nncw_target_device_name(enum nncw_target_device d)
{
    return (unsigned)d < NNCW_DEVICE_COUNT ? device_names[d] : "?";
}

/* ---- paths, failures, warnings ---- */

void nncw_cfg_path(char *buf, size_t size, const char *parent, const char *key)
{
    snprintf(buf, size, "%s%s%s", parent, parent[0] ? "." : "", key);
}

void nncw_cfg_path_index(char *buf, size_t size, const char *parent, int i)
{
    snprintf(buf, size, "%s[%d]", parent, i);
}

enum nncw_status nncw_cfg_fail(struct nncw_cfg_ctx *c, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return NNCW_FAIL(NNCW_ERR_PARSE, "config '%s': %s: %s", c->cfg->source,
                     path[0] ? path : "(root)", msg);
}

static const char *json_type(const cJSON *item)
{
    if (cJSON_IsNumber(item))
        return "a number";
    if (cJSON_IsString(item))
        return "a string";
    if (cJSON_IsBool(item))
        return "a boolean";
    if (cJSON_IsNull(item))
        return "null";
    if (cJSON_IsArray(item))
        return "a list";
    if (cJSON_IsObject(item))
        return "an object";
    return "an invalid value";
}

enum nncw_status nncw_cfg_fail_type(struct nncw_cfg_ctx *c, const char *path,
                                    const struct cJSON *item, const char *what)
{
    return nncw_cfg_fail(c, path, "expected %s, got %s", what, json_type(item));
}

enum nncw_status nncw_cfg_warn(struct nncw_cfg_ctx *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct nncw_config *cfg = c->cfg;
    char **w = nncw_realloc(cfg->warnings, (size_t)(cfg->n_warnings + 1) * sizeof *w);
    if (!w)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    cfg->warnings = w;
    if (!(w[cfg->n_warnings] = nncw_strdup(msg)))
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    cfg->n_warnings++;
    nncw_log(NNCW_LOG_WARN, "config '%s': %s", cfg->source, msg);
    return NNCW_OK;
}

static bool in_list(const char *key, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(key, *list) == 0)
            return true;
    return false;
}

enum nncw_status nncw_cfg_check_keys(struct nncw_cfg_ctx *c, const struct cJSON *obj,
                                     const char *path, const char *const *known)
{
    for (const cJSON *k = obj->child; k; k = k->next) {
        char kp[256];
        nncw_cfg_path(kp, sizeof kp, path, k->string);
        if (!in_list(k->string, known))
            NNCW_TRY(nncw_cfg_warn(c, "unknown key '%s' (ignored)", kp));
        for (const cJSON *d = obj->child; d != k; d = d->next)
            if (strcmp(d->string, k->string) == 0) {
                NNCW_TRY(nncw_cfg_warn(c, "duplicate key '%s' (the first one is used)", kp));
                break;
            }
    }
    return NNCW_OK;
}

/* ---- typed reads ---- */

bool nncw_cfg_is_object(const struct cJSON *item)
{
    return cJSON_IsObject(item) || (cJSON_IsArray(item) && !item->child);
}

enum nncw_status nncw_cfg_get_int(struct nncw_cfg_ctx *c, const struct cJSON *item,
                                  const char *path, int64_t lo, int64_t hi, int64_t *out)
{
    if (!cJSON_IsNumber(item))
        return nncw_cfg_fail_type(c, path, item, "an integer");
    double v = item->valuedouble;
    if (v != floor(v) || v < (double)lo || v > (double)hi)
        return nncw_cfg_fail(c, path, "expected an integer in [%lld, %lld], got %g", (long long)lo,
                             (long long)hi, v);
    *out = (int64_t)v;
    return NNCW_OK;
}

enum nncw_status nncw_cfg_get_float(struct nncw_cfg_ctx *c, const struct cJSON *item,
                                    const char *path, double lo, double hi, float *out)
{
    if (!cJSON_IsNumber(item))
        return nncw_cfg_fail_type(c, path, item, "a number");
    double v = item->valuedouble;
    if (!(v >= lo && v <= hi))
        return nncw_cfg_fail(c, path, "expected a number in [%g, %g], got %g", lo, hi, v);
    *out = (float)v;
    return NNCW_OK;
}

enum nncw_status nncw_cfg_get_bool(struct nncw_cfg_ctx *c, const struct cJSON *item,
                                   const char *path, bool *out)
{
    if (!cJSON_IsBool(item))
        return nncw_cfg_fail_type(c, path, item, "true or false");
    *out = cJSON_IsTrue(item);
    return NNCW_OK;
}

enum nncw_status nncw_cfg_get_string(struct nncw_cfg_ctx *c, const struct cJSON *item,
                                     const char *path, char **out)
{
    if (!cJSON_IsString(item))
        return nncw_cfg_fail_type(c, path, item, "a string");
    char *s = nncw_strdup(item->valuestring);
    if (!s)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    nncw_free(*out);
    *out = s;
    return NNCW_OK;
}

static void free_strings(char **list, int count)
{
    for (int i = 0; i < count; i++)
        nncw_free(list[i]);
    nncw_free(list);
}

enum nncw_status nncw_cfg_get_strings(struct nncw_cfg_ctx *c, const struct cJSON *item,
                                      const char *path, char ***out, int *count)
{
    if (!cJSON_IsArray(item) && !cJSON_IsString(item))
        return nncw_cfg_fail_type(c, path, item, "a list of strings");
    int n = cJSON_IsString(item) ? 1 : cJSON_GetArraySize(item);
    char **list = nncw_calloc((size_t)(n ? n : 1), sizeof *list);
    if (!list)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    enum nncw_status s = NNCW_OK;
    const cJSON *e = cJSON_IsString(item) ? item : item->child;
    for (int i = 0; i < n && s == NNCW_OK; i++, e = e->next) {
        char ep[256];
        nncw_cfg_path_index(ep, sizeof ep, path, i);
        s = nncw_cfg_get_string(c, e, ep, &list[i]);
    }
    if (s != NNCW_OK) {
        free_strings(list, n);
        return s;
    }
    free_strings(*out, *count);
    *out = list;
    *count = n;
    return NNCW_OK;
}

/* ---- root sections ---- */

static enum nncw_status parse_one_input(struct nncw_cfg_ctx *c, const cJSON *obj, const char *path,
                                        struct nncw_input_info *in)
{
    static const char *const known[] = {"sample_size", "type", "filler", "keyword", NULL};
    char kp[256];
    if (!nncw_cfg_is_object(obj))
        return nncw_cfg_fail_type(c, path, obj, "an object");
    NNCW_TRY(nncw_cfg_check_keys(c, obj, path, known));
    in->dtype = NNCW_DTYPE_F32;
    snprintf(in->filler, sizeof in->filler, "random");
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(obj, "sample_size");
    nncw_cfg_path(kp, sizeof kp, path, "sample_size");
    if (!size)
        return nncw_cfg_fail(c, kp, "missing (the input's shape, e.g. [1, 3, 32, 32])");
    if (!cJSON_IsArray(size) || cJSON_GetArraySize(size) < 1 ||
        cJSON_GetArraySize(size) > NNCW_MAX_DIMS)
        return nncw_cfg_fail(c, kp, "expected a list of 1 to %d dimensions", NNCW_MAX_DIMS);
    in->ndim = 0;
    for (const cJSON *d = size->child; d; d = d->next) {
        char dp[256];
        nncw_cfg_path_index(dp, sizeof dp, kp, in->ndim);
        NNCW_TRY(nncw_cfg_get_int(c, d, dp, 1, 1 << 24, &in->sample_size[in->ndim]));
        in->ndim++;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "type");
    if (type) {
        nncw_cfg_path(kp, sizeof kp, path, "type");
        if (!cJSON_IsString(type))
            return nncw_cfg_fail_type(c, kp, type, "a string");
        if (strcmp(type->valuestring, "float") == 0)
            in->dtype = NNCW_DTYPE_F32;
        else if (strcmp(type->valuestring, "long") == 0)
            in->dtype = NNCW_DTYPE_I64;
        else
            return nncw_cfg_fail(c, kp, "unknown type '%s' (float or long)", type->valuestring);
    }
    const cJSON *filler = cJSON_GetObjectItemCaseSensitive(obj, "filler");
    if (filler) {
        nncw_cfg_path(kp, sizeof kp, path, "filler");
        if (!cJSON_IsString(filler))
            return nncw_cfg_fail_type(c, kp, filler, "a string");
        const char *f = filler->valuestring;
        if (strcmp(f, "zeros") && strcmp(f, "ones") && strcmp(f, "random"))
            return nncw_cfg_fail(c, kp, "unknown filler '%s' (zeros, ones or random)", f);
        snprintf(in->filler, sizeof in->filler, "%s", f);
    }
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(obj, "keyword");
    if (kw) {
        nncw_cfg_path(kp, sizeof kp, path, "keyword");
        NNCW_TRY(nncw_cfg_get_string(c, kw, kp, &in->keyword));
    }
    return NNCW_OK;
}

static enum nncw_status parse_input_info(struct nncw_cfg_ctx *c, const cJSON *item)
{
    struct nncw_config *cfg = c->cfg;
    if (nncw_cfg_is_object(item) && !cJSON_IsArray(item)) {
        cfg->n_inputs = 1;
        return parse_one_input(c, item, "input_info", &cfg->inputs[0]);
    }
    if (!cJSON_IsArray(item) || !item->child)
        return nncw_cfg_fail_type(c, "input_info", item, "an object or a non-empty list");
    if (cJSON_GetArraySize(item) > NNCW_CONFIG_MAX_INPUTS)
        return nncw_cfg_fail(c, "input_info", "at most %d inputs", NNCW_CONFIG_MAX_INPUTS);
    for (const cJSON *e = item->child; e; e = e->next) {
        char ep[64];
        nncw_cfg_path_index(ep, sizeof ep, "input_info", cfg->n_inputs);
        NNCW_TRY(parse_one_input(c, e, ep, &cfg->inputs[cfg->n_inputs]));
        cfg->n_inputs++;
    }
    return NNCW_OK;
}

static enum nncw_status parse_target_device(struct nncw_cfg_ctx *c, const cJSON *item)
{
    if (!cJSON_IsString(item))
        return nncw_cfg_fail_type(c, "target_device", item, "a string");
    for (int d = 0; d < NNCW_DEVICE_COUNT; d++)
        if (strcasecmp(item->valuestring, device_names[d]) == 0) {
            c->cfg->target_device = (enum nncw_target_device)d;
            return NNCW_OK;
        }
    return nncw_cfg_fail(c, "target_device",
                         "unknown device '%s' (ANY, CPU, GPU, VPU, CPU_SPR or TRIAL)",
                         item->valuestring);
}

/* keys NNCF's sample scripts read that nncw accepts and ignores */
static const char *const ignored_keys[] = {
    "workers",
    "multiprocessing_distributed",
    "log_dir",
    "print_freq",
    "test_every_n_epochs",
    "checkpoint_save_dir",
    "dataset_dir",
    "save_freq",
    "mode",
    "world_size",
    "dist_url",
    "rank",
    "gpu_id",
    "cpu_only",
    "export_to_ir_via_onnx",
    NULL,
};

static enum nncw_status parse_root(struct nncw_cfg_ctx *c, const cJSON *root)
{
    if (!nncw_cfg_is_object(root))
        return nncw_cfg_fail_type(c, "", root, "an object at the top level");
    for (const cJSON *k = root->child; k; k = k->next) {
        if (cJSON_GetObjectItemCaseSensitive(root, k->string) != k) {
            NNCW_TRY(nncw_cfg_warn(c, "duplicate key '%s' (the first one is used)", k->string));
            continue;
        }
        bool handled = true;
        if (strcmp(k->string, "input_info") == 0) {
            NNCW_TRY(parse_input_info(c, k));
            c->cfg->has |= NNCW_CFG_INPUT_INFO;
        } else if (strcmp(k->string, "target_device") == 0) {
            NNCW_TRY(parse_target_device(c, k));
            c->cfg->has |= NNCW_CFG_TARGET_DEVICE;
        } else if (strcmp(k->string, "compression") == 0) {
            NNCW_TRY(nncw_cfg_parse_compression(c, k));
        } else if (strcmp(k->string, "accuracy_aware_training") == 0) {
            NNCW_TRY(nncw_cfg_parse_accuracy_aware(c, k));
        } else if (in_list(k->string, ignored_keys)) {
            nncw_log(NNCW_LOG_DEBUG, "config '%s': '%s' is not used by nncw", c->cfg->source,
                     k->string);
        } else {
            NNCW_TRY(nncw_cfg_parse_training_key(c, k, &handled));
        }
        if (!handled)
            NNCW_TRY(nncw_cfg_warn(c, "unknown key '%s' (ignored)", k->string));
    }
    return NNCW_OK;
}

/* ---- lifecycle ---- */

void nncw_config_free(struct nncw_config *cfg)
{
    if (!cfg)
        return;
    nncw_free(cfg->source);
    for (int i = 0; i < cfg->n_inputs; i++)
        nncw_free(cfg->inputs[i].keyword);
    nncw_cfg_free_compression(cfg);
    nncw_free(cfg->model);
    nncw_free(cfg->dataset);
    free_strings(cfg->warnings, cfg->n_warnings);
    nncw_free(cfg);
}

/* 1-based line and column of a position in text */
static void line_col(const char *text, const char *at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

enum nncw_status nncw_config_parse(const char *json, const char *source, struct nncw_config **out)
{
    struct nncw_config *cfg = nncw_calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->source = nncw_strdup(source ? source : "<string>"))) {
        nncw_free(cfg);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    }
    struct nncw_cfg_ctx c = {cfg};
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(json, &end, true);
    enum nncw_status s = NNCW_OK;
    if (!root) {
        int line, col;
        const char *at = end ? end : json;
        line_col(json, at, &line, &col);
        int near = (int)strcspn(at, "\r\n");
        s = NNCW_FAIL(NNCW_ERR_PARSE, "config '%s': line %d, column %d: invalid JSON near '%.*s'",
                      cfg->source, line, col, near < 20 ? near : 20, at);
    } else {
        s = parse_root(&c, root);
    }
    cJSON_Delete(root);
    if (s != NNCW_OK) {
        nncw_config_free(cfg);
        return s;
    }
    *out = cfg;
    return NNCW_OK;
}

static enum nncw_status read_file(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NNCW_FAIL(NNCW_ERR_IO, "config '%s': %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    enum nncw_status s = NNCW_OK;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *p = nncw_realloc(buf, cap);
            if (!p) {
                s = NNCW_FAIL(NNCW_ERR_NOMEM, "config '%s': out of memory", path);
                break;
            }
            buf = p;
        }
        size_t n = fread(buf + len, 1, 4096, f);
        len += n;
        if (len > MAX_CONFIG_BYTES) {
            s = NNCW_FAIL(NNCW_ERR_PARSE, "config '%s': larger than %d MiB", path,
                          MAX_CONFIG_BYTES >> 20);
            break;
        }
        if (n < 4096) {
            if (ferror(f))
                s = NNCW_FAIL(NNCW_ERR_IO, "config '%s': read error", path);
            break;
        }
    }
    fclose(f);
    if (s == NNCW_OK && memchr(buf, '\0', len))
        s = NNCW_FAIL(NNCW_ERR_PARSE, "config '%s': not a text file (contains NUL bytes)", path);
    if (s != NNCW_OK) {
        nncw_free(buf);
        return s;
    }
    buf[len] = '\0';
    *out = buf;
    return NNCW_OK;
}

enum nncw_status nncw_config_load(const char *path, struct nncw_config **out)
{
    char *text = NULL;
    NNCW_TRY(read_file(path, &text));
    enum nncw_status s = nncw_config_parse(text, path, out);
    nncw_free(text);
    return s;
}
