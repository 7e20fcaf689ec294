/* The accuracy_aware_training root key (NNCF 2.1+): {"mode": "early_exit" |
 * "adaptive_compression_level", "params": {...}} with NNCF's defaults. */
#include <math.h>
#include <string.h>

#include <cJSON.h>

#include "config/config_internal.h"

static const char *const mode_names[] = {
    [NNCW_AAT_EARLY_EXIT] = "early_exit",
    [NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL] = "adaptive_compression_level",
};
_Static_assert(sizeof mode_names / sizeof mode_names[0] == NNCW_AAT_MODE_COUNT,
               "mode_names out of date");

const char *nncw_aat_mode_name(enum nncw_aat_mode mode)
{
    return (unsigned)mode < NNCW_AAT_MODE_COUNT ? mode_names[mode] : "?";
}

struct nncw_aat_config nncw_aat_config_defaults(enum nncw_aat_mode mode)
{
    return (struct nncw_aat_config){
        .mode = mode,
        .maximal_relative_accuracy_degradation = NAN,
        .maximal_absolute_accuracy_degradation = NAN,
        .maximal_total_epochs = 10000,
        .initial_training_phase_epochs = 5,
        .patience_epochs = 3,
        .initial_compression_rate_step = 0.1f,
        .compression_rate_step_reduction_factor = 0.5f,
        .lr_reduction_factor = 0.5f,
        .minimal_compression_rate_step = 0.025f,
    };
}

/* the keys only the adaptive mode reads; early_exit warns about them */
static const char *const adaptive_keys[] = {
    "initial_training_phase_epochs",
    "patience_epochs",
    "initial_compression_rate_step",
    "compression_rate_step_reduction_factor",
    "lr_reduction_factor",
    "minimal_compression_rate_step",
    NULL,
};

static bool is_adaptive_key(const char *k)
{
    for (int i = 0; adaptive_keys[i]; i++)
        if (strcmp(adaptive_keys[i], k) == 0)
            return true;
    return false;
}

static enum nncw_status parse_mode(struct nncw_cfg_ctx *c, const cJSON *item, const char *path,
                                   enum nncw_aat_mode *out)
{
    if (!item)
        return nncw_cfg_fail(c, path, "missing (early_exit or adaptive_compression_level)");
    if (!cJSON_IsString(item))
        return nncw_cfg_fail_type(c, path, item, "a string");
    for (int m = 0; m < NNCW_AAT_MODE_COUNT; m++)
        if (strcmp(item->valuestring, mode_names[m]) == 0) {
            *out = (enum nncw_aat_mode)m;
            return NNCW_OK;
        }
    return nncw_cfg_fail(c, path, "unknown mode '%s' (early_exit or adaptive_compression_level)",
                         item->valuestring);
}

/* a number in (lo, hi] or [lo, hi] */
static enum nncw_status get_rate(struct nncw_cfg_ctx *c, const cJSON *item, const char *path,
                                 double lo, double hi, bool open_lo, float *out)
{
    NNCW_TRY(nncw_cfg_get_float(c, item, path, lo, hi, out));
    if (open_lo && !(*out > lo))
        return nncw_cfg_fail(c, path, "expected a number in (%g, %g], got %g", lo, hi,
                             (double)*out);
    return NNCW_OK;
}

static enum nncw_status get_epochs(struct nncw_cfg_ctx *c, const cJSON *item, const char *path,
                                   int lo, int *out)
{
    int64_t v;
    NNCW_TRY(nncw_cfg_get_int(c, item, path, lo, 1000000, &v));
    *out = (int)v;
    return NNCW_OK;
}

static enum nncw_status parse_param(struct nncw_cfg_ctx *c, const cJSON *k, const char *kp,
                                    struct nncw_aat_config *a)
{
    const char *n = k->string;
    if (strcmp(n, "maximal_relative_accuracy_degradation") == 0)
        return get_rate(c, k, kp, 0, 100, false, &a->maximal_relative_accuracy_degradation);
    if (strcmp(n, "maximal_absolute_accuracy_degradation") == 0)
        return get_rate(c, k, kp, 0, 1e9, false, &a->maximal_absolute_accuracy_degradation);
    if (strcmp(n, "maximal_total_epochs") == 0)
        return get_epochs(c, k, kp, 1, &a->maximal_total_epochs);
    if (a->mode == NNCW_AAT_EARLY_EXIT && is_adaptive_key(n))
        return nncw_cfg_warn(c, "'%s' is used only by mode adaptive_compression_level (ignored)",
                             kp);
    if (strcmp(n, "initial_training_phase_epochs") == 0)
        return get_epochs(c, k, kp, 0, &a->initial_training_phase_epochs);
    if (strcmp(n, "patience_epochs") == 0)
        return get_epochs(c, k, kp, 1, &a->patience_epochs);
    if (strcmp(n, "initial_compression_rate_step") == 0)
        return get_rate(c, k, kp, 0, 1, true, &a->initial_compression_rate_step);
    if (strcmp(n, "compression_rate_step_reduction_factor") == 0) {
        NNCW_TRY(get_rate(c, k, kp, 0, 1, true, &a->compression_rate_step_reduction_factor));
        if (a->compression_rate_step_reduction_factor >= 1.0f) /* the search would not end */
            return nncw_cfg_fail(c, kp, "expected a number in (0, 1), got %g",
                                 (double)a->compression_rate_step_reduction_factor);
        return NNCW_OK;
    }
    if (strcmp(n, "lr_reduction_factor") == 0)
        return get_rate(c, k, kp, 0, 1, true, &a->lr_reduction_factor);
    if (strcmp(n, "minimal_compression_rate_step") == 0)
        return get_rate(c, k, kp, 0, 1, true, &a->minimal_compression_rate_step);
    return nncw_cfg_warn(c, "unknown key '%s' (ignored)", kp);
}

static enum nncw_status parse_params(struct nncw_cfg_ctx *c, const cJSON *params, const char *path,
                                     struct nncw_aat_config *a)
{
    if (!params)
        return nncw_cfg_fail(c, path,
                             "missing (it must give maximal_relative_accuracy_"
                             "degradation or maximal_absolute_accuracy_degradation)");
    if (!nncw_cfg_is_object(params))
        return nncw_cfg_fail_type(c, path, params, "an object");
    for (const cJSON *k = params->child; k; k = k->next) {
        char kp[160];
        nncw_cfg_path(kp, sizeof kp, path, k->string);
        if (cJSON_GetObjectItemCaseSensitive(params, k->string) != k) {
            NNCW_TRY(nncw_cfg_warn(c, "duplicate key '%s' (the first one is used)", kp));
            continue;
        }
        NNCW_TRY(parse_param(c, k, kp, a));
    }
    bool rel = !isnan(a->maximal_relative_accuracy_degradation);
    bool abs = !isnan(a->maximal_absolute_accuracy_degradation);
    if (rel && abs)
        return nncw_cfg_fail(c, path,
                             "give only one of maximal_relative_accuracy_degradation and "
                             "maximal_absolute_accuracy_degradation");
    if (!rel && !abs)
        return nncw_cfg_fail(c, path,
                             "missing maximal_relative_accuracy_degradation or "
                             "maximal_absolute_accuracy_degradation");
    return NNCW_OK;
}

enum nncw_status nncw_cfg_parse_accuracy_aware(struct nncw_cfg_ctx *c, const struct cJSON *item)
{
    const char *path = "accuracy_aware_training";
    static const char *const known[] = {"mode", "params", NULL};
    if (!nncw_cfg_is_object(item))
        return nncw_cfg_fail_type(c, path, item, "an object {mode, params}");
    NNCW_TRY(nncw_cfg_check_keys(c, item, path, known));
    enum nncw_aat_mode mode = NNCW_AAT_EARLY_EXIT;
    NNCW_TRY(parse_mode(c, cJSON_GetObjectItemCaseSensitive(item, "mode"),
                        "accuracy_aware_training.mode", &mode));
    struct nncw_aat_config a = nncw_aat_config_defaults(mode);
    NNCW_TRY(parse_params(c, cJSON_GetObjectItemCaseSensitive(item, "params"),
                          "accuracy_aware_training.params", &a));
    c->cfg->accuracy_aware = a;
    c->cfg->has |= NNCW_CFG_ACCURACY_AWARE;
    return NNCW_OK;
}
