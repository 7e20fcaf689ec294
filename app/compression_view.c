/* A copy of a compression's state for the panels (built by the worker, read by the UI). */
#include "compression_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static char *dup_str(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s ? s : "", n);
    return d;
}

/* a copy of a list of n strings (NULL when n is 0); false when out of memory */
static bool dup_list(char *const *src, int n, char ***out)
{
    *out = NULL;
    if (n <= 0)
        return true;
    char **d = calloc((size_t)n, sizeof *d);
    if (!d)
        return false;
    *out = d;
    for (int i = 0; i < n; i++)
        if (!(d[i] = dup_str(src[i])))
            return false;
    return true;
}

static void free_list(char **list, int n)
{
    for (int i = 0; list && i < n; i++)
        free(list[i]);
    free(list);
}

static enum nncw_status copy_entries(struct compression_view *v, const struct nncw_config *cfg)
{
    if (!cfg || cfg->n_compression <= 0)
        return NNCW_OK;
    v->entries = calloc((size_t)cfg->n_compression, sizeof *v->entries);
    if (!v->entries)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "compression view: out of memory");
    v->n_entries = cfg->n_compression;
    for (int i = 0; i < cfg->n_compression; i++) {
        const struct nncw_compression_config *src = &cfg->compression[i];
        struct compression_view_entry *e = &v->entries[i];
        e->n_ignored = src->n_ignored;
        e->n_target = src->n_target;
        if (!(e->algorithm = dup_str(src->algorithm)) ||
            !dup_list(src->ignored_scopes, src->n_ignored, &e->ignored) ||
            !dup_list(src->target_scopes, src->n_target, &e->target))
            return NNCW_FAIL(NNCW_ERR_NOMEM, "compression view: out of memory");
    }
    return NNCW_OK;
}

static enum nncw_status copy_quantizers(struct compression_view *v,
                                        const struct nncw_compression *c)
{
    int n = nncw_compression_count_quantizers(c);
    if (n <= 0)
        return NNCW_OK;
    v->quantizers = calloc((size_t)n, sizeof *v->quantizers);
    if (!v->quantizers)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "compression view: out of memory");
    for (int i = 0; i < n; i++) {
        struct nncw_quantizer_info *q = &v->quantizers[i];
        NNCW_TRY(nncw_compression_get_quantizer(c, i, q));
        if (!(q->id = dup_str(q->id)))
            return NNCW_FAIL(NNCW_ERR_NOMEM, "compression view: out of memory");
        v->n_quantizers++;
        v->n_weight_quantizers += q->is_weight;
    }
    return NNCW_OK;
}

static enum nncw_status copy_groups(struct compression_view *v, const struct nncw_compression *c)
{
    int n = nncw_compression_count_pruning_groups(c);
    if (n <= 0)
        return NNCW_OK;
    v->groups = calloc((size_t)n, sizeof *v->groups);
    if (!v->groups)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "compression view: out of memory");
    for (int i = 0; i < n; i++) {
        struct compression_view_group *g = &v->groups[i];
        NNCW_TRY(nncw_compression_get_pruning_group(c, i, &g->info));
        g->info.members = NULL; /* borrowed from c: the scopes below are the view's copy */
        g->scopes = calloc((size_t)g->info.n_members + 1, sizeof *g->scopes);
        v->n_groups++;
        if (!g->scopes)
            return NNCW_FAIL(NNCW_ERR_NOMEM, "compression view: out of memory");
        for (int m = 0; m < g->info.n_members; m++)
            if (!(g->scopes[m] = dup_str(nncw_compression_get_pruning_group_member(c, i, m))))
                return NNCW_FAIL(NNCW_ERR_NOMEM, "compression view: out of memory");
    }
    v->has_cost = nncw_compression_get_pruning_cost(c, &v->cost) == NNCW_OK;
    nncw_error_clear();
    return NNCW_OK;
}

static enum nncw_status fill(struct compression_view *v, const struct nncw_compression *c,
                             const struct nncw_config *cfg)
{
    for (int i = 0; i < nncw_compression_count_algos(c); i++) {
        size_t k = strlen(v->algos);
        snprintf(v->algos + k, sizeof v->algos - k, "%s%s", i ? ", " : "",
                 nncw_compression_get_algo(c, i)->name);
    }
    v->stage = nncw_compression_stage_name(nncw_compression_get_stage(c));
    NNCW_TRY(copy_quantizers(v, c));
    NNCW_TRY(copy_groups(v, c));
    /* not every algorithm has a level or a rate: NOT_FOUND only says so */
    v->has_level = nncw_compression_get_sparsity_level(c, &v->level) == NNCW_OK;
    v->has_rate = nncw_compression_get_rate(c, &v->rate) == NNCW_OK;
    nncw_error_clear();
    char *text = NULL;
    NNCW_TRY(nncw_compression_statistics(c, &text));
    v->statistics = dup_str(text);
    nncw_free(text);
    if (!v->statistics)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "compression view: out of memory");
    return copy_entries(v, cfg);
}

enum nncw_status compression_view_build(const struct nncw_compression *c,
                                        const struct nncw_config *cfg, const char *name,
                                        struct compression_view **out)
{
    struct compression_view *v = calloc(1, sizeof *v);
    if (!v)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "compression view: out of memory");
    atomic_init(&v->refs, 1);
    v->key = c;
    v->name = dup_str(name);
    enum nncw_status s =
        v->name ? fill(v, c, cfg) : NNCW_FAIL(NNCW_ERR_NOMEM, "compression view: out of memory");
    if (s != NNCW_OK) {
        compression_view_release(v);
        return s;
    }
    *out = v;
    return NNCW_OK;
}

void compression_view_retain(struct compression_view *v)
{
    if (v)
        atomic_fetch_add(&v->refs, 1);
}

void compression_view_release(struct compression_view *v)
{
    if (!v || atomic_fetch_sub(&v->refs, 1) != 1)
        return;
    for (int i = 0; i < v->n_quantizers; i++)
        free((char *)v->quantizers[i].id);
    free(v->quantizers);
    for (int i = 0; i < v->n_entries; i++) {
        free(v->entries[i].algorithm);
        free_list(v->entries[i].ignored, v->entries[i].n_ignored);
        free_list(v->entries[i].target, v->entries[i].n_target);
    }
    free(v->entries);
    for (int i = 0; i < v->n_groups; i++)
        free_list(v->groups[i].scopes, v->groups[i].info.n_members);
    free(v->groups);
    free(v->statistics);
    free((char *)v->name);
    free(v);
}

/* ---- the live series ---- */

void compression_trace_init(struct compression_trace *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
}

void compression_trace_fini(struct compression_trace *t)
{
    compression_series_fini(&t->s);
    pthread_mutex_destroy(&t->mu);
}

void compression_trace_begin(struct compression_trace *t, const void *key)
{
    pthread_mutex_lock(&t->mu);
    t->s.n = 0;
    t->s.active = key != NULL;
    t->s.key = key;
    t->s.version++;
    pthread_mutex_unlock(&t->mu);
}

void compression_trace_add(struct compression_trace *t, const struct compression_point *p)
{
    pthread_mutex_lock(&t->mu);
    if (t->s.n == t->s.cap) {
        int64_t cap = t->s.cap ? 2 * t->s.cap : 256;
        struct compression_point *grown = realloc(t->s.points, sizeof *grown * (size_t)cap);
        if (grown) {
            t->s.points = grown;
            t->s.cap = cap;
        }
    }
    if (t->s.n < t->s.cap) { /* out of memory drops the point, not the run */
        t->s.points[t->s.n++] = *p;
        t->s.version++;
    }
    pthread_mutex_unlock(&t->mu);
}

bool compression_trace_copy(struct compression_trace *t, struct compression_series *out)
{
    pthread_mutex_lock(&t->mu);
    bool copy = out->version != t->s.version;
    if (copy && t->s.n > out->cap) {
        struct compression_point *grown =
            realloc(out->points, sizeof *grown * (size_t)t->s.cap);
        if (grown) {
            out->points = grown;
            out->cap = t->s.cap;
        } else {
            copy = false;
        }
    }
    if (copy) {
        if (t->s.n)
            memcpy(out->points, t->s.points, sizeof *out->points * (size_t)t->s.n);
        out->n = t->s.n;
        out->active = t->s.active;
        out->key = t->s.key;
        out->version = t->s.version;
    }
    pthread_mutex_unlock(&t->mu);
    return copy;
}

void compression_series_fini(struct compression_series *s)
{
    free(s->points);
    memset(s, 0, sizeof *s);
}
