/* nncw.train's accuracy-aware mode (options.accuracy_aware): engine/train/accuracy_aware from
 * Lua, with the callback on every validation, rate change and logged training step. */
#include "lnncw.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "train/accuracy_aware.h"

static const char FN[] = "nncw.train";

static const char *const event_names[] = {"validation", "rate", "done"};
_Static_assert(sizeof event_names / sizeof event_names[0] == NNCW_AAT_EVENT_TYPE_COUNT,
               "event_names out of date");

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

static void set_str(lua_State *L, const char *key, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, key);
}

/* ---- the section ---- */

/* a table {mode = ..., params = {...}} through nncw.json and the config parser, so errors name
 * the same paths as in a JSON file */
static struct nncw_aat_config section_from_table(lua_State *L, int idx)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "nncw.json");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "encode");
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, idx);
    lua_setfield(L, -2, "accuracy_aware_training");
    lua_call(L, 1, 1);
    struct nncw_config *cfg;
    enum nncw_status s = nncw_config_parse(lua_tostring(L, -1), "accuracy_aware", &cfg);
    if (s != NNCW_OK)
        app_lua_fail(L, FN, s);
    struct nncw_aat_config a = cfg->accuracy_aware;
    nncw_config_free(cfg);
    lua_pop(L, 2);
    return a;
}

/* true: the accuracy_aware_training section of options.config */
static struct nncw_aat_config read_section(lua_State *L, int opts)
{
    int top = lua_gettop(L);
    lua_getfield(L, opts, "accuracy_aware");
    if (lua_istable(L, -1)) {
        struct nncw_aat_config a = section_from_table(L, lua_gettop(L));
        lua_settop(L, top);
        return a;
    }
    if (!lua_isboolean(L, -1) || !lua_toboolean(L, -1))
        app_lua_arg_error(L, -1, FN, "accuracy_aware", "true or a table {mode, params}");
    if (lua_getfield(L, opts, "config") == LUA_TNIL)
        luaL_error(L,
                   "%s: accuracy_aware = true takes the section from argument 'config', "
                   "which is missing",
                   FN);
    const struct nncw_config *cfg = app_lua_check_config(L, -1, FN, "config");
    if (!(cfg->has & NNCW_CFG_ACCURACY_AWARE))
        luaL_error(L, "%s: the config '%s' has no accuracy_aware_training section", FN,
                   cfg->source);
    struct nncw_aat_config a = cfg->accuracy_aware;
    lua_settop(L, top);
    return a;
}

/* ---- callbacks (protected: no Lua error crosses the engine) ---- */

struct run {
    lua_State *L;
    int callback; /* stack index, 0: none */
    int error;    /* stack index of the callback's error, 0: none */
    bool user_stopped, interrupted;
    /* for the workbench's observer: the compression, steps per epoch, the training options */
    struct nncw_compression *comp;
    int64_t per_epoch;
    const struct nncw_train_options *train;
    double t0, paused_s; /* the run's start and its time paused: its clock for the observer */
};

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* seconds the run has trained (pauses left out) */
static double run_seconds(const struct run *r)
{
    return monotonic_s() - r->t0 - r->paused_s;
}

static void push_change(lua_State *L, const struct nncw_aat_rate_change *c)
{
    lua_createtable(L, 0, 6);
    set_int(L, "epoch", c->epoch);
    set_num(L, "from", c->from);
    set_num(L, "to", c->to);
    set_num(L, "step", c->step);
    set_num(L, "best_budget", c->best_budget);
    set_num(L, "lr_scale", c->lr_scale);
}

/* calls the callback (argument 1) with the table on top; true unless it returned false */
static int call_with_table(lua_State *L)
{
    lua_pushvalue(L, 1);
    lua_insert(L, -2);
    lua_call(L, 1, 1);
    lua_pushboolean(L, !(lua_isboolean(L, -1) && !lua_toboolean(L, -1)));
    return 1;
}

static int call_aat_event(lua_State *L)
{
    const struct nncw_aat_event *ev = lua_touserdata(L, 2);
    lua_createtable(L, 0, 20);
    set_str(L, "type", event_names[ev->type]);
    set_str(L, "phase", nncw_aat_phase_name(ev->phase));
    set_int(L, "epoch", ev->epoch);
    set_int(L, "max_epochs", ev->max_epochs);
    set_num(L, "metric", ev->metric);
    set_num(L, "budget", ev->budget);
    set_num(L, "uncompressed", ev->uncompressed_metric);
    set_num(L, "minimal_tolerable", ev->minimal_tolerable_metric);
    set_num(L, "best_metric", ev->best_metric);
    set_num(L, "rate", ev->rate);
    set_num(L, "rate_target", ev->rate_target);
    set_num(L, "rate_step", ev->rate_step);
    set_num(L, "lr_scale", ev->lr_scale);
    set_str(L, "stage", nncw_compression_stage_name(ev->stage));
    set_num(L, "train_loss", ev->train_loss);
    set_num(L, "train_acc", ev->train_acc);
    if (ev->has_best) {
        set_num(L, "kept_rate", ev->best_rate);
        set_num(L, "kept_budget", ev->best_budget);
    }
    if (ev->change) {
        push_change(L, ev->change);
        lua_setfield(L, -2, "change");
    }
    return call_with_table(L);
}

static int call_step_event(lua_State *L)
{
    const struct nncw_train_event *ev = lua_touserdata(L, 2);
    lua_createtable(L, 0, 8);
    set_str(L, "type", "step");
    set_int(L, "epoch", ev->epoch + 1);
    set_int(L, "step", (lua_Integer)ev->step);
    set_int(L, "steps_per_epoch", (lua_Integer)ev->steps_per_epoch);
    set_num(L, "loss", ev->loss);
    set_num(L, "lr", ev->lr);
    set_num(L, "images_per_s", ev->images_per_s);
    return call_with_table(L);
}

static bool fire(struct run *r, lua_CFunction caller, const void *ev)
{
    r->paused_s += app_lua_pause_point(); /* the workbench's pause holds the run here */
    if (app_lua_interrupt_pending()) {
        r->interrupted = true;
        return false;
    }
    if (!r->callback || r->error)
        return !r->error;
    lua_State *L = r->L;
    lua_pushcfunction(L, caller);
    lua_pushvalue(L, r->callback);
    lua_pushlightuserdata(L, (void *)ev);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        r->error = lua_gettop(L);
        return false;
    }
    bool go_on = lua_toboolean(L, -1);
    lua_pop(L, 1);
    r->user_stopped = r->user_stopped || !go_on;
    return go_on;
}

/* a validation as the epoch point of the observer's charts (accuracy 0..1) */
static void notify_validation(const struct run *r, const struct nncw_aat_event *ev)
{
    struct nncw_train_event e = {.type = NNCW_TRAIN_EVENT_EPOCH,
                                 .epoch = ev->epoch - 1,
                                 .epochs = ev->max_epochs,
                                 .step = r->per_epoch,
                                 .steps_per_epoch = r->per_epoch,
                                 .global_step = (int64_t)ev->epoch * r->per_epoch,
                                 .loss = ev->train_loss,
                                 .lr = NAN,
                                 .images_per_s = NAN,
                                 .eta_s = NAN,
                                 .elapsed_s = run_seconds(r),
                                 .train_loss = ev->train_loss,
                                 .train_acc = ev->train_acc,
                                 .test_loss = NAN,
                                 .test_acc = (float)(ev->metric / 100)};
    app_lua_train_notify(&(struct app_lua_train_update){
        .phase = APP_LUA_TRAIN_EVENT, .event = &e, .steps = e.global_step, .compression = r->comp});
}

static bool on_aat_event(void *user, const struct nncw_aat_event *ev)
{
    struct run *r = user;
    if (ev->type == NNCW_AAT_EVENT_VALIDATION && ev->epoch > 0)
        notify_validation(r, ev);
    app_lua_train_notify(&(struct app_lua_train_update){
        .phase = APP_LUA_TRAIN_AAT, .aat = ev, .compression = r->comp,
        .steps = (int64_t)ev->epoch * r->per_epoch});
    return fire(user, call_aat_event, ev);
}

static bool on_step(void *user, const struct nncw_train_event *ev)
{
    struct run *r = user;
    app_lua_count_step();
    struct nncw_train_event e = *ev; /* steps counted over the whole run, not the segment */
    e.global_step = (int64_t)ev->epoch * r->per_epoch + ev->step;
    e.elapsed_s = run_seconds(r); /* the trainer's clock restarts with each segment */
    e.eta_s = NAN;
    app_lua_train_notify(&(struct app_lua_train_update){
        .phase = APP_LUA_TRAIN_EVENT, .event = &e, .steps = e.global_step, .compression = r->comp});
    return fire(user, call_step_event, &e);
}

/* BEGIN and END for the observer: an accuracy-aware run counts maximal_total_epochs epochs */
static void notify_begin(struct run *r, const struct app_lua_aat_call *call,
                         const struct nncw_aat_options *o, struct nncw_train_options *shown)
{
    *shown = o->train;
    shown->epochs = o->params.maximal_total_epochs;
    int64_t count = nncw_dataset_count_samples(call->train_set->ds);
    r->per_epoch = (count + shown->batch_size - 1) / shown->batch_size;
    if (shown->max_steps_per_epoch && shown->max_steps_per_epoch < r->per_epoch)
        r->per_epoch = shown->max_steps_per_epoch;
    r->train = shown;
    r->t0 = monotonic_s();
    app_lua_train_notify(&(struct app_lua_train_update){
        .phase = APP_LUA_TRAIN_BEGIN, .options = shown, .train_count = count,
        .steps_per_epoch = r->per_epoch, .compression = r->comp});
}

static void notify_end(const struct run *r, const struct nncw_aat_result *res,
                       enum nncw_status s)
{
    struct nncw_train_event last = {.type = NNCW_TRAIN_EVENT_EPOCH,
                                    .epoch = res->epochs - 1,
                                    .epochs = r->train->epochs,
                                    .global_step = (int64_t)res->epochs * r->per_epoch,
                                    .loss = NAN,
                                    .lr = NAN,
                                    .images_per_s = NAN,
                                    .eta_s = NAN,
                                    .elapsed_s = run_seconds(r),
                                    .train_loss = NAN,
                                    .train_acc = NAN,
                                    .test_loss = NAN,
                                    .test_acc = isnan(res->final_metric)
                                                    ? NAN
                                                    : (float)(res->final_metric / 100)};
    bool interrupted = r->interrupted || app_lua_interrupt_pending();
    app_lua_train_notify(&(struct app_lua_train_update){
        .phase = APP_LUA_TRAIN_END, .options = r->train, .event = &last,
        .steps = last.global_step, .status = s, .interrupted = interrupted,
        .compression = r->comp});
}

/* ---- the result ---- */

static void push_result(lua_State *L, const struct nncw_aat_config *p,
                        const struct nncw_aat_result *r, bool stopped)
{
    lua_createtable(L, 0, 14);
    set_str(L, "mode", nncw_aat_mode_name(p->mode));
    set_str(L, "stop", nncw_aat_stop_name(r->stop));
    set_int(L, "epochs", r->epochs);
    set_num(L, "uncompressed", r->uncompressed_metric);
    set_num(L, "minimal_tolerable", r->minimal_tolerable_metric);
    set_num(L, "kept_rate", r->kept_rate);
    set_num(L, "rate", r->final_rate);
    set_num(L, "metric", r->final_metric);
    lua_pushboolean(L, r->restored);
    lua_setfield(L, -2, "restored");
    lua_pushboolean(L, r->within_budget);
    lua_setfield(L, -2, "within_budget");
    lua_pushboolean(L, stopped);
    lua_setfield(L, -2, "stopped");
    lua_createtable(L, r->n_changes, 0);
    for (int i = 0; i < r->n_changes; i++) {
        push_change(L, &r->changes[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "trajectory");
    lua_createtable(L, r->n_history, 0);
    for (int i = 0; i < r->n_history; i++) {
        const struct nncw_aat_point *h = &r->history[i];
        lua_createtable(L, 0, 6);
        set_int(L, "epoch", h->epoch);
        set_str(L, "phase", nncw_aat_phase_name(h->phase));
        set_num(L, "rate_target", h->rate_target);
        set_num(L, "rate", h->rate);
        set_num(L, "metric", h->metric);
        set_num(L, "budget", h->budget);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "history");
}

/* ---- the run ---- */

static double check_uncompressed(lua_State *L, int opts)
{
    if (lua_getfield(L, opts, "uncompressed") == LUA_TNIL)
        luaL_error(L,
                   "%s: accuracy-aware training needs argument 'uncompressed' (the model's "
                   "accuracy in %% before compression)",
                   FN);
    if (!lua_isnumber(L, -1))
        app_lua_arg_error(L, -1, FN, "uncompressed", "a number (accuracy in %)");
    double v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return v;
}

int app_lua_train_accuracy_aware(lua_State *L, const struct app_lua_aat_call *call)
{
    int opts = call->options;
    if (!call->compression)
        return luaL_error(L, "%s: accuracy-aware training needs argument 'compression'", FN);
    if (!call->test)
        return luaL_error(L,
                          "%s: accuracy-aware training needs argument 'test' (it validates "
                          "on it)",
                          FN);
    struct nncw_aat_options o = nncw_aat_defaults();
    o.params = read_section(L, opts);
    o.uncompressed_metric = check_uncompressed(L, opts);
    o.train = *call->train;
    struct run r = {.L = L, .callback = call->callback, .comp = call->compression};
    o.on_event = on_aat_event;
    o.user = &r;
    o.on_train = on_step;
    o.train_user = &r;
    luaL_checkstack(L, 40, FN);
    struct nncw_aat *a;
    app_lua_graph_touch(call->g);
    enum nncw_status s =
        nncw_aat_new(call->g->g, call->compression, call->train_set->ds, call->test->ds, &o, &a);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    /* from here until nncw_aat_free nothing may raise */
    call->g->busy++;
    call->train_set->busy++;
    call->test->busy++;
    struct nncw_train_options shown;
    notify_begin(&r, call, &o, &shown);
    s = nncw_aat_run(a);
    call->g->busy--;
    call->train_set->busy--;
    call->test->busy--;
    struct nncw_aat_result res;
    nncw_aat_get_result(a, &res);
    notify_end(&r, &res, s);
    if (r.error || r.interrupted ||
        (s != NNCW_OK && !(s == NNCW_ERR_CANCELLED && r.user_stopped))) {
        nncw_aat_free(a);
        if (r.interrupted) {
            app_lua_interrupt_take(L);
            return luaL_error(L, "%s: accuracy-aware training interrupted after %d epochs", FN,
                              res.epochs);
        }
        if (r.error) {
            lua_pushvalue(L, r.error);
            return lua_error(L);
        }
        return app_lua_fail(L, FN, s);
    }
    push_result(L, &o.params, &res, r.user_stopped); /* may raise: a is freed just after */
    nncw_aat_free(a);
    return 1;
}
