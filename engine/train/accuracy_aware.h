/*
 * Accuracy-aware training (NNCF's accuracy_aware_training): fine-tune a compressed model
 * against an accuracy budget, the minimal tolerable metric = uncompressed metric minus the
 * maximal relative (percent) or absolute degradation.
 *
 *   early_exit                  train with the compression's own schedule; stop at the first
 *                               validation within budget while fully compressed, else after
 *                               maximal_total_epochs, keeping the best fully compressed model.
 *   adaptive_compression_level  an initial phase of early-exit training, then the scheduler is
 *                               disabled and the compression rate searched: up by the step while
 *                               the best metric at a rate is within budget, down otherwise; the
 *                               step (and the learning rate) shrink when the direction flips;
 *                               the model with the highest rate within budget is kept.
 *
 *     struct nncw_aat_options o = nncw_aat_defaults();
 *     o.params = cfg->accuracy_aware;          // from the config's accuracy_aware_training
 *     o.train = train_options;                 // batch, optimizer, base lr, schedule, seed
 *     o.uncompressed_metric = 92.6;            // top-1 % of the model before compression
 *     o.on_event = show;                       // every validation, rate change, the end
 *     struct nncw_aat *a;
 *     nncw_aat_new(g, c, train_set, val_set, &o, &a);
 *     nncw_aat_run(a);                         // g ends with the best model kept
 *     struct nncw_aat_result r;
 *     nncw_aat_get_result(a, &r);
 *     nncw_aat_free(a);
 *
 * The metric is top-1 accuracy in percent on the validation set unless o.validate gives
 * another (higher is better). Training goes through an nncw_trainer unless o.train_epoch
 * replaces it (as NNCF's train_epoch_fn/validate_fn; tests inject both).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "compression/compression.h"
#include "config/config.h"
#include "core/status.h"
#include "data/data.h"
#include "graph/graph.h"
#include "train/trainer.h"

enum nncw_aat_phase {
    NNCW_AAT_PHASE_INITIAL, /* the initialization step and early-exit training (early_exit: all) */
    NNCW_AAT_PHASE_SEARCH,  /* adaptive: the compression-rate search */
    NNCW_AAT_PHASE_FINAL,   /* the kept model restored and validated */
    NNCW_AAT_PHASE_COUNT
};

enum nncw_aat_stop {
    NNCW_AAT_STOP_NONE,         /* not run yet */
    NNCW_AAT_STOP_CRITERION,    /* within budget and fully compressed (early exit) */
    NNCW_AAT_STOP_MAX_EPOCHS,   /* maximal_total_epochs trained */
    NNCW_AAT_STOP_MINIMAL_STEP, /* the rate step fell below minimal_compression_rate_step */
    NNCW_AAT_STOP_MAXIMAL_RATE, /* the target rate passed the maximal rate */
    NNCW_AAT_STOP_MINIMAL_RATE, /* the target fell below the minimal rate: budget unreachable */
    NNCW_AAT_STOP_COUNT
};

/* one validation (NNCF's compressed training history) */
struct nncw_aat_point {
    int epoch; /* training epochs done before it */
    enum nncw_aat_phase phase;
    float rate_target;     /* the target rate (before the search: the measured rate) */
    float rate;            /* measured (NaN: no algorithm has a compression rate) */
    double metric, budget; /* budget = metric - minimal tolerable metric */
};

/* one change of the target rate (adaptive search) */
struct nncw_aat_rate_change {
    int epoch;
    float from, to;
    float step;         /* the step after any reduction */
    double best_budget; /* the best budget at `from`, whose sign chose the direction */
    float lr_scale;     /* the learning rate is base lr times this from now on */
};

enum nncw_aat_event_type {
    NNCW_AAT_EVENT_VALIDATION,  /* after each validation */
    NNCW_AAT_EVENT_RATE_CHANGE, /* the search set a new target rate */
    NNCW_AAT_EVENT_DONE,        /* the kept model is restored and validated */
    NNCW_AAT_EVENT_TYPE_COUNT
};

/* What the CLI, Lua and the TUI's Training panel show. Pointers are borrowed for the call. */
struct nncw_aat_event {
    enum nncw_aat_event_type type;
    enum nncw_aat_phase phase;
    int epoch, max_epochs; /* training epochs done, maximal_total_epochs */
    double metric, budget; /* the latest validation */
    double uncompressed_metric, minimal_tolerable_metric;
    double best_metric; /* the best at the current target rate */
    float rate, rate_target, rate_step, lr_scale;
    enum nncw_compression_stage stage;
    float train_loss, train_acc; /* of the epoch just trained (NaN: none, or a custom trainer) */
    bool has_best;               /* the model that would be kept now */
    float best_rate;
    double best_budget;
    const struct nncw_aat_rate_change *change; /* RATE_CHANGE: this one */
    int n_history, n_changes;
    const struct nncw_aat_point *history;
    const struct nncw_aat_rate_change *changes;
};

/* false stops the run (nncw_aat_run returns NNCW_ERR_CANCELLED, the model as it is) */
typedef bool (*nncw_aat_event_fn)(void *user, const struct nncw_aat_event *ev);
/* the model's metric (higher is better); epoch = training epochs done */
typedef enum nncw_status (*nncw_aat_validate_fn)(void *user, struct nncw_graph *g, int epoch,
                                                 double *metric);
/* one training epoch; fresh_optimizer marks the first epoch after NNCF's configure_optimizers /
 * reset_training, lr_scale the search's learning-rate reduction */
typedef enum nncw_status (*nncw_aat_train_epoch_fn)(void *user, struct nncw_graph *g, int epoch,
                                                    bool fresh_optimizer, float lr_scale);

struct nncw_aat_options {
    struct nncw_aat_config params;
    /* batch, optimizer and base lr, schedule, seed, steps per epoch (epochs is not used). The
     * schedule restarts with each fresh optimizer; a cosine t_max of 0 spans the initial phase
     * (early_exit: maximal_total_epochs) or patience_epochs in the search */
    struct nncw_train_options train;
    double uncompressed_metric;       /* required: the metric before compression */
    float minimal_compression_rate;   /* 0 */
    float maximal_compression_rate;   /* 0.95 */
    const char *best_checkpoint_path; /* NULL: none; else the kept model is saved there */
    nncw_aat_validate_fn validate;    /* NULL: top-1 % on the validation set */
    void *validate_user;
    nncw_aat_train_epoch_fn train_epoch; /* NULL: an nncw_trainer on the training set */
    void *train_epoch_user;
    nncw_aat_event_fn on_event;
    void *user;
    nncw_train_event_fn on_train; /* the trainer's STEP events (epoch: training epochs done) */
    void *train_user;
};

struct nncw_aat_result {
    enum nncw_aat_stop stop;
    int epochs; /* training epochs run */
    double uncompressed_metric, minimal_tolerable_metric;
    bool restored;    /* a kept model was restored into the graph */
    float kept_rate;  /* its rate (adaptive: the target rate it was trained at) */
    float final_rate; /* measured after restoring */
    double final_metric;
    bool within_budget; /* final_metric >= minimal_tolerable_metric */
    int n_history, n_changes;
    const struct nncw_aat_point *history;       /* borrowed until nncw_aat_free */
    const struct nncw_aat_rate_change *changes; /* the rate trajectory */
};

struct nncw_aat;

/* NNCF's adaptive_compression_level defaults with 1 % relative degradation */
struct nncw_aat_options nncw_aat_defaults(void);
/* g, c, the data sets and the options' pointers are borrowed. NNCW_ERR_INVALID_ARG naming a
 * bad option (no uncompressed metric, no validation set, bad training options),
 * NNCW_ERR_UNSUPPORTED for the adaptive mode when no algorithm of c has a compression rate */
enum nncw_status nncw_aat_new(struct nncw_graph *g, struct nncw_compression *c,
                              const struct nncw_dataset *train, const struct nncw_dataset *val,
                              const struct nncw_aat_options *o, struct nncw_aat **out);
void nncw_aat_free(struct nncw_aat *a);
/* runs the loop once (NNCW_ERR_INVALID_ARG the second time); failures of training, validation
 * or setting the rate come back as they are; NNCW_ERR_CANCELLED from a callback */
enum nncw_status nncw_aat_run(struct nncw_aat *a);
/* the outcome so far (arrays borrowed until nncw_aat_free) */
void nncw_aat_get_result(const struct nncw_aat *a, struct nncw_aat_result *out);

const char *nncw_aat_phase_name(enum nncw_aat_phase p);
const char *nncw_aat_stop_name(enum nncw_aat_stop s); /* what ended the run, in words */
