/* The knowledge_distillation entry of a config: type (required), temperature and scale, with
 * NNCF's defaults; anything else is an error naming its JSON path. */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "compression/distillation/kd.h"
#include "compression/quantization/quantization_internal.h"
#include "core/common.h"

static const char *const type_names[] = {"mse", "softmax", NULL};
_Static_assert(NNCW_ARRAY_LEN(type_names) == NNCW_KD_TYPE_COUNT + 1, "type_names");

const char *nncw_kd_type_name(enum nncw_kd_type t)
{
    return (unsigned)t < NNCW_KD_TYPE_COUNT ? type_names[t] : "?";
}

static enum nncw_status parse_settings(const struct nncw_qcfg_ctx *c, const cJSON *root,
                                       const char *path, struct nncw_kd_config *k)
{
    static const char *const known[] = {"algorithm", "type", "temperature", "scale", NULL};
    NNCW_TRY(nncw_qcfg_check_keys(c, root, path, known));
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    char kp[300];
    nncw_qcfg_path(kp, sizeof kp, path, "type");
    if (!type)
        return nncw_qcfg_fail(c, kp, "missing (\"mse\" or \"softmax\")");
    int v;
    NNCW_TRY(nncw_qcfg_get_enum(c, type, kp, type_names, &v));
    k->type = (enum nncw_kd_type)v;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "temperature");
    nncw_qcfg_path(kp, sizeof kp, path, "temperature");
    if (t)
        NNCW_TRY(nncw_qcfg_get_float(c, t, kp, 1e-3, 1e3, &k->temperature));
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(root, "scale");
    nncw_qcfg_path(kp, sizeof kp, path, "scale");
    if (sc)
        NNCW_TRY(nncw_qcfg_get_float(c, sc, kp, 0, 1e6, &k->scale));
    return NNCW_OK;
}

enum nncw_status nncw_kd_config_parse(const struct nncw_config *cfg, int index,
                                      struct nncw_kd_config *out)
{
    if (!cfg || index < 0 || index >= cfg->n_compression)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "config: no compression entry %d", index);
    const struct nncw_compression_config *e = &cfg->compression[index];
    struct nncw_qcfg_ctx c = {cfg->source ? cfg->source : "<string>"};
    if (strcmp(e->algorithm, "knowledge_distillation") != 0)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "config '%s': compression[%d] is '%s', not knowledge_distillation",
                         c.source, index, e->algorithm);
    char path[32], kp[64];
    snprintf(path, sizeof path, "%s", e->path);
    if (e->n_ignored || e->n_target) {
        nncw_qcfg_path(kp, sizeof kp, path, e->n_ignored ? "ignored_scopes" : "target_scopes");
        return nncw_qcfg_fail(&c, kp,
                              "unknown key (knowledge distillation works on the model's "
                              "output and takes no scopes)");
    }
    cJSON *params = cJSON_Parse(e->params_json ? e->params_json : "{}");
    cJSON *settings = cJSON_Parse(e->settings_json ? e->settings_json : "{}");
    enum nncw_status s = NNCW_OK;
    if (!params || !settings) {
        s = NNCW_FAIL(NNCW_ERR_INTERNAL, "config '%s': %s: unreadable settings", c.source, path);
    } else if (params->child) {
        nncw_qcfg_path(kp, sizeof kp, path, "params");
        s = nncw_qcfg_fail(&c, kp,
                           "unknown key (knowledge_distillation takes type, temperature "
                           "and scale)");
    }
    struct nncw_kd_config k = {.type = NNCW_KD_MSE, .temperature = 1.0f, .scale = 1.0f};
    if (s == NNCW_OK)
        s = parse_settings(&c, settings, path, &k);
    cJSON_Delete(params);
    cJSON_Delete(settings);
    if (s == NNCW_OK)
        *out = k;
    return s;
}
