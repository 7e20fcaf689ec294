/* nncw.train and nncw.evaluate: the training loop driven one step at a time, with a Lua
 * callback on every event and Ctrl-C stopping after the current step. */
#include "lnncw.h"

#include <math.h>
#include <string.h>

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

static void observe(const struct app_lua_train_update *u)
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
};

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

static bool on_event(void *user, const struct nncw_train_event *ev)
{
    struct run *r = user;
    bool go_on = true;
    observe(&(struct app_lua_train_update){.phase = APP_LUA_TRAIN_EVENT, .event = ev,
                                           .steps = ev->global_step});
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

/* steps the trainer to the end, a stop or an interrupt; no Lua error can escape from here */
static enum nncw_status drive(struct nncw_trainer *t, struct run *r, int64_t *steps)
{
    bool finished = false;
    enum nncw_status s = NNCW_OK;
    while (!finished) {
        s = nncw_trainer_step(t, &finished);
        if (s == NNCW_OK || s == NNCW_ERR_CANCELLED) {
            (*steps)++;
            app_lua_count_step();
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

/* nncw.train(model, data, options) -> result table */
static int l_train(lua_State *L)
{
    struct app_lua_graph *g = app_lua_check_graph(L, 1, FN_TRAIN, "model");
    struct app_lua_dataset *train = app_lua_check_dataset(L, 2, FN_TRAIN, "data");
    struct nncw_train_options o = nncw_train_defaults();
    read_train_options(L, 3, &o);
    struct app_lua_dataset *test = NULL;
    struct run r = {.L = L};
    if (lua_istable(L, 3)) {
        if (lua_getfield(L, 3, "test") != LUA_TNIL)
            test = app_lua_check_dataset(L, -1, FN_TRAIN, "test");
        if (lua_getfield(L, 3, "callback") != LUA_TNIL && !lua_isfunction(L, -1))
            app_lua_arg_error(L, -1, FN_TRAIN, "callback", "a function");
        r.callback = lua_isfunction(L, -1) ? lua_gettop(L) : 0;
    }
    if (g->busy)
        return luaL_error(L, "%s: argument 'model' is already being trained", FN_TRAIN);
    luaL_checkstack(L, 40, FN_TRAIN);
    struct nncw_trainer *t = NULL;
    app_lua_graph_touch(g);
    struct nncw_compression *comp = NULL;
    if (lua_istable(L, 3) && lua_getfield(L, 3, "compression") != LUA_TNIL)
        comp = app_lua_check_compression(L, -1, FN_TRAIN, "compression");
    if (lua_istable(L, 3) && lua_getfield(L, 3, "accuracy_aware") != LUA_TNIL) /* its own loop */
        return app_lua_train_accuracy_aware(
            L, &(struct app_lua_aat_call){.options = 3, .callback = r.callback, .g = g,
                                          .train_set = train, .test = test, .compression = comp,
                                          .train = &o});
    enum nncw_status s = nncw_trainer_new(g->g, train->ds, test ? test->ds : NULL, &o, &t);
    if (s == NNCW_OK && comp) { /* QAT: the scheduler, the loss and the lr multipliers */
        struct nncw_train_hooks h = nncw_compression_train_hooks(comp);
        s = nncw_trainer_set_hooks(t, &h);
        if (s != NNCW_OK)
            nncw_trainer_free(t);
    }
    if (s != NNCW_OK)
        return app_lua_fail(L, FN_TRAIN, s);
    /* from here until nncw_trainer_free nothing may raise */
    g->busy++;
    train->busy++;
    if (test)
        test->busy++;
    nncw_trainer_set_callback(t, on_event, &r);
    int64_t count = nncw_dataset_count_samples(train->ds);
    int64_t per_epoch = (count + o.batch_size - 1) / o.batch_size;
    if (o.max_steps_per_epoch && o.max_steps_per_epoch < per_epoch)
        per_epoch = o.max_steps_per_epoch;
    observe(&(struct app_lua_train_update){.phase = APP_LUA_TRAIN_BEGIN, .options = &o,
                                           .train_count = count, .steps_per_epoch = per_epoch});
    int64_t steps = 0;
    s = drive(t, &r, &steps);
    struct nncw_train_event last;
    nncw_trainer_get_last_epoch(t, &last);
    observe(&(struct app_lua_train_update){
        .phase = APP_LUA_TRAIN_END, .options = &o, .event = &last, .steps = steps,
        .status = s, .interrupted = r.interrupted || app_lua_interrupt_pending()});
    nncw_trainer_free(t);
    g->busy--;
    train->busy--;
    if (test)
        test->busy--;
    if (r.interrupted || app_lua_interrupt_pending()) {
        app_lua_interrupt_take(L);
        return luaL_error(L,
                          "%s: interrupted after %I steps (the model keeps the weights of its "
                          "last step)",
                          FN_TRAIN, (LUAI_UACINT)steps);
    }
    if (r.error) {
        lua_pushvalue(L, r.error);
        return lua_error(L);
    }
    if (s != NNCW_OK && !(s == NNCW_ERR_CANCELLED && r.user_stopped))
        return app_lua_fail(L, FN_TRAIN, s);
    push_result(L, &last, steps, r.user_stopped);
    return 1;
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
    {NULL, NULL},
};

int luaopen_nncw_train(lua_State *L)
{
    luaL_newlib(L, functions);
    return 1;
}
