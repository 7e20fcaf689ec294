/* The sparsity sections of a config (magnitude_sparsity, rb_sparsity, const_sparsity): the
 * entry's keys (kept as JSON text by the root parser) parsed with NNCF's defaults through the
 * typed reads shared with the quantization parser. */
#include "compression/sparsity/sparsity_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "compression/entry_config.h"
#include "compression/quantization/quantization_internal.h"
#include "core/alloc.h"
#include "core/common.h"

static const char *const algo_names[] = {"magnitude_sparsity", "rb_sparsity", "const_sparsity"};
_Static_assert(NNCW_ARRAY_LEN(algo_names) == NNCW_SPARSITY_ALGO_COUNT, "algo_names");

const char *nncw_sparsity_algo_name(enum nncw_sparsity_algo a)
{
    return (unsigned)a < NNCW_SPARSITY_ALGO_COUNT ? algo_names[a] : "?";
}

/* levels are fractions of zeroed weights: NNCF refuses 1 (nothing left) */
#define MAX_LEVEL 0.999999
#define MAX_EPOCH 1000000

/* ---- params ---- */

static enum nncw_status parse_int_list(const struct nncw_qcfg_ctx *c, const cJSON *item,
                                       const char *path, int *v, int *n)
{
    if (!cJSON_IsArray(item))
        return nncw_qcfg_fail_type(c, path, item, "a list of epochs");
    int count = cJSON_GetArraySize(item);
    if (count > NNCW_SPARSITY_MAX_MULTISTEP)
        return nncw_qcfg_fail(c, path, "at most %d steps, got %d", NNCW_SPARSITY_MAX_MULTISTEP,
                              count);
    int i = 0;
    for (const cJSON *e = item->child; e; e = e->next, i++) {
        char ep[300];
        nncw_qcfg_path_index(ep, sizeof ep, path, i);
        NNCW_TRY(nncw_qcfg_get_int(c, e, ep, 0, MAX_EPOCH, &v[i]));
    }
    *n = count;
    return NNCW_OK;
}

static enum nncw_status parse_level_list(const struct nncw_qcfg_ctx *c, const cJSON *item,
                                         const char *path, float *v, int *n)
{
    if (!cJSON_IsArray(item))
        return nncw_qcfg_fail_type(c, path, item, "a list of sparsity levels");
    int count = cJSON_GetArraySize(item);
    if (count < 1 || count > NNCW_SPARSITY_MAX_MULTISTEP + 1)
        return nncw_qcfg_fail(c, path, "expected 1 to %d levels, got %d",
                              NNCW_SPARSITY_MAX_MULTISTEP + 1, count);
    int i = 0;
    for (const cJSON *e = item->child; e; e = e->next, i++) {
        char ep[300];
        nncw_qcfg_path_index(ep, sizeof ep, path, i);
        NNCW_TRY(nncw_qcfg_get_float(c, e, ep, 0, MAX_LEVEL, &v[i]));
    }
    *n = count;
    return NNCW_OK;
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static const char *const schedule_names[] = {"polynomial", "exponential", "adaptive", "multistep",
                                             NULL};
static const char *const mode_names[] = {"global", "local", NULL};
static const char *const importance_names[] = {"normed_abs", "abs", NULL};

/* the keys of "params" other than the schedule's type */
static enum nncw_status parse_param(const struct nncw_qcfg_ctx *c, const cJSON *k, const char *kp,
                                    struct nncw_sparsity_config *sc, bool *got_steps,
                                    bool *got_levels, int *n_levels)
{
    struct nncw_sparsity_schedule *s = &sc->schedule;
    const char *key = k->string;
    int v;
    if (!strcmp(key, "sparsity_target"))
        return nncw_qcfg_get_float(c, k, kp, 0, MAX_LEVEL, &s->target);
    if (!strcmp(key, "sparsity_target_epoch"))
        return nncw_qcfg_get_int(c, k, kp, 0, MAX_EPOCH, &s->target_epoch);
    if (!strcmp(key, "sparsity_freeze_epoch"))
        return nncw_qcfg_get_int(c, k, kp, 0, MAX_EPOCH, &s->freeze_epoch);
    if (!strcmp(key, "power"))
        return nncw_qcfg_get_float(c, k, kp, 1e-6, 1e6, &s->power);
    if (!strcmp(key, "concave"))
        return nncw_qcfg_get_bool(c, k, kp, &s->concave);
    if (!strcmp(key, "update_per_optimizer_step"))
        return nncw_qcfg_get_bool(c, k, kp, &s->per_step);
    if (!strcmp(key, "steps_per_epoch")) {
        NNCW_TRY(nncw_qcfg_get_int(c, k, kp, 1, 1 << 30, &v));
        s->steps_per_epoch = v;
        return NNCW_OK;
    }
    if (!strcmp(key, "multistep_steps")) {
        *got_steps = true;
        return parse_int_list(c, k, kp, s->steps, &s->n_steps);
    }
    if (!strcmp(key, "multistep_sparsity_levels")) {
        *got_levels = true;
        return parse_level_list(c, k, kp, s->levels, n_levels);
    }
    if (!strcmp(key, "patience"))
        return nncw_qcfg_get_int(c, k, kp, 1, MAX_EPOCH, &s->patience);
    if (!strcmp(key, "step"))
        return nncw_qcfg_get_float(c, k, kp, 1e-6, MAX_LEVEL, &s->step);
    if (!strcmp(key, "eps"))
        return nncw_qcfg_get_float(c, k, kp, 0, 1, &s->eps);
    if (!strcmp(key, "sparsity_level_setting_mode")) {
        NNCW_TRY(nncw_qcfg_get_enum(c, k, kp, mode_names, &v));
        sc->local = v == 1;
        return NNCW_OK;
    }
    /* weight_importance (check_keys let it through for magnitude only) */
    NNCW_TRY(nncw_qcfg_get_enum(c, k, kp, importance_names, &v));
    sc->importance = (enum nncw_weight_importance)v;
    return NNCW_OK;
}

/* multistep: levels has one entry more than steps; the last level is the target */
static enum nncw_status check_multistep(const struct nncw_qcfg_ctx *c, const char *path,
                                        struct nncw_sparsity_config *sc, bool got_steps,
                                        bool got_levels, int n_levels)
{
    struct nncw_sparsity_schedule *s = &sc->schedule;
    if (!got_levels)
        n_levels = 2;
    if (got_steps || got_levels) {
        if (n_levels != s->n_steps + 1) {
            char kp[300];
            nncw_qcfg_path(kp, sizeof kp, path, "multistep_sparsity_levels");
            return nncw_qcfg_fail(c, kp,
                                  "%d levels for %d multistep_steps (one level before the first "
                                  "step and one after each: %d expected)",
                                  n_levels, s->n_steps, s->n_steps + 1);
        }
    }
    qsort(s->steps, (size_t)s->n_steps, sizeof s->steps[0], compare_ints);
    if (s->type == NNCW_SCHEDULE_MULTISTEP)
        s->target = s->levels[s->n_steps];
    return NNCW_OK;
}

static enum nncw_status parse_params(const struct nncw_qcfg_ctx *c, const cJSON *obj,
                                     const char *path, struct nncw_sparsity_config *sc)
{
    static const char *const known[] = {"schedule",
                                        "sparsity_target",
                                        "sparsity_target_epoch",
                                        "sparsity_freeze_epoch",
                                        "power",
                                        "concave",
                                        "update_per_optimizer_step",
                                        "steps_per_epoch",
                                        "multistep_steps",
                                        "multistep_sparsity_levels",
                                        "patience",
                                        "step",
                                        "eps",
                                        "sparsity_level_setting_mode",
                                        "weight_importance",
                                        NULL};
    NNCW_TRY(nncw_qcfg_expect_object(c, obj, path));
    if (sc->algo == NNCW_SPARSITY_CONST) {
        if (obj->child) {
            char kp[300];
            nncw_qcfg_path(kp, sizeof kp, path, obj->child->string);
            return nncw_qcfg_fail(c, kp, "unknown key (const_sparsity takes no params)");
        }
        return NNCW_OK;
    }
    /* weight_importance is magnitude's alone: leave it out of rb's known keys */
    const char *known_rb[NNCW_ARRAY_LEN(known)];
    memcpy(known_rb, known, sizeof known);
    known_rb[NNCW_ARRAY_LEN(known) - 2] = NULL;
    NNCW_TRY(
        nncw_qcfg_check_keys(c, obj, path, sc->algo == NNCW_SPARSITY_MAGNITUDE ? known : known_rb));
    const cJSON *sched = cJSON_GetObjectItemCaseSensitive(obj, "schedule");
    char kp[300];
    if (sched) {
        int v;
        nncw_qcfg_path(kp, sizeof kp, path, "schedule");
        NNCW_TRY(nncw_qcfg_get_enum(c, sched, kp, schedule_names, &v));
        if (v == NNCW_SCHEDULE_ADAPTIVE && sc->algo != NNCW_SPARSITY_RB)
            return nncw_qcfg_fail(
                c, kp,
                "\"adaptive\" follows the sparsity the RB loss reaches: it is for "
                "rb_sparsity (magnitude_sparsity takes \"polynomial\", "
                "\"exponential\" or \"multistep\")");
        float init = sc->schedule.init;
        nncw_sparsity_schedule_defaults(&sc->schedule, (enum nncw_sparsity_schedule_type)v);
        sc->schedule.init = init;
    }
    bool got_steps = false, got_levels = false;
    int n_levels = 0;
    for (const cJSON *k = obj->child; k; k = k->next) {
        if (k == sched)
            continue;
        nncw_qcfg_path(kp, sizeof kp, path, k->string);
        NNCW_TRY(parse_param(c, k, kp, sc, &got_steps, &got_levels, &n_levels));
    }
    return check_multistep(c, path, sc, got_steps, got_levels, n_levels);
}

/* ---- the entry's own keys ---- */

static enum nncw_status parse_settings(const struct nncw_qcfg_ctx *c, const cJSON *root,
                                       struct nncw_sparsity_config *sc)
{
    static const char *const known_magnitude[] = {"algorithm",   "sparsity_init",  "params",
                                                  "initializer", "ignored_scopes", "target_scopes",
                                                  NULL};
    static const char *const known_rb[] = {
        "algorithm",      "sparsity_init", "params", "compression_lr_multiplier",
        "ignored_scopes", "target_scopes", NULL};
    static const char *const known_const[] = {"algorithm", "ignored_scopes", "target_scopes", NULL};
    const char *const *known = sc->algo == NNCW_SPARSITY_MAGNITUDE ? known_magnitude
                               : sc->algo == NNCW_SPARSITY_RB      ? known_rb
                                                                   : known_const;
    NNCW_TRY(nncw_qcfg_check_keys(c, root, sc->path, known));
    for (const cJSON *k = root->child; k; k = k->next) {
        char kp[300];
        nncw_qcfg_path(kp, sizeof kp, sc->path, k->string);
        if (!strcmp(k->string, "sparsity_init"))
            NNCW_TRY(nncw_qcfg_get_float(c, k, kp, 0, MAX_LEVEL, &sc->schedule.init));
        else if (!strcmp(k->string, "compression_lr_multiplier"))
            NNCW_TRY(nncw_qcfg_get_float(c, k, kp, 1e-9, 1e9, &sc->compression_lr_multiplier));
        else if (!strcmp(k->string, "initializer"))
            NNCW_TRY(nncw_bn_initializer_parse(c, k, kp, &sc->num_bn_adaptation_samples));
    }
    return NNCW_OK;
}

/* ---- lifecycle ---- */

void nncw_sparsity_config_free(struct nncw_sparsity_config *sc)
{
    if (!sc)
        return;
    nncw_free(sc->source);
    nncw_free(sc->path);
    nncw_scope_list_fini(&sc->ignored);
    nncw_scope_list_fini(&sc->target);
    nncw_free(sc);
}

static enum nncw_status parse_entry(const struct nncw_qcfg_ctx *c,
                                    const struct nncw_compression_config *e,
                                    struct nncw_sparsity_config *sc)
{
    struct nncw_entry_json j;
    NNCW_TRY(nncw_entry_config_read(c, e, sc->path, &sc->ignored, &sc->target, &j));
    /* settings first: params.schedule keeps sparsity_init */
    enum nncw_status s = parse_settings(c, j.settings, sc);
    char kp[300];
    nncw_qcfg_path(kp, sizeof kp, sc->path, "params");
    if (s == NNCW_OK)
        s = parse_params(c, j.params, kp, sc);
    nncw_entry_config_fini(&j);
    return s;
}

static enum nncw_status new_defaults(const char *source, const char *path,
                                     enum nncw_sparsity_algo algo,
                                     struct nncw_sparsity_config **out)
{
    struct nncw_sparsity_config *sc = nncw_calloc(1, sizeof *sc);
    if (!sc)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    sc->algo = algo;
    /* RB's default schedule is exponential, magnitude's polynomial */
    nncw_sparsity_schedule_defaults(&sc->schedule, algo == NNCW_SPARSITY_RB
                                                       ? NNCW_SCHEDULE_EXPONENTIAL
                                                       : NNCW_SCHEDULE_POLYNOMIAL);
    sc->importance = NNCW_IMPORTANCE_NORMED_ABS;
    sc->num_bn_adaptation_samples = 2000;
    if (!(sc->source = nncw_strdup(source)) || !(sc->path = nncw_strdup(path))) {
        nncw_sparsity_config_free(sc);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    }
    *out = sc;
    return NNCW_OK;
}

enum nncw_status nncw_sparsity_config_parse(const struct nncw_config *cfg, int index,
                                            struct nncw_sparsity_config **out)
{
    if (!cfg || index < 0 || index >= cfg->n_compression)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "config: no compression entry %d", index);
    const struct nncw_compression_config *e = &cfg->compression[index];
    int algo = 0;
    while (algo < NNCW_SPARSITY_ALGO_COUNT && strcmp(e->algorithm, algo_names[algo]))
        algo++;
    if (algo == NNCW_SPARSITY_ALGO_COUNT)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "config '%s': compression[%d] is '%s', not a sparsity algorithm",
                         cfg->source ? cfg->source : "<string>", index, e->algorithm);
    char path[32];
    snprintf(path, sizeof path, "%s", e->path);
    struct nncw_sparsity_config *sc = NULL;
    NNCW_TRY(new_defaults(cfg->source ? cfg->source : "<string>", path,
                          (enum nncw_sparsity_algo)algo, &sc));
    struct nncw_qcfg_ctx c = {sc->source};
    enum nncw_status s = parse_entry(&c, e, sc);
    if (s != NNCW_OK) {
        nncw_sparsity_config_free(sc);
        return s;
    }
    *out = sc;
    return NNCW_OK;
}
