/* The workbench session: the Lua state, its worker thread, the journal and what panels read. */
#include "session.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#include "capture.h"
#include "compression/compression.h"
#include "core/log.h"
#include "lua/host.h"
#include "lua/lnncw.h"
#include "lua/repl.h"

enum { CONSOLE_LINES = 5000, LOG_LINES = 2000 };

/* l_compression.c's class name: refresh_view looks for a Compression in `comp` */
#define COMPRESSION_CLASS "nncw.Compression"

struct job {
    struct job *next;
    char *line;
};

struct session {
    lua_State *L; /* used by the worker thread only (and by new/free) */
    struct app_repl *repl;
    FILE *err; /* the REPL's error stream: memory, moved to the Console after a line */
    char *err_buf;
    size_t err_len;
    struct line_ring *console, *log;
    struct train_history history;
    struct compression_trace trace;
    struct aat_trace aat;
    struct capture capture;
    bool capturing;

    pthread_t worker;
    bool worker_started;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    struct job *head, *tail;
    int queued;
    bool busy, stop, more, quit;
    bool training; /* a training run is going (between its BEGIN and END) */
    unsigned done, errors;
    char running[256], last_error[256];
    char prompt[4];
    struct graph_view *view;
    struct compression_view *cview;
};

/* ---- engine log messages and the training observer (worker thread) ---- */

static void on_log(void *user, enum nncw_log_level level, const char *msg)
{
    struct session *s = user;
    enum line_kind kind = level >= NNCW_LOG_ERROR  ? LINE_ERROR
                          : level == NNCW_LOG_WARN ? LINE_WARN
                                                   : LINE_INFO;
    line_ring_addf(s->log, kind, "%s: %s", nncw_log_level_str(level), msg);
    if (level >= NNCW_LOG_WARN)
        line_ring_addf(s->console, kind, "%s: %s", nncw_log_level_str(level), msg);
}

static void on_train_end(struct session *s, const struct app_lua_train_update *u)
{
    enum train_run_state st = u->status == NNCW_OK              ? TRAIN_RUN_DONE
                              : u->interrupted                  ? TRAIN_RUN_CANCELLED
                              : u->status == NNCW_ERR_CANCELLED ? TRAIN_RUN_STOPPED
                                                                : TRAIN_RUN_FAILED;
    train_history_end(&s->history, st, u->steps);
    const struct nncw_train_event *e = u->event;
    if (st == TRAIN_RUN_CANCELLED)
        line_ring_addf(s->log, LINE_WARN,
                       "training cancelled after %lld steps: the model keeps the weights of its "
                       "last step%s",
                       (long long)u->steps, u->aat ? "" : "; nncw.resume() continues the run");
    else if (st == TRAIN_RUN_FAILED)
        line_ring_addf(s->log, LINE_ERROR, "training failed after %lld steps: %s",
                       (long long)u->steps, nncw_status_str(u->status));
    else if (!isnan(e->test_acc))
        line_ring_addf(s->log, LINE_INFO,
                       "training %s after %lld steps: train loss %.4f acc %.4f, test loss %.4f "
                       "acc %.4f",
                       train_run_state_name(st), (long long)u->steps, e->train_loss, e->train_acc,
                       e->test_loss, e->test_acc);
    else
        line_ring_addf(s->log, LINE_INFO, "training %s after %lld steps", train_run_state_name(st),
                       (long long)u->steps);
}

/* the compression loss and the level after a step (the observer runs between steps, so the
 * run's compression is there to ask) */
static void add_compression_point(struct session *s, struct nncw_compression *c,
                                  const struct nncw_train_event *e)
{
    if (!c || e->type != NNCW_TRAIN_EVENT_STEP)
        return;
    struct compression_point p = {.global_step = e->global_step, .loss = e->compression_loss,
                                  .level = NAN, .rate = NAN};
    struct nncw_pruning_cost cost;
    if (nncw_compression_get_sparsity_level(c, &p.level) != NNCW_OK)
        p.level = nncw_compression_get_pruning_cost(c, &cost) == NNCW_OK ? cost.level : NAN;
    if (nncw_compression_get_rate(c, &p.rate) != NNCW_OK)
        p.rate = NAN;
    nncw_error_clear(); /* "none" is an answer here, not an error */
    compression_trace_add(&s->trace, &p);
}

static void on_train(void *user, const struct app_lua_train_update *u)
{
    struct session *s = user;
    const struct nncw_train_options *o = u->options;
    switch (u->phase) {
    case APP_LUA_TRAIN_BEGIN:
        pthread_mutex_lock(&s->mu);
        s->training = true;
        pthread_mutex_unlock(&s->mu);
        train_history_begin(&s->history, o->epochs, u->steps_per_epoch, o->batch_size, o->optim.lr);
        compression_trace_begin(&s->trace, u->compression);
        aat_trace_begin(&s->aat);
        line_ring_addf(s->log, LINE_INFO,
                       "training started: %d epoch%s of %lld steps, batch %d, lr %g, %lld samples",
                       o->epochs, o->epochs == 1 ? "" : "s", (long long)u->steps_per_epoch,
                       o->batch_size, o->optim.lr, (long long)u->train_count);
        break;
    case APP_LUA_TRAIN_EVENT:
        train_history_add_event(&s->history, u->event);
        add_compression_point(s, u->compression, u->event);
        break;
    case APP_LUA_TRAIN_AAT:
        aat_trace_add(&s->aat, u->aat);
        break;
    case APP_LUA_TRAIN_END:
        pthread_mutex_lock(&s->mu);
        s->training = false;
        pthread_mutex_unlock(&s->mu);
        app_lua_pause_set(false); /* a pause asked for as the run ended is not for the next */
        on_train_end(s, u);
        break;
    }
}

/* ---- running a line (worker thread) ---- */

/* what refresh_view finds in the globals `comp` and `model` */
struct found {
    struct nncw_compression *c;    /* `comp`, an open Compression, or NULL */
    const struct nncw_config *cfg; /* the config it was created with */
    bool of_model;                 /* it compresses `model` */
    struct graph_view *view;
};

/* protected: raises unless argument 1 is an open Compression */
static int check_open_compression(lua_State *L)
{
    app_lua_check_compression(L, 1, "workbench", "comp");
    return 0;
}

/* protected: the open Compression in the global `comp` (arg 1: struct found) */
static int find_compression(lua_State *L)
{
    struct found *f = lua_touserdata(L, 1);
    lua_getglobal(L, "comp");
    if (!luaL_testudata(L, -1, COMPRESSION_CLASS))
        return 0;
    lua_pushcfunction(L, check_open_compression);
    lua_pushvalue(L, -2);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) /* closed: no view */
        return 0;
    /* its user values: 1 the model, 2 the config (l_compression.c). A closed model leaves the
     * compression pointing into freed memory: it is not looked at then */
    lua_getiuservalue(L, -1, 1);
    struct app_lua_graph *model = luaL_testudata(L, -1, APP_LUA_GRAPH);
    if (!model || !model->g)
        return 0;
    lua_getglobal(L, "model");
    f->of_model = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (lua_getiuservalue(L, -1, 2) == LUA_TUSERDATA && luaL_testudata(L, -1, APP_LUA_CONFIG))
        f->cfg = app_lua_check_config(L, -1, "workbench", "config");
    lua_pop(L, 1);
    f->c = app_lua_check_compression(L, -1, "workbench", "comp");
    return 0;
}

/* protected: the view of the global `model` (a Graph), or nil; arg 1 is the struct found */
static int find_model(lua_State *L)
{
    struct found *f = lua_touserdata(L, 1);
    lua_getglobal(L, "model");
    struct app_lua_graph *b = luaL_testudata(L, -1, APP_LUA_GRAPH);
    if (!b || !b->g || b->busy)
        return 0;
    app_lua_graph_shapes(L, b, "workbench");
    enum nncw_status st = graph_view_build(b->g, "model", f->of_model ? f->c : NULL, &f->view);
    if (st != NNCW_OK)
        return app_lua_fail(L, "workbench: the graph view", st);
    return 0;
}

static bool protected(struct session *s, lua_CFunction fn, struct found *f)
{
    lua_pushcfunction(s->L, fn);
    lua_pushlightuserdata(s->L, f);
    if (lua_pcall(s->L, 1, 0, 0) == LUA_OK)
        return true;
    line_ring_addf(s->log, LINE_ERROR, "%s", lua_tostring(s->L, -1));
    lua_pop(s->L, 1);
    return false;
}

/* after each line: new views of `model` and `comp` for the panels */
static void refresh_view(struct session *s)
{
    struct found f = {0};
    if (!protected(s, find_compression, &f))
        f = (struct found){0};
    struct compression_view *cv = NULL;
    if (f.c && compression_view_build(f.c, f.cfg, "comp", &cv) != NNCW_OK)
        line_ring_addf(s->log, LINE_ERROR, "workbench: the compression view: %s",
                       nncw_last_error());
    if (cv)
        cv->of_model = f.of_model;
    protected(s, find_model, &f);
    pthread_mutex_lock(&s->mu);
    struct graph_view *old = s->view;
    struct compression_view *old_cv = s->cview;
    s->view = f.view;
    s->cview = cv;
    pthread_mutex_unlock(&s->mu);
    graph_view_release(old);
    compression_view_release(old_cv);
}

/* moves what the REPL wrote to its error stream into the Console and the Log */
static void collect_errors(struct session *s)
{
    fflush(s->err);
    if (!s->err_len)
        return;
    char *text = malloc(s->err_len + 1);
    if (text) {
        memcpy(text, s->err_buf, s->err_len);
        text[s->err_len] = '\0';
        line_ring_add(s->console, LINE_ERROR, text);
        char *trace = strstr(text, "\nstack traceback:"); /* the Log keeps the message only */
        if (trace)
            *trace = '\0';
        line_ring_add(s->log, LINE_ERROR, text);
        pthread_mutex_lock(&s->mu);
        snprintf(s->last_error, sizeof s->last_error, "%.*s", (int)strcspn(text, "\n"), text);
        pthread_mutex_unlock(&s->mu);
        free(text);
    }
    rewind(s->err);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static enum app_repl_status run_line(struct session *s, const char *line)
{
    line_ring_addf(s->console, LINE_INPUT, "%s%s", app_repl_prompt(s->repl), line);
    double t0 = seconds();
    enum app_repl_status st = app_repl_eval_line(s->repl, line);
    fflush(stdout);
    collect_errors(s);
    if (st == APP_REPL_OK)
        line_ring_addf(s->log, LINE_INFO, "ran in %.2f s: %.*s", seconds() - t0,
                       (int)strcspn(line, "\n"), line);
    if (st != APP_REPL_MORE)
        refresh_view(s);
    pthread_mutex_lock(&s->mu);
    snprintf(s->prompt, sizeof s->prompt, "%s", app_repl_prompt(s->repl));
    pthread_mutex_unlock(&s->mu);
    return st;
}

static void *worker_main(void *arg)
{
    struct session *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stop)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->stop)
            break;
        struct job *j = s->head;
        s->head = j->next;
        if (!s->head)
            s->tail = NULL;
        s->queued--;
        s->busy = true;
        snprintf(s->running, sizeof s->running, "%.*s", (int)strcspn(j->line, "\n"), j->line);
        pthread_mutex_unlock(&s->mu);
        enum app_repl_status st = run_line(s, j->line);
        free(j->line);
        free(j);
        app_lua_pause_set(false); /* a pause belongs to the line that ran */
        pthread_mutex_lock(&s->mu);
        s->busy = false;
        s->running[0] = '\0';
        s->done++;
        s->errors += st == APP_REPL_ERROR;
        s->more = st == APP_REPL_MORE;
        s->quit = s->quit || st == APP_REPL_QUIT;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* drops the lines waiting to run; called locked; returns how many */
static int drop_queue(struct session *s)
{
    int n = 0;
    while (s->head) {
        struct job *j = s->head;
        s->head = j->next;
        free(j->line);
        free(j);
        n++;
    }
    s->tail = NULL;
    s->queued = 0;
    return n;
}

/* ---- lifecycle ---- */

int session_new(struct session **out)
{
    struct session *s = calloc(1, sizeof *s);
    if (!s) {
        fputs("nncw: out of memory\n", stderr);
        return -1;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    train_history_init(&s->history);
    compression_trace_init(&s->trace);
    aat_trace_init(&s->aat);
    snprintf(s->prompt, sizeof s->prompt, "> ");
    s->console = line_ring_new(CONSOLE_LINES);
    s->log = line_ring_new(LOG_LINES);
    s->err = open_memstream(&s->err_buf, &s->err_len);
    s->L = s->console && s->log && s->err ? app_lua_open() : NULL;
    s->repl = s->L ? app_repl_new(s->L, stdout, s->err) : NULL;
    if (!s->repl) {
        fputs("nncw: cannot start the workbench session\n", stderr);
        session_free(s);
        return -1;
    }
    /* the terminal belongs to the UI: reads get end-of-file, and os.exit would end the
     * process under the UI's feet (`nncw run` of a saved session keeps both as they are) */
    if (luaL_dostring(s->L, "io.input('/dev/null')\n"
                            "os.exit = function() error('os.exit: in the workbench, :quit (or q) "
                            "leaves', 2) end") != LUA_OK)
        lua_pop(s->L, 1);
    app_lua_catch_sigint(s->L); /* the cancel key stops pure-Lua loops through its hook */
    app_lua_set_train_observer(on_train, s);
    nncw_log_set_handler(on_log, s);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* signals are the UI thread's business */
    s->worker_started = pthread_create(&s->worker, NULL, worker_main, s) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!s->worker_started) {
        fputs("nncw: cannot start the workbench's worker thread\n", stderr);
        session_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void session_free(struct session *s)
{
    if (!s)
        return;
    if (s->worker_started) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        drop_queue(s);
        if (s->busy)
            app_lua_interrupt_request();
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->worker, NULL);
    }
    if (s->capturing)
        capture_stop(&s->capture);
    if (s->L) {
        nncw_log_set_handler(NULL, NULL);
        app_lua_set_train_observer(NULL, NULL);
        app_lua_release_sigint();
    }
    app_repl_free(s->repl);
    app_lua_close(s->L);
    if (s->err)
        fclose(s->err);
    free(s->err_buf);
    graph_view_release(s->view);
    compression_view_release(s->cview);
    compression_trace_fini(&s->trace);
    aat_trace_fini(&s->aat);
    line_ring_free(s->console);
    line_ring_free(s->log);
    train_history_fini(&s->history);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int session_capture_output(struct session *s)
{
    if (s->capturing)
        return -1;
    int tty = capture_start(&s->capture, s->console, s->log);
    s->capturing = tty >= 0;
    return tty;
}

void session_restore_output(struct session *s)
{
    if (s && s->capturing)
        capture_restore_fds(&s->capture);
}

/* ---- what the UI calls ---- */

bool session_submit(struct session *s, const char *line, bool queue)
{
    struct job *j = malloc(sizeof *j);
    char *copy = malloc(strlen(line) + 1);
    if (!j || !copy) {
        free(j);
        free(copy);
        line_ring_add(s->log, LINE_ERROR, "out of memory: the line was not run");
        return false;
    }
    strcpy(copy, line);
    *j = (struct job){.line = copy};
    pthread_mutex_lock(&s->mu);
    bool ok = !s->stop && (queue || (!s->busy && !s->head));
    if (ok) {
        if (s->tail)
            s->tail->next = j;
        else
            s->head = j;
        s->tail = j;
        s->queued++;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    if (!ok) {
        free(copy);
        free(j);
    }
    return ok;
}

void session_cancel(struct session *s)
{
    pthread_mutex_lock(&s->mu);
    if (s->busy)
        app_lua_interrupt_request();
    int dropped = drop_queue(s);
    pthread_mutex_unlock(&s->mu);
    if (dropped)
        line_ring_addf(s->log, LINE_WARN, "cancelled %d waiting line%s", dropped,
                       dropped == 1 ? "" : "s");
}

void session_get_status(struct session *s, struct session_status *out)
{
    pthread_mutex_lock(&s->mu);
    out->busy = s->busy;
    out->training = s->training;
    out->pausing = s->training && app_lua_pause_requested();
    out->paused = out->pausing && app_lua_is_paused();
    out->more = s->more;
    out->quit = s->quit;
    out->queued = s->queued;
    out->done = s->done;
    out->errors = s->errors;
    snprintf(out->running, sizeof out->running, "%s", s->running);
    snprintf(out->last_error, sizeof out->last_error, "%s", s->last_error);
    pthread_mutex_unlock(&s->mu);
}

struct line_ring *session_console(struct session *s)
{
    return s->console;
}

struct line_ring *session_log(struct session *s)
{
    return s->log;
}

struct train_history *session_history(struct session *s)
{
    return &s->history;
}

struct graph_view *session_get_graph(struct session *s)
{
    pthread_mutex_lock(&s->mu);
    struct graph_view *v = s->view;
    graph_view_retain(v);
    pthread_mutex_unlock(&s->mu);
    return v;
}

struct compression_view *session_get_compression(struct session *s)
{
    pthread_mutex_lock(&s->mu);
    struct compression_view *v = s->cview;
    compression_view_retain(v);
    pthread_mutex_unlock(&s->mu);
    return v;
}

struct compression_trace *session_compression_trace(struct session *s)
{
    return &s->trace;
}

struct aat_trace *session_aat_trace(struct session *s)
{
    return &s->aat;
}

bool session_pause(struct session *s, bool pause)
{
    pthread_mutex_lock(&s->mu);
    bool ok = !pause || (s->busy && s->training);
    if (ok)
        app_lua_pause_set(pause);
    pthread_mutex_unlock(&s->mu);
    if (ok)
        line_ring_add(s->log, LINE_INFO,
                      pause ? "pausing the training run after its current step"
                            : "training run resumed");
    return ok;
}

const char *session_prompt(struct session *s)
{
    pthread_mutex_lock(&s->mu);
    const char *p = strcmp(s->prompt, ">> ") == 0 ? ">> " : "> ";
    pthread_mutex_unlock(&s->mu);
    return p;
}
