/*
** Accuracy-aware training: NNCF's early-exit and adaptive-compression-level training loops
** (nncf/common/accuracy_aware_training, v2.5 semantics) over an nncw_trainer and an
** nncw_compression. The runner's state (best metric at the current rate, epoch counters, the
** rate target and step, the training history and the best checkpoints per rate) lives in
** struct nncw_aat; checkpoints are in-memory copies of the graph's parameters and buffers.
*/
#include "train/accuracy_aware.h"

#include <math.h>
#include <string.h>

#include "checkpoint/checkpoint.h"
#include "core/alloc.h"
#include "core/common.h"

/* the parameters and buffers (masks, running statistics) and the controllers' states */
struct aat_snapshot {
    unsigned char *bytes;
    size_t nbytes;
    int n_states;
    char **states; /* per algorithm; NULL where it has no get_state/set_state */
};

/* NNCF's _best_checkpoints entry: the best model trained at one target rate */
struct aat_best {
    float rate;
    double budget;
    struct aat_snapshot snap;
};

struct nncw_aat {
    struct nncw_graph *g;
    struct nncw_compression *c;
    const struct nncw_dataset *train, *val;
    struct nncw_aat_options o;
    struct nncw_train_hooks inner; /* the compression's hooks, forwarded */
    struct nncw_trainer *trainer;  /* NULL: the next epoch configures a fresh optimizer */
    bool epoch_done, ran, scheduler_enabled;
    int64_t global_step;
    enum nncw_aat_phase phase;
    /* the runner */
    double minimal_tolerable, best_val, current_val;
    int training_epoch_count, cumulative_epoch_count, segment_epochs, max_total_epochs;
    float lr_scale, step, target;
    bool has_target;
    int was_increased; /* 0: no decision yet, +1 / -1 */
    float train_loss, train_acc;
    int n_best, n_history, n_changes, cap_best, cap_history, cap_changes;
    struct aat_best *best;
    struct nncw_aat_point *history;
    struct nncw_aat_rate_change *changes;
    struct nncw_aat_result result;
};

static const char *const phase_names[] = {"initial", "search", "final"};
_Static_assert(NNCW_ARRAY_LEN(phase_names) == NNCW_AAT_PHASE_COUNT, "phase_names out of date");
static const char *const stop_names[] = {
    "not run",
    "accuracy budget met while fully compressed",
    "maximal_total_epochs reached",
    "compression rate step below minimal_compression_rate_step",
    "maximal compression rate reached",
    "below the minimal compression rate: the budget cannot be met",
};
_Static_assert(NNCW_ARRAY_LEN(stop_names) == NNCW_AAT_STOP_COUNT, "stop_names out of date");

const char *nncw_aat_phase_name(enum nncw_aat_phase p)
{
    return (unsigned)p < NNCW_AAT_PHASE_COUNT ? phase_names[p] : "?";
}

const char *nncw_aat_stop_name(enum nncw_aat_stop s)
{
    return (unsigned)s < NNCW_AAT_STOP_COUNT ? stop_names[s] : "?";
}

struct nncw_aat_options nncw_aat_defaults(void)
{
    struct nncw_aat_options o = {
        .params = nncw_aat_config_defaults(NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL),
        .train = nncw_train_defaults(),
        .uncompressed_metric = NAN,
        .minimal_compression_rate = 0.0f,
        .maximal_compression_rate = 0.95f,
    };
    o.params.maximal_relative_accuracy_degradation = 1.0f;
    return o;
}

/* ---- snapshots ---- */

static void snapshot_fini(struct aat_snapshot *s)
{
    for (int i = 0; i < s->n_states; i++)
        nncw_free(s->states[i]);
    nncw_free(s->states);
    nncw_free(s->bytes);
    memset(s, 0, sizeof *s);
}

static size_t params_nbytes(const struct nncw_graph *g)
{
    size_t n = 0;
    for (int i = 0; i < nncw_graph_count_params(g); i++)
        n += nncw_tensor_nbytes(nncw_graph_get_value_tensor(g, nncw_graph_get_param(g, i)));
    return n;
}

static enum nncw_status snapshot_states(const struct nncw_compression *c, struct aat_snapshot *s)
{
    s->n_states = nncw_compression_count_algos(c);
    if (s->n_states && !(s->states = nncw_calloc((size_t)s->n_states, sizeof *s->states)))
        return NNCW_FAIL(NNCW_ERR_NOMEM, "accuracy-aware training: out of memory for a checkpoint");
    for (int i = 0; i < s->n_states; i++) {
        const struct nncw_compression_algo *al = nncw_compression_get_algo(c, i);
        if (al->get_state && al->set_state)
            NNCW_TRY(al->get_state(al->self, &s->states[i]));
    }
    return NNCW_OK;
}

/* into s (replacing what it held) */
static enum nncw_status snapshot_take(const struct nncw_aat *a, struct aat_snapshot *s)
{
    snapshot_fini(s);
    s->nbytes = params_nbytes(a->g);
    if (!(s->bytes = nncw_malloc(s->nbytes ? s->nbytes : 1)))
        return NNCW_FAIL(NNCW_ERR_NOMEM,
                         "accuracy-aware training: out of memory for a "
                         "checkpoint of %zu bytes",
                         s->nbytes);
    size_t at = 0;
    for (int i = 0; i < nncw_graph_count_params(a->g); i++) {
        const struct nncw_tensor *t =
            nncw_graph_get_value_tensor(a->g, nncw_graph_get_param(a->g, i));
        memcpy(s->bytes + at, t->data, nncw_tensor_nbytes(t));
        at += nncw_tensor_nbytes(t);
    }
    enum nncw_status st = snapshot_states(a->c, s);
    if (st != NNCW_OK)
        snapshot_fini(s);
    return st;
}

static enum nncw_status snapshot_restore(struct nncw_aat *a, const struct aat_snapshot *s)
{
    NNCW_ASSERT(s->nbytes == params_nbytes(a->g));
    size_t at = 0;
    for (int i = 0; i < nncw_graph_count_params(a->g); i++) {
        struct nncw_tensor *t = nncw_graph_get_value_tensor(a->g, nncw_graph_get_param(a->g, i));
        memcpy(t->data, s->bytes + at, nncw_tensor_nbytes(t));
        at += nncw_tensor_nbytes(t);
    }
    for (int i = 0; i < s->n_states; i++) {
        const struct nncw_compression_algo *al = nncw_compression_get_algo(a->c, i);
        if (s->states[i])
            NNCW_TRY(al->set_state(al->self, s->states[i]));
    }
    return NNCW_OK;
}

/* ---- bookkeeping ---- */

static enum nncw_status grow(void **p, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return NNCW_OK;
    int n = *cap ? *cap * 2 : 16;
    void *q = nncw_realloc(*p, (size_t)n * size);
    if (!q)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "accuracy-aware training: out of memory");
    memset((char *)q + (size_t)*cap * size, 0, (size_t)(n - *cap) * size);
    *p = q;
    *cap = n;
    return NNCW_OK;
}

/* NNCF's compression_rate (NaN when no algorithm has one: quantization, early exit) */
static float measured_rate(const struct nncw_aat *a)
{
    float r;
    return nncw_compression_get_rate(a->c, &r) == NNCW_OK ? r : NAN;
}

/* the runner's compression_rate_target: the controller's rate until the search sets one */
static float rate_target(const struct nncw_aat *a)
{
    return a->has_target ? a->target : measured_rate(a);
}

/* with the scheduler disabled NNCF sets the scheduler's target level to the rate target (its
 * "workaround for compression statistics"), so the search counts as fully compressed */
static bool fully_compressed(const struct nncw_aat *a)
{
    return !a->scheduler_enabled || nncw_compression_get_stage(a->c) == NNCW_STAGE_FULLY_COMPRESSED;
}

static bool is_adaptive(const struct nncw_aat *a)
{
    return a->o.params.mode == NNCW_AAT_ADAPTIVE_COMPRESSION_LEVEL;
}

/* the checkpoint load_best_checkpoint would restore now (-1: none). Adaptive: the highest
 * rate whose history has a validation within budget and which has a checkpoint; early exit:
 * the one best checkpoint. */
static int find_best(const struct nncw_aat *a)
{
    if (!is_adaptive(a))
        return a->n_best ? 0 : -1;
    int found = -1;
    for (int i = 0; i < a->n_best; i++) {
        bool ok = false;
        for (int h = 0; h < a->n_history && !ok; h++)
            ok = a->history[h].budget >= 0 && a->history[h].rate_target == a->best[i].rate;
        if (ok && (found < 0 || a->best[i].rate > a->best[found].rate))
            found = i;
    }
    return found;
}

static bool emit(struct nncw_aat *a, enum nncw_aat_event_type type,
                 const struct nncw_aat_rate_change *change)
{
    if (!a->o.on_event)
        return true;
    int b = find_best(a);
    struct nncw_aat_event ev = {
        .type = type,
        .phase = a->phase,
        .epoch = a->cumulative_epoch_count,
        .max_epochs = a->o.params.maximal_total_epochs,
        .metric = a->current_val,
        .budget = a->current_val - a->minimal_tolerable,
        .uncompressed_metric = a->o.uncompressed_metric,
        .minimal_tolerable_metric = a->minimal_tolerable,
        .best_metric = a->best_val,
        .rate = measured_rate(a),
        .rate_target = rate_target(a),
        .rate_step = a->step,
        .lr_scale = a->lr_scale,
        .stage = nncw_compression_get_stage(a->c),
        .train_loss = a->train_loss,
        .train_acc = a->train_acc,
        .has_best = b >= 0,
        .best_rate = b >= 0 ? a->best[b].rate : NAN,
        .best_budget = b >= 0 ? a->best[b].budget : NAN,
        .change = change,
        .n_history = a->n_history,
        .n_changes = a->n_changes,
        .history = a->history,
        .changes = a->changes,
    };
    return a->o.on_event(a->o.user, &ev);
}

static enum nncw_status emit_or_cancel(struct nncw_aat *a, enum nncw_aat_event_type type,
                                       const struct nncw_aat_rate_change *change)
{
    if (emit(a, type, change))
        return NNCW_OK;
    return NNCW_FAIL(NNCW_ERR_CANCELLED, "accuracy-aware training stopped after %d epochs",
                     a->cumulative_epoch_count);
}

/* ---- the runner: validate, checkpoints ---- */

static enum nncw_status default_validate(struct nncw_aat *a, double *metric)
{
    float acc, loss;
    NNCW_TRY(nncw_evaluate(a->g, a->val, a->o.train.eval_batch_size, &acc, &loss));
    *metric = 100.0 * (double)acc;
    return NNCW_OK;
}

static enum nncw_status validate(struct nncw_aat *a)
{
    double m;
    if (a->o.validate)
        NNCW_TRY(a->o.validate(a->o.validate_user, a->g, a->cumulative_epoch_count, &m));
    else
        NNCW_TRY(default_validate(a, &m));
    if (!isfinite(m))
        return NNCW_FAIL(NNCW_ERR_NUMERIC,
                         "accuracy-aware training: the validation after %d "
                         "epochs gave %g",
                         a->cumulative_epoch_count, m);
    a->current_val = m;
    if (m > a->best_val)
        a->best_val = m;
    return NNCW_OK;
}

/* NNCF's _save_best_checkpoint: adaptive keeps the best per target rate, early exit one */
static enum nncw_status save_best(struct nncw_aat *a, float rate)
{
    double budget = a->best_val - a->minimal_tolerable;
    int i = 0;
    if (is_adaptive(a)) {
        while (i < a->n_best && a->best[i].rate != rate)
            i++;
        if (i < a->n_best && a->best[i].budget >= budget)
            return NNCW_OK;
    }
    NNCW_TRY(grow((void **)&a->best, &a->cap_best, i + 1, sizeof *a->best));
    NNCW_TRY(snapshot_take(a, &a->best[i].snap));
    a->best[i].rate = rate;
    a->best[i].budget = budget;
    if (i == a->n_best)
        a->n_best++;
    return NNCW_OK;
}

/* NNCF's dump_statistics: the history entry, then the checkpoint if it is the best */
static enum nncw_status dump_statistics(struct nncw_aat *a)
{
    float target = rate_target(a);
    NNCW_TRY(grow((void **)&a->history, &a->cap_history, a->n_history + 1, sizeof *a->history));
    a->history[a->n_history++] = (struct nncw_aat_point){
        .epoch = a->cumulative_epoch_count,
        .phase = a->phase,
        .rate_target = target,
        .rate = measured_rate(a),
        .metric = a->current_val,
        .budget = a->current_val - a->minimal_tolerable,
    };
    if (a->best_val == a->current_val && fully_compressed(a))
        NNCW_TRY(save_best(a, target));
    return emit_or_cancel(a, NNCW_AAT_EVENT_VALIDATION, NULL);
}

/* NNCF's load_best_checkpoint; returns the rate of the model now in the graph */
static enum nncw_status load_best(struct nncw_aat *a, float *rate)
{
    int b = find_best(a);
    if (b < 0) {
        *rate = rate_target(a);
        return NNCW_OK;
    }
    NNCW_TRY(snapshot_restore(a, &a->best[b].snap));
    a->result.restored = true;
    *rate = a->best[b].rate;
    return NNCW_OK;
}

/* ---- training one epoch ---- */

static enum nncw_status hook_step_end(void *user, int64_t global_step)
{
    (void)global_step; /* the trainer's count restarts with each fresh optimizer */
    struct nncw_aat *a = user;
    a->global_step++;
    if (!a->scheduler_enabled || !a->inner.step_end)
        return NNCW_OK;
    return a->inner.step_end(a->inner.user, a->global_step);
}

static enum nncw_status hook_loss(void *user, float *loss)
{
    struct nncw_aat *a = user;
    return a->inner.loss(a->inner.user, loss);
}

static enum nncw_status hook_output_loss(void *user, const struct nncw_tensor *input,
                                         const struct nncw_tensor *logits,
                                         struct nncw_tensor *dlogits, float *loss)
{
    struct nncw_aat *a = user;
    return a->inner.output_loss(a->inner.user, input, logits, dlogits, loss);
}

static float hook_lr_scale(void *user, int value_id)
{
    struct nncw_aat *a = user;
    return a->inner.param_lr_scale(a->inner.user, value_id);
}

static enum nncw_status hook_lr_wd_override(void *user, double epoch, float *lr, float *wd)
{
    struct nncw_aat *a = user;
    return a->inner.lr_wd_override(a->inner.user, epoch, lr, wd);
}

/* the trainer's STEP events go to on_train in run-wide epochs; its EPOCH event ends ours */
static bool on_trainer_event(void *user, const struct nncw_train_event *ev)
{
    struct nncw_aat *a = user;
    if (ev->type == NNCW_TRAIN_EVENT_EPOCH) {
        a->epoch_done = true;
        a->train_loss = ev->train_loss;
        a->train_acc = ev->train_acc;
        return true;
    }
    if (!a->o.on_train)
        return true;
    struct nncw_train_event e = *ev;
    e.epoch = a->cumulative_epoch_count;
    e.epochs = a->max_total_epochs;
    return a->o.on_train(a->o.train_user, &e);
}

/* NNCF's configure_optimizers_fn (+ reset_training's lr reduction): a new trainer, so a fresh
 * optimizer and a restarted schedule at base lr * lr_scale */
static enum nncw_status make_trainer(const struct nncw_aat *a, struct nncw_trainer **out)
{
    struct nncw_train_options to = a->o.train;
    int left = a->max_total_epochs - a->cumulative_epoch_count;
    to.epochs = left > 1 ? left : 1;
    to.optim.lr *= a->lr_scale;
    to.seed += (uint64_t)a->cumulative_epoch_count; /* a new data order per segment */
    if (to.schedule.type == NNCW_LR_COSINE && to.schedule.t_max <= 0)
        to.schedule.t_max =
            a->phase == NNCW_AAT_PHASE_SEARCH ? a->o.params.patience_epochs : a->max_total_epochs;
    if (to.schedule.t_max <= 0)
        to.schedule.t_max = 1;
    struct nncw_trainer *t;
    NNCW_TRY(nncw_trainer_new(a->g, a->train, NULL, &to, &t));
    struct nncw_train_hooks h = {
        .user = (void *)a,
        .step_end = hook_step_end,
        .loss = a->inner.loss ? hook_loss : NULL,
        .output_loss = a->inner.output_loss ? hook_output_loss : NULL,
        .param_lr_scale = a->inner.param_lr_scale ? hook_lr_scale : NULL,
        .lr_wd_override = a->inner.lr_wd_override ? hook_lr_wd_override : NULL,
    };
    enum nncw_status s = nncw_trainer_set_hooks(t, &h);
    if (s != NNCW_OK) {
        nncw_trainer_free(t);
        return s;
    }
    nncw_trainer_set_callback(t, on_trainer_event, (void *)a);
    *out = t;
    return NNCW_OK;
}

static enum nncw_status trainer_epoch(struct nncw_aat *a)
{
    if (!a->trainer)
        NNCW_TRY(make_trainer(a, &a->trainer));
    a->epoch_done = false;
    bool finished = false;
    while (!a->epoch_done && !finished)
        NNCW_TRY(nncw_trainer_step(a->trainer, &finished));
    return NNCW_OK;
}

/* NNCF's train_epoch: the scheduler's epoch_step (nothing once disabled), then one epoch */
static enum nncw_status train_epoch(struct nncw_aat *a)
{
    if (a->scheduler_enabled)
        NNCW_TRY(nncw_compression_epoch_step(a->c, a->cumulative_epoch_count));
    a->train_loss = a->train_acc = NAN;
    if (a->o.train_epoch)
        NNCW_TRY(a->o.train_epoch(a->o.train_epoch_user, a->g, a->cumulative_epoch_count,
                                  a->segment_epochs == 0, a->lr_scale));
    else
        NNCW_TRY(trainer_epoch(a));
    a->segment_epochs++;
    a->training_epoch_count++;
    a->cumulative_epoch_count++;
    return NNCW_OK;
}

static void configure_optimizers(struct nncw_aat *a)
{
    nncw_trainer_free(a->trainer);
    a->trainer = NULL;
    a->segment_epochs = 0;
}

static void reset_training(struct nncw_aat *a)
{
    configure_optimizers(a);
    a->training_epoch_count = 0;
    a->best_val = -INFINITY; /* NNCF: 0, the same for non-negative metrics */
    a->current_val = -INFINITY;
}

/* ---- the loops ---- */

static bool criterion_met(const struct nncw_aat *a)
{
    return a->current_val - a->minimal_tolerable >= 0 && fully_compressed(a);
}

/* NNCF's _run_early_exit_training_loop for up to max_total_epochs */
static enum nncw_status run_early_exit(struct nncw_aat *a)
{
    configure_optimizers(a);
    NNCW_TRY(validate(a));
    NNCW_TRY(dump_statistics(a));
    if (criterion_met(a)) {
        a->result.stop = NNCW_AAT_STOP_CRITERION;
        return NNCW_OK; /* as NNCF: the model as it is, no checkpoint loaded */
    }
    a->result.stop = NNCW_AAT_STOP_MAX_EPOCHS;
    for (int epoch = 1; epoch <= a->max_total_epochs; epoch++) {
        NNCW_TRY(train_epoch(a));
        NNCW_TRY(validate(a));
        NNCW_TRY(dump_statistics(a));
        if (criterion_met(a)) {
            a->result.stop = NNCW_AAT_STOP_CRITERION;
            break;
        }
    }
    float rate;
    return load_best(a, &rate);
}

/* NNCF's _uniform_decrease_compression_step_update: halve the step (and the learning rate)
 * when the budget's sign flips against the previous decision */
static float step_value(struct nncw_aat *a, double best_budget)
{
    int sign = best_budget >= 0.0 ? 1 : -1;
    if (a->was_increased != 0 && a->was_increased != sign) {
        a->step *= a->o.params.compression_rate_step_reduction_factor;
        a->lr_scale *= a->o.params.lr_reduction_factor;
    }
    return (float)sign * a->step;
}

/* NNCF's _update_target_compression_rate: after patience epochs, as soon as the best metric at
 * this rate is within budget, or when forced (the first target) */
static bool update_target(struct nncw_aat *a, bool force, struct nncw_aat_rate_change *ch)
{
    double best_budget = a->best_val - a->minimal_tolerable;
    if (!(a->training_epoch_count >= a->o.params.patience_epochs || best_budget >= 0.0 || force))
        return false;
    float from = rate_target(a);
    a->target = from + step_value(a, best_budget);
    a->has_target = true;
    a->was_increased = best_budget >= 0.0 ? 1 : -1;
    *ch = (struct nncw_aat_rate_change){.epoch = a->cumulative_epoch_count,
                                        .from = from,
                                        .to = a->target,
                                        .step = a->step,
                                        .best_budget = best_budget,
                                        .lr_scale = a->lr_scale};
    return true;
}

static enum nncw_status record_change(struct nncw_aat *a, const struct nncw_aat_rate_change *ch)
{
    NNCW_TRY(grow((void **)&a->changes, &a->cap_changes, a->n_changes + 1, sizeof *a->changes));
    a->changes[a->n_changes++] = *ch;
    return NNCW_OK;
}

/* a new target inside the bounds: the best model so far at the new rate, fresh training */
static enum nncw_status retarget(struct nncw_aat *a)
{
    float rate;
    NNCW_TRY(load_best(a, &rate));
    NNCW_TRY(nncw_compression_set_rate(a->c, a->target));
    reset_training(a);
    return emit_or_cancel(a, NNCW_AAT_EVENT_RATE_CHANGE, &a->changes[a->n_changes - 1]);
}

/* the search's loop body; *stop is set when the target leaves [minimal, maximal] rate */
static enum nncw_status search_epoch(struct nncw_aat *a, bool *force, enum nncw_aat_stop *stop)
{
    struct nncw_aat_rate_change ch;
    if (update_target(a, *force, &ch)) {
        NNCW_TRY(record_change(a, &ch));
        if (a->target < a->o.minimal_compression_rate) {
            *stop = NNCW_AAT_STOP_MINIMAL_RATE;
            return NNCW_OK;
        }
        if (a->target > a->o.maximal_compression_rate) {
            a->target = a->o.maximal_compression_rate;
            a->changes[a->n_changes - 1].to = a->target;
            *stop = NNCW_AAT_STOP_MAXIMAL_RATE;
            return NNCW_OK;
        }
        *force = false;
        NNCW_TRY(retarget(a));
    }
    NNCW_TRY(train_epoch(a));
    NNCW_TRY(validate(a));
    return dump_statistics(a);
}

/* NNCF's AdaptiveCompressionTrainingLoop.run after the initial phase */
static enum nncw_status run_search(struct nncw_aat *a)
{
    a->phase = NNCW_AAT_PHASE_SEARCH;
    reset_training(a);
    NNCW_TRY(validate(a));
    NNCW_TRY(emit_or_cancel(a, NNCW_AAT_EVENT_VALIDATION, NULL));
    a->scheduler_enabled = false; /* NNCF's disable_scheduler */
    bool force = true;
    enum nncw_aat_stop stop = NNCW_AAT_STOP_NONE;
    while (stop == NNCW_AAT_STOP_NONE && a->step >= a->o.params.minimal_compression_rate_step &&
           a->cumulative_epoch_count < a->max_total_epochs)
        NNCW_TRY(search_epoch(a, &force, &stop));
    if (stop == NNCW_AAT_STOP_NONE)
        stop = a->step < a->o.params.minimal_compression_rate_step ? NNCW_AAT_STOP_MINIMAL_STEP
                                                                   : NNCW_AAT_STOP_MAX_EPOCHS;
    a->result.stop = stop;
    return NNCW_OK;
}

static enum nncw_status run_adaptive(struct nncw_aat *a)
{
    a->max_total_epochs = a->o.params.initial_training_phase_epochs;
    NNCW_TRY(run_early_exit(a));
    a->max_total_epochs = a->o.params.maximal_total_epochs;
    return run_search(a);
}

/* the kept model back in the graph, validated and reported */
static enum nncw_status finish(struct nncw_aat *a)
{
    a->phase = NNCW_AAT_PHASE_FINAL;
    float rate;
    NNCW_TRY(load_best(a, &rate));
    configure_optimizers(a);
    NNCW_TRY(validate(a));
    struct nncw_aat_result *r = &a->result;
    r->kept_rate = rate;
    r->final_rate = measured_rate(a);
    r->final_metric = a->current_val;
    r->within_budget = a->current_val >= a->minimal_tolerable;
    r->epochs = a->cumulative_epoch_count;
    if (a->o.best_checkpoint_path)
        NNCW_TRY(nncw_checkpoint_save(a->g, a->o.best_checkpoint_path));
    return emit_or_cancel(a, NNCW_AAT_EVENT_DONE, NULL);
}

enum nncw_status nncw_aat_run(struct nncw_aat *a)
{
    if (a->ran)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "accuracy-aware training: this run is over; "
                                               "create a new one");
    a->ran = true;
    enum nncw_status s = is_adaptive(a) ? run_adaptive(a) : run_early_exit(a);
    a->result.epochs = a->cumulative_epoch_count;
    if (s == NNCW_OK)
        s = finish(a);
    configure_optimizers(a);
    return s;
}

/* ---- lifecycle ---- */

static enum nncw_status check_options(const struct nncw_aat_options *o,
                                      const struct nncw_dataset *val)
{
    const struct nncw_aat_config *p = &o->params;
    const char *what = "accuracy-aware training";
    if ((unsigned)p->mode >= NNCW_AAT_MODE_COUNT)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s: unknown mode %d", what, (int)p->mode);
    if (isnan(p->maximal_relative_accuracy_degradation) ==
        isnan(p->maximal_absolute_accuracy_degradation))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "%s: give exactly one of the maximal relative and "
                         "absolute accuracy degradations",
                         what);
    if (!(p->maximal_relative_accuracy_degradation >= 0) &&
        !(p->maximal_absolute_accuracy_degradation >= 0))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s: the maximal degradation must be >= 0", what);
    if (!isfinite(o->uncompressed_metric))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s needs the uncompressed model's metric (got %g)",
                         what, o->uncompressed_metric);
    if (p->maximal_total_epochs < 1 || p->initial_training_phase_epochs < 0 ||
        p->patience_epochs < 1)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "%s: maximal_total_epochs and patience_epochs must "
                         "be >= 1, initial_training_phase_epochs >= 0",
                         what);
    if (!(p->initial_compression_rate_step > 0) || !(p->minimal_compression_rate_step > 0) ||
        !(p->compression_rate_step_reduction_factor > 0 &&
          p->compression_rate_step_reduction_factor < 1) ||
        !(p->lr_reduction_factor > 0))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "%s: the rate steps and lr_reduction_factor must be "
                         "> 0, the step reduction factor in (0, 1)",
                         what);
    if (!(o->minimal_compression_rate >= 0 &&
          o->minimal_compression_rate < o->maximal_compression_rate))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s: compression rate bounds [%g, %g]", what,
                         (double)o->minimal_compression_rate, (double)o->maximal_compression_rate);
    if (!o->validate && !val)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "%s needs a validation set or a validate function",
                         what);
    return NNCW_OK;
}

static enum nncw_status check_setup(struct nncw_aat *a)
{
    NNCW_TRY(check_options(&a->o, a->val));
    float r;
    if (is_adaptive(a) && nncw_compression_get_rate(a->c, &r) != NNCW_OK)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                         "accuracy-aware training: mode adaptive_compression_level needs an "
                         "algorithm with a compression rate (magnitude_sparsity, rb_sparsity, "
                         "filter_pruning)");
    if (a->o.train_epoch)
        return NNCW_OK;
    if (!a->train)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "accuracy-aware training needs a training set or a train_epoch function");
    struct nncw_trainer *t; /* checks the training options and data now, not epochs later */
    NNCW_TRY(make_trainer(a, &t));
    nncw_trainer_free(t);
    return NNCW_OK;
}

enum nncw_status nncw_aat_new(struct nncw_graph *g, struct nncw_compression *c,
                              const struct nncw_dataset *train, const struct nncw_dataset *val,
                              const struct nncw_aat_options *o, struct nncw_aat **out)
{
    if (!g || !c || !o)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "accuracy-aware training needs a graph, a "
                                               "compression and options");
    struct nncw_aat *a = nncw_calloc(1, sizeof *a);
    if (!a)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "accuracy-aware training: out of memory");
    *a = (struct nncw_aat){.g = g,
                           .c = c,
                           .train = train,
                           .val = val,
                           .o = *o,
                           .inner = nncw_compression_train_hooks(c),
                           .scheduler_enabled = true,
                           .lr_scale = 1.0f,
                           .step = o->params.initial_compression_rate_step,
                           .max_total_epochs = o->params.maximal_total_epochs,
                           .best_val = -INFINITY,
                           .current_val = -INFINITY,
                           .train_loss = NAN,
                           .train_acc = NAN};
    const struct nncw_aat_config *p = &o->params;
    a->minimal_tolerable =
        isnan(p->maximal_absolute_accuracy_degradation)
            ? o->uncompressed_metric *
                  (1.0 - 0.01 * (double)p->maximal_relative_accuracy_degradation)
            : o->uncompressed_metric - (double)p->maximal_absolute_accuracy_degradation;
    a->result = (struct nncw_aat_result){.uncompressed_metric = o->uncompressed_metric,
                                         .minimal_tolerable_metric = a->minimal_tolerable,
                                         .kept_rate = NAN,
                                         .final_rate = NAN,
                                         .final_metric = NAN};
    enum nncw_status s = check_setup(a);
    if (s != NNCW_OK) {
        nncw_aat_free(a);
        return s;
    }
    *out = a;
    return NNCW_OK;
}

void nncw_aat_free(struct nncw_aat *a)
{
    if (!a)
        return;
    nncw_trainer_free(a->trainer);
    for (int i = 0; i < a->n_best; i++)
        snapshot_fini(&a->best[i].snap);
    nncw_free(a->best);
    nncw_free(a->history);
    nncw_free(a->changes);
    nncw_free(a);
}

void nncw_aat_get_result(const struct nncw_aat *a, struct nncw_aat_result *out)
{
    *out = a->result;
    out->epochs = a->cumulative_epoch_count;
    out->n_history = a->n_history;
    out->history = a->history;
    out->n_changes = a->n_changes;
    out->changes = a->changes;
}
