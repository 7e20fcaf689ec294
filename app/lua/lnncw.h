/*
 * What the Lua binding files share: metatable names, argument and option checks that raise
 * "nncw.train: argument 'epochs' must be a positive integer, got -1", the engine-error
 * helper, the boxes of each userdata type, and the interrupt flag the REPL's Ctrl-C sets.
 *
 *     static int l_evaluate(lua_State *L)
 *     {
 *         static const char FN[] = "nncw.evaluate";
 *         struct app_lua_graph *g = app_lua_check_graph(L, 1, FN, "model");
 *         struct nncw_dataset *ds = app_lua_check_dataset(L, 2, FN, "data")->ds;
 *         app_lua_check_options(L, 3, FN, known);
 *         int batch = (int)app_lua_opt_int(L, 3, FN, "batch", 256, 1, 65536);
 *         float acc, loss;
 *         enum nncw_status s = nncw_evaluate(g->g, ds, batch, &acc, &loss);
 *         if (s != NNCW_OK)
 *             return app_lua_fail(L, FN, s);    // "nncw.evaluate: <status>: <detail>"
 *         ...
 *     }
 *
 * Boxes are created first (with a NULL engine pointer) and filled after the engine call
 * succeeds, so a Lua error can never leak an engine object (STYLE 2.10).
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <lauxlib.h>
#include <lua.h>

#include "config/config.h"
#include "core/status.h"
#include "data/data.h"
#include "graph/graph.h"
#include "tensor/tensor.h"
#include "train/trainer.h"

#define APP_LUA_TENSOR "nncw.Tensor"
#define APP_LUA_GRAPH "nncw.Graph"
#define APP_LUA_NODE "nncw.Node"
#define APP_LUA_BUILDER "nncw.Builder"
#define APP_LUA_DATASET "nncw.Dataset"
#define APP_LUA_LOADER "nncw.Loader"
#define APP_LUA_CONFIG "nncw.Config"

/* ---- the modules (each preloaded as nncw.<mod> by host.c) ---- */
int luaopen_nncw_host(lua_State *L);
int luaopen_nncw_tensor(lua_State *L);
int luaopen_nncw_graph(lua_State *L);
int luaopen_nncw_zoo(lua_State *L);
int luaopen_nncw_data(lua_State *L);
int luaopen_nncw_train(lua_State *L);
int luaopen_nncw_config(lua_State *L);
int luaopen_nncw_checkpoint(lua_State *L);
int luaopen_nncw_onnx(lua_State *L);
int luaopen_nncw_compression(lua_State *L);
/* true when engine/onnx was there at build time (nncw.onnx otherwise says it is missing) */
bool app_lua_has_onnx(void);

/* ---- errors ---- */
/* raises "<fn>: <status name>: <nncw_last_error()>" */
int app_lua_fail(lua_State *L, const char *fn, enum nncw_status s);
/* raises "<fn>: argument '<arg>' must be <expected>, got <the value at idx>" */
int app_lua_arg_error(lua_State *L, int idx, const char *fn, const char *arg, const char *expected);
/* pushes a short description of the value at idx: 42, 0.5, 'text', nil, a Graph, ... */
const char *app_lua_describe(lua_State *L, int idx);

/* ---- positional arguments ---- */
lua_Integer app_lua_check_int(lua_State *L, int idx, const char *fn, const char *arg,
                              lua_Integer lo, lua_Integer hi);
lua_Number app_lua_check_number(lua_State *L, int idx, const char *fn, const char *arg,
                                lua_Number lo, lua_Number hi);
const char *app_lua_check_string(lua_State *L, int idx, const char *fn, const char *arg);
/* a list of 1..NNCW_MAX_DIMS integers >= lo; returns ndim */
int app_lua_check_shape(lua_State *L, int idx, const char *fn, const char *arg, int64_t lo,
                        int64_t shape[NNCW_MAX_DIMS]);
/* pushes {d1, d2, ...} */
void app_lua_push_shape(lua_State *L, int ndim, const int64_t *shape);
/* pushes "[1, 28, 28]" */
void app_lua_push_shape_str(lua_State *L, int ndim, const int64_t *shape);

/* ---- option tables: nil, none or a table whose keys are all in known ----
 * A key "parent.key" reads field "key" of the (nested) table at idx and names the whole path
 * in messages: app_lua_opt_number(L, opt, FN, "optimizer.lr", ...) */
void app_lua_check_options(lua_State *L, int idx, const char *fn, const char *const *known);
/* the same for a nested table, named `parent` in messages */
void app_lua_check_options_in(lua_State *L, int idx, const char *fn, const char *parent,
                              const char *const *known);
bool app_lua_has_option(lua_State *L, int idx, const char *key);
lua_Integer app_lua_opt_int(lua_State *L, int idx, const char *fn, const char *key, lua_Integer def,
                            lua_Integer lo, lua_Integer hi);
lua_Number app_lua_opt_number(lua_State *L, int idx, const char *fn, const char *key,
                              lua_Number def, lua_Number lo, lua_Number hi);
bool app_lua_opt_bool(lua_State *L, int idx, const char *fn, const char *key, bool def);
/* the string stays valid while the option table is on the stack */
const char *app_lua_opt_string(lua_State *L, int idx, const char *fn, const char *key,
                               const char *def);
/* one of choices (NULL-terminated); returns its index or def */
int app_lua_opt_choice(lua_State *L, int idx, const char *fn, const char *key, int def,
                       const char *const *choices);

/* ---- classes ---- */
/* a metatable `name` with the metamethods of meta; __index = the methods table unless meta
 * sets one; __methods = methods, __fields = a list of property names (NULL: none) for the
 * REPL's completion. Leaves the methods table on the stack (modules publish it). */
void app_lua_new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                       const luaL_Reg *meta, const char *const *fields);
/* the box of type tname at idx, or an argument error naming `what` ("a Graph") */
void *app_lua_check_box(lua_State *L, int idx, const char *tname, const char *fn, const char *arg,
                        const char *what);
/* raises "<fn>: the <what> was closed" */
int app_lua_closed_error(lua_State *L, const char *fn, const char *what);

/* ---- tensors ---- */
struct app_lua_tensor {
    struct nncw_tensor t; /* zeroed: empty (closed or not yet filled) */
};
/* pushes a new empty box; fill box->t with an engine call */
struct app_lua_tensor *app_lua_new_tensor(lua_State *L);
struct nncw_tensor *app_lua_check_tensor(lua_State *L, int idx, const char *fn, const char *arg);
/* pushes a Tensor sharing t's storage (a view), or a copy when t borrows its data */
void app_lua_push_tensor(lua_State *L, const struct nncw_tensor *t, const char *fn);

/* ---- graphs ---- */
struct app_lua_graph {
    struct nncw_graph *g; /* NULL: closed */
    int busy;             /* > 0 while a training run or an executor uses it */
    bool shapes_batch1;   /* value shapes are those of batch 1 (inspection) */
};
struct app_lua_graph *app_lua_new_graph(lua_State *L);
struct app_lua_graph *app_lua_check_graph(lua_State *L, int idx, const char *fn, const char *arg);
/* after anything that re-infers shapes at another batch size (executors) */
void app_lua_graph_touch(struct app_lua_graph *b);
/* makes the value shapes those of batch 1 (raises on a shape error) */
void app_lua_graph_shapes(lua_State *L, struct app_lua_graph *b, const char *fn);

/* ---- data sets ---- */
struct app_lua_dataset {
    struct nncw_dataset *ds; /* NULL: closed */
    int busy;                /* loaders and training runs using it */
};
struct app_lua_dataset *app_lua_new_dataset(lua_State *L);
struct app_lua_dataset *app_lua_check_dataset(lua_State *L, int idx, const char *fn,
                                              const char *arg);

/* ---- configs ---- */
struct nncw_config *app_lua_check_config(lua_State *L, int idx, const char *fn, const char *arg);

/* ---- compression (l_compression.c) ---- */
struct nncw_compression;
struct nncw_compression *app_lua_check_compression(lua_State *L, int idx, const char *fn,
                                                   const char *arg);

/* ---- nncw.train's accuracy-aware mode (l_accuracy_aware.c) ---- */
struct app_lua_aat_call {
    int options;  /* stack index of nncw.train's options table */
    int callback; /* stack index of the callback, 0: none */
    struct app_lua_graph *g;
    struct app_lua_dataset *train_set, *test; /* test NULL: missing */
    struct nncw_compression *compression;    /* NULL: missing */
    const struct nncw_train_options *train;
};
/* runs engine/train/accuracy_aware and pushes the result table; raises on failure */
int app_lua_train_accuracy_aware(lua_State *L, const struct app_lua_aat_call *call);

/* ---- Ctrl-C and replays (host.c) ---- */
/* SIGINT sets a flag (and a Lua hook that stops pure-Lua loops); long C work polls it */
void app_lua_catch_sigint(lua_State *L);
void app_lua_release_sigint(void);
bool app_lua_interrupt_pending(void);
/* clears the flag and the hook: the C caller stops its work and raises its own error */
void app_lua_interrupt_take(lua_State *L);
/* training steps run since app_lua_reset_steps (the REPL journals interrupted chunks with
 * it); counting one may trigger the replay budget set by nncw.host.interrupt_after_steps,
 * which then makes app_lua_interrupt_pending() true */
void app_lua_count_step(void);
long long app_lua_steps(void);
void app_lua_reset_steps(void);
/* true once if work was interrupted (Ctrl-C or a replay budget) since the last call */
bool app_lua_was_interrupted(void);

/* what SIGINT does (sets the flag, stops pure-Lua loops of the state given to
 * app_lua_catch_sigint), callable from another thread: the workbench's cancel key */
void app_lua_interrupt_request(void);

/* ---- pausing a training run (host.c): the workbench's p key ----
 * Any thread asks for a pause; the thread running nncw.train blocks at its next pause point
 * (after a training step) until the pause is lifted or an interrupt comes. Nothing else
 * changes: the run goes on with the same numbers as if it had never paused. */
void app_lua_pause_set(bool paused);
bool app_lua_pause_requested(void);
/* true while a run is blocked at a pause point */
bool app_lua_is_paused(void);
/* a pause point: blocks while a pause is requested and no interrupt is pending; returns the
 * seconds it blocked (0 at once when no pause is asked for) */
double app_lua_pause_point(void);

/* ---- a C observer of nncw.train runs (l_train.c): the workbench's live charts ----
 * Called on the thread running the training, between steps; it must not call Lua. */
enum app_lua_train_phase {
    APP_LUA_TRAIN_BEGIN, /* options, train_count, steps_per_epoch */
    APP_LUA_TRAIN_EVENT, /* event: a trainer event (as the Lua callback gets) */
    APP_LUA_TRAIN_END,   /* event: the last epoch's figures (NaN before one); status, steps */
    APP_LUA_TRAIN_AAT,   /* aat: an accuracy-aware event (validation, rate change, done) */
};
struct nncw_aat_event;
struct app_lua_train_update {
    enum app_lua_train_phase phase;
    const struct nncw_train_options *options;
    const struct nncw_train_event *event;
    int64_t train_count, steps_per_epoch;
    int64_t steps;            /* steps run so far */
    enum nncw_status status;  /* END: NNCW_OK, NNCW_ERR_CANCELLED (stopped) or the failure */
    bool interrupted;         /* END: stopped by Ctrl-C, the cancel key or a replay budget */
    /* the compression the run trains (NULL: none), valid for the call: observers read it
     * here rather than in the Lua box that holds it */
    struct nncw_compression *compression;
    const struct nncw_aat_event *aat; /* AAT; also BEGIN/END of an accuracy-aware run */
};
typedef void (*app_lua_train_observer_fn)(void *user, const struct app_lua_train_update *u);
/* one observer at a time (NULL: none); Lua callbacks keep working beside it */
void app_lua_set_train_observer(app_lua_train_observer_fn fn, void *user);
/* hands an update to the observer (l_accuracy_aware.c's runs go through it too) */
void app_lua_train_notify(const struct app_lua_train_update *u);
