/*
** Controller states as JSON (state.h) over cJSON, which stays inside *_config.c files: this
** file is the only one the compression controllers' state text passes through.
*/
#include "compression/state.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "core/alloc.h"

struct nncw_state {
    cJSON *j;
    bool owned;  /* a view into a parent's tree does not free it */
    bool failed; /* a write ran out of memory */
    char what[200];
};

static struct nncw_state *wrap(cJSON *j, bool owned, const char *what)
{
    struct nncw_state *st = nncw_calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->j = j;
    st->owned = owned;
    snprintf(st->what, sizeof st->what, "%s", what ? what : "state");
    return st;
}

struct nncw_state *nncw_state_new(void)
{
    cJSON *j = cJSON_CreateObject();
    struct nncw_state *st = j ? wrap(j, true, NULL) : NULL;
    if (!st)
        cJSON_Delete(j);
    return st;
}

void nncw_state_free(struct nncw_state *st)
{
    if (!st)
        return;
    if (st->owned)
        cJSON_Delete(st->j);
    nncw_free(st);
}

/* ---- writing ---- */
static void put(struct nncw_state *st, const char *key, cJSON *item)
{
    if (!item || !cJSON_AddItemToObject(st->j, key, item)) {
        cJSON_Delete(item);
        st->failed = true;
    }
}

void nncw_state_set_number(struct nncw_state *st, const char *key, double v)
{
    put(st, key, cJSON_CreateNumber(v));
}

void nncw_state_set_bool(struct nncw_state *st, const char *key, bool v)
{
    put(st, key, cJSON_CreateBool(v));
}

void nncw_state_set_text(struct nncw_state *st, const char *key, const char *v)
{
    put(st, key, cJSON_CreateString(v));
}

void nncw_state_set_u64(struct nncw_state *st, const char *key, uint64_t v)
{
    char text[24];
    snprintf(text, sizeof text, "0x%016" PRIx64, v);
    nncw_state_set_text(st, key, text);
}

void nncw_state_set_rng(struct nncw_state *st, const char *key, const struct nncw_rng *r)
{
    char text[48];
    snprintf(text, sizeof text, "0x%016" PRIx64 ":0x%016" PRIx64, r->state, r->inc);
    nncw_state_set_text(st, key, text);
}

static void set_numbers(struct nncw_state *st, const char *key, const float *f, const int64_t *v,
                        int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) {
        cJSON *x = cJSON_CreateNumber(f ? (double)f[i] : (double)v[i]);
        if (!x || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(x);
            cJSON_Delete(a);
            a = NULL;
        }
    }
    put(st, key, a);
}

void nncw_state_set_floats(struct nncw_state *st, const char *key, const float *v, int n)
{
    set_numbers(st, key, v, NULL, n);
}

void nncw_state_set_ints(struct nncw_state *st, const char *key, const int64_t *v, int n)
{
    set_numbers(st, key, NULL, v, n);
}

void nncw_state_set_child(struct nncw_state *st, const char *key, struct nncw_state *child)
{
    if (!child || !child->owned) {
        st->failed = true;
        nncw_state_free(child);
        return;
    }
    st->failed = st->failed || child->failed;
    put(st, key, child->j);
    nncw_free(child); /* its tree now belongs to st (or was freed with a failure) */
}

void nncw_state_append(struct nncw_state *st, const char *key, struct nncw_state *child)
{
    if (!child) {
        st->failed = true;
        return;
    }
    cJSON *a = cJSON_GetObjectItemCaseSensitive(st->j, key);
    if (!a) {
        a = cJSON_CreateArray();
        put(st, key, a);
        if (st->failed) {
            nncw_state_free(child);
            return;
        }
    }
    st->failed = st->failed || child->failed;
    if (!cJSON_IsArray(a) || !child->owned || !cJSON_AddItemToArray(a, child->j)) {
        st->failed = true;
        nncw_state_free(child);
        return;
    }
    nncw_free(child); /* its tree now belongs to the array */
}

void nncw_state_set_json(struct nncw_state *st, const char *key, const char *json)
{
    cJSON *j = cJSON_Parse(json);
    put(st, key, j);
}

enum nncw_status nncw_state_print(const struct nncw_state *st, char **json)
{
    if (st->failed)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "%s: out of memory writing it", st->what);
    char *text = cJSON_PrintUnformatted(st->j);
    char *copy = text ? nncw_strdup(text) : NULL;
    cJSON_free(text);
    if (!copy)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "%s: out of memory writing it", st->what);
    *json = copy;
    return NNCW_OK;
}

/* ---- reading ---- */
enum nncw_status nncw_state_parse(const char *json, const char *what, struct nncw_state **out)
{
    const char *end = NULL;
    cJSON *j = json ? cJSON_ParseWithOpts(json, &end, true) : NULL;
    if (!j || !cJSON_IsObject(j)) {
        long at = j || !end || !json ? -1 : (long)(end - json);
        cJSON_Delete(j);
        if (at >= 0)
            return NNCW_FAIL(NNCW_ERR_PARSE, "%s: bad JSON at character %ld", what, at);
        return NNCW_FAIL(NNCW_ERR_PARSE, "%s: expected a JSON object", what);
    }
    struct nncw_state *st = wrap(j, true, what);
    if (!st) {
        cJSON_Delete(j);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "%s: out of memory", what);
    }
    *out = st;
    return NNCW_OK;
}

bool nncw_state_has(const struct nncw_state *st, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(st->j, key) != NULL;
}

static enum nncw_status bad(const struct nncw_state *st, const char *key, const char *want)
{
    if (!nncw_state_has(st, key))
        return NNCW_FAIL(NNCW_ERR_PARSE, "%s: '%s' is missing", st->what, key);
    return NNCW_FAIL(NNCW_ERR_PARSE, "%s: '%s' must be %s", st->what, key, want);
}

enum nncw_status nncw_state_get_number(const struct nncw_state *st, const char *key, double *out)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(st->j, key);
    if (!cJSON_IsNumber(x))
        return bad(st, key, "a number");
    *out = x->valuedouble;
    return NNCW_OK;
}

enum nncw_status nncw_state_get_int(const struct nncw_state *st, const char *key, int64_t *out)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(st->j, key);
    if (!cJSON_IsNumber(x) || x->valuedouble != floor(x->valuedouble) ||
        fabs(x->valuedouble) > 9007199254740992.0)
        return bad(st, key, "an integer");
    *out = (int64_t)x->valuedouble;
    return NNCW_OK;
}

enum nncw_status nncw_state_get_bool(const struct nncw_state *st, const char *key, bool *out)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(st->j, key);
    if (!cJSON_IsBool(x))
        return bad(st, key, "true or false");
    *out = cJSON_IsTrue(x);
    return NNCW_OK;
}

enum nncw_status nncw_state_get_text(const struct nncw_state *st, const char *key, const char **out)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(st->j, key);
    if (!cJSON_IsString(x))
        return bad(st, key, "a string");
    *out = x->valuestring;
    return NNCW_OK;
}

static bool parse_hex(const char *s, const char **end, uint64_t *v)
{
    if (strncmp(s, "0x", 2) != 0)
        return false;
    char *e;
    unsigned long long x = strtoull(s + 2, &e, 16);
    if (e == s + 2)
        return false;
    *v = x;
    *end = e;
    return true;
}

enum nncw_status nncw_state_get_u64(const struct nncw_state *st, const char *key, uint64_t *out)
{
    const char *s, *end;
    NNCW_TRY(nncw_state_get_text(st, key, &s));
    if (!parse_hex(s, &end, out) || *end)
        return bad(st, key, "a hexadecimal \"0x...\" string");
    return NNCW_OK;
}

enum nncw_status nncw_state_get_rng(const struct nncw_state *st, const char *key,
                                    struct nncw_rng *out)
{
    const char *s, *end;
    struct nncw_rng r;
    NNCW_TRY(nncw_state_get_text(st, key, &s));
    if (!parse_hex(s, &end, &r.state) || *end != ':' || !parse_hex(end + 1, &end, &r.inc) || *end)
        return bad(st, key, "a random-generator state \"0x...:0x...\"");
    *out = r;
    return NNCW_OK;
}

static enum nncw_status get_numbers(const struct nncw_state *st, const char *key, float *f,
                                    int64_t *v, int n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(st->j, key);
    if (!a)
        return bad(st, key, "a list");
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
        return NNCW_FAIL(NNCW_ERR_PARSE, "%s: '%s' must be a list of %d numbers", st->what, key, n);
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a)
    {
        if (!cJSON_IsNumber(x) || (v && (x->valuedouble != floor(x->valuedouble) ||
                                         fabs(x->valuedouble) > 9007199254740992.0)))
            return NNCW_FAIL(NNCW_ERR_PARSE, "%s: '%s'[%d] must be %s", st->what, key, i,
                             v ? "an integer" : "a number");
        if (f)
            f[i] = (float)x->valuedouble;
        else
            v[i] = (int64_t)x->valuedouble;
        i++;
    }
    return NNCW_OK;
}

enum nncw_status nncw_state_get_floats(const struct nncw_state *st, const char *key, float *out,
                                       int n)
{
    return get_numbers(st, key, out, NULL, n);
}

enum nncw_status nncw_state_get_ints(const struct nncw_state *st, const char *key, int64_t *out,
                                     int n)
{
    return get_numbers(st, key, NULL, out, n);
}

enum nncw_status nncw_state_count(const struct nncw_state *st, const char *key, int *n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(st->j, key);
    if (!a) {
        *n = 0;
        return NNCW_OK;
    }
    if (!cJSON_IsArray(a))
        return bad(st, key, "a list");
    *n = cJSON_GetArraySize(a);
    return NNCW_OK;
}

static enum nncw_status view(const struct nncw_state *st, cJSON *x, const char *name,
                             struct nncw_state **out)
{
    char what[sizeof st->what];
    snprintf(what, sizeof what, "%.100s: %.90s", st->what, name);
    struct nncw_state *v = wrap(x, false, what);
    if (!v)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "%s: out of memory", st->what);
    *out = v;
    return NNCW_OK;
}

enum nncw_status nncw_state_get_child(const struct nncw_state *st, const char *key,
                                      struct nncw_state **out)
{
    cJSON *x = cJSON_GetObjectItemCaseSensitive(st->j, key);
    if (!cJSON_IsObject(x))
        return bad(st, key, "an object");
    return view(st, x, key, out);
}

enum nncw_status nncw_state_get_item(const struct nncw_state *st, const char *key, int i,
                                     struct nncw_state **out)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(st->j, key);
    cJSON *x = cJSON_IsArray(a) ? cJSON_GetArrayItem(a, i) : NULL;
    if (!cJSON_IsObject(x))
        return NNCW_FAIL(NNCW_ERR_PARSE, "%s: '%s'[%d] must be an object", st->what, key, i);
    char name[80];
    snprintf(name, sizeof name, "%s[%d]", key, i);
    return view(st, x, name, out);
}

enum nncw_status nncw_state_get_json(const struct nncw_state *st, const char *key, char **out)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(st->j, key);
    if (!x)
        return bad(st, key, "present");
    char *text = cJSON_PrintUnformatted(x);
    char *copy = text ? nncw_strdup(text) : NULL;
    cJSON_free(text);
    if (!copy)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "%s: out of memory", st->what);
    *out = copy;
    return NNCW_OK;
}
