/*
 * Controller states as compact JSON text (what nncw_compression_algo's get_state/set_state
 * exchange, and what checkpoints store): a small typed layer over a JSON object, so that the
 * algorithms write and read their state without seeing the JSON library.
 *
 *     struct nncw_state *st = nncw_state_new();
 *     nncw_state_set_number(st, "epoch", 3);
 *     nncw_state_set_bool(st, "frozen", false);
 *     char *json;
 *     nncw_state_print(st, &json);            // {"epoch":3,"frozen":false}
 *     nncw_state_free(st);
 *
 *     nncw_state_parse(json, "magnitude_sparsity state", &st);
 *     int64_t epoch;
 *     NNCW_TRY(nncw_state_get_int(st, "epoch", &epoch));   // NNCW_ERR_PARSE naming the key
 *
 * Numbers are doubles printed so that they read back bit for bit (every float and every
 * integer below 2^53); 64-bit values such as random-generator states go through
 * nncw_state_set_u64 (hexadecimal text).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/rng.h"
#include "core/status.h"

struct nncw_state;

/* an empty object; NULL when out of memory */
struct nncw_state *nncw_state_new(void);
/* NULL is a no-op */
void nncw_state_free(struct nncw_state *st);

/* ---- writing: a failure (out of memory) is remembered and reported by nncw_state_print ---- */
void nncw_state_set_number(struct nncw_state *st, const char *key, double v);
void nncw_state_set_bool(struct nncw_state *st, const char *key, bool v);
void nncw_state_set_text(struct nncw_state *st, const char *key, const char *v);
void nncw_state_set_u64(struct nncw_state *st, const char *key, uint64_t v);
void nncw_state_set_rng(struct nncw_state *st, const char *key, const struct nncw_rng *r);
void nncw_state_set_floats(struct nncw_state *st, const char *key, const float *v, int n);
void nncw_state_set_ints(struct nncw_state *st, const char *key, const int64_t *v, int n);
/* stores child (taken over, even on failure) under key */
void nncw_state_set_child(struct nncw_state *st, const char *key, struct nncw_state *child);
/* appends child (taken over, even on failure) to the array under key, created if needed */
void nncw_state_append(struct nncw_state *st, const char *key, struct nncw_state *child);
/* stores parsed JSON text under key (an algorithm's own state inside the composite one) */
void nncw_state_set_json(struct nncw_state *st, const char *key, const char *json);
/* compact JSON text the caller frees; NNCW_ERR_NOMEM if any write failed */
enum nncw_status nncw_state_print(const struct nncw_state *st, char **json);

/* ---- reading: what names the text in messages ("quantization state") ---- */
/* NNCW_ERR_PARSE naming what and the position for bad JSON or a non-object */
enum nncw_status nncw_state_parse(const char *json, const char *what, struct nncw_state **out);
bool nncw_state_has(const struct nncw_state *st, const char *key);
/* each fails with NNCW_ERR_PARSE naming what and the key when it is missing or of the wrong
 * type (get_int: not an integer; get_floats: not an array of exactly n numbers) */
enum nncw_status nncw_state_get_number(const struct nncw_state *st, const char *key, double *out);
enum nncw_status nncw_state_get_int(const struct nncw_state *st, const char *key, int64_t *out);
enum nncw_status nncw_state_get_bool(const struct nncw_state *st, const char *key, bool *out);
/* borrowed: valid while st lives */
enum nncw_status nncw_state_get_text(const struct nncw_state *st, const char *key,
                                     const char **out);
enum nncw_status nncw_state_get_u64(const struct nncw_state *st, const char *key, uint64_t *out);
enum nncw_status nncw_state_get_rng(const struct nncw_state *st, const char *key,
                                    struct nncw_rng *out);
enum nncw_status nncw_state_get_floats(const struct nncw_state *st, const char *key, float *out,
                                       int n);
/* integers (below 2^53 in magnitude) the same way */
enum nncw_status nncw_state_get_ints(const struct nncw_state *st, const char *key, int64_t *out,
                                     int n);
/* length of the array under key (0 when absent); NNCW_ERR_PARSE when it is not an array */
enum nncw_status nncw_state_count(const struct nncw_state *st, const char *key, int *n);
/* the object under key as a view the caller frees (it borrows st's memory) */
enum nncw_status nncw_state_get_child(const struct nncw_state *st, const char *key,
                                      struct nncw_state **out);
/* element i of that array as an object view the caller frees (it borrows st's memory) */
enum nncw_status nncw_state_get_item(const struct nncw_state *st, const char *key, int i,
                                     struct nncw_state **out);
/* the value under key as compact JSON text the caller frees */
enum nncw_status nncw_state_get_json(const struct nncw_state *st, const char *key, char **out);
