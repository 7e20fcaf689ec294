/* The binarization section of a config: the entry's keys (kept as JSON text by the root parser)
 * parsed with NNCF's defaults through the typed reads shared with the quantization parser. */
#include "compression/binarization/binarization.h"

#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "compression/entry_config.h"
#include "compression/quantization/quantization_internal.h"
#include "core/alloc.h"
#include "core/common.h"

static const char *const mode_names[] = {"xnor", "dorefa", NULL};
_Static_assert(NNCW_ARRAY_LEN(mode_names) == NNCW_BINARIZATION_MODE_COUNT + 1, "mode_names");

const char *nncw_binarization_mode_name(enum nncw_binarization_mode m)
{
    return (unsigned)m < NNCW_BINARIZATION_MODE_COUNT ? mode_names[m] : "?";
}

static enum nncw_status parse_initializer(const struct nncw_qcfg_ctx *c, const cJSON *obj,
                                          const char *path, struct nncw_binarization_config *bc)
{
    NNCW_TRY(nncw_qcfg_expect_object(c, obj, path));
    const cJSON *range = cJSON_GetObjectItemCaseSensitive(obj, "range");
    if (range) {
        char kp[300];
        nncw_qcfg_path(kp, sizeof kp, path, "range");
        return nncw_qcfg_fail(c, kp,
                              "binarization has no ranges to initialise (the activation scales "
                              "start from the first initialisation batch)");
    }
    return nncw_bn_initializer_parse(c, obj, path, &bc->num_bn_adaptation_samples);
}

static enum nncw_status parse_settings(const struct nncw_qcfg_ctx *c, const cJSON *root,
                                       struct nncw_binarization_config *bc)
{
    static const char *const known[] = {"algorithm",
                                        "mode",
                                        "params",
                                        "initializer",
                                        "ignored_scopes",
                                        "target_scopes",
                                        "compression_lr_multiplier",
                                        NULL};
    NNCW_TRY(nncw_qcfg_check_keys(c, root, bc->path, known));
    for (const cJSON *k = root->child; k; k = k->next) {
        char kp[300];
        nncw_qcfg_path(kp, sizeof kp, bc->path, k->string);
        int v;
        if (!strcmp(k->string, "mode")) {
            NNCW_TRY(nncw_qcfg_get_enum(c, k, kp, mode_names, &v));
            bc->mode = (enum nncw_binarization_mode)v;
        } else if (!strcmp(k->string, "compression_lr_multiplier")) {
            NNCW_TRY(nncw_qcfg_get_float(c, k, kp, 1e-9, 1e9, &bc->compression_lr_multiplier));
        } else if (!strcmp(k->string, "initializer")) {
            NNCW_TRY(parse_initializer(c, k, kp, bc));
        }
    }
    return NNCW_OK;
}

void nncw_binarization_config_free(struct nncw_binarization_config *bc)
{
    if (!bc)
        return;
    nncw_free(bc->source);
    nncw_free(bc->path);
    nncw_scope_list_fini(&bc->ignored);
    nncw_scope_list_fini(&bc->target);
    nncw_free(bc);
}

static enum nncw_status parse_entry(const struct nncw_qcfg_ctx *c,
                                    const struct nncw_compression_config *e,
                                    struct nncw_binarization_config *bc)
{
    struct nncw_entry_json j;
    NNCW_TRY(nncw_entry_config_read(c, e, bc->path, &bc->ignored, &bc->target, &j));
    enum nncw_status s = parse_settings(c, j.settings, bc);
    char kp[300];
    nncw_qcfg_path(kp, sizeof kp, bc->path, "params");
    /* "params": {} reads as no params: the root parser stores both as "{}" */
    if (s == NNCW_OK && j.params->child) {
        s = nncw_staged_params_parse(c, j.params, kp, &bc->params);
        bc->has_params = s == NNCW_OK;
    }
    nncw_entry_config_fini(&j);
    return s;
}

enum nncw_status nncw_binarization_config_parse(const struct nncw_config *cfg, int index,
                                                struct nncw_binarization_config **out)
{
    if (!cfg || index < 0 || index >= cfg->n_compression)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "config: no compression entry %d", index);
    const struct nncw_compression_config *e = &cfg->compression[index];
    const char *source = cfg->source ? cfg->source : "<string>";
    if (strcmp(e->algorithm, "binarization"))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "config '%s': compression[%d] is '%s', not binarization", source, index,
                         e->algorithm);
    struct nncw_binarization_config *bc = nncw_calloc(1, sizeof *bc);
    char path[32];
    snprintf(path, sizeof path, "%s", e->path); /* "compression" or "compression[i]" */
    if (!bc || !(bc->source = nncw_strdup(source)) || !(bc->path = nncw_strdup(path))) {
        nncw_binarization_config_free(bc);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    }
    bc->mode = NNCW_BINARIZATION_XNOR;
    bc->params = (struct nncw_staged_params){.batch_multiplier = 1,
                                             .activations_quant_start_epoch = 1,
                                             .weights_quant_start_epoch = 1,
                                             .lr_poly_drop_start_epoch = -1,
                                             .lr_poly_drop_duration_epochs = 30,
                                             .disable_wd_start_epoch = -1,
                                             .base_lr = 1e-3f,
                                             .base_wd = 1e-5f};
    bc->num_bn_adaptation_samples = 2000;
    struct nncw_qcfg_ctx c = {bc->source};
    enum nncw_status s = parse_entry(&c, e, bc);
    if (s != NNCW_OK) {
        nncw_binarization_config_free(bc);
        return s;
    }
    *out = bc;
    return NNCW_OK;
}
