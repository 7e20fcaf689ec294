#include "train/trainer.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "graph/exec.h"

struct nncw_trainer {
    struct nncw_graph *g;
    const struct nncw_dataset *train, *test;
    struct nncw_train_options o;
    struct nncw_optim *optim;
    struct nncw_loader *loader;
    struct nncw_exec *ex, *ex_tail; /* full batches; the short last batch */
    float *images;
    int32_t *labels;
    struct nncw_tensor dlogits;
    nncw_train_event_fn fn;
    void *user;
    struct nncw_train_hooks hooks;
    double window_closs;
    int epoch;
    int64_t step, steps_per_epoch, global_step;
    double t_start, t_window;
    int64_t window_steps, window_images;
    double window_loss, epoch_loss;
    int64_t epoch_correct, epoch_seen, epoch_batches;
    bool finished;
    struct nncw_train_event last_epoch;
    float best_test_acc; /* checkpoints keep the best epoch (NaN, -1: none yet) */
    int best_epoch;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

struct nncw_train_options nncw_train_defaults(void)
{
    struct nncw_train_options o = {
        .epochs = 10,
        .batch_size = 64,
        .optim = nncw_optim_config_sgd(0.02f, 0.9f, 0.0f),
        .schedule = {.type = NNCW_LR_COSINE, .gamma = 0.1f, .step_size = 30},
        .seed = 1,
        .log_every = 100,
        .eval_batch_size = 256,
    };
    return o;
}

static enum nncw_status check_fit(const struct nncw_graph *g, const struct nncw_dataset *ds,
                                  const char *what)
{
    if (nncw_graph_count_inputs(g) != 1 || nncw_graph_count_outputs(g) != 1)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "training needs a model with one input and one output (it has %d, %d)",
                         nncw_graph_count_inputs(g), nncw_graph_count_outputs(g));
    const struct nncw_tensor *in = nncw_graph_get_value_tensor(g, nncw_graph_get_input(g, 0));
    int64_t shape[3];
    nncw_dataset_get_sample_shape(ds, shape);
    if (in->ndim != 4 || in->shape[1] != shape[0] || in->shape[2] != shape[1] ||
        in->shape[3] != shape[2])
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "the %s set '%s' has %lldx%lldx%lld samples; the model's input is not "
                         "[N, %lld, %lld, %lld]",
                         what, nncw_dataset_get_name(ds), (long long)shape[0],
                         (long long)shape[1], (long long)shape[2], (long long)shape[0],
                         (long long)shape[1], (long long)shape[2]);
    return NNCW_OK;
}

static enum nncw_status check_classes(const struct nncw_exec *ex, const struct nncw_dataset *ds)
{
    const struct nncw_tensor *y = nncw_exec_get_output(ex, 0);
    if (y->ndim != 2)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "the model's output must be [N, classes] logits");
    if (y->shape[1] < nncw_dataset_count_classes(ds))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "the data set '%s' has %d classes, the model only %lld outputs",
                         nncw_dataset_get_name(ds), nncw_dataset_count_classes(ds),
                         (long long)y->shape[1]);
    return NNCW_OK;
}

static enum nncw_status check_options(const struct nncw_train_options *o)
{
    if (o->epochs < 1)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "epochs must be a positive integer, got %d",
                         o->epochs);
    if (o->batch_size < 1)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "batch size must be a positive integer, got %d",
                         o->batch_size);
    if (o->eval_batch_size < 1)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "eval batch size must be positive, got %d",
                         o->eval_batch_size);
    if (o->log_every < 0 || o->max_steps_per_epoch < 0 || o->crop_padding < 0)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "log interval, step limit and padding must be >= 0");
    return NNCW_OK;
}

void nncw_trainer_free(struct nncw_trainer *t)
{
    if (!t)
        return;
    nncw_optim_free(t->optim);
    nncw_loader_free(t->loader);
    nncw_exec_free(t->ex);
    nncw_exec_free(t->ex_tail);
    nncw_free(t->images);
    nncw_free(t->labels);
    nncw_tensor_fini(&t->dlogits);
    nncw_free(t);
}

static enum nncw_status make_exec(struct nncw_trainer *t, int batch, struct nncw_exec **out)
{
    struct nncw_exec_options eo = {.batch = batch, .training = true, .backward = true,
                                   .seed = t->o.seed};
    return nncw_exec_new(t->g, &eo, out);
}

static enum nncw_status setup(struct nncw_trainer *t)
{
    NNCW_TRY(check_fit(t->g, t->train, "training"));
    if (t->test)
        NNCW_TRY(check_fit(t->g, t->test, "test"));
    struct nncw_loader_opts lo = {.batch_size = t->o.batch_size, .shuffle = true,
                                  .seed = t->o.seed, .crop_padding = t->o.crop_padding,
                                  .hflip = t->o.hflip};
    NNCW_TRY(nncw_loader_new(t->train, &lo, &t->loader));
    t->steps_per_epoch = nncw_loader_count_batches(t->loader);
    if (t->o.max_steps_per_epoch && t->o.max_steps_per_epoch < t->steps_per_epoch)
        t->steps_per_epoch = t->o.max_steps_per_epoch;
    int64_t count = nncw_dataset_count_samples(t->train);
    int batch = count < t->o.batch_size ? (int)count : t->o.batch_size;
    NNCW_TRY(make_exec(t, batch, &t->ex));
    NNCW_TRY(check_classes(t->ex, t->train));
    NNCW_TRY(nncw_optim_new(t->g, &t->o.optim, &t->optim));
    int64_t numel = nncw_dataset_get_sample_numel(t->train);
    t->images = nncw_malloc((size_t)t->o.batch_size * (size_t)numel * sizeof(float));
    t->labels = nncw_malloc((size_t)t->o.batch_size * sizeof(int32_t));
    if (!t->images || !t->labels)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "trainer: out of memory for a batch");
    return NNCW_OK;
}

enum nncw_status nncw_trainer_new(struct nncw_graph *g, const struct nncw_dataset *train,
                                  const struct nncw_dataset *test,
                                  const struct nncw_train_options *o, struct nncw_trainer **out)
{
    NNCW_TRY(check_options(o));
    struct nncw_trainer *t = nncw_calloc(1, sizeof *t);
    if (!t)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "trainer: out of memory");
    t->g = g;
    t->train = train;
    t->test = test;
    t->o = *o;
    if (t->o.schedule.type == NNCW_LR_COSINE && t->o.schedule.t_max <= 0)
        t->o.schedule.t_max = t->o.epochs; /* anneal over the whole run */
    t->last_epoch.train_loss = t->last_epoch.train_acc = NAN;
    t->last_epoch.test_loss = t->last_epoch.test_acc = NAN;
    t->best_test_acc = NAN;
    t->best_epoch = -1;
    enum nncw_status s = setup(t);
    if (s != NNCW_OK) {
        nncw_trainer_free(t);
        return s;
    }
    *out = t;
    return NNCW_OK;
}

void nncw_trainer_set_callback(struct nncw_trainer *t, nncw_train_event_fn fn, void *user)
{
    t->fn = fn;
    t->user = user;
}

enum nncw_status nncw_trainer_set_hooks(struct nncw_trainer *t, const struct nncw_train_hooks *h)
{
    t->hooks = *h;
    if (!h->param_lr_scale)
        return NNCW_OK;
    for (int i = 0; i < nncw_graph_count_params(t->g); i++) {
        int id = nncw_graph_get_param(t->g, i);
        if (nncw_graph_is_trainable(t->g, id))
            NNCW_TRY(nncw_optim_set_param_lr_scale(t->optim, id, h->param_lr_scale(h->user, id)));
    }
    return NNCW_OK;
}

void nncw_trainer_get_last_epoch(const struct nncw_trainer *t, struct nncw_train_event *out)
{
    *out = t->last_epoch;
}

/* the executor for a batch of n samples (the tail one is made on first use) */
static enum nncw_status exec_for(struct nncw_trainer *t, int n, struct nncw_exec **out)
{
    const struct nncw_tensor *in = nncw_exec_get_input(t->ex, 0);
    if (in->shape[0] == n) {
        *out = t->ex;
        return NNCW_OK;
    }
    if (!t->ex_tail || nncw_exec_get_input(t->ex_tail, 0)->shape[0] != n) {
        nncw_exec_free(t->ex_tail);
        t->ex_tail = NULL;
        NNCW_TRY(make_exec(t, n, &t->ex_tail));
    }
    *out = t->ex_tail;
    return NNCW_OK;
}

static enum nncw_status train_batch(struct nncw_trainer *t, int n, float *loss)
{
    struct nncw_exec *ex;
    NNCW_TRY(exec_for(t, n, &ex));
    struct nncw_tensor *x = nncw_exec_get_input(ex, 0);
    memcpy(x->data, t->images, nncw_tensor_nbytes(x));
    NNCW_TRY(nncw_exec_forward(ex));
    const struct nncw_tensor *logits = nncw_exec_get_output(ex, 0);
    if (!nncw_tensor_same_shape(&t->dlogits, logits)) {
        nncw_tensor_fini(&t->dlogits);
        NNCW_TRY(nncw_tensor_init(&t->dlogits, NNCW_DTYPE_F32, logits->ndim, logits->shape));
    }
    NNCW_TRY(nncw_loss_cross_entropy(logits, t->labels, loss, &t->dlogits));
    if (!isfinite(*loss))
        return NNCW_FAIL(NNCW_ERR_NUMERIC,
                         "training diverged at epoch %d, step %lld: the loss is %g; the weights "
                         "are kept from the step before. Lower the learning rate (now %g)",
                         t->epoch + 1, (long long)t->step + 1, (double)*loss,
                         (double)nncw_optim_get_lr(t->optim));
    t->epoch_correct += nncw_count_correct(logits, t->labels);
    if (t->hooks.output_loss) {
        float oloss = 0;
        NNCW_TRY(t->hooks.output_loss(t->hooks.user, x, logits, &t->dlogits, &oloss));
        if (!isfinite(oloss))
            return NNCW_FAIL(NNCW_ERR_NUMERIC,
                             "training diverged at epoch %d, step %lld: the distillation loss is "
                             "%g; the weights are kept from the step before",
                             t->epoch + 1, (long long)t->step + 1, (double)oloss);
        t->window_closs += oloss;
        *loss += oloss;
    }
    nncw_graph_zero_grads(t->g);
    const struct nncw_tensor *gout[] = {&t->dlogits};
    NNCW_TRY(nncw_exec_backward(ex, gout));
    if (t->hooks.loss) {
        float closs = 0;
        NNCW_TRY(t->hooks.loss(t->hooks.user, &closs));
        if (!isfinite(closs))
            return NNCW_FAIL(NNCW_ERR_NUMERIC,
                             "training diverged at epoch %d, step %lld: the compression loss is "
                             "%g; the weights are kept from the step before",
                             t->epoch + 1, (long long)t->step + 1, (double)closs);
        t->window_closs += closs;
        *loss += closs;
    }
    if (t->hooks.lr_wd_override) {
        /* from the scheduled values each step, so an override never compounds */
        float lr = nncw_lr_at(&t->o.schedule, t->o.optim.lr, t->epoch);
        float wd = t->o.optim.weight_decay;
        double epoch = t->epoch + (double)t->step / (double)t->steps_per_epoch;
        NNCW_TRY(t->hooks.lr_wd_override(t->hooks.user, epoch, &lr, &wd));
        nncw_optim_set_lr(t->optim, lr);
        nncw_optim_set_weight_decay(t->optim, wd);
    }
    nncw_optim_step(t->optim);
    if (t->hooks.step_end)
        NNCW_TRY(t->hooks.step_end(t->hooks.user, t->global_step + 1));
    return NNCW_OK;
}

static bool emit(struct nncw_trainer *t, struct nncw_train_event *ev)
{
    return t->fn ? t->fn(t->user, ev) : true;
}

static void fill_common(struct nncw_trainer *t, struct nncw_train_event *ev,
                        enum nncw_train_event_type type)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->epoch = t->epoch;
    ev->epochs = t->o.epochs;
    ev->step = t->step;
    ev->steps_per_epoch = t->steps_per_epoch;
    ev->global_step = t->global_step;
    ev->lr = nncw_optim_get_lr(t->optim);
    ev->elapsed_s = now_s() - t->t_start;
    int64_t total = (int64_t)t->o.epochs * t->steps_per_epoch;
    ev->eta_s = t->global_step ? ev->elapsed_s / (double)t->global_step *
                                     (double)(total - t->global_step)
                               : 0;
    ev->train_loss = ev->train_acc = ev->test_loss = ev->test_acc = NAN;
}

static bool step_event(struct nncw_trainer *t)
{
    struct nncw_train_event ev;
    fill_common(t, &ev, NNCW_TRAIN_EVENT_STEP);
    double dt = now_s() - t->t_window;
    ev.loss = (float)(t->window_loss / (double)t->window_steps);
    ev.images_per_s = dt > 0 ? (double)t->window_images / dt : 0;
    ev.compression_loss = (float)(t->window_closs / (double)t->window_steps);
    t->window_steps = t->window_images = 0;
    t->window_loss = t->window_closs = 0;
    t->t_window = now_s();
    return emit(t, &ev);
}

static enum nncw_status end_epoch(struct nncw_trainer *t, bool *keep_going)
{
    struct nncw_train_event ev;
    fill_common(t, &ev, NNCW_TRAIN_EVENT_EPOCH);
    ev.train_loss = (float)(t->epoch_loss / (double)(t->epoch_batches ? t->epoch_batches : 1));
    ev.train_acc = (float)t->epoch_correct / (float)(t->epoch_seen ? t->epoch_seen : 1);
    ev.loss = ev.train_loss;
    if (t->test)
        NNCW_TRY(nncw_evaluate(t->g, t->test, t->o.eval_batch_size, &ev.test_acc, &ev.test_loss));
    ev.elapsed_s = now_s() - t->t_start;
    t->last_epoch = ev;
    if (!isnan(ev.test_acc) && (isnan(t->best_test_acc) || ev.test_acc > t->best_test_acc)) {
        t->best_test_acc = ev.test_acc;
        t->best_epoch = t->epoch;
    }
    *keep_going = emit(t, &ev);
    t->t_window = now_s();
    return NNCW_OK;
}

static enum nncw_status begin_epoch(struct nncw_trainer *t)
{
    nncw_loader_start_epoch(t->loader, t->epoch);
    nncw_optim_set_lr(t->optim, nncw_lr_at(&t->o.schedule, t->o.optim.lr, t->epoch));
    t->step = 0;
    t->epoch_loss = 0;
    t->epoch_correct = t->epoch_seen = t->epoch_batches = 0;
    if (t->hooks.epoch_begin)
        NNCW_TRY(t->hooks.epoch_begin(t->hooks.user, t->epoch));
    return NNCW_OK;
}

enum nncw_status nncw_trainer_step(struct nncw_trainer *t, bool *finished)
{
    *finished = t->finished;
    if (t->finished)
        return NNCW_OK;
    if (t->global_step == 0 && t->step == 0) {
        t->t_start = t->t_window = now_s();
        NNCW_TRY(begin_epoch(t));
    }
    int n = 0;
    if (t->step >= t->steps_per_epoch ||
        !nncw_loader_next(t->loader, t->images, t->labels, &n))
        return NNCW_FAIL(NNCW_ERR_INTERNAL, "trainer: the loader ran out of batches");
    float loss;
    NNCW_TRY(train_batch(t, n, &loss));
    t->step++;
    t->global_step++;
    t->window_steps++;
    t->window_images += n;
    t->window_loss += loss;
    t->epoch_loss += loss;
    t->epoch_batches++;
    t->epoch_seen += n;
    bool keep_going = true;
    if (t->o.log_every && t->step % t->o.log_every == 0)
        keep_going = step_event(t);
    if (t->step == t->steps_per_epoch) {
        bool more = true;
        NNCW_TRY(end_epoch(t, &more));
        keep_going = keep_going && more;
        if (++t->epoch == t->o.epochs)
            t->finished = true;
        else
            NNCW_TRY(begin_epoch(t));
    }
    *finished = t->finished;
    if (!keep_going && !t->finished)
        return NNCW_FAIL(NNCW_ERR_CANCELLED, "training stopped at epoch %d, step %lld",
                         t->epoch + 1, (long long)t->step);
    return NNCW_OK;
}

enum nncw_status nncw_trainer_run(struct nncw_trainer *t)
{
    bool finished = false;
    while (!finished)
        NNCW_TRY(nncw_trainer_step(t, &finished));
    return NNCW_OK;
}

enum nncw_status nncw_evaluate(struct nncw_graph *g, const struct nncw_dataset *ds,
                               int batch_size, float *accuracy, float *loss)
{
    if (batch_size < 1)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "evaluation batch size %d", batch_size);
    NNCW_TRY(check_fit(g, ds, "evaluation"));
    int64_t count = nncw_dataset_count_samples(ds), numel = nncw_dataset_get_sample_numel(ds);
    const float *images = nncw_dataset_get_images(ds);
    const int32_t *labels = nncw_dataset_get_labels(ds);
    struct nncw_exec *ex = NULL;
    int ex_batch = 0;
    enum nncw_status s = NNCW_OK;
    double total_loss = 0;
    int64_t correct = 0;
    for (int64_t at = 0; at < count && s == NNCW_OK; at += ex_batch) {
        int n = count - at < batch_size ? (int)(count - at) : batch_size;
        if (n != ex_batch) {
            nncw_exec_free(ex);
            ex = NULL;
            struct nncw_exec_options eo = {.batch = n};
            s = nncw_exec_new(g, &eo, &ex);
            if (s != NNCW_OK)
                break;
            ex_batch = n;
            s = check_classes(ex, ds);
            if (s != NNCW_OK)
                break;
        }
        struct nncw_tensor *x = nncw_exec_get_input(ex, 0);
        memcpy(x->data, images + at * numel, (size_t)n * (size_t)numel * sizeof(float));
        s = nncw_exec_forward(ex);
        if (s != NNCW_OK)
            break;
        float l;
        const struct nncw_tensor *logits = nncw_exec_get_output(ex, 0);
        s = nncw_loss_cross_entropy(logits, labels + at, &l, NULL);
        total_loss += (double)l * n;
        correct += nncw_count_correct(logits, labels + at);
    }
    nncw_exec_free(ex);
    if (s == NNCW_OK) {
        *accuracy = (float)((double)correct / (double)count);
        *loss = (float)(total_loss / (double)count);
    }
    return s;
}

/* ---- state for checkpoints ---- */
void nncw_trainer_get_state(const struct nncw_trainer *t, struct nncw_trainer_state *out)
{
    bool started = t->global_step > 0 || t->step > 0;
    *out = (struct nncw_trainer_state){
        .epoch = t->epoch,
        .step = t->step,
        .global_step = t->global_step,
        .steps_per_epoch = t->steps_per_epoch,
        .finished = t->finished,
        .lr = nncw_optim_get_lr(t->optim),
        .weight_decay = nncw_optim_get_weight_decay(t->optim),
        .best_test_acc = t->best_test_acc,
        .best_epoch = t->best_epoch,
        .elapsed_s = started ? now_s() - t->t_start : 0,
        .tally = {.epoch_loss = t->epoch_loss, .epoch_correct = t->epoch_correct,
                  .epoch_seen = t->epoch_seen, .epoch_batches = t->epoch_batches,
                  .window_loss = t->window_loss, .window_closs = t->window_closs,
                  .window_steps = t->window_steps, .window_images = t->window_images},
        .last_epoch = t->last_epoch,
        .rng = nncw_exec_get_rng(t->ex),
        .tail_batch = t->ex_tail ? nncw_exec_get_input(t->ex_tail, 0)->shape[0] : 0};
    if (t->ex_tail)
        out->tail_rng = nncw_exec_get_rng(t->ex_tail);
}

static enum nncw_status check_state(const struct nncw_trainer *t,
                                    const struct nncw_trainer_state *st)
{
    if (st->steps_per_epoch != t->steps_per_epoch)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "trainer state: %lld steps per epoch were saved, this run has %lld "
                         "(the training data, batch size or step limit differ)",
                         (long long)st->steps_per_epoch, (long long)t->steps_per_epoch);
    if (st->epoch < 0 || st->epoch > t->o.epochs || st->step < 0 ||
        st->step > st->steps_per_epoch || st->global_step < st->step ||
        (st->finished != (st->epoch == t->o.epochs)))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "trainer state: epoch %d step %lld (global %lld%s) does not fit a run of "
                         "%d epochs",
                         st->epoch + 1, (long long)st->step, (long long)st->global_step,
                         st->finished ? ", finished" : "", t->o.epochs);
    if (st->tail_batch < 0 || st->tail_batch > t->o.batch_size)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "trainer state: tail batch %lld (batch size %d)",
                         (long long)st->tail_batch, t->o.batch_size);
    return NNCW_OK;
}

enum nncw_status nncw_trainer_set_state(struct nncw_trainer *t,
                                        const struct nncw_trainer_state *st)
{
    NNCW_TRY(check_state(t, st));
    if (st->tail_batch > 0) {
        struct nncw_exec *ex;
        NNCW_TRY(exec_for(t, (int)st->tail_batch, &ex));
        nncw_exec_set_rng(ex, &st->tail_rng);
    }
    nncw_exec_set_rng(t->ex, &st->rng);
    t->epoch = st->epoch;
    t->step = st->step;
    t->global_step = st->global_step;
    t->finished = st->finished;
    t->best_test_acc = st->best_test_acc;
    t->best_epoch = st->best_epoch;
    t->last_epoch = st->last_epoch;
    const struct nncw_trainer_tally *y = &st->tally;
    t->epoch_loss = y->epoch_loss;
    t->epoch_correct = y->epoch_correct;
    t->epoch_seen = y->epoch_seen;
    t->epoch_batches = y->epoch_batches;
    t->window_loss = y->window_loss;
    t->window_closs = y->window_closs;
    t->window_steps = y->window_steps;
    t->window_images = y->window_images;
    nncw_optim_set_lr(t->optim, st->lr);
    nncw_optim_set_weight_decay(t->optim, st->weight_decay);
    t->t_start = now_s() - st->elapsed_s;
    t->t_window = now_s();
    if (t->finished || (t->global_step == 0 && t->step == 0))
        return NNCW_OK; /* nothing begun (the first step begins epoch 0) or nothing left */
    /* the batch order and augmentation depend on (seed, epoch) and the draws so far: replaying
     * the epoch's first batches leaves the loader exactly where the saved run's was */
    nncw_loader_start_epoch(t->loader, t->epoch);
    for (int64_t k = 0; k < t->step; k++) {
        int n;
        if (!nncw_loader_next(t->loader, t->images, t->labels, &n))
            return NNCW_FAIL(NNCW_ERR_INTERNAL, "trainer state: the loader ran out at batch %lld",
                             (long long)k);
    }
    return NNCW_OK;
}

struct nncw_graph *nncw_trainer_get_graph(const struct nncw_trainer *t)
{
    return t->g;
}

struct nncw_optim *nncw_trainer_get_optim(const struct nncw_trainer *t)
{
    return t->optim;
}

const struct nncw_train_options *nncw_trainer_get_options(const struct nncw_trainer *t)
{
    return &t->o;
}
