/* Shared by the config parsers (config.c, *_config.c): typed reads from cJSON items that
 * fail with the key's JSON path. cJSON's struct is only declared here, so this header
 * stays free of cJSON.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct cJSON;

struct nncw_cfg_ctx {
    struct nncw_config *cfg;
};

/* "parent.key" or "key" at the root */
void nncw_cfg_path(char *buf, size_t size, const char *parent, const char *key);
/* "parent[i]" */
void nncw_cfg_path_index(char *buf, size_t size, const char *parent, int i);

/* NNCW_ERR_PARSE "config '<source>': <path>: <message>" */
enum nncw_status nncw_cfg_fail(struct nncw_cfg_ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* NNCW_ERR_PARSE "...: expected <what>, got <the item's JSON type>" */
enum nncw_status nncw_cfg_fail_type(struct nncw_cfg_ctx *c, const char *path,
                                    const struct cJSON *item, const char *what);
/* records and logs a warning */
enum nncw_status nncw_cfg_warn(struct nncw_cfg_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* warns about every key of obj not in known (NULL-terminated), and about duplicate keys */
enum nncw_status nncw_cfg_check_keys(struct nncw_cfg_ctx *c, const struct cJSON *obj,
                                     const char *path, const char *const *known);

/* true if obj is an object, or an empty array (an empty Lua table) */
bool nncw_cfg_is_object(const struct cJSON *item);
enum nncw_status nncw_cfg_get_int(struct nncw_cfg_ctx *c, const struct cJSON *item,
                                  const char *path, int64_t lo, int64_t hi, int64_t *out);
enum nncw_status nncw_cfg_get_float(struct nncw_cfg_ctx *c, const struct cJSON *item,
                                    const char *path, double lo, double hi, float *out);
enum nncw_status nncw_cfg_get_bool(struct nncw_cfg_ctx *c, const struct cJSON *item,
                                   const char *path, bool *out);
/* a new copy of a string item (nncw_strdup) */
enum nncw_status nncw_cfg_get_string(struct nncw_cfg_ctx *c, const struct cJSON *item,
                                     const char *path, char **out);
/* a list of strings (a single string counts as a list of one) */
enum nncw_status nncw_cfg_get_strings(struct nncw_cfg_ctx *c, const struct cJSON *item,
                                      const char *path, char ***out, int *count);

/* the parsers of the sections */
enum nncw_status nncw_cfg_parse_compression(struct nncw_cfg_ctx *c, const struct cJSON *item);
enum nncw_status nncw_cfg_parse_optimizer(struct nncw_cfg_ctx *c, const struct cJSON *item);
enum nncw_status nncw_cfg_parse_training_key(struct nncw_cfg_ctx *c, const struct cJSON *item,
                                             bool *handled);
void nncw_cfg_free_compression(struct nncw_config *cfg);
/* accuracy_aware_training (accuracy_aware_config.c) */
enum nncw_status nncw_cfg_parse_accuracy_aware(struct nncw_cfg_ctx *c, const struct cJSON *item);
