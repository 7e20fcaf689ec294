/*
 * The training loop: epochs of shuffled mini-batches, cross-entropy, an optimizer and a
 * learning-rate schedule, evaluation after every epoch, progress as events.
 *
 *     struct nncw_train_options o = nncw_train_defaults();
 *     o.epochs = 5;
 *     struct nncw_trainer *t;
 *     nncw_trainer_new(g, train_set, test_set, &o, &t);
 *     nncw_trainer_set_callback(t, on_event, state);   // return false to stop
 *     enum nncw_status s = nncw_trainer_run(t);         // or nncw_trainer_step() in slices
 *     nncw_trainer_free(t);
 *
 * The model keeps its state whatever happens: a cancelled run stops after the current step,
 * and a non-finite loss stops before the update that would spread it (NNCW_ERR_NUMERIC).
 * Same seed, same options, same data: same numbers.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/rng.h"
#include "core/status.h"
#include "data/data.h"
#include "graph/graph.h"
#include "train/train.h"

struct nncw_train_options {
    int epochs;
    int batch_size;
    struct nncw_optim_config optim;   /* optim.lr is the base learning rate */
    struct nncw_lr_schedule schedule; /* cosine with t_max 0 anneals over all epochs */
    uint64_t seed;                    /* shuffling, augmentation, dropout */
    int log_every;                    /* a STEP event every N steps (0: none) */
    int eval_batch_size;
    int crop_padding;                 /* random-crop augmentation (0: off) */
    bool hflip;                       /* random horizontal flips */
    int64_t max_steps_per_epoch;      /* 0: the whole training set (tests use subsets) */
};

enum nncw_train_event_type {
    NNCW_TRAIN_EVENT_STEP,  /* every log_every steps */
    NNCW_TRAIN_EVENT_EPOCH, /* after an epoch and its evaluation */
    NNCW_TRAIN_EVENT_TYPE_COUNT
};

struct nncw_train_event {
    enum nncw_train_event_type type;
    int epoch, epochs;              /* 0-based epoch */
    int64_t step, steps_per_epoch;  /* steps done in this epoch */
    int64_t global_step;
    float loss;                     /* mean loss of the steps since the previous event */
    float lr;
    double images_per_s;            /* over the steps since the previous event */
    double eta_s;                   /* estimated seconds to the end of training */
    double elapsed_s;
    float compression_loss;         /* the hooks' loss, mean since the previous event (0: none) */
    float train_loss, train_acc;    /* EPOCH: over the epoch */
    float test_loss, test_acc;      /* EPOCH: on the test set (NaN without one) */
};

/* false stops the run after the current step (nncw_trainer_run returns NNCW_ERR_CANCELLED) */
typedef bool (*nncw_train_event_fn)(void *user, const struct nncw_train_event *ev);

/* What a compression algorithm adds to the loop: NNCF's controller steps its scheduler at
 * epoch starts and after optimizer steps, adds its loss, and trains its own parameters with a
 * learning-rate multiplier. Every member may be NULL. */
struct nncw_train_hooks {
    void *user;
    /* before the first step of an epoch (scheduler.epoch_step) */
    enum nncw_status (*epoch_begin)(void *user, int epoch);
    /* after each optimizer step (scheduler.step) */
    enum nncw_status (*step_end)(void *user, int64_t global_step);
    /* after the task loss's backward, before the optimizer step: the algorithm's loss, whose
     * gradients it accumulates into the parameters' gradients */
    enum nncw_status (*loss)(void *user, float *loss);
    /* after the forward, before the backward: a loss on the model's output (knowledge
     * distillation) given the batch's input and logits, which adds its gradient into dlogits
     * (the task loss's gradient is there already) */
    enum nncw_status (*output_loss)(void *user, const struct nncw_tensor *input,
                                    const struct nncw_tensor *logits, struct nncw_tensor *dlogits,
                                    float *loss);
    /* learning-rate multiplier of a trainable parameter; asked once per parameter when the
     * hooks are set */
    float (*param_lr_scale)(void *user, int value_id);
    /* before each optimizer step: may replace the learning rate and weight decay (NNCF's
     * staged scheduler: base_lr/base_wd, polynomial LR drop, weight decay switched off).
     * epoch is fractional (epoch + step / steps per epoch); *lr and *weight_decay hold the
     * values the run would use */
    enum nncw_status (*lr_wd_override)(void *user, double epoch, float *lr, float *weight_decay);
};

struct nncw_trainer;

struct nncw_train_options nncw_train_defaults(void);

/* borrows g and the data sets (test may be NULL); NNCW_ERR_INVALID_ARG naming a bad option or
 * a data set whose sample shape or class count does not fit the model */
enum nncw_status nncw_trainer_new(struct nncw_graph *g, const struct nncw_dataset *train,
                                  const struct nncw_dataset *test,
                                  const struct nncw_train_options *o, struct nncw_trainer **out);
void nncw_trainer_free(struct nncw_trainer *t);
void nncw_trainer_set_callback(struct nncw_trainer *t, nncw_train_event_fn fn, void *user);
/* before the first step; NNCW_ERR_INVALID_ARG from a bad learning-rate multiplier */
enum nncw_status nncw_trainer_set_hooks(struct nncw_trainer *t, const struct nncw_train_hooks *h);

/* one training step (and, at an epoch's end, evaluation and the EPOCH event); *finished is
 * set once all epochs are done */
enum nncw_status nncw_trainer_step(struct nncw_trainer *t, bool *finished);
/* steps to the end */
enum nncw_status nncw_trainer_run(struct nncw_trainer *t);
/* the last EPOCH event's figures (NaN before the first) */
void nncw_trainer_get_last_epoch(const struct nncw_trainer *t, struct nncw_train_event *out);

/* ---- the loop's position, for checkpoints and resumed runs ---- */
/* the running figures of the epoch in progress and of the progress window (so a resumed run
 * reports what the uninterrupted one would) */
struct nncw_trainer_tally {
    double epoch_loss;
    int64_t epoch_correct, epoch_seen, epoch_batches;
    double window_loss, window_closs;
    int64_t window_steps, window_images;
};

struct nncw_trainer_state {
    int epoch;               /* the epoch in progress (the epoch count once finished) */
    int64_t step;            /* steps done in it: the loader has handed out as many batches */
    int64_t global_step;
    int64_t steps_per_epoch; /* restoring checks it: same data, batch size and step limit */
    bool finished;
    float lr, weight_decay;  /* the optimizer's values now (schedule and overrides applied) */
    float best_test_acc;     /* the best epoch's test accuracy (NaN: none yet) */
    int best_epoch;          /* 0-based, -1: none */
    double elapsed_s;        /* training time so far */
    struct nncw_trainer_tally tally;
    struct nncw_train_event last_epoch;
    struct nncw_rng rng;      /* the training executor's stream (dropout, RB masks) */
    struct nncw_rng tail_rng; /* the short last batch's executor's, if it exists */
    int64_t tail_batch;       /* its batch size (0: not made yet) */
};

void nncw_trainer_get_state(const struct nncw_trainer *t, struct nncw_trainer_state *out);
/* puts a fresh trainer (same graph, data and options as the saved one) where the state says:
 * counters, optimizer rate, random streams, and the loader replayed to the same batch of the
 * same epoch (scheduler hooks are not called again: the compression restores its own state).
 * NNCW_ERR_INVALID_ARG naming the mismatch when steps per epoch or epochs differ; the
 * optimizer's buffers are restored separately (nncw_trainer_get_optim) */
enum nncw_status nncw_trainer_set_state(struct nncw_trainer *t,
                                        const struct nncw_trainer_state *st);
/* the graph it trains (borrowed) */
struct nncw_graph *nncw_trainer_get_graph(const struct nncw_trainer *t);
/* the trainer's optimizer (borrowed), for its state */
struct nncw_optim *nncw_trainer_get_optim(const struct nncw_trainer *t);
/* the options it runs with (cosine t_max filled in) and its data sets */
const struct nncw_train_options *nncw_trainer_get_options(const struct nncw_trainer *t);

/* accuracy (0..1) and mean cross-entropy of g on ds in eval mode */
enum nncw_status nncw_evaluate(struct nncw_graph *g, const struct nncw_dataset *ds,
                               int batch_size, float *accuracy, float *loss);
