/* Hardware configs: NNCF's JSON format parsed, validated (errors name the file and the JSON
 * path) and expanded into lists of quantizer configurations. Named *_config.c because it is
 * one of the files allowed to include cJSON. */
#include "compression/quantization/hw_config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "compression/quantization/quantization_internal.h"
#include "core/alloc.h"
#include "core/common.h"

enum { MAX_HW_CONFIG_BYTES = 4 << 20, MAX_EXPANDED = 256 };

struct hw_ctx {
    const char *source;
    /* aliases of config.quantization: name and expanded list */
    int n_alias;
    char **alias_name;
    struct nncw_qconfig **alias_cfg;
    int *alias_n;
};

static enum nncw_status hw_fail(const struct hw_ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum nncw_status hw_fail(const struct hw_ctx *c, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return NNCW_FAIL(NNCW_ERR_PARSE, "hw config '%s': %s: %s", c->source, path[0] ? path : "(root)",
                     msg);
}

static enum nncw_status hw_nomem(void)
{
    return NNCW_FAIL(NNCW_ERR_NOMEM, "hw config: out of memory");
}

/* JSON paths for messages, cut to size rather than overflowing */
static void append(char *buf, size_t size, size_t *len, const char *s)
{
    while (*s && *len + 1 < size)
        buf[(*len)++] = *s++;
    buf[*len] = '\0';
}

static void join(char *buf, size_t size, const char *parent, const char *key)
{
    size_t len = 0;
    buf[0] = '\0';
    append(buf, size, &len, parent);
    if (parent[0])
        append(buf, size, &len, ".");
    append(buf, size, &len, key);
}

static void join_index(char *buf, size_t size, const char *parent, int i)
{
    char index[24];
    size_t len = 0;
    snprintf(index, sizeof index, "[%d]", i);
    buf[0] = '\0';
    append(buf, size, &len, parent);
    append(buf, size, &len, index);
}

/* every key of obj must be in known; duplicates are errors too (the file is ours to keep
 * clean, and a duplicate would silently shadow an entry) */
static enum nncw_status check_keys(const struct hw_ctx *c, const cJSON *obj, const char *path,
                                   const char *const *known, const char *known_text)
{
    for (const cJSON *k = obj->child; k; k = k->next) {
        char kp[256];
        join(kp, sizeof kp, path, k->string);
        bool ok = false;
        for (const char *const *n = known; *n && !ok; n++)
            ok = strcmp(*n, k->string) == 0;
        if (!ok)
            return hw_fail(c, kp, "unknown key (expected %s)", known_text);
        if (cJSON_GetObjectItemCaseSensitive(obj, k->string) != k)
            return hw_fail(c, kp, "duplicate key");
    }
    return NNCW_OK;
}

/* ---- one quantizer description: {bits, mode, granularity, level_low, level_high} ---- */

enum field { F_BITS, F_MODE, F_GRANULARITY, F_LEVEL_LOW, F_LEVEL_HIGH, F_COUNT };
static const char *const field_names[] = {"bits",      "mode",       "granularity",
                                          "level_low", "level_high", NULL};

struct field_values {
    const cJSON *item; /* scalar or list; NULL if absent */
    int n;
    int v[16]; /* bits / levels, or enum values */
};

static enum nncw_status read_field(const struct hw_ctx *c, const cJSON *item, const char *path,
                                   enum field f, struct field_values *out)
{
    out->item = item;
    out->n = 0;
    bool list = cJSON_IsArray(item);
    if (list && (f == F_LEVEL_LOW || f == F_LEVEL_HIGH))
        return hw_fail(c, path, "expected an integer, got a list");
    if (list && !item->child)
        return hw_fail(c, path, "expected a value or a non-empty list, got []");
    int i = 0;
    for (const cJSON *e = list ? item->child : item; e; e = list ? e->next : NULL, i++) {
        char ep[256];
        if (list)
            join_index(ep, sizeof ep, path, i);
        else
            snprintf(ep, sizeof ep, "%s", path);
        if (out->n == (int)NNCW_ARRAY_LEN(out->v))
            return hw_fail(c, path, "too many values (at most %d)", (int)NNCW_ARRAY_LEN(out->v));
        if (f == F_BITS || f == F_LEVEL_LOW || f == F_LEVEL_HIGH) {
            if (!cJSON_IsNumber(e) || e->valuedouble != (double)(int)e->valuedouble)
                return hw_fail(c, ep, "expected an integer");
            int v = (int)e->valuedouble;
            if (f == F_BITS && (v < 1 || v > 16))
                return hw_fail(c, ep, "bits must be in [1, 16], got %d", v);
            out->v[out->n++] = v;
        } else {
            const char *a = f == F_MODE ? "symmetric" : "perchannel";
            const char *b = f == F_MODE ? "asymmetric" : "pertensor";
            if (!cJSON_IsString(e))
                return hw_fail(c, ep, "expected \"%s\" or \"%s\"", a, b);
            if (strcmp(e->valuestring, a) == 0)
                out->v[out->n++] = 0;
            else if (strcmp(e->valuestring, b) == 0)
                out->v[out->n++] = 1;
            else
                return hw_fail(c, ep, "unknown value '%s' (%s or %s)", e->valuestring, a, b);
        }
    }
    return NNCW_OK;
}

/* the signedness a level range forces, or a failure when it does not match bits and mode */
static enum nncw_status levels_signedness(const struct hw_ctx *c, const char *path, int bits,
                                          enum nncw_qmode mode, int lo, int hi, int *out)
{
    int full = (1 << bits) - 1, half = 1 << (bits - 1);
    if (mode == NNCW_QMODE_SYMMETRIC && lo == -half && hi == half - 1) {
        *out = 1;
        return NNCW_OK;
    }
    if (lo == 0 && hi == full) {
        *out = mode == NNCW_QMODE_SYMMETRIC ? 0 : -1;
        return NNCW_OK;
    }
    return hw_fail(c, path,
                   "levels [%d, %d] do not match %d-bit %s quantization ([%d, %d] signed or "
                   "[0, %d] unsigned)",
                   lo, hi, bits, nncw_qmode_name(mode), -half, half - 1, full);
}

static enum nncw_status append_unique(struct nncw_qconfig **list, int *n,
                                      const struct nncw_qconfig *q)
{
    if (nncw_qconfig_find(*list, *n, q) >= 0)
        return NNCW_OK;
    if (*n >= MAX_EXPANDED)
        return NNCW_FAIL(NNCW_ERR_PARSE, "hw config: more than %d quantizer configurations",
                         MAX_EXPANDED);
    struct nncw_qconfig *p = nncw_realloc(*list, (size_t)(*n + 1) * sizeof *p);
    if (!p)
        return hw_nomem();
    p[(*n)++] = *q;
    *list = p;
    return NNCW_OK;
}

/* expands a description object into configs appended to *list (the cartesian product of its
 * list fields, in file key order, the last key varying fastest) */
static enum nncw_status expand_description(const struct hw_ctx *c, const cJSON *obj,
                                           const char *path, struct nncw_qconfig **list, int *n)
{
    if (!cJSON_IsObject(obj))
        return hw_fail(c, path, "expected a quantizer description object");
    NNCW_TRY(
        check_keys(c, obj, path, field_names, "bits, mode, granularity, level_low or level_high"));
    struct field_values fv[F_COUNT] = {{0}};
    int order[F_COUNT], n_order = 0;
    for (const cJSON *k = obj->child; k; k = k->next) {
        int f = 0;
        while (strcmp(field_names[f], k->string) != 0)
            f++;
        char kp[256];
        join(kp, sizeof kp, path, k->string);
        NNCW_TRY(read_field(c, k, kp, (enum field)f, &fv[f]));
        order[n_order++] = f;
    }
    static const char *const required[] = {"bits", "mode", "granularity"};
    for (int f = 0; f < 3; f++)
        if (!fv[f].item) {
            char kp[256];
            join(kp, sizeof kp, path, required[f]);
            return hw_fail(c, kp, "missing");
        }
    if (!fv[F_LEVEL_LOW].item != !fv[F_LEVEL_HIGH].item) {
        char kp[256];
        join(kp, sizeof kp, path, fv[F_LEVEL_LOW].item ? "level_high" : "level_low");
        return hw_fail(c, kp, "missing (level_low and level_high come together)");
    }
    int idx[F_COUNT] = {0};
    for (;;) {
        int val[F_COUNT] = {0};
        for (int f = 0; f < F_COUNT; f++)
            val[f] = fv[f].item ? fv[f].v[idx[f]] : 0;
        struct nncw_qconfig q = {.bits = val[F_BITS],
                                 .mode = val[F_MODE] ? NNCW_QMODE_ASYMMETRIC : NNCW_QMODE_SYMMETRIC,
                                 .signedness = -1,
                                 .per_channel = val[F_GRANULARITY] == 0};
        if (fv[F_LEVEL_LOW].item)
            NNCW_TRY(levels_signedness(c, path, q.bits, q.mode, val[F_LEVEL_LOW], val[F_LEVEL_HIGH],
                                       &q.signedness));
        NNCW_TRY(append_unique(list, n, &q));
        int k = n_order - 1; /* odometer over the fields in file order */
        while (k >= 0 && ++idx[order[k]] == fv[order[k]].n)
            idx[order[k--]] = 0;
        if (k < 0)
            break;
    }
    return NNCW_OK;
}

/* ---- config.quantization: the aliases ---- */

static void free_aliases(struct hw_ctx *c)
{
    for (int i = 0; i < c->n_alias; i++) {
        nncw_free(c->alias_name[i]);
        nncw_free(c->alias_cfg[i]);
    }
    nncw_free(c->alias_name);
    nncw_free(c->alias_cfg);
    nncw_free(c->alias_n);
}

static enum nncw_status parse_aliases(struct hw_ctx *c, const cJSON *config)
{
    if (!cJSON_IsObject(config))
        return hw_fail(c, "config", "expected an object");
    static const char *const known[] = {"quantization", NULL};
    NNCW_TRY(check_keys(c, config, "config", known, "quantization"));
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(config, "quantization");
    if (!q)
        return NNCW_OK;
    if (!cJSON_IsObject(q))
        return hw_fail(c, "config.quantization", "expected an object of quantizer aliases");
    int n = cJSON_GetArraySize(q);
    c->alias_name = nncw_calloc((size_t)(n ? n : 1), sizeof *c->alias_name);
    c->alias_cfg = nncw_calloc((size_t)(n ? n : 1), sizeof *c->alias_cfg);
    c->alias_n = nncw_calloc((size_t)(n ? n : 1), sizeof *c->alias_n);
    if (!c->alias_name || !c->alias_cfg || !c->alias_n)
        return hw_nomem();
    for (const cJSON *a = q->child; a; a = a->next) {
        char ap[256];
        join(ap, sizeof ap, "config.quantization", a->string);
        if (cJSON_GetObjectItemCaseSensitive(q, a->string) != a)
            return hw_fail(c, ap, "duplicate alias");
        int i = c->n_alias++;
        if (!(c->alias_name[i] = nncw_strdup(a->string)))
            return hw_nomem();
        NNCW_TRY(expand_description(c, a, ap, &c->alias_cfg[i], &c->alias_n[i]));
    }
    return NNCW_OK;
}

static int find_alias(const struct hw_ctx *c, const char *name)
{
    for (int i = 0; i < c->n_alias; i++)
        if (strcmp(c->alias_name[i], name) == 0)
            return i;
    return -1;
}

static enum nncw_status unknown_alias(const struct hw_ctx *c, const char *path, const char *name)
{
    char known[512] = "";
    size_t len = 0;
    for (int i = 0; i < c->n_alias && len < sizeof known - 1; i++)
        len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "",
                                c->alias_name[i]);
    return hw_fail(c, path, "unknown quantizer alias '%s' (config.quantization has: %s)", name,
                   c->n_alias ? known : "none");
}

/* "alias", {description}, or a list of them */
static enum nncw_status parse_qconfig_list(const struct hw_ctx *c, const cJSON *item,
                                           const char *path, struct nncw_qconfig **list, int *n)
{
    bool is_list = cJSON_IsArray(item);
    if (is_list && !item->child)
        return hw_fail(c, path, "expected an alias, a description or a non-empty list");
    int i = 0;
    for (const cJSON *e = is_list ? item->child : item; e; e = is_list ? e->next : NULL, i++) {
        char ep[256];
        if (is_list)
            join_index(ep, sizeof ep, path, i);
        else
            snprintf(ep, sizeof ep, "%s", path);
        if (cJSON_IsString(e)) {
            int a = find_alias(c, e->valuestring);
            if (a < 0)
                return unknown_alias(c, ep, e->valuestring);
            for (int k = 0; k < c->alias_n[a]; k++)
                NNCW_TRY(append_unique(list, n, &c->alias_cfg[a][k]));
        } else if (cJSON_IsObject(e)) {
            NNCW_TRY(expand_description(c, e, ep, list, n));
        } else {
            return hw_fail(c, ep, "expected a quantizer alias (a string) or a description");
        }
    }
    return NNCW_OK;
}

/* ---- operations ---- */

static enum nncw_status parse_attributes(const struct hw_ctx *c, const cJSON *attrs,
                                         const char *path, struct nncw_hw_op *op)
{
    if (!cJSON_IsObject(attrs))
        return hw_fail(c, path, "expected an object");
    static const char *const known[] = {"scales", "adjust_padding", "mode", NULL};
    NNCW_TRY(check_keys(c, attrs, path, known, "scales, adjust_padding or mode"));
    char kp[256];
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(attrs, "scales");
    if (s) {
        join(kp, sizeof kp, path, "scales");
        if (!cJSON_IsString(s) || strcmp(s->valuestring, "unified") != 0)
            return hw_fail(c, kp, "expected \"unified\"");
        op->unified_scales = true;
    }
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(attrs, "adjust_padding");
    if (p) {
        join(kp, sizeof kp, path, "adjust_padding");
        if (!cJSON_IsBool(p))
            return hw_fail(c, kp, "expected true or false");
        op->adjust_padding = cJSON_IsTrue(p);
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(attrs, "mode");
    if (m) {
        join(kp, sizeof kp, path, "mode");
        if (!cJSON_IsString(m) || !m->valuestring[0])
            return hw_fail(c, kp, "expected an interpolation mode such as \"linear\"");
        if (!(op->mode = nncw_strdup(m->valuestring)))
            return hw_nomem();
    }
    return NNCW_OK;
}

static enum nncw_status parse_op_quantization(const struct hw_ctx *c, const cJSON *q,
                                              const char *path, struct nncw_hw_op *op)
{
    if (!cJSON_IsObject(q))
        return hw_fail(c, path, "expected an object");
    static const char *const known[] = {"activations", "weights", NULL};
    NNCW_TRY(check_keys(c, q, path, known, "activations or weights"));
    char kp[256];
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(q, "activations");
    if (a) {
        join(kp, sizeof kp, path, "activations");
        NNCW_TRY(parse_qconfig_list(c, a, kp, &op->act, &op->n_act));
    }
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(q, "weights");
    if (w) {
        join(kp, sizeof kp, path, "weights");
        NNCW_TRY(parse_qconfig_list(c, w, kp, &op->w, &op->n_w));
    }
    return NNCW_OK;
}

static enum nncw_status parse_op(const struct hw_ctx *c, const cJSON *e, const char *path,
                                 struct nncw_hw_op *op)
{
    if (!cJSON_IsObject(e))
        return hw_fail(c, path, "expected an operation object");
    static const char *const known[] = {"type", "attributes", "quantization", NULL};
    NNCW_TRY(check_keys(c, e, path, known, "type, attributes or quantization"));
    char kp[256];
    join(kp, sizeof kp, path, "type");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
    if (!t)
        return hw_fail(c, kp, "missing (the OpenVINO op name, e.g. \"Convolution\")");
    if (!cJSON_IsString(t) || !t->valuestring[0])
        return hw_fail(c, kp, "expected a non-empty string");
    if (!(op->type = nncw_strdup(t->valuestring)))
        return hw_nomem();
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(e, "attributes");
    if (attrs) {
        join(kp, sizeof kp, path, "attributes");
        NNCW_TRY(parse_attributes(c, attrs, kp, op));
    }
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(e, "quantization");
    if (q) {
        join(kp, sizeof kp, path, "quantization");
        NNCW_TRY(parse_op_quantization(c, q, kp, op));
    }
    op->wildcard = op->n_act == 0;
    return NNCW_OK;
}

static bool same_entry(const struct nncw_hw_op *a, const struct nncw_hw_op *b)
{
    return strcmp(a->type, b->type) == 0 &&
           (a->mode && b->mode ? strcmp(a->mode, b->mode) == 0 : !a->mode && !b->mode);
}

static enum nncw_status parse_operations(const struct hw_ctx *c, const cJSON *ops,
                                         struct nncw_hw_config *hw)
{
    if (!cJSON_IsArray(ops))
        return hw_fail(c, "operations", "expected a list of operation objects");
    int n = cJSON_GetArraySize(ops);
    hw->ops = nncw_calloc((size_t)(n ? n : 1), sizeof *hw->ops);
    if (!hw->ops)
        return hw_nomem();
    int i = 0;
    for (const cJSON *e = ops->child; e; e = e->next, i++) {
        char ep[64];
        join_index(ep, sizeof ep, "operations", i);
        hw->n_ops = i + 1; /* so that a failure frees this entry */
        NNCW_TRY(parse_op(c, e, ep, &hw->ops[i]));
        for (int k = 0; k < i; k++)
            if (same_entry(&hw->ops[k], &hw->ops[i]))
                return hw_fail(c, ep, "operation '%s'%s%s listed twice (first at operations[%d])",
                               hw->ops[i].type, hw->ops[i].mode ? " with mode " : "",
                               hw->ops[i].mode ? hw->ops[i].mode : "", k);
    }
    return NNCW_OK;
}

static enum nncw_status parse_device(const struct hw_ctx *c, const cJSON *root,
                                     struct nncw_hw_config *hw)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "target_device");
    if (!d)
        return hw_fail(c, "target_device", "missing (\"CPU\", \"GPU\" or \"VPU\")");
    static const char *const devices[] = {"CPU", "GPU", "VPU", "CPU_SPR", NULL};
    for (int i = 0; devices[i]; i++)
        if (cJSON_IsString(d) && strcmp(d->valuestring, devices[i]) == 0) {
            snprintf(hw->target_device, sizeof hw->target_device, "%s", devices[i]);
            return NNCW_OK;
        }
    return hw_fail(c, "target_device", "expected \"CPU\", \"GPU\", \"VPU\" or \"CPU_SPR\"");
}

static enum nncw_status parse_root(struct hw_ctx *c, const cJSON *root, struct nncw_hw_config *hw)
{
    if (!cJSON_IsObject(root))
        return hw_fail(c, "", "expected an object at the top level");
    static const char *const known[] = {"target_device", "config", "operations", NULL};
    NNCW_TRY(check_keys(c, root, "", known, "target_device, config or operations"));
    NNCW_TRY(parse_device(c, root, hw));
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(root, "config");
    if (config)
        NNCW_TRY(parse_aliases(c, config));
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(root, "operations");
    if (!ops)
        return hw_fail(c, "operations", "missing");
    return parse_operations(c, ops, hw);
}

/* ---- lifecycle ---- */

void nncw_hw_config_free(struct nncw_hw_config *hw)
{
    if (!hw)
        return;
    for (int i = 0; i < hw->n_ops; i++) {
        nncw_free(hw->ops[i].type);
        nncw_free(hw->ops[i].mode);
        nncw_free(hw->ops[i].act);
        nncw_free(hw->ops[i].w);
    }
    nncw_free(hw->ops);
    nncw_free(hw->source);
    nncw_free(hw);
}

enum nncw_status nncw_hw_config_parse(const char *json, const char *source,
                                      struct nncw_hw_config **out)
{
    struct nncw_hw_config *hw = nncw_calloc(1, sizeof *hw);
    if (!hw || !(hw->source = nncw_strdup(source ? source : "<string>"))) {
        nncw_free(hw);
        return hw_nomem();
    }
    struct hw_ctx c = {.source = hw->source};
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(json, &end, true);
    enum nncw_status s;
    if (!root) {
        int line = 1;
        for (const char *p = json; end && p < end && *p; p++)
            line += *p == '\n';
        s = NNCW_FAIL(NNCW_ERR_PARSE, "hw config '%s': line %d: invalid JSON", hw->source, line);
    } else {
        s = parse_root(&c, root, hw);
    }
    cJSON_Delete(root);
    free_aliases(&c);
    if (s != NNCW_OK) {
        nncw_hw_config_free(hw);
        return s;
    }
    *out = hw;
    return NNCW_OK;
}

enum nncw_status nncw_hw_config_load(const char *path, struct nncw_hw_config **out)
{
    char *text = NULL;
    NNCW_TRY(nncw_quant_read_text_file(path, "hw config", MAX_HW_CONFIG_BYTES, &text));
    enum nncw_status s = nncw_hw_config_parse(text, path, out);
    nncw_free(text);
    return s;
}

const char *nncw_hw_config_file_for_device(enum nncw_target_device d)
{
    switch (d) {
    case NNCW_DEVICE_ANY:
    case NNCW_DEVICE_CPU:
    case NNCW_DEVICE_CPU_SPR:
        return "cpu.json";
    case NNCW_DEVICE_GPU:
        return "gpu.json";
    case NNCW_DEVICE_VPU:
        return "vpu.json";
    default:
        return NULL;
    }
}

const char *nncw_hw_config_builtin_text(const char *file)
{
    for (int i = 0; i < nncw_hw_builtin_count; i++)
        if (strcmp(nncw_hw_builtin_files[i].name, file) == 0)
            return nncw_hw_builtin_files[i].text;
    return NULL;
}

enum nncw_status nncw_hw_config_load_for_device(enum nncw_target_device d, const char *dir,
                                                struct nncw_hw_config **out)
{
    const char *file = nncw_hw_config_file_for_device(d);
    if (!file) {
        *out = NULL; /* TRIAL: no hardware config, NNCF's default traits and configs */
        return NNCW_OK;
    }
    if (!dir) {
        const char *text = nncw_hw_config_builtin_text(file);
        if (!text)
            return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "hw config: no built-in '%s'", file);
        return nncw_hw_config_parse(text, file, out);
    }
    size_t len = strlen(dir);
    if (len > 5 && strcmp(dir + len - 5, ".json") == 0)
        return nncw_hw_config_load(dir, out);
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "hw config: directory name too long");
    return nncw_hw_config_load(path, out);
}

/* ---- queries ---- */

const struct nncw_hw_op *nncw_hw_config_find_op(const struct nncw_hw_config *hw, const char *type,
                                                const char *mode)
{
    const struct nncw_hw_op *any = NULL;
    for (int i = 0; i < hw->n_ops; i++) {
        const struct nncw_hw_op *op = &hw->ops[i];
        if (strcmp(op->type, type) != 0)
            continue;
        if (!op->mode)
            any = op;
        else if (mode && strcmp(op->mode, mode) == 0)
            return op;
    }
    return any;
}
