/*
** The importer's tables: the symbol table from ONNX tensor names to what they stand for, the
** node scope names used so far, and the set of tensor names some node or graph output reads.
** All three are open-addressing hash tables (FNV-1a), so import stays linear in the model.
*/
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "onnx/onnx_internal.h"

#define MAX_NAME 4096

/* ---- string hashing ---- */

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* ---- the symbol table ---- */

int nncw_onnx_sym_find(const struct nncw_onnx_importer *im, const char *name)
{
    if (!im->sym_hash_cap)
        return -1;
    uint32_t mask = (uint32_t)im->sym_hash_cap - 1, h = hash_str(name) & mask;
    while (im->sym_hash[h]) {
        int i = im->sym_hash[h] - 1;
        if (strcmp(im->syms[i].name, name) == 0)
            return i;
        h = (h + 1) & mask;
    }
    return -1;
}

static void sym_hash_insert(struct nncw_onnx_importer *im, int i)
{
    uint32_t mask = (uint32_t)im->sym_hash_cap - 1, h = hash_str(im->syms[i].name) & mask;
    while (im->sym_hash[h])
        h = (h + 1) & mask;
    im->sym_hash[h] = i + 1;
}

static enum nncw_status sym_grow(struct nncw_onnx_importer *im)
{
    if (im->n_syms + 1 > im->cap_syms) {
        int cap = im->cap_syms ? im->cap_syms * 2 : 64;
        void *p = nncw_realloc(im->syms, (size_t)cap * sizeof *im->syms);
        if (!p)
            return NNCW_FAIL(NNCW_ERR_NOMEM, "out of memory");
        im->syms = p;
        im->cap_syms = cap;
    }
    if (2 * (im->n_syms + 1) > im->sym_hash_cap) {
        int cap = im->sym_hash_cap ? im->sym_hash_cap * 2 : 128;
        int *h = nncw_calloc((size_t)cap, sizeof *h);
        if (!h)
            return NNCW_FAIL(NNCW_ERR_NOMEM, "out of memory");
        nncw_free(im->sym_hash);
        im->sym_hash = h;
        im->sym_hash_cap = cap;
        for (int i = 0; i < im->n_syms; i++)
            sym_hash_insert(im, i);
    }
    return NNCW_OK;
}

/* a new symbol; NNCW_ERR_PARSE if the name is taken (ONNX names are assigned once) */
enum nncw_status nncw_onnx_sym_new(struct nncw_onnx_importer *im, const char *name, int *out)
{
    if (strlen(name) > MAX_NAME)
        return NNCW_FAIL(NNCW_ERR_PARSE, "a tensor name of %zu bytes is too long", strlen(name));
    if (nncw_onnx_sym_find(im, name) >= 0)
        return NNCW_FAIL(NNCW_ERR_PARSE, "tensor '%s' is defined twice", name);
    NNCW_TRY(sym_grow(im));
    struct nncw_onnx_sym *s = &im->syms[im->n_syms];
    memset(s, 0, sizeof *s);
    s->name = nncw_strdup(name);
    if (!s->name)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "out of memory");
    s->value = -1;
    *out = im->n_syms++;
    sym_hash_insert(im, *out);
    return NNCW_OK;
}

void nncw_onnx_sym_fini(struct nncw_onnx_sym *s)
{
    if (s->known) {
        nncw_tensor_fini(&s->t[0]);
        nncw_tensor_fini(&s->t[1]);
    }
    nncw_free(s->name);
}

const struct nncw_tensor *nncw_onnx_sym_tensor(const struct nncw_onnx_importer *im, int sym, int b)
{
    return &im->syms[sym].t[im->n_batch > 1 ? b : 0];
}

void nncw_onnx_sym_set_known(struct nncw_onnx_importer *im, int sym, struct nncw_tensor *t,
                             struct nncw_tensor *t2)
{
    struct nncw_onnx_sym *s = &im->syms[sym];
    s->known = true;
    s->t[0] = *t;
    memset(t, 0, sizeof *t);
    if (t2 && t2->storage) {
        s->t[1] = *t2;
        memset(t2, 0, sizeof *t2);
        size_t n = nncw_tensor_nbytes(&s->t[0]);
        s->batch_dep = !nncw_tensor_same_shape(&s->t[0], &s->t[1]) ||
                       s->t[0].dtype != s->t[1].dtype ||
                       (n && memcmp(s->t[0].data, s->t[1].data, n) != 0);
    } else {
        s->t[1] = s->t[0];
        nncw_storage_retain(s->t[1].storage);
    }
}

/* ---- scope names ---- */

static bool scope_taken(const struct nncw_onnx_importer *im, const char *name)
{
    if (!im->scope_hash_cap)
        return false;
    uint32_t mask = (uint32_t)im->scope_hash_cap - 1, h = hash_str(name) & mask;
    for (; im->scopes[h]; h = (h + 1) & mask)
        if (strcmp(im->scopes[h], name) == 0)
            return true;
    return false;
}

static void scope_insert(struct nncw_onnx_importer *im, char *name)
{
    uint32_t mask = (uint32_t)im->scope_hash_cap - 1, h = hash_str(name) & mask;
    while (im->scopes[h])
        h = (h + 1) & mask;
    im->scopes[h] = name;
}

static enum nncw_status scope_add(struct nncw_onnx_importer *im, const char *name)
{
    if (2 * (im->n_scopes + 1) > im->scope_hash_cap) {
        int cap = im->scope_hash_cap ? im->scope_hash_cap * 2 : 128;
        char **old = im->scopes;
        int old_cap = im->scope_hash_cap;
        im->scopes = nncw_calloc((size_t)cap, sizeof *im->scopes);
        if (!im->scopes) {
            im->scopes = old;
            return NNCW_FAIL(NNCW_ERR_NOMEM, "out of memory");
        }
        im->scope_hash_cap = cap;
        for (int i = 0; i < old_cap; i++)
            if (old[i])
                scope_insert(im, old[i]);
        nncw_free(old);
    }
    char *dup = nncw_strdup(name);
    if (!dup)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "out of memory");
    scope_insert(im, dup);
    im->n_scopes++;
    return NNCW_OK;
}

/* a scope not used yet: base, else base_2, base_3, ... */
enum nncw_status nncw_onnx_unique_scope(struct nncw_onnx_importer *im, const char *base, char *buf,
                                        size_t size)
{
    snprintf(buf, size, "%s", base);
    for (int k = 2; scope_taken(im, buf); k++)
        snprintf(buf, size, "%s_%d", base, k);
    return scope_add(im, buf);
}

/* ---- the names some node or graph output reads ---- */

bool nncw_onnx_is_used(const struct nncw_onnx_importer *im, const char *name)
{
    if (!im->used_cap)
        return false;
    uint32_t mask = (uint32_t)im->used_cap - 1, h = hash_str(name) & mask;
    for (; im->used[h]; h = (h + 1) & mask)
        if (strcmp(im->used[h], name) == 0)
            return true;
    return false;
}

enum nncw_status nncw_onnx_collect_used(struct nncw_onnx_importer *im)
{
    const NncwOnnx__GraphProto *gp = im->graph;
    size_t n = gp->n_output;
    for (size_t i = 0; i < gp->n_node; i++)
        n += gp->node[i]->n_input;
    if (n > (1u << 26))
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "the graph is too large");
    int cap = 16;
    while ((size_t)cap < 2 * n)
        cap *= 2;
    im->used = nncw_calloc((size_t)cap, sizeof *im->used);
    if (!im->used)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "out of memory");
    im->used_cap = cap;
    uint32_t mask = (uint32_t)cap - 1;
    for (size_t i = 0; i < gp->n_node + 1; i++) {
        size_t k = i < gp->n_node ? gp->node[i]->n_input : gp->n_output;
        for (size_t j = 0; j < k; j++) {
            const char *name =
                i < gp->n_node ? gp->node[i]->input[j] : nncw_onnx_str(gp->output[j]->name);
            if (!name[0] || nncw_onnx_is_used(im, name))
                continue;
            uint32_t h = hash_str(name) & mask;
            while (im->used[h])
                h = (h + 1) & mask;
            im->used[h] = name;
        }
    }
    return NNCW_OK;
}

void nncw_onnx_symtab_fini(struct nncw_onnx_importer *im)
{
    for (int i = 0; i < im->n_syms; i++)
        nncw_onnx_sym_fini(&im->syms[i]);
    nncw_free(im->syms);
    nncw_free(im->sym_hash);
    for (int i = 0; i < im->scope_hash_cap; i++)
        nncw_free(im->scopes[i]);
    nncw_free(im->scopes);
    nncw_free(im->used);
}
