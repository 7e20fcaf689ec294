/*
 * The accuracy-aware side of the current training run, as the Training panel shows it: the
 * accuracy budget (the minimal tolerable accuracy), every validation with its compression
 * rate (the rate search's steps), the current target rate and step, and the best point so far
 * (the model the run would keep). The Lua worker writes it from the accuracy-aware events, the
 * UI thread reads a copy. A run that is not accuracy-aware leaves it inactive.
 *
 *     aat_trace_begin(t);                     // any run starts: inactive until an event
 *     aat_trace_add(t, &aat_event);           // from the training observer
 *     struct aat_snapshot snap = {0};
 *     if (aat_trace_copy(t, &snap) && snap.active)
 *         ... snap.points[0 .. snap.n_points), snap.minimal_tolerable, snap.best_* ...
 *     aat_snapshot_fini(&snap);
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>

#include "train/accuracy_aware.h"

struct aat_point {
    int epoch; /* training epochs done before the validation */
    enum nncw_aat_phase phase;
    float rate_target, rate; /* NaN when unknown */
    double metric;           /* accuracy in % */
    bool within_budget;      /* metric >= the minimal tolerable metric */
};

struct aat_snapshot {
    unsigned version;
    bool active; /* the current run is accuracy-aware and reported once at least */
    bool done;   /* the kept model is restored */
    enum nncw_aat_phase phase;
    int epoch, max_epochs;
    double uncompressed, minimal_tolerable, metric; /* metric: the latest validation */
    float rate, rate_target, rate_step;
    int n_changes; /* target rate changes so far */
    bool has_best;
    float best_rate;
    double best_metric;
    int best_epoch; /* when the best point was reached */
    struct aat_point *points;
    int n_points, cap_points;
};

struct aat_trace {
    pthread_mutex_t mu;
    struct aat_snapshot s;
};

void aat_trace_init(struct aat_trace *t);
void aat_trace_fini(struct aat_trace *t);
/* a run starts: forgets the previous one (inactive until an accuracy-aware event) */
void aat_trace_begin(struct aat_trace *t);
void aat_trace_add(struct aat_trace *t, const struct nncw_aat_event *ev);
/* copies the trace into out when its version differs (reusing out's array); returns whether
 * it copied. Out of memory keeps the older points */
bool aat_trace_copy(struct aat_trace *t, struct aat_snapshot *out);
void aat_snapshot_fini(struct aat_snapshot *s);
