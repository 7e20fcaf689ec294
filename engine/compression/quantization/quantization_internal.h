/* Quantization internals shared by the files of compression/quantization: the typed JSON reads
 * of the config parsers (cJSON's struct only declared, so this header stays free of cJSON.h),
 * the built-in hardware configs, and small helpers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "compression/quantization/quant_config.h"
#include "core/status.h"

struct cJSON;

/* ---- typed reads for quant_config.c / quant_init_config.c ---- */
struct nncw_qcfg_ctx {
    const char *source; /* config file name */
};

/* NNCW_ERR_PARSE "config '<source>': <path>: <message>" */
enum nncw_status nncw_qcfg_fail(const struct nncw_qcfg_ctx *c, const char *path, const char *fmt,
                                ...) __attribute__((format(printf, 3, 4)));
/* "...: expected <what>, got "8"" (the value for scalars, its kind otherwise) */
enum nncw_status nncw_qcfg_fail_type(const struct nncw_qcfg_ctx *c, const char *path,
                                     const struct cJSON *item, const char *what);
/* every key of obj must be in known (NULL-terminated); an unknown or duplicate key fails */
enum nncw_status nncw_qcfg_check_keys(const struct nncw_qcfg_ctx *c, const struct cJSON *obj,
                                      const char *path, const char *const *known);
/* obj must be an object (an empty list, Lua's empty table, counts as one) */
enum nncw_status nncw_qcfg_expect_object(const struct nncw_qcfg_ctx *c, const struct cJSON *obj,
                                         const char *path);
enum nncw_status nncw_qcfg_get_int(const struct nncw_qcfg_ctx *c, const struct cJSON *item,
                                   const char *path, int lo, int hi, int *out);
enum nncw_status nncw_qcfg_get_float(const struct nncw_qcfg_ctx *c, const struct cJSON *item,
                                     const char *path, double lo, double hi, float *out);
enum nncw_status nncw_qcfg_get_bool(const struct nncw_qcfg_ctx *c, const struct cJSON *item,
                                    const char *path, bool *out);
/* a copy (nncw_strdup) of a string item */
enum nncw_status nncw_qcfg_get_string(const struct nncw_qcfg_ctx *c, const struct cJSON *item,
                                      const char *path, char **out);
/* the index of the string item in names (NULL-terminated) */
enum nncw_status nncw_qcfg_get_enum(const struct nncw_qcfg_ctx *c, const struct cJSON *item,
                                    const char *path, const char *const *names, int *out);
/* a string or a list of strings; "{re}" patterns must compile */
enum nncw_status nncw_qcfg_get_scopes(const struct nncw_qcfg_ctx *c, const struct cJSON *item,
                                      const char *path, struct nncw_scope_list *out);
/* a scope list from already parsed patterns (copied) */
enum nncw_status nncw_scope_list_copy(char *const *patterns, int n, const char *path,
                                      struct nncw_scope_list *out);
void nncw_scope_list_fini(struct nncw_scope_list *l);
/* "parent.key", "parent[i]" */
void nncw_qcfg_path(char *buf, size_t size, const char *parent, const char *key);
void nncw_qcfg_path_index(char *buf, size_t size, const char *parent, int i);

/* initializer: {range, batchnorm_adaptation, precision} (quant_init_config.c) */
enum nncw_status nncw_qcfg_parse_initializer(const struct nncw_qcfg_ctx *c,
                                             const struct cJSON *item, const char *path,
                                             struct nncw_quant_config *q);
/* one range object (no scopes unless per_layer) into r, defaults first */
enum nncw_status nncw_qcfg_parse_range(const struct nncw_qcfg_ctx *c, const struct cJSON *item,
                                       const char *path, bool per_layer, struct nncw_range_init_config *r);
void nncw_range_init_defaults(struct nncw_range_init_config *r);
void nncw_range_init_fini(struct nncw_range_init_config *r);
void nncw_precision_init_fini(struct nncw_precision_init *p);

/* ---- the hardware configs built into the engine (generated from configs/hw) ---- */
struct nncw_hw_builtin_file {
    const char *name; /* "cpu.json" */
    const char *text;
};
extern const struct nncw_hw_builtin_file nncw_hw_builtin_files[];
extern const int nncw_hw_builtin_count;

/* ---- files ---- */
/* reads a whole text file (at most max_bytes, no NUL bytes) into a new string; what names the
 * kind of file in messages ("hw config") */
enum nncw_status nncw_quant_read_text_file(const char *path, const char *what, size_t max_bytes,
                                           char **out);
