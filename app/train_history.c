/* The current training run's metrics, written by the Lua worker and copied out by the UI. */
#include "train_history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {"no run",  "running",   "done",
                                          "stopped", "cancelled", "failed"};
_Static_assert(sizeof state_names / sizeof *state_names == TRAIN_RUN_STATE_COUNT,
               "a name per run state");

const char *train_run_state_name(enum train_run_state s)
{
    return (unsigned)s < TRAIN_RUN_STATE_COUNT ? state_names[s] : "?";
}

static void clear_event(struct nncw_train_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->loss = ev->lr = NAN;
    ev->train_loss = ev->train_acc = ev->test_loss = ev->test_acc = NAN;
    ev->images_per_s = ev->eta_s = ev->elapsed_s = NAN;
}

void train_history_init(struct train_history *h)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    clear_event(&h->s.last);
}

void train_history_fini(struct train_history *h)
{
    train_snapshot_fini(&h->s);
    pthread_mutex_destroy(&h->mu);
}

void train_snapshot_fini(struct train_snapshot *s)
{
    free(s->steps);
    free(s->epoch_points);
    s->steps = NULL;
    s->epoch_points = NULL;
    s->n_steps = s->cap_steps = 0;
    s->n_epochs = s->cap_epochs = 0;
}

void train_history_begin(struct train_history *h, int epochs, int64_t steps_per_epoch, int batch,
                         float base_lr)
{
    pthread_mutex_lock(&h->mu);
    struct train_snapshot *s = &h->s;
    s->run++;
    s->state = TRAIN_RUN_RUNNING;
    s->epochs = epochs;
    s->batch = batch;
    s->base_lr = base_lr;
    s->steps_per_epoch = steps_per_epoch;
    s->total_steps = (int64_t)epochs * steps_per_epoch;
    s->steps_done = 0;
    s->n_steps = 0;
    s->n_epochs = 0;
    clear_event(&s->last);
    s->version++;
    pthread_mutex_unlock(&h->mu);
}

/* grows *arr (of elem bytes each) to hold one more than *n; false when out of memory */
static bool reserve(void **arr, int64_t n, int64_t *cap, size_t elem)
{
    if (n < *cap)
        return true;
    int64_t c = *cap ? *cap * 2 : 256;
    void *p = realloc(*arr, (size_t)c * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = c;
    return true;
}

void train_history_add_event(struct train_history *h, const struct nncw_train_event *ev)
{
    pthread_mutex_lock(&h->mu);
    struct train_snapshot *s = &h->s;
    s->last = *ev;
    s->steps_done = ev->global_step;
    if (ev->type == NNCW_TRAIN_EVENT_STEP) {
        if (reserve((void **)&s->steps, s->n_steps, &s->cap_steps, sizeof *s->steps))
            s->steps[s->n_steps++] = (struct train_step_point){.global_step = ev->global_step,
                                                               .loss = ev->loss,
                                                               .lr = ev->lr,
                                                               .images_per_s = ev->images_per_s};
    } else {
        int64_t cap = s->cap_epochs;
        if (reserve((void **)&s->epoch_points, s->n_epochs, &cap, sizeof *s->epoch_points)) {
            s->cap_epochs = (int)cap;
            s->epoch_points[s->n_epochs++] =
                (struct train_epoch_point){.epoch = ev->epoch + 1,
                                           .global_step = ev->global_step,
                                           .train_loss = ev->train_loss,
                                           .train_acc = ev->train_acc,
                                           .test_loss = ev->test_loss,
                                           .test_acc = ev->test_acc};
        }
    }
    s->version++;
    pthread_mutex_unlock(&h->mu);
}

void train_history_end(struct train_history *h, enum train_run_state state, int64_t steps)
{
    pthread_mutex_lock(&h->mu);
    h->s.state = state;
    h->s.steps_done = steps;
    h->s.version++;
    pthread_mutex_unlock(&h->mu);
}

bool train_history_copy(struct train_history *h, struct train_snapshot *out)
{
    pthread_mutex_lock(&h->mu);
    const struct train_snapshot *s = &h->s;
    bool changed = s->version != out->version;
    if (changed) {
        int64_t cap_steps = out->cap_steps, cap_epochs = out->cap_epochs;
        bool ok = true;
        if (s->n_steps > cap_steps) {
            void *p = realloc(out->steps, (size_t)s->cap_steps * sizeof *out->steps);
            ok = p != NULL;
            if (p) {
                out->steps = p;
                cap_steps = s->cap_steps;
            }
        }
        if (ok && s->n_epochs > cap_epochs) {
            void *p = realloc(out->epoch_points, (size_t)s->cap_epochs * sizeof *out->epoch_points);
            ok = p != NULL;
            if (p) {
                out->epoch_points = p;
                cap_epochs = s->cap_epochs;
            }
        }
        if (ok) {
            struct train_step_point *steps = out->steps;
            struct train_epoch_point *epochs = out->epoch_points;
            *out = *s;
            out->steps = steps;
            out->epoch_points = epochs;
            out->cap_steps = cap_steps;
            out->cap_epochs = (int)cap_epochs;
            if (s->n_steps)
                memcpy(steps, s->steps, (size_t)s->n_steps * sizeof *steps);
            if (s->n_epochs)
                memcpy(epochs, s->epoch_points, (size_t)s->n_epochs * sizeof *epochs);
        } else {
            changed = false;
        }
    }
    pthread_mutex_unlock(&h->mu);
    return changed;
}
