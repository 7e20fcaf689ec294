/* The "compression" section: a list of algorithm entries. Each entry's algorithm-specific
 * keys are kept as JSON text for the algorithm's own parser (compression/<name>/config.c). */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "config/config_internal.h"
#include "core/alloc.h"
#include "graph/graph.h"

static const char *const algorithm_names[] = {
    "quantization",   "magnitude_sparsity",     "rb_sparsity",
    "const_sparsity", "movement_sparsity",      "filter_pruning",
    "binarization",   "knowledge_distillation", NULL,
};

const char *const *nncw_config_algorithm_names(void)
{
    return algorithm_names;
}

static void free_strings(char **list, int count)
{
    for (int i = 0; i < count; i++)
        nncw_free(list[i]);
    nncw_free(list);
}

void nncw_cfg_free_compression(struct nncw_config *cfg)
{
    for (int i = 0; i < cfg->n_compression; i++) {
        struct nncw_compression_config *a = &cfg->compression[i];
        nncw_free(a->algorithm);
        free_strings(a->ignored_scopes, a->n_ignored);
        free_strings(a->target_scopes, a->n_target);
        nncw_free(a->params_json);
        nncw_free(a->settings_json);
    }
    nncw_free(cfg->compression);
    cfg->compression = NULL;
    cfg->n_compression = 0;
}

/* compact JSON text of item, copied into nncw memory */
static enum nncw_status to_json(const cJSON *item, char **out)
{
    char *text = cJSON_PrintUnformatted(item);
    char *copy = text ? nncw_strdup(text) : NULL;
    cJSON_free(text);
    if (!copy)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    *out = copy;
    return NNCW_OK;
}

static enum nncw_status parse_algorithm(struct nncw_cfg_ctx *c, const cJSON *entry,
                                        const char *path, struct nncw_compression_config *a)
{
    char kp[256];
    nncw_cfg_path(kp, sizeof kp, path, "algorithm");
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(entry, "algorithm");
    if (!alg)
        return nncw_cfg_fail(c, kp, "missing (e.g. \"quantization\")");
    NNCW_TRY(nncw_cfg_get_string(c, alg, kp, &a->algorithm));
    for (const char *const *n = algorithm_names; *n; n++)
        if (strcmp(*n, a->algorithm) == 0)
            return NNCW_OK;
    return nncw_cfg_fail(c, kp,
                         "unknown algorithm '%s' (quantization, magnitude_sparsity, rb_sparsity, "
                         "const_sparsity, movement_sparsity, filter_pruning, binarization or "
                         "knowledge_distillation)",
                         a->algorithm);
}

/* a scope list whose "{re}" patterns must compile */
static enum nncw_status parse_scopes(struct nncw_cfg_ctx *c, const cJSON *item, const char *path,
                                     char ***list, int *count)
{
    NNCW_TRY(nncw_cfg_get_strings(c, item, path, list, count));
    for (int i = 0; i < *count; i++) {
        bool match;
        if (nncw_scope_matches((*list)[i], "", &match) != NNCW_OK) {
            char ep[256];
            nncw_cfg_path_index(ep, sizeof ep, path, i);
            return nncw_cfg_fail(c, ep, "bad regular expression '%s'", (*list)[i]);
        }
    }
    return NNCW_OK;
}

static enum nncw_status parse_entry(struct nncw_cfg_ctx *c, const cJSON *entry, const char *path,
                                    struct nncw_compression_config *a)
{
    if (!nncw_cfg_is_object(entry))
        return nncw_cfg_fail_type(c, path, entry, "an object");
    NNCW_TRY(parse_algorithm(c, entry, path, a));
    cJSON *settings = cJSON_CreateObject();
    if (!settings)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    enum nncw_status s = NNCW_OK;
    for (const cJSON *k = entry->child; k && s == NNCW_OK; k = k->next) {
        char kp[256];
        nncw_cfg_path(kp, sizeof kp, path, k->string);
        if (cJSON_GetObjectItemCaseSensitive(entry, k->string) != k)
            s = nncw_cfg_warn(c, "duplicate key '%s' (the first one is used)", kp);
        else if (strcmp(k->string, "algorithm") == 0)
            continue;
        else if (strcmp(k->string, "params") == 0) {
            a->has_params = true;
            s = !nncw_cfg_is_object(k) ? nncw_cfg_fail_type(c, kp, k, "an object")
                : cJSON_IsArray(k)     ? NNCW_OK /* [], an empty Lua table: "{}" below */
                                       : to_json(k, &a->params_json);
        }
        else if (strcmp(k->string, "ignored_scopes") == 0)
            s = parse_scopes(c, k, kp, &a->ignored_scopes, &a->n_ignored);
        else if (strcmp(k->string, "target_scopes") == 0)
            s = parse_scopes(c, k, kp, &a->target_scopes, &a->n_target);
        else if (!cJSON_AddItemToObject(settings, k->string, cJSON_Duplicate(k, true)))
            s = NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    }
    if (s == NNCW_OK && !a->params_json)
        s = (a->params_json = nncw_strdup("{}"))
                ? NNCW_OK
                : NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    if (s == NNCW_OK)
        s = to_json(settings, &a->settings_json);
    cJSON_Delete(settings);
    return s;
}

enum nncw_status nncw_cfg_parse_compression(struct nncw_cfg_ctx *c, const struct cJSON *item)
{
    struct nncw_config *cfg = c->cfg;
    nncw_cfg_free_compression(cfg);
    bool single = nncw_cfg_is_object(item) && !cJSON_IsArray(item);
    if (!single && !cJSON_IsArray(item))
        return nncw_cfg_fail_type(c, "compression", item, "an object or a list of objects");
    int n = single ? 1 : cJSON_GetArraySize(item);
    cfg->compression = nncw_calloc((size_t)(n ? n : 1), sizeof *cfg->compression);
    if (!cfg->compression)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    const cJSON *e = single ? item : item->child;
    for (int i = 0; i < n; i++, e = e->next) {
        char ep[32];
        if (single)
            snprintf(ep, sizeof ep, "compression");
        else
            nncw_cfg_path_index(ep, sizeof ep, "compression", i);
        snprintf(cfg->compression[i].path, sizeof cfg->compression[i].path, "%s", ep);
        cfg->n_compression = i + 1; /* so that a failure frees what this entry holds */
        NNCW_TRY(parse_entry(c, e, ep, &cfg->compression[i]));
    }
    return NNCW_OK;
}

static enum nncw_status check_entry(const struct nncw_config *cfg, int entry)
{
    if (entry < 0 || entry >= cfg->n_compression)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "config: no compression entry %d (it has %d)",
                         entry, cfg->n_compression);
    return NNCW_OK;
}

enum nncw_status nncw_config_add_ignored_scope(struct nncw_config *cfg, int entry,
                                               const char *pattern)
{
    NNCW_TRY(check_entry(cfg, entry));
    struct nncw_compression_config *a = &cfg->compression[entry];
    for (int i = 0; i < a->n_ignored; i++)
        if (!strcmp(a->ignored_scopes[i], pattern))
            return NNCW_OK;
    char *dup = nncw_strdup(pattern);
    char **grown = dup ? nncw_realloc(a->ignored_scopes,
                                      (size_t)(a->n_ignored + 1) * sizeof *grown)
                       : NULL;
    if (!grown) {
        nncw_free(dup);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "config: out of memory");
    }
    a->ignored_scopes = grown;
    a->ignored_scopes[a->n_ignored++] = dup;
    return NNCW_OK;
}

enum nncw_status nncw_config_remove_ignored_scope(struct nncw_config *cfg, int entry,
                                                  const char *pattern)
{
    NNCW_TRY(check_entry(cfg, entry));
    struct nncw_compression_config *a = &cfg->compression[entry];
    for (int i = 0; i < a->n_ignored; i++)
        if (!strcmp(a->ignored_scopes[i], pattern)) {
            nncw_free(a->ignored_scopes[i]);
            memmove(a->ignored_scopes + i, a->ignored_scopes + i + 1,
                    (size_t)(a->n_ignored - i - 1) * sizeof *a->ignored_scopes);
            a->n_ignored--;
            return NNCW_OK;
        }
    return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "config: compression[%d].ignored_scopes has no '%s'",
                     entry, pattern);
}
