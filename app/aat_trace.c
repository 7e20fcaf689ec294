/* The accuracy-aware run's budget, rate steps and best point, for the Training panel. */
#include "aat_trace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void aat_trace_init(struct aat_trace *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
}

void aat_trace_fini(struct aat_trace *t)
{
    aat_snapshot_fini(&t->s);
    pthread_mutex_destroy(&t->mu);
}

void aat_snapshot_fini(struct aat_snapshot *s)
{
    free(s->points);
    s->points = NULL;
    s->n_points = s->cap_points = 0;
}

void aat_trace_begin(struct aat_trace *t)
{
    pthread_mutex_lock(&t->mu);
    struct aat_snapshot *s = &t->s;
    s->active = s->done = s->has_best = false;
    s->n_points = s->n_changes = 0;
    s->best_epoch = -1;
    s->version++;
    pthread_mutex_unlock(&t->mu);
}

/* the engine's whole history (it is short: one point per validation) */
static void copy_history(struct aat_snapshot *s, const struct nncw_aat_event *ev)
{
    if (ev->n_history > s->cap_points) {
        int cap = ev->n_history * 2;
        struct aat_point *p = realloc(s->points, (size_t)cap * sizeof *p);
        if (!p)
            return;
        s->points = p;
        s->cap_points = cap;
    }
    for (int i = 0; i < ev->n_history; i++) {
        const struct nncw_aat_point *h = &ev->history[i];
        s->points[i] = (struct aat_point){.epoch = h->epoch,
                                          .phase = h->phase,
                                          .rate_target = h->rate_target,
                                          .rate = h->rate,
                                          .metric = h->metric,
                                          .within_budget = h->budget >= 0};
    }
    s->n_points = ev->n_history;
}

void aat_trace_add(struct aat_trace *t, const struct nncw_aat_event *ev)
{
    pthread_mutex_lock(&t->mu);
    struct aat_snapshot *s = &t->s;
    s->active = true;
    s->done = ev->type == NNCW_AAT_EVENT_DONE;
    s->phase = ev->phase;
    s->epoch = ev->epoch;
    s->max_epochs = ev->max_epochs;
    s->uncompressed = ev->uncompressed_metric;
    s->minimal_tolerable = ev->minimal_tolerable_metric;
    s->metric = ev->metric;
    s->rate = ev->rate;
    s->rate_target = ev->rate_target;
    s->rate_step = ev->rate_step;
    s->n_changes = ev->n_changes;
    double best = ev->minimal_tolerable_metric + ev->best_budget;
    if (ev->has_best && (!s->has_best || s->best_rate != ev->best_rate || s->best_metric != best))
        s->best_epoch = ev->epoch; /* the best point moved at this validation */
    s->has_best = ev->has_best;
    s->best_rate = ev->best_rate;
    s->best_metric = ev->has_best ? best : NAN;
    copy_history(s, ev);
    s->version++;
    pthread_mutex_unlock(&t->mu);
}

bool aat_trace_copy(struct aat_trace *t, struct aat_snapshot *out)
{
    pthread_mutex_lock(&t->mu);
    const struct aat_snapshot *s = &t->s;
    bool changed = s->version != out->version;
    if (changed) {
        struct aat_point *points = out->points;
        int cap = out->cap_points, n = s->n_points;
        if (n > cap) {
            struct aat_point *p = realloc(points, (size_t)n * sizeof *p);
            if (p) {
                points = p;
                cap = n;
            } else {
                n = cap < out->n_points ? cap : out->n_points; /* keep the older points */
            }
        }
        *out = *s;
        out->points = points;
        out->cap_points = cap;
        out->n_points = n;
        if (n)
            memcpy(points, s->points, (size_t)n * sizeof *points);
    }
    pthread_mutex_unlock(&t->mu);
    return changed;
}
