/*
 * A read-only copy of what the workbench shows of a compression (the Lua global `comp`): its
 * algorithms and stage, the quantizers (the engine's nncw_quantizer_info, ids copied), the
 * sparsity level and compression rate when an algorithm has them, the statistics text, and
 * each config entry's ignored and target scopes. The Lua worker builds one after each action
 * (nothing else touches the compression then); the UI thread reads it at leisure.
 *
 *     struct compression_view *cv;
 *     if (compression_view_build(c, cfg, "comp", &cv) == NNCW_OK) {
 *         for (int i = 0; i < cv->n_quantizers; i++)
 *             printf("%s %d bits\n", cv->quantizers[i].id, cv->quantizers[i].bits);
 *         compression_view_release(cv);
 *     }
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "compression/compression.h"
#include "config/config.h"
#include "core/status.h"

struct compression_view_entry {
    char *algorithm;
    int n_ignored, n_target;
    char **ignored, **target; /* exact scopes or "{re}..." patterns */
};

/* a filter pruning group (nncw_pruning_group_info with its members' scopes copied) */
struct compression_view_group {
    struct nncw_pruning_group_info info; /* info.members: not kept (see scopes) */
    char **scopes;                        /* info.n_members conv scopes */
};

struct compression_view {
    atomic_int refs;
    const void *key;  /* the compression's address: equal keys, same compression (while it lives) */
    const char *name; /* what the session calls it ("comp") */
    bool of_model;    /* it compresses the global `model` (the graph view shows its marks) */
    char algos[160];  /* "quantization, magnitude_sparsity" */
    const char *stage;
    int n_quantizers, n_weight_quantizers;
    struct nncw_quantizer_info *quantizers; /* ids owned by the view */
    bool has_level, has_rate;
    float level; /* the sparsity level the algorithm aims at now */
    float rate;  /* NNCF's compression_rate (sparsity: the measured level) */
    char *statistics;
    int n_groups; /* filter pruning (0: none) */
    struct compression_view_group *groups;
    bool has_cost;
    struct nncw_pruning_cost cost; /* FLOPs and parameters now and pruned, level and target */
    int n_entries;
    struct compression_view_entry *entries; /* the config's compression entries */
};

/* a new view (one reference) of c; cfg (the config c was created with, NULL: no scope lists)
 * gives the scopes. NNCW_ERR_NOMEM, or the failure of a query of c */
enum nncw_status compression_view_build(const struct nncw_compression *c,
                                        const struct nncw_config *cfg, const char *name,
                                        struct compression_view **out);
void compression_view_retain(struct compression_view *v);
/* drops a reference; the last one frees the view. NULL is fine */
void compression_view_release(struct compression_view *v);

/* ---- the live series of a run with compression: the compression loss and the level ----
 * The training observer adds a point per step event (worker thread); the UI copies them. */
struct compression_point {
    int64_t global_step;
    float loss;  /* the event's compression_loss (mean since the previous event) */
    float level; /* the sparsity level then (NaN: the compression has none) */
    float rate;  /* NNCF's compression_rate then (NaN: none) */
};

struct compression_series {
    unsigned version; /* counts changes */
    bool active;      /* the run has a compression */
    const void *key;  /* that compression's address (compression_view.key) */
    struct compression_point *points;
    int64_t n, cap;
};

struct compression_trace {
    pthread_mutex_t mu;
    struct compression_series s;
};

void compression_trace_init(struct compression_trace *t);
void compression_trace_fini(struct compression_trace *t);
/* a new run: forgets the points; key: the compression it trains (NULL: none) */
void compression_trace_begin(struct compression_trace *t, const void *key);
void compression_trace_add(struct compression_trace *t, const struct compression_point *p);
/* copies the series into out when its version differs (reusing out's array); true when it
 * copied. Out of memory keeps the older copy. */
bool compression_trace_copy(struct compression_trace *t, struct compression_series *out);
void compression_series_fini(struct compression_series *s);
