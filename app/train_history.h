/*
 * The metrics of the current (or last) training run, as the Training panel plots them: one
 * point per step event (loss, learning rate, images/s) and one per epoch (train and test loss
 * and accuracy), kept for the whole run. The Lua worker writes, the UI thread reads a copy.
 *
 *     train_history_begin(h, epochs, steps_per_epoch, batch, lr);
 *     train_history_add_event(h, &event);              // from the training observer
 *     train_history_end(h, TRAIN_RUN_CANCELLED, steps);
 *     struct train_snapshot snap = {0};
 *     if (train_history_copy(h, &snap))                // true when something changed
 *         ... draw snap.steps[0 .. snap.n_steps) ...
 *     train_snapshot_fini(&snap);
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "train/trainer.h"

enum train_run_state {
    TRAIN_RUN_NONE, /* no run yet */
    TRAIN_RUN_RUNNING,
    TRAIN_RUN_DONE,      /* all epochs ran */
    TRAIN_RUN_STOPPED,   /* a callback stopped it */
    TRAIN_RUN_CANCELLED, /* the cancel key (or Ctrl-C) stopped it after a step */
    TRAIN_RUN_FAILED,
    TRAIN_RUN_STATE_COUNT
};

struct train_step_point {
    int64_t global_step;
    float loss, lr;
    double images_per_s;
};

struct train_epoch_point {
    int epoch; /* 1-based */
    int64_t global_step;
    float train_loss, train_acc, test_loss, test_acc; /* NaN when absent */
};

/* everything the panel needs, copied out of the history */
struct train_snapshot {
    unsigned version;
    int run; /* 1 for the first run of the session */
    enum train_run_state state;
    int epochs, batch;
    float base_lr;
    int64_t steps_per_epoch, total_steps, steps_done;
    struct nncw_train_event last; /* the newest event (NaN fields before one) */
    struct train_step_point *steps;
    int64_t n_steps, cap_steps;
    struct train_epoch_point *epoch_points;
    int n_epochs, cap_epochs;
};

struct train_history {
    pthread_mutex_t mu;
    struct train_snapshot s; /* the live data; s.version counts changes */
};

void train_history_init(struct train_history *h);
void train_history_fini(struct train_history *h);

/* starts a new run: forgets the previous one */
void train_history_begin(struct train_history *h, int epochs, int64_t steps_per_epoch, int batch,
                         float base_lr);
void train_history_add_event(struct train_history *h, const struct nncw_train_event *ev);
void train_history_end(struct train_history *h, enum train_run_state state, int64_t steps);

/* copies the history into out when its version differs from out->version (reusing out's
 * arrays); returns whether it copied. Out of memory keeps the older copy. */
bool train_history_copy(struct train_history *h, struct train_snapshot *out);
void train_snapshot_fini(struct train_snapshot *s);
const char *train_run_state_name(enum train_run_state s);
