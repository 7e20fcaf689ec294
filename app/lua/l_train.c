/* nncw.train and nncw.evaluate: the training loop driven one step at a time, with a Lua
 * callback on every event and Ctrl-C stopping after the current step. */
#include "lnncw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compression/compression.h"
#include "train/trainer.h"

static const char FN_TRAIN[] = "nncw.train";

static const char *const optim_names[] = {"sgd", "adam", "adamw", NULL};
static const char *const schedule_names[] = {"constant", "step", "multistep", "cosine", NULL};

/* ---- options ---- */

static void read_optimizer(lua_State *L, int idx, struct nncw_optim_config *c)
{
    static const char *const known[] = {
        "type",         "lr",    "momentum", "dampening", "nesterov",
        "weight_decay", "beta1", "beta2",    "eps",       NULL};
    app_lua_check_options_in(L, idx, FN_TRAIN, "optimizer", known);
    int type = app_lua_opt_choice(L, idx, FN_TRAIN, "optimizer.type", (int)c->type, optim_names);
    if (type != (int)c->type) {
        *c = type == NNCW_OPTIM_SGD ? nncw_optim_config_sgd(c->lr, 0.9f, c->weight_decay)
                                    : nncw_optim_config_adam(c->lr, c->weight_decay);
        c->type = (enum nncw_optim_type)type;
    }
    c->lr = (float)app_lua_opt_number(L, idx, FN_TRAIN, "optimizer.lr", c->lr, 0, 100);
    c->momentum =
        (float)app_lua_opt_number(L, idx, FN_TRAIN, "optimizer.momentum", c->momentum, 0, 0.999999);
    c->dampening =
        (float)app_lua_opt_number(L, idx, FN_TRAIN, "optimizer.dampening", c->dampening, 0, 1);
    c->nesterov = app_lua_opt_bool(L, idx, FN_TRAIN, "optimizer.nesterov", c->nesterov);
    c->weight_decay = (float)app_lua_opt_number(L, idx, FN_TRAIN, "optimizer.weight_decay",
                                                c->weight_decay, 0, 1);
    c->beta1 =
        (float)app_lua_opt_number(L, idx, FN_TRAIN, "optimizer.beta1", c->beta1, 0, 0.999999);
    c->beta2 =
        (float)app_lua_opt_number(L, idx, FN_TRAIN, "optimizer.beta2", c->beta2, 0, 0.999999);
    c->eps = (float)app_lua_opt_number(L, idx, FN_TRAIN, "optimizer.eps", c->eps, 0, 1);
}

static void read_schedule(lua_State *L, int idx, struct nncw_lr_schedule *s)
{
    static const char *const known[] = {"type",  "step_size", "gamma",  "milestones",
                                        "t_max", "eta_min",   "warmup", NULL};
    app_lua_check_options_in(L, idx, FN_TRAIN, "schedule", known);
    s->type = (enum nncw_lr_schedule_type)app_lua_opt_choice(L, idx, FN_TRAIN, "schedule.type",
                                                             (int)s->type, schedule_names);
    s->step_size =
        (int)app_lua_opt_int(L, idx, FN_TRAIN, "schedule.step_size", s->step_size, 1, 1000000);
    s->gamma = (float)app_lua_opt_number(L, idx, FN_TRAIN, "schedule.gamma", s->gamma, 0, 1);
    s->t_max = (int)app_lua_opt_int(L, idx, FN_TRAIN, "schedule.t_max", s->t_max, 0, 1000000);
    s->eta_min =
        (float)app_lua_opt_number(L, idx, FN_TRAIN, "schedule.eta_min", s->eta_min, 0, 100);
    s->warmup_epochs =
        (int)app_lua_opt_int(L, idx, FN_TRAIN, "schedule.warmup", s->warmup_epochs, 0, 1000000);
    if (lua_getfield(L, idx, "milestones") != LUA_TNIL) {
        if (!lua_istable(L, -1) || luaL_len(L, -1) < 1 || luaL_len(L, -1) > 16)
            app_lua_arg_error(L, -1, FN_TRAIN, "schedule.milestones", "a list of 1 to 16 epochs");
        s->n_milestones = (int)luaL_len(L, -1);
        for (int i = 0; i < s->n_milestones; i++) {
            lua_geti(L, -1, i + 1);
            s->milestones[i] =
                (int)app_lua_check_int(L, -1, FN_TRAIN, "schedule.milestones", 1, 1000000);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

/* idx is a positive stack index holding nil or the options table */
static void read_train_options(lua_State *L, int idx, struct nncw_train_options *o)
{
    static const char *const known[] = {"test",  "epochs",    "batch",     "optimizer",  "schedule",
                                        "seed",  "log_every", "max_steps", "eval_batch", "crop",
                                        "hflip", "callback",  "config",    "compression",
                                        "accuracy_aware", "uncompressed", /* l_accuracy_aware.c */
                                        NULL};
    app_lua_check_options(L, idx, FN_TRAIN, known);
    if (!lua_istable(L, idx))
        return;
    int top = lua_gettop(L);
    if (lua_getfield(L, idx, "config") != LUA_TNIL)
        nncw_config_apply_train(app_lua_check_config(L, -1, FN_TRAIN, "config"), o);
    o->epochs = (int)app_lua_opt_int(L, idx, FN_TRAIN, "epochs", o->epochs, 1, 1000000);
    o->batch_size = (int)app_lua_opt_int(L, idx, FN_TRAIN, "batch", o->batch_size, 1, 65536);
    o->seed = (uint64_t)app_lua_opt_int(L, idx, FN_TRAIN, "seed", (lua_Integer)o->seed, 0,
                                        LUA_MAXINTEGER);
    o->log_every = (int)app_lua_opt_int(L, idx, FN_TRAIN, "log_every", o->log_every, 0, 1 << 30);
    o->max_steps_per_epoch =
        app_lua_opt_int(L, idx, FN_TRAIN, "max_steps", o->max_steps_per_epoch, 0, LUA_MAXINTEGER);
    o->eval_batch_size =
        (int)app_lua_opt_int(L, idx, FN_TRAIN, "eval_batch", o->eval_batch_size, 1, 65536);
    o->crop_padding = (int)app_lua_opt_int(L, idx, FN_TRAIN, "crop", o->crop_padding, 0, 1024);
    o->hflip = app_lua_opt_bool(L, idx, FN_TRAIN, "hflip", o->hflip);
    if (lua_getfield(L, idx, "optimizer") != LUA_TNIL)
        read_optimizer(L, lua_gettop(L), &o->optim);
    if (lua_getfield(L, idx, "schedule") != LUA_TNIL)
        read_schedule(L, lua_gettop(L), &o->schedule);
    lua_settop(L, top);
    if (o->optim.nesterov && o->optim.momentum <= 0)
        luaL_error(L, "%s: argument 'optimizer.nesterov' needs 'optimizer.momentum' above 0",
                   FN_TRAIN);
}

/* ---- the run ---- */

static app_lua_train_observer_fn observer;
static void *observer_user;

void app_lua_set_train_observer(app_lua_train_observer_fn fn, void *user)
{
    observer = fn;
    observer_user = user;
}

void app_lua_train_notify(const struct app_lua_train_update *u)
{
    if (observer)
        observer(observer_user, u);
}

struct run {
    lua_State *L;
    int callback; /* stack index of the Lua callback, 0 if none */
    int error;    /* stack index of the callback's error message, 0 if none */
    bool user_stopped;
    bool interrupted;
    struct nncw_compression *comp; /* the compression it trains, NULL: none */
    /* pauses are left out of the clocks the events report: the total so far, the part since
     * the previous STEP event, and when that event came */
    double paused_s, window_paused_s, window_start_s;
};

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void set_num(lua_State *L, const char *key, double v)
{
    if (isnan(v))
        return;
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}

static void set_int(lua_State *L, const char *key, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, key);
}

/* runs protected: builds the event table and calls the callback with it; arguments: the
 * callback, light userdata of the event, the type name */
static int call_callback(lua_State *L)
{
    const struct nncw_train_event *ev = lua_touserdata(L, 2);
    lua_createtable(L, 0, 16);
    lua_pushvalue(L, 3);
    lua_setfield(L, -2, "type");
    set_int(L, "epoch", ev->epoch + 1);
    set_int(L, "epochs", ev->epochs);
    set_int(L, "step", (lua_Integer)ev->step);
    set_int(L, "steps_per_epoch", (lua_Integer)ev->steps_per_epoch);
    set_int(L, "global_step", (lua_Integer)ev->global_step);
    set_num(L, "loss", ev->loss);
    set_num(L, "lr", ev->lr);
    set_num(L, "images_per_s", ev->images_per_s);
    set_num(L, "eta", ev->eta_s);
    set_num(L, "elapsed", ev->elapsed_s);
    set_num(L, "train_loss", ev->train_loss);
    set_num(L, "train_acc", ev->train_acc);
    set_num(L, "test_loss", ev->test_loss);
    set_num(L, "test_acc", ev->test_acc);
    lua_pushvalue(L, 1);
    lua_insert(L, -2);
    lua_call(L, 1, 1);
    lua_pushboolean(L, !(lua_isboolean(L, -1) && !lua_toboolean(L, -1)));
    return 1;
}

/* false to stop: calls the Lua callback under pcall, so no Lua error crosses the engine */
static bool fire(struct run *r, const struct nncw_train_event *ev, const char *type)
{
    lua_State *L = r->L;
    lua_pushcfunction(L, call_callback);
    lua_pushvalue(L, r->callback);
    lua_pushlightuserdata(L, (void *)ev);
    lua_pushstring(L, type);
    if (lua_pcall(L, 3, 1, 0) != LUA_OK) {
        r->error = lua_gettop(L); /* keep the message on the stack */
        return false;
    }
    bool go_on = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (!go_on)
        r->user_stopped = true;
    return go_on;
}

/* the event with the time spent paused taken out of the elapsed time, the ETA and the
 * images/s of the window the pause fell in */
static void without_pauses(struct run *r, const struct nncw_train_event *ev,
                           struct nncw_train_event *out)
{
    *out = *ev;
    double now = monotonic_s();
    if (r->paused_s > 0 && ev->elapsed_s > 0) {
        double ran = ev->elapsed_s > r->paused_s ? ev->elapsed_s - r->paused_s : 0;
        out->eta_s = ev->eta_s * ran / ev->elapsed_s;
        out->elapsed_s = ran;
    }
    if (ev->type != NNCW_TRAIN_EVENT_STEP)
        return;
    double dt = now - r->window_start_s;
    if (r->window_paused_s > 0 && dt > r->window_paused_s && ev->images_per_s > 0)
        out->images_per_s = ev->images_per_s * dt / (dt - r->window_paused_s);
    r->window_paused_s = 0;
    r->window_start_s = now;
}

static bool on_event(void *user, const struct nncw_train_event *raw)
{
    struct run *r = user;
    bool go_on = true;
    struct nncw_train_event e;
    without_pauses(r, raw, &e);
    const struct nncw_train_event *ev = &e;
    app_lua_train_notify(&(struct app_lua_train_update){.phase = APP_LUA_TRAIN_EVENT,
                                                        .event = ev,
                                                        .steps = ev->global_step,
                                                        .compression = r->comp});
    if (r->callback && !r->error) {
        if (ev->type == NNCW_TRAIN_EVENT_EPOCH && !isnan(ev->test_acc))
            go_on = fire(r, ev, "eval");
        if (go_on)
            go_on = fire(r, ev, ev->type == NNCW_TRAIN_EVENT_STEP ? "step" : "epoch");
    }
    return go_on && !app_lua_interrupt_pending();
}

/* the result table of a run */
static void push_result(lua_State *L, const struct nncw_train_event *last, int64_t steps,
                        bool stopped)
{
    lua_createtable(L, 0, 8);
    set_int(L, "epochs", isnan(last->test_acc) && isnan(last->train_acc) ? 0 : last->epoch + 1);
    set_int(L, "steps", (lua_Integer)steps);
    set_num(L, "train_loss", last->train_loss);
    set_num(L, "train_acc", last->train_acc);
    set_num(L, "test_loss", last->test_loss);
    set_num(L, "test_acc", last->test_acc);
    set_num(L, "elapsed", last->elapsed_s);
    lua_pushboolean(L, stopped);
    lua_setfield(L, -2, "stopped");
}

/* steps the trainer to the end, a stop or an interrupt, waiting at the pause point after
 * each step while the workbench holds the run paused; no Lua error can escape from here */
static enum nncw_status drive(struct nncw_trainer *t, struct run *r, int64_t *steps)
{
    bool finished = false;
    enum nncw_status s = NNCW_OK;
    r->window_start_s = monotonic_s();
    while (!finished) {
        s = nncw_trainer_step(t, &finished);
        if (s == NNCW_OK || s == NNCW_ERR_CANCELLED) {
            (*steps)++;
            app_lua_count_step();
        }
        if (s == NNCW_OK && !finished) {
            double waited = app_lua_pause_point();
            r->paused_s += waited;
            r->window_paused_s += waited;
        }
        if (app_lua_interrupt_pending() && !finished) {
            r->interrupted = true;
            return NNCW_ERR_CANCELLED;
        }
        if (s != NNCW_OK)
            break;
    }
    return s;
}

/* ---- an interrupted run, kept for nncw.resume ----
 * Ctrl-C (or the workbench's cancel) stops a run after a step. Its position, random streams
 * and optimizer buffers are copied into a box in the registry, which also keeps the model,
 * the data, the compression and the callback alive (user values); nncw.resume() builds a new
 * trainer from them, so the run ends exactly as it would have without the interruption. A
 * new nncw.train run forgets it. */

#define SUSPENDED_CLASS "nncw.SuspendedRun"
#define SUSPENDED_KEY "nncw.train.suspended"
enum { UV_MODEL = 1, UV_TRAIN, UV_TEST, UV_COMPRESSION, UV_CALLBACK, UV_COUNT = UV_CALLBACK };

struct suspended {
    bool filled; /* false: made ahead of a run that then was not interrupted */
    struct nncw_train_options o;
    struct nncw_trainer_state st;
    int64_t steps, count, per_epoch;
    int64_t optim_steps;
    int n_slots;
    struct nncw_optim_slot *slots; /* owned copies of the buffers */
};

static void free_slots(struct suspended *sp)
{
    for (int i = 0; sp->slots && i < sp->n_slots; i++) {
        free(sp->slots[i].state1);
        free(sp->slots[i].state2);
    }
    free(sp->slots);
    sp->slots = NULL;
    sp->n_slots = 0;
}

static int l_suspended_gc(lua_State *L)
{
    free_slots(luaL_checkudata(L, 1, SUSPENDED_CLASS));
    return 0;
}

/* a copy of n floats, or NULL (src NULL, or out of memory: *ok false) */
static float *copy_floats(const float *src, int64_t n, bool *ok)
{
    if (!src)
        return NULL;
    float *d = malloc((size_t)n * sizeof *d + 1);
    if (!d)
        *ok = false;
    else
        memcpy(d, src, (size_t)n * sizeof *d);
    return d;
}

/* fills the box from the trainer (it must not raise: the trainer is still alive); false when
 * out of memory, and the box stays empty */
static bool suspend_into(struct suspended *sp, const struct nncw_trainer *t, const struct run *r,
                         int64_t steps)
{
    const struct nncw_optim *o = nncw_trainer_get_optim(t);
    nncw_trainer_get_state(t, &sp->st);
    sp->st.elapsed_s = sp->st.elapsed_s > r->paused_s ? sp->st.elapsed_s - r->paused_s : 0;
    sp->o = *nncw_trainer_get_options(t);
    sp->steps = steps;
    sp->optim_steps = nncw_optim_count_steps(o);
    int n = nncw_optim_count_slots(o);
    sp->slots = calloc((size_t)n + 1, sizeof *sp->slots);
    if (!sp->slots)
        return false;
    sp->n_slots = n;
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        struct nncw_optim_slot sl;
        nncw_optim_get_slot(o, i, &sl);
        sp->slots[i] = (struct nncw_optim_slot){.value_id = sl.value_id, .numel = sl.numel};
        sp->slots[i].state1 = copy_floats(sl.state1, sl.numel, &ok);
        sp->slots[i].state2 = copy_floats(sl.state2, sl.numel, &ok);
    }
    if (!ok)
        free_slots(sp);
    sp->filled = ok;
    return ok;
}

/* puts a new trainer where the suspended one was: checks everything first */
static enum nncw_status restore_into(const struct suspended *sp, struct nncw_trainer *t)
{
    struct nncw_optim *o = nncw_trainer_get_optim(t);
    if (nncw_optim_count_slots(o) != sp->n_slots)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "the model now has %d trainable parameters, the interrupted run "
                         "trained %d",
                         nncw_optim_count_slots(o), sp->n_slots);
    for (int i = 0; i < sp->n_slots; i++) {
        struct nncw_optim_slot sl;
        nncw_optim_get_slot(o, i, &sl);
        const struct nncw_optim_slot *was = &sp->slots[i];
        if (sl.value_id != was->value_id || sl.numel != was->numel ||
            !sl.state1 != !was->state1 || !sl.state2 != !was->state2)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "the model's trainable parameter %d changed since the run was "
                             "interrupted",
                             i + 1);
    }
    NNCW_TRY(nncw_trainer_set_state(t, &sp->st));
    for (int i = 0; i < sp->n_slots; i++) {
        struct nncw_optim_slot sl;
        nncw_optim_get_slot(o, i, &sl);
        if (sl.state1)
            memcpy(sl.state1, sp->slots[i].state1, (size_t)sl.numel * sizeof(float));
        if (sl.state2)
            memcpy(sl.state2, sp->slots[i].state2, (size_t)sl.numel * sizeof(float));
    }
    nncw_optim_set_steps(o, sp->optim_steps);
    return NNCW_OK;
}

/* pushes an empty box that anchors what the run uses (stack indices; 0: none) */
static struct suspended *push_suspended(lua_State *L, const int uv[UV_COUNT + 1])
{
    struct suspended *sp = lua_newuserdatauv(L, sizeof *sp, UV_COUNT);
    memset(sp, 0, sizeof *sp);
    luaL_setmetatable(L, SUSPENDED_CLASS);
    for (int k = UV_MODEL; k <= UV_COUNT; k++) {
        if (uv[k])
            lua_pushvalue(L, uv[k]);
        else
            lua_pushnil(L);
        lua_setiuservalue(L, -2, k);
    }
    return sp;
}

/* a new run, an accuracy-aware one or a resumed one forgets the interrupted run */
static void forget_suspended(lua_State *L)
{
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, SUSPENDED_KEY);
}

/* what a run works on: the boxes (busy while it runs) and their stack indices */
struct job {
    struct app_lua_graph *g;
    struct app_lua_dataset *train, *test;
    struct nncw_train_options o;
    int64_t count, per_epoch;
    int64_t steps; /* done before (a resumed run) */
    int uv[UV_COUNT + 1]; /* stack indices of model, data, test, compression, callback */
};

/* runs the trainer to the end or an interrupt, frees it, then pushes the result or raises.
 * box: the stack index of an empty suspended-run box, made before the trainer (nothing may
 * raise while the trainer lives) */
static int run_to_end(lua_State *L, struct job *j, struct nncw_trainer *t, struct run *r,
                      int box, const char *fn)
{
    struct suspended *sp = lua_touserdata(L, box);
    j->g->busy++;
    j->train->busy++;
    if (j->test)
        j->test->busy++;
    nncw_trainer_set_callback(t, on_event, r);
    app_lua_train_notify(&(struct app_lua_train_update){
        .phase = APP_LUA_TRAIN_BEGIN, .options = &j->o, .train_count = j->count,
        .steps_per_epoch = j->per_epoch, .steps = j->steps, .compression = r->comp});
    int64_t steps = j->steps;
    enum nncw_status s = drive(t, r, &steps);
    struct nncw_train_event last;
    nncw_trainer_get_last_epoch(t, &last);
    bool interrupted = r->interrupted || app_lua_interrupt_pending();
    app_lua_train_notify(&(struct app_lua_train_update){
        .phase = APP_LUA_TRAIN_END, .options = &j->o, .event = &last, .steps = steps,
        .status = s, .interrupted = interrupted, .compression = r->comp});
    bool kept = interrupted && suspend_into(sp, t, r, steps);
    if (kept) {
        sp->count = j->count;
        sp->per_epoch = j->per_epoch;
    }
    nncw_trainer_free(t);
    j->g->busy--;
    j->train->busy--;
    if (j->test)
        j->test->busy--;
    if (interrupted) {
        app_lua_interrupt_take(L);
        if (kept) {
            lua_pushvalue(L, box);
            lua_setfield(L, LUA_REGISTRYINDEX, SUSPENDED_KEY);
        }
        return luaL_error(L,
                          "%s: interrupted after %I steps (the model keeps the weights of its "
                          "last step%s)",
                          fn, (LUAI_UACINT)steps,
                          kept ? "; nncw.resume() continues the run" : "");
    }
    if (r->error) {
        lua_pushvalue(L, r->error);
        return lua_error(L);
    }
    if (s != NNCW_OK && !(s == NNCW_ERR_CANCELLED && r->user_stopped))
        return app_lua_fail(L, fn, s);
    push_result(L, &last, steps, r->user_stopped);
    return 1;
}

/* steps per epoch as the trainer will count them */
static int64_t steps_per_epoch(const struct nncw_train_options *o, int64_t count)
{
    int64_t per_epoch = (count + o->batch_size - 1) / o->batch_size;
    if (o->max_steps_per_epoch && o->max_steps_per_epoch < per_epoch)
        per_epoch = o->max_steps_per_epoch;
    return per_epoch;
}

/* a trainer for the job, with the compression's hooks */
static enum nncw_status new_trainer(struct job *j, struct nncw_compression *comp,
                                    struct nncw_trainer **out)
{
    struct nncw_trainer *t;
    NNCW_TRY(nncw_trainer_new(j->g->g, j->train->ds, j->test ? j->test->ds : NULL, &j->o, &t));
    if (comp) { /* QAT: the scheduler, the loss and the lr multipliers */
        struct nncw_train_hooks h = nncw_compression_train_hooks(comp);
        enum nncw_status s = nncw_trainer_set_hooks(t, &h);
        if (s != NNCW_OK) {
            nncw_trainer_free(t);
            return s;
        }
    }
    *out = t;
    return NNCW_OK;
}

/* nncw.train(model, data, options) -> result table */
static int l_train(lua_State *L)
{
    struct job j = {.uv = {0, 1, 2}};
    j.g = app_lua_check_graph(L, 1, FN_TRAIN, "model");
    j.train = app_lua_check_dataset(L, 2, FN_TRAIN, "data");
    j.o = nncw_train_defaults();
    read_train_options(L, 3, &j.o);
    struct run r = {.L = L};
    if (lua_istable(L, 3)) {
        if (lua_getfield(L, 3, "test") != LUA_TNIL) {
            j.test = app_lua_check_dataset(L, -1, FN_TRAIN, "test");
            j.uv[UV_TEST] = lua_gettop(L);
        }
        if (lua_getfield(L, 3, "callback") != LUA_TNIL && !lua_isfunction(L, -1))
            app_lua_arg_error(L, -1, FN_TRAIN, "callback", "a function");
        r.callback = lua_isfunction(L, -1) ? lua_gettop(L) : 0;
        j.uv[UV_CALLBACK] = r.callback;
    }
    forget_suspended(L);
    if (j.g->busy)
        return luaL_error(L, "%s: argument 'model' is already being trained", FN_TRAIN);
    luaL_checkstack(L, 40, FN_TRAIN);
    app_lua_graph_touch(j.g);
    if (lua_istable(L, 3) && lua_getfield(L, 3, "compression") != LUA_TNIL) {
        r.comp = app_lua_check_compression(L, -1, FN_TRAIN, "compression");
        j.uv[UV_COMPRESSION] = lua_gettop(L);
    }
    if (lua_istable(L, 3) && lua_getfield(L, 3, "accuracy_aware") != LUA_TNIL) /* its own loop */
        return app_lua_train_accuracy_aware(
            L, &(struct app_lua_aat_call){.options = 3, .callback = r.callback, .g = j.g,
                                          .train_set = j.train, .test = j.test,
                                          .compression = r.comp, .train = &j.o});
    push_suspended(L, j.uv);
    int box = lua_gettop(L);
    struct nncw_trainer *t = NULL;
    enum nncw_status s = new_trainer(&j, r.comp, &t);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN_TRAIN, s);
    j.count = nncw_dataset_count_samples(j.train->ds);
    j.per_epoch = steps_per_epoch(&j.o, j.count);
    return run_to_end(L, &j, t, &r, box, FN_TRAIN);
}

/* nncw.resume() -> result table: continues the interrupted nncw.train run */
static int l_resume(lua_State *L)
{
    static const char FN[] = "nncw.resume";
    lua_settop(L, 0);
    lua_getfield(L, LUA_REGISTRYINDEX, SUSPENDED_KEY);
    struct suspended *sp = luaL_testudata(L, 1, SUSPENDED_CLASS);
    if (!sp || !sp->filled)
        return luaL_error(L,
                          "%s: no interrupted run to resume (Ctrl-C or the workbench's cancel "
                          "keeps one; a new nncw.train run or an accuracy-aware one forgets it)",
                          FN);
    struct job j = {.o = sp->o, .count = sp->count, .per_epoch = sp->per_epoch,
                    .steps = sp->steps};
    for (int k = UV_MODEL; k <= UV_COUNT; k++) {
        lua_getiuservalue(L, 1, k);
        j.uv[k] = lua_isnil(L, -1) ? 0 : lua_gettop(L);
    }
    j.g = app_lua_check_graph(L, j.uv[UV_MODEL], FN, "the run's model");
    j.train = app_lua_check_dataset(L, j.uv[UV_TRAIN], FN, "the run's data");
    if (j.uv[UV_TEST])
        j.test = app_lua_check_dataset(L, j.uv[UV_TEST], FN, "the run's test data");
    struct run r = {.L = L, .callback = j.uv[UV_CALLBACK]};
    if (j.uv[UV_COMPRESSION])
        r.comp = app_lua_check_compression(L, j.uv[UV_COMPRESSION], FN, "the run's compression");
    if (j.g->busy)
        return luaL_error(L, "%s: the run's model is being trained", FN);
    app_lua_graph_touch(j.g);
    luaL_checkstack(L, 40, FN);
    push_suspended(L, j.uv);
    int box = lua_gettop(L);
    struct nncw_trainer *t = NULL;
    enum nncw_status s = new_trainer(&j, r.comp, &t);
    if (s == NNCW_OK) {
        s = restore_into(sp, t);
        if (s != NNCW_OK)
            nncw_trainer_free(t);
    }
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    forget_suspended(L); /* the old box stays anchored at index 1 */
    return run_to_end(L, &j, t, &r, box, FN);
}

/* nncw.evaluate(model, data, {batch = 256}) -> accuracy, loss */
static int l_evaluate(lua_State *L)
{
    static const char FN[] = "nncw.evaluate";
    static const char *const known[] = {"batch", NULL};
    struct app_lua_graph *g = app_lua_check_graph(L, 1, FN, "model");
    struct app_lua_dataset *ds = app_lua_check_dataset(L, 2, FN, "data");
    app_lua_check_options(L, 3, FN, known);
    int batch = (int)app_lua_opt_int(L, 3, FN, "batch", 256, 1, 65536);
    float acc, loss;
    app_lua_graph_touch(g);
    enum nncw_status s = nncw_evaluate(g->g, ds->ds, batch, &acc, &loss);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    lua_pushnumber(L, acc);
    lua_pushnumber(L, loss);
    return 2;
}

static const luaL_Reg functions[] = {
    {"train", l_train},
    {"evaluate", l_evaluate},
    {"resume", l_resume},
    {NULL, NULL},
};

int luaopen_nncw_train(lua_State *L)
{
    luaL_newmetatable(L, SUSPENDED_CLASS);
    lua_pushcfunction(L, l_suspended_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newlib(L, functions);
    return 1;
}
