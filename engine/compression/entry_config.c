/* One entry of "compression", read the same way for every algorithm (entry_config.h). */
#include "compression/entry_config.h"

#include <string.h>

#include <cJSON.h>

enum { MAX_EPOCH = 1000000 };

static enum nncw_status parse_json_text(const struct nncw_qcfg_ctx *c, const char *text,
                                        const char *path, cJSON **out)
{
    cJSON *root = cJSON_Parse(text ? text : "{}");
    if (!root)
        return NNCW_FAIL(NNCW_ERR_INTERNAL, "config '%s': %s: unreadable settings", c->source,
                         path);
    *out = root;
    return NNCW_OK;
}

enum nncw_status nncw_entry_config_read(const struct nncw_qcfg_ctx *c,
                                        const struct nncw_compression_config *e,
                                        const char *path, struct nncw_scope_list *ignored,
                                        struct nncw_scope_list *target,
                                        struct nncw_entry_json *out)
{
    char kp[300];
    out->settings = out->params = NULL;
    nncw_qcfg_path(kp, sizeof kp, path, "ignored_scopes");
    NNCW_TRY(nncw_scope_list_copy(e->ignored_scopes, e->n_ignored, kp, ignored));
    nncw_qcfg_path(kp, sizeof kp, path, "target_scopes");
    if (target)
        NNCW_TRY(nncw_scope_list_copy(e->target_scopes, e->n_target, kp, target));
    else if (e->n_target)
        return nncw_qcfg_fail(c, kp, "unknown key (this algorithm takes no target scopes)");
    NNCW_TRY(parse_json_text(c, e->settings_json, path, &out->settings));
    nncw_qcfg_path(kp, sizeof kp, path, "params");
    enum nncw_status s = parse_json_text(c, e->params_json, kp, &out->params);
    if (s != NNCW_OK)
        nncw_entry_config_fini(out);
    return s;
}

void nncw_entry_config_fini(struct nncw_entry_json *j)
{
    cJSON_Delete(j->settings);
    cJSON_Delete(j->params);
    j->settings = j->params = NULL;
}

enum nncw_status nncw_bn_initializer_parse(const struct nncw_qcfg_ctx *c, const cJSON *obj,
                                           const char *path, int *num_samples)
{
    static const char *const known[] = {"batchnorm_adaptation", NULL};
    static const char *const known_bn[] = {"num_bn_adaptation_samples", NULL};
    NNCW_TRY(nncw_qcfg_expect_object(c, obj, path));
    NNCW_TRY(nncw_qcfg_check_keys(c, obj, path, known));
    const cJSON *bn = cJSON_GetObjectItemCaseSensitive(obj, "batchnorm_adaptation");
    if (!bn)
        return NNCW_OK;
    char bp[300], np[340];
    nncw_qcfg_path(bp, sizeof bp, path, "batchnorm_adaptation");
    NNCW_TRY(nncw_qcfg_expect_object(c, bn, bp));
    NNCW_TRY(nncw_qcfg_check_keys(c, bn, bp, known_bn));
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(bn, "num_bn_adaptation_samples");
    nncw_qcfg_path(np, sizeof np, bp, "num_bn_adaptation_samples");
    return n ? nncw_qcfg_get_int(c, n, np, 0, 1 << 30, num_samples) : NNCW_OK;
}

enum nncw_status nncw_staged_params_parse(const struct nncw_qcfg_ctx *c, const cJSON *obj,
                                          const char *path, struct nncw_staged_params *p)
{
    static const char *const known[] = {"batch_multiplier",
                                        "activations_quant_start_epoch",
                                        "weights_quant_start_epoch",
                                        "lr_poly_drop_start_epoch",
                                        "lr_poly_drop_duration_epochs",
                                        "disable_wd_start_epoch",
                                        "base_lr",
                                        "base_wd",
                                        NULL};
    NNCW_TRY(nncw_qcfg_expect_object(c, obj, path));
    NNCW_TRY(nncw_qcfg_check_keys(c, obj, path, known));
    int *ints[] = {&p->batch_multiplier,
                   &p->activations_quant_start_epoch,
                   &p->weights_quant_start_epoch,
                   &p->lr_poly_drop_start_epoch,
                   &p->lr_poly_drop_duration_epochs,
                   &p->disable_wd_start_epoch};
    static const int lo[] = {1, 0, 0, 0, 1, 0};
    for (const cJSON *k = obj->child; k; k = k->next) {
        char kp[300];
        nncw_qcfg_path(kp, sizeof kp, path, k->string);
        int i = 0;
        while (strcmp(known[i], k->string) != 0)
            i++;
        if (i < 6)
            NNCW_TRY(nncw_qcfg_get_int(c, k, kp, lo[i], MAX_EPOCH, ints[i]));
        else if (i == 6)
            NNCW_TRY(nncw_qcfg_get_float(c, k, kp, 1e-12, 1e6, &p->base_lr));
        else
            NNCW_TRY(nncw_qcfg_get_float(c, k, kp, 0, 1e6, &p->base_wd));
        if (i == 0 && p->batch_multiplier != 1)
            return nncw_qcfg_fail(c, kp,
                                  "gradient accumulation is not supported; use a batch_size "
                                  "%d times larger instead",
                                  p->batch_multiplier);
    }
    return NNCW_OK;
}
