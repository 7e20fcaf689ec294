/*
 * What the workbench's Search panel shows of the mixed-precision searches that run in the Lua
 * worker: HAWQ's progress (Hutchinson iteration i of N) and what it solved (per-layer traces,
 * the metric-vs-ratio curve, the chosen point), and an AutoQ search's episodes with the bits
 * it is trying. The Lua bindings (l_precision.c, l_autoq.c) publish as they go; the UI thread
 * copies a snapshot when the version moved. One board per process, behind a mutex; publishing
 * costs a copy, so scripts without a workbench pay next to nothing.
 *
 *     search_board_hawq_progress(c, 3, 10, 0.42);          // worker thread
 *     struct search_snapshot s = {0};
 *     if (search_board_copy(&s)) redraw(&s);               // UI thread
 *     search_snapshot_fini(&s);
 *
 * Plain C (no Lua), so the UI links it without Lua's headers.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct search_layer {
    char *id;     /* the weight quantizer */
    double trace; /* average Hessian trace per parameter */
    int64_t numel;
    int bits;   /* in the chosen point */
    int pinned; /* 0: free */
};

struct search_point {
    double ratio, metric;
    bool meets_ratio;
};

struct search_hawq {
    const void *key; /* the compression (compression_view.key); NULL: nothing published */
    bool running;    /* measuring traces now */
    int iteration;   /* of the running measurement, from 1 */
    int iter_number; /* its limit */
    double mean_trace;
    char error[256]; /* why the last run failed ("" when it did not) */
    bool solved;     /* the fields below hold a result */
    int n_layers, n_points;
    struct search_layer *layers;
    struct search_point *points;
    int chosen;     /* 0-based point */
    int iterations; /* Hutchinson iterations the traces took */
    double target_ratio;
    int n_bits, bits[8]; /* the candidate bit widths, ascending */
};

struct search_episode {
    int episode; /* from 0 */
    bool warmup, best;
    double accuracy, reward, ratio;
};

struct search_autoq {
    const void *key;      /* the AutoQ object; NULL: none published */
    const void *comp_key; /* the compression it searches */
    int n_steps;          /* quantizers, one bit width each */
    char **ids;           /* their ids */
    bool *is_weight;
    int total; /* episodes it was made for */
    int n_episodes;
    struct search_episode *episodes;
    int *bits;      /* the newest episode's policy (n_steps), NULL before the first */
    int *best_bits; /* the best policy so far, NULL before the first */
    int best;       /* index into episodes, -1: none */
    bool applied;   /* the best policy was applied to the compression */
};

struct search_snapshot {
    unsigned version; /* counts publications (0: never copied) */
    struct search_hawq hawq;
    struct search_autoq autoq;
};

/* ---- publishing (the Lua worker) ---- */
/* a measurement runs: iteration of iter_number with the mean trace so far */
void search_board_hawq_progress(const void *key, int iteration, int iter_number, double mean_trace);
/* the measurement ended: error NULL on success (the result follows), else why it failed */
void search_board_hawq_end(const void *key, const char *error);
/* what HAWQ solved (layers and points copied; the ids too) */
void search_board_hawq_result(const void *key, const struct search_hawq *result);
/* the compression at key has no HAWQ result: the board forgets one it holds for that address
 * (a compression made where a freed one was must not show the freed one's result) */
void search_board_hawq_forget(const void *key);
/* a new AutoQ search over n_steps quantizers */
void search_board_autoq_begin(const void *key, const void *comp_key, int n_steps,
                              const char *const *ids, const bool *is_weight, int total);
/* an episode ran: its record, policy and the best policy so far (n_steps each) */
void search_board_autoq_episode(const void *key, const struct search_episode *e, const int *bits,
                                const int *best_bits);
/* the best policy of search key was applied */
void search_board_autoq_applied(const void *key);

/* ---- reading (the UI) ---- */
/* copies the board into out when its version differs from out->version (out's arrays are
 * replaced); true when it copied. Out of memory keeps the older copy */
bool search_board_copy(struct search_snapshot *out);
void search_snapshot_fini(struct search_snapshot *s);
/* forgets everything published (tests) */
void search_board_reset(void);
