/* The filter_pruning section of a config (the entry's keys, kept as JSON text by the root
 * parser) parsed with NNCF 2.0's defaults through the typed reads shared with the quantization
 * parser; and the controller state's JSON text. */
#include "compression/pruning/pruning_config.h"

#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "compression/entry_config.h"
#include "compression/quantization/quantization_internal.h"
#include "core/alloc.h"
#include "core/common.h"

static const char *const schedule_names[] = {"baseline", "exponential", "exponential_with_bias",
                                             NULL};
static const char *const importance_names[] = {"L2", "L1", "geometric_median", NULL};
static const char *const ranking_names[] = {"unweighted_ranking", "learned_ranking", NULL};
_Static_assert(NNCW_ARRAY_LEN(schedule_names) == NNCW_PRUNING_SCHEDULE_COUNT + 1, "schedules");
_Static_assert(NNCW_ARRAY_LEN(importance_names) == NNCW_FILTER_IMPORTANCE_COUNT + 1, "criteria");

/* a level of 1 would leave nothing; NNCF's schema stops short of it */
#define MAX_LEVEL 0.999
#define MAX_EPOCH 1000000

const char *nncw_pruning_schedule_name(enum nncw_pruning_schedule_type t)
{
    return (unsigned)t < NNCW_PRUNING_SCHEDULE_COUNT ? schedule_names[t] : "?";
}

const char *nncw_filter_importance_name(enum nncw_filter_importance i)
{
    return (unsigned)i < NNCW_FILTER_IMPORTANCE_COUNT ? importance_names[i] : "?";
}

/* ---- params ---- */

static enum nncw_status parse_bool_param(const struct nncw_qcfg_ctx *c, const cJSON *k,
                                         const char *kp, struct nncw_pruning_config *pc)
{
    static const struct {
        const char *key;
        size_t offset;
    } flags[] = {
        {"all_weights", offsetof(struct nncw_pruning_config, all_weights)},
        {"prune_first_conv", offsetof(struct nncw_pruning_config, prune_first_conv)},
        {"prune_last_conv", offsetof(struct nncw_pruning_config, prune_last_conv)},
        {"prune_downsample_convs", offsetof(struct nncw_pruning_config, prune_downsample_convs)},
        {"prune_batch_norms", offsetof(struct nncw_pruning_config, prune_batch_norms)},
        {"zero_grad", offsetof(struct nncw_pruning_config, zero_grad)},
    };
    for (size_t i = 0; i < NNCW_ARRAY_LEN(flags); i++)
        if (!strcmp(k->string, flags[i].key))
            return nncw_qcfg_get_bool(c, k, kp, (bool *)((char *)pc + flags[i].offset));
    return NNCW_FAIL(NNCW_ERR_INTERNAL, "pruning config: unhandled key '%s'", k->string);
}

static enum nncw_status parse_legr(const struct nncw_qcfg_ctx *c, const cJSON *obj,
                                   const char *path, struct nncw_pruning_config *pc)
{
    static const char *const known[] = {"generations", "train_steps", "max_pruning", "random_seed",
                                        NULL};
    NNCW_TRY(nncw_qcfg_expect_object(c, obj, path));
    NNCW_TRY(nncw_qcfg_check_keys(c, obj, path, known));
    for (const cJSON *k = obj->child; k; k = k->next) {
        char kp[340];
        int v;
        nncw_qcfg_path(kp, sizeof kp, path, k->string);
        if (!strcmp(k->string, "generations"))
            NNCW_TRY(nncw_qcfg_get_int(c, k, kp, 1, 1000000, &pc->legr_generations));
        else if (!strcmp(k->string, "train_steps"))
            NNCW_TRY(nncw_qcfg_get_int(c, k, kp, 0, 100000000, &pc->legr_train_steps));
        else if (!strcmp(k->string, "max_pruning"))
            NNCW_TRY(nncw_qcfg_get_float(c, k, kp, 0, MAX_LEVEL, &pc->legr_max_pruning));
        else {
            NNCW_TRY(nncw_qcfg_get_int(c, k, kp, 0, 2147483647, &v));
            pc->legr_seed = (uint64_t)v;
        }
    }
    return NNCW_OK;
}

static enum nncw_status parse_param(const struct nncw_qcfg_ctx *c, const cJSON *k, const char *kp,
                                    struct nncw_pruning_config *pc, bool *got_target)
{
    const char *key = k->string;
    int v;
    if (!strcmp(key, "schedule")) {
        NNCW_TRY(nncw_qcfg_get_enum(c, k, kp, schedule_names, &v));
        pc->schedule = (enum nncw_pruning_schedule_type)v;
        return NNCW_OK;
    }
    if (!strcmp(key, "pruning_target") || !strcmp(key, "pruning_flops_target")) {
        if (*got_target)
            return nncw_qcfg_fail(c, kp,
                                  "pruning_target and pruning_flops_target exclude each other");
        *got_target = true;
        pc->flops = !strcmp(key, "pruning_flops_target");
        return nncw_qcfg_get_float(c, k, kp, 0, MAX_LEVEL, &pc->target);
    }
    if (!strcmp(key, "num_init_steps"))
        return nncw_qcfg_get_int(c, k, kp, 0, MAX_EPOCH, &pc->num_init_steps);
    if (!strcmp(key, "pruning_steps"))
        return nncw_qcfg_get_int(c, k, kp, 1, MAX_EPOCH, &pc->pruning_steps);
    if (!strcmp(key, "filter_importance")) {
        NNCW_TRY(nncw_qcfg_get_enum(c, k, kp, importance_names, &v));
        pc->importance = (enum nncw_filter_importance)v;
        return NNCW_OK;
    }
    if (!strcmp(key, "interlayer_ranking_type")) {
        NNCW_TRY(nncw_qcfg_get_enum(c, k, kp, ranking_names, &v));
        pc->learned_ranking = v == 1;
        return NNCW_OK;
    }
    if (!strcmp(key, "legr_params"))
        return parse_legr(c, k, kp, pc);
    if (!strcmp(key, "save_ranking_coeffs_path"))
        return nncw_qcfg_get_string(c, k, kp, &pc->save_coeffs_path);
    if (!strcmp(key, "load_ranking_coeffs_path"))
        return nncw_qcfg_get_string(c, k, kp, &pc->load_coeffs_path);
    return parse_bool_param(c, k, kp, pc);
}

static enum nncw_status parse_params(const struct nncw_qcfg_ctx *c, const cJSON *obj,
                                     const char *path, struct nncw_pruning_config *pc)
{
    static const char *const known[] = {"schedule",
                                        "pruning_target",
                                        "pruning_flops_target",
                                        "num_init_steps",
                                        "pruning_steps",
                                        "filter_importance",
                                        "interlayer_ranking_type",
                                        "all_weights",
                                        "prune_first_conv",
                                        "prune_last_conv",
                                        "prune_downsample_convs",
                                        "prune_batch_norms",
                                        "zero_grad",
                                        "legr_params",
                                        "save_ranking_coeffs_path",
                                        "load_ranking_coeffs_path",
                                        NULL};
    NNCW_TRY(nncw_qcfg_expect_object(c, obj, path));
    NNCW_TRY(nncw_qcfg_check_keys(c, obj, path, known));
    bool got_target = false;
    for (const cJSON *k = obj->child; k; k = k->next) {
        char kp[300];
        nncw_qcfg_path(kp, sizeof kp, path, k->string);
        NNCW_TRY(parse_param(c, k, kp, pc, &got_target));
    }
    if (pc->init > pc->target) {
        char kp[300];
        nncw_qcfg_path(kp, sizeof kp, pc->path, "pruning_init");
        return nncw_qcfg_fail(c, kp, "%g is above the target %g", (double)pc->init,
                              (double)pc->target);
    }
    return NNCW_OK;
}

/* ---- the entry's own keys ---- */

static enum nncw_status parse_settings(const struct nncw_qcfg_ctx *c, const cJSON *root,
                                       struct nncw_pruning_config *pc)
{
    static const char *const known[] = {"algorithm",      "pruning_init",  "params", "initializer",
                                        "ignored_scopes", "target_scopes", NULL};
    NNCW_TRY(nncw_qcfg_check_keys(c, root, pc->path, known));
    for (const cJSON *k = root->child; k; k = k->next) {
        char kp[300];
        nncw_qcfg_path(kp, sizeof kp, pc->path, k->string);
        if (!strcmp(k->string, "pruning_init"))
            NNCW_TRY(nncw_qcfg_get_float(c, k, kp, 0, MAX_LEVEL, &pc->init));
        else if (!strcmp(k->string, "initializer"))
            NNCW_TRY(nncw_bn_initializer_parse(c, k, kp, &pc->num_bn_adaptation_samples));
    }
    return NNCW_OK;
}

/* ---- lifecycle ---- */

void nncw_pruning_config_free(struct nncw_pruning_config *pc)
{
    if (!pc)
        return;
    nncw_free(pc->source);
    nncw_free(pc->path);
    nncw_free(pc->save_coeffs_path);
    nncw_free(pc->load_coeffs_path);
    nncw_scope_list_fini(&pc->ignored);
    nncw_scope_list_fini(&pc->target_scopes);
    nncw_free(pc);
}

static enum nncw_status parse_entry(const struct nncw_qcfg_ctx *c,
                                    const struct nncw_compression_config *e,
                                    struct nncw_pruning_config *pc)
{
    struct nncw_entry_json j;
    NNCW_TRY(nncw_entry_config_read(c, e, pc->path, &pc->ignored, &pc->target_scopes, &j));
    /* settings first: the params check pruning_init against the target */
    enum nncw_status s = parse_settings(c, j.settings, pc);
    char kp[300];
    nncw_qcfg_path(kp, sizeof kp, pc->path, "params");
    if (s == NNCW_OK)
        s = parse_params(c, j.params, kp, pc);
    nncw_entry_config_fini(&j);
    return s;
}

enum nncw_status nncw_pruning_config_parse(const struct nncw_config *cfg, int index,
                                           struct nncw_pruning_config **out)
{
    if (!cfg || index < 0 || index >= cfg->n_compression)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "config: no compression entry %d", index);
    const struct nncw_compression_config *e = &cfg->compression[index];
    const char *source = cfg->source ? cfg->source : "<string>";
    if (strcmp(e->algorithm, "filter_pruning"))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "config '%s': compression[%d] is '%s', not filter_pruning", source, index,
                         e->algorithm);
    struct nncw_pruning_config *pc = nncw_calloc(1, sizeof *pc);
    char path[32];
    snprintf(path, sizeof path, "compression[%d]", index);
    if (!pc || !(pc->source = nncw_strdup(source)) || !(pc->path = nncw_strdup(path))) {
        nncw_pruning_config_free(pc);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    }
    /* NNCF 2.0's defaults (fact sheet 1.4) */
    pc->schedule = NNCW_PRUNING_SCHEDULE_BASELINE;
    pc->target = 0.5f;
    pc->pruning_steps = 100;
    pc->importance = NNCW_FILTER_IMPORTANCE_L2;
    pc->prune_batch_norms = true;
    pc->zero_grad = true;
    pc->num_bn_adaptation_samples = 2000;
    pc->legr_generations = 400;
    pc->legr_train_steps = 200;
    pc->legr_max_pruning = -1.0f; /* the target unless given */
    pc->legr_seed = 42;
    struct nncw_qcfg_ctx c = {pc->source};
    enum nncw_status s = parse_entry(&c, e, pc);
    if (s == NNCW_OK && pc->learned_ranking) { /* NNCF: LeGR ranks globally */
        pc->all_weights = true;
        if (pc->legr_max_pruning < 0)
            pc->legr_max_pruning = pc->target;
    }
    if (s != NNCW_OK) {
        nncw_pruning_config_free(pc);
        return s;
    }
    *out = pc;
    return NNCW_OK;
}

/* ---- controller state ---- */

char *nncw_pruning_state_format(const struct nncw_pruning_state *st)
{
    size_t size = 160 + (size_t)st->n_excluded * 12;
    char *text = nncw_malloc(size);
    if (!text)
        return NULL;
    int len = snprintf(text, size,
                       "{\"epoch\":%d,\"level\":%.9g,\"target\":%.9g,\"frozen\":%s,"
                       "\"rate_set\":%s,\"excluded\":[",
                       st->epoch, (double)st->level, (double)st->target,
                       st->frozen ? "true" : "false", st->rate_set ? "true" : "false");
    for (int i = 0; i < st->n_excluded; i++)
        len += snprintf(text + len, size - (size_t)len, "%s%d", i ? "," : "", st->excluded[i]);
    snprintf(text + len, size - (size_t)len, "]}");
    return text;
}

static enum nncw_status state_fail(const char *key, const char *what)
{
    return NNCW_FAIL(NNCW_ERR_PARSE, "filter_pruning state: '%s': %s", key, what);
}

static enum nncw_status state_number(const cJSON *root, const char *key, double lo, double hi,
                                     double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!cJSON_IsNumber(v))
        return state_fail(key, "missing or not a number");
    if (!(v->valuedouble >= lo && v->valuedouble <= hi))
        return state_fail(key, "out of range");
    *out = v->valuedouble;
    return NNCW_OK;
}

static enum nncw_status state_bool(const cJSON *root, const char *key, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!cJSON_IsBool(v))
        return state_fail(key, "missing or not true/false");
    *out = cJSON_IsTrue(v);
    return NNCW_OK;
}

static enum nncw_status state_fields(const cJSON *root, struct nncw_pruning_state *st)
{
    double epoch = 0, level = 0, target = 0;
    NNCW_TRY(state_number(root, "epoch", -1, MAX_EPOCH, &epoch));
    NNCW_TRY(state_number(root, "level", 0, MAX_LEVEL, &level));
    NNCW_TRY(state_number(root, "target", 0, MAX_LEVEL, &target));
    st->epoch = (int)epoch;
    st->level = (float)level;
    st->target = (float)target;
    NNCW_TRY(state_bool(root, "frozen", &st->frozen));
    NNCW_TRY(state_bool(root, "rate_set", &st->rate_set));
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(root, "excluded");
    if (!cJSON_IsArray(ex) || cJSON_GetArraySize(ex) > (int)NNCW_ARRAY_LEN(st->excluded))
        return state_fail("excluded", "missing, not a list or too long");
    st->n_excluded = 0;
    for (const cJSON *e = ex->child; e; e = e->next) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 1e6)
            return state_fail("excluded", "expected group ids");
        st->excluded[st->n_excluded++] = (int)e->valuedouble;
    }
    return NNCW_OK;
}

enum nncw_status nncw_pruning_state_parse(const char *json, struct nncw_pruning_state *out)
{
    cJSON *root = cJSON_Parse(json ? json : "");
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return NNCW_FAIL(NNCW_ERR_PARSE, "filter_pruning state: not a JSON object");
    }
    struct nncw_pruning_state st = {0};
    enum nncw_status s = state_fields(root, &st);
    cJSON_Delete(root);
    if (s == NNCW_OK)
        *out = st;
    return s;
}

/* ---- LeGR's ranking coefficients ---- */

enum nncw_status nncw_pruning_coeffs_parse(const char *json, const char *source, int n,
                                           const char *const *names, float *a, float *b)
{
    cJSON *root = cJSON_Parse(json ? json : "");
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return NNCW_FAIL(NNCW_ERR_PARSE, "ranking coefficients '%s': not a JSON object", source);
    }
    enum nncw_status s = NNCW_OK;
    for (int i = 0; i < n && s == NNCW_OK; i++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, names[i]);
        if (!e)
            s = NNCW_FAIL(NNCW_ERR_PARSE, "ranking coefficients '%s': no entry for layer '%s'",
                          source, names[i]);
        else if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 ||
                 !cJSON_IsNumber(cJSON_GetArrayItem(e, 0)) ||
                 !cJSON_IsNumber(cJSON_GetArrayItem(e, 1)))
            s = NNCW_FAIL(NNCW_ERR_PARSE, "ranking coefficients '%s': '%s': expected [a, b]",
                          source, names[i]);
        else {
            a[i] = (float)cJSON_GetArrayItem(e, 0)->valuedouble;
            b[i] = (float)cJSON_GetArrayItem(e, 1)->valuedouble;
        }
    }
    cJSON_Delete(root);
    return s;
}
