/* HAWQ traces as a JSON file: {"traces": {"<weight quantizer id>": trace, ...},
 * "iterations": n}. nncw's stand-in for NNCF's traces_per_layer_path tensor file. */
#include "compression/precision/precision_init.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "compression/quantization/quantization_internal.h"
#include "core/alloc.h"

enum nncw_status nncw_hawq_traces_save(const struct nncw_hawq_state *h, const char *path)
{
    if (!h->have_traces)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "HAWQ: no traces to save yet");
    cJSON *root = cJSON_CreateObject(), *t = cJSON_CreateObject();
    bool ok = root && t;
    for (int i = 0; i < h->n_layers && ok; i++)
        ok = cJSON_AddNumberToObject(t, h->ids[i], h->traces[i]) != NULL;
    if (ok) {
        cJSON_AddItemToObject(root, "traces", t);
        t = NULL;
        ok = cJSON_AddNumberToObject(root, "iterations", h->iterations) != NULL;
    }
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(t);
    cJSON_Delete(root);
    if (!text)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "HAWQ traces: out of memory");
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    bool written = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0)
        written = false;
    cJSON_free(text);
    if (!written || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return NNCW_FAIL(NNCW_ERR_IO, "HAWQ traces: cannot write '%s': %s", path, strerror(e));
    }
    return NNCW_OK;
}

static enum nncw_status parse_traces(struct nncw_hawq_state *h, const cJSON *root,
                                     const char *path)
{
    const cJSON *t = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "traces") : NULL;
    if (!cJSON_IsObject(t))
        return NNCW_FAIL(NNCW_ERR_PARSE, "HAWQ traces '%s': traces: expected an object of "
                                         "{\"<quantizer id>\": trace}", path);
    for (const cJSON *e = t->child; e; e = e->next)
        if (!cJSON_IsNumber(e) || !(e->valuedouble == e->valuedouble))
            return NNCW_FAIL(NNCW_ERR_PARSE, "HAWQ traces '%s': traces.%s: expected a number",
                             path, e->string);
    for (int i = 0; i < h->n_layers; i++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(t, h->ids[i]);
        if (!e)
            return NNCW_FAIL(NNCW_ERR_NOT_FOUND,
                             "HAWQ traces '%s': traces: no trace for weight quantizer '%s'", path,
                             h->ids[i]);
        h->traces[i] = e->valuedouble;
    }
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "iterations");
    h->iterations = cJSON_IsNumber(it) ? it->valueint : 0;
    return NNCW_OK;
}

enum nncw_status nncw_hawq_traces_load(struct nncw_hawq_state *h, const char *path)
{
    char *text;
    NNCW_TRY(nncw_quant_read_text_file(path, "HAWQ traces", (size_t)64 << 20, &text));
    cJSON *root = cJSON_Parse(text);
    nncw_free(text);
    if (!root)
        return NNCW_FAIL(NNCW_ERR_PARSE, "HAWQ traces '%s': not valid JSON", path);
    enum nncw_status s = parse_traces(h, root, path);
    cJSON_Delete(root);
    if (s == NNCW_OK)
        h->have_traces = true;
    return s;
}

/* ---- the HAWQ state in a compression checkpoint ---- */

enum nncw_status nncw_hawq_state_to_json(const struct nncw_hawq_state *h, char **json)
{
    *json = NULL;
    if (!h || !h->have_traces)
        return NNCW_OK;
    cJSON *root = cJSON_CreateObject(), *layers = cJSON_CreateArray();
    bool ok = root && layers;
    for (int i = 0; i < h->n_layers && ok; i++) {
        cJSON *l = cJSON_CreateObject();
        ok = l && cJSON_AddStringToObject(l, "id", h->ids[i]) &&
             cJSON_AddNumberToObject(l, "trace", h->traces[i]) &&
             cJSON_AddNumberToObject(l, "numel", (double)h->numel[i]) &&
             cJSON_AddNumberToObject(l, "pinned", h->pinned[i]);
        if (l)
            cJSON_AddItemToArray(layers, l);
    }
    if (ok) {
        cJSON_AddItemToObject(root, "layers", layers);
        layers = NULL;
        ok = cJSON_AddNumberToObject(root, "iterations", h->iterations) &&
             cJSON_AddNumberToObject(root, "forced", h->forced);
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(layers);
    cJSON_Delete(root);
    if (!text)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "HAWQ state: out of memory");
    *json = nncw_strdup(text);
    cJSON_free(text);
    return *json ? NNCW_OK : NNCW_FAIL(NNCW_ERR_NOMEM, "HAWQ state: out of memory");
}

static enum nncw_status bad_state(const char *key)
{
    return NNCW_FAIL(NNCW_ERR_PARSE, "compression state: hawq.%s: missing or of the wrong type",
                     key);
}

static enum nncw_status read_layer(struct nncw_hawq_state *h, const cJSON *l, int i)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(l, "id");
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(l, "trace");
    const cJSON *ne = cJSON_GetObjectItemCaseSensitive(l, "numel");
    const cJSON *pin = cJSON_GetObjectItemCaseSensitive(l, "pinned");
    if (!cJSON_IsString(id) || !cJSON_IsNumber(tr) || !cJSON_IsNumber(ne) || !cJSON_IsNumber(pin) ||
        pin->valueint < 0 || pin->valueint > 32)
        return bad_state("layers[]");
    if (!(h->ids[i] = nncw_strdup(id->valuestring)))
        return NNCW_FAIL(NNCW_ERR_NOMEM, "HAWQ state: out of memory");
    h->traces[i] = tr->valuedouble;
    h->numel[i] = (int64_t)ne->valuedouble;
    h->pinned[i] = pin->valueint;
    return NNCW_OK;
}

/* replaces h's layers, traces, pins and pick with those of the state (h unchanged on error but
 * for out of memory) */
static enum nncw_status read_state(struct nncw_hawq_state *h, const cJSON *root)
{
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "iterations");
    const cJSON *forced = cJSON_GetObjectItemCaseSensitive(root, "forced");
    if (!cJSON_IsArray(layers))
        return bad_state("layers");
    if (!cJSON_IsNumber(it) || !cJSON_IsNumber(forced))
        return bad_state(!cJSON_IsNumber(it) ? "iterations" : "forced");
    int n = cJSON_GetArraySize(layers);
    struct nncw_hawq_state *fresh = nncw_hawq_state_new();
    if (!fresh)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "HAWQ state: out of memory");
    fresh->ids = nncw_calloc((size_t)(n ? n : 1), sizeof *fresh->ids);
    fresh->traces = nncw_calloc((size_t)(n ? n : 1), sizeof *fresh->traces);
    fresh->numel = nncw_calloc((size_t)(n ? n : 1), sizeof *fresh->numel);
    fresh->pinned = nncw_calloc((size_t)(n ? n : 1), sizeof *fresh->pinned);
    enum nncw_status s = fresh->ids && fresh->traces && fresh->numel && fresh->pinned
                             ? NNCW_OK
                             : NNCW_FAIL(NNCW_ERR_NOMEM, "HAWQ state: out of memory");
    fresh->n_layers = n;
    int i = 0;
    for (const cJSON *l = layers->child; l && s == NNCW_OK; l = l->next)
        s = read_layer(fresh, l, i++);
    if (s == NNCW_OK) {
        fresh->iterations = it->valueint;
        fresh->forced = forced->valueint;
        fresh->have_traces = true;
        struct nncw_hawq_state keep = *h; /* swap contents; h's pointer stays valid */
        *h = *fresh;
        *fresh = keep;
    }
    nncw_hawq_state_free(fresh);
    return s;
}

enum nncw_status nncw_hawq_state_from_json(struct nncw_hawq_state *h, const char *json)
{
    cJSON *root = cJSON_Parse(json);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return NNCW_FAIL(NNCW_ERR_PARSE, "compression state: hawq: not a JSON object");
    }
    enum nncw_status s = read_state(h, root);
    cJSON_Delete(root);
    return s;
}
