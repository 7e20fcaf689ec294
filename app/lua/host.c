/* The Lua host: state setup, module preloading, script runs, Ctrl-C and replay budgets. */
#include "host.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lnncw.h"
#include "ops/blas.h"

#ifndef NNCW_VERSION
#define NNCW_VERSION "?"
#endif

/* ---- Ctrl-C ---- */

static volatile sig_atomic_t interrupt_flag;
static lua_State *volatile hook_state;
static bool was_interrupted;
static long long step_count, step_budget = -1;

/* raised from inside Lua code running when Ctrl-C came (lua.c's approach); C work that
 * polls the flag stops on its own */
static void stop_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    was_interrupted = true;
    luaL_error(L, "interrupted!");
}

static void on_sigint(int sig)
{
    (void)sig;
    interrupt_flag = 1;
    if (hook_state)
        lua_sethook(hook_state, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

void app_lua_catch_sigint(lua_State *L)
{
    hook_state = L;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a read at the prompt returns, so the line is dropped */
    sigaction(SIGINT, &sa, NULL);
}

/* ---- pausing a training run ---- */

/* The UI thread sets `requested`; the thread running the training blocks at its next pause
 * point while it stays set. An interrupt (cancel, Ctrl-C, a replay budget) ends the wait: the
 * signal handler cannot signal a condition variable, so the wait wakes every 50 ms to look */
static pthread_mutex_t pause_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pause_cv = PTHREAD_COND_INITIALIZER;
static bool pause_requested, pause_parked;

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void app_lua_pause_set(bool paused)
{
    pthread_mutex_lock(&pause_mu);
    pause_requested = paused;
    pthread_cond_broadcast(&pause_cv);
    pthread_mutex_unlock(&pause_mu);
}

bool app_lua_pause_requested(void)
{
    pthread_mutex_lock(&pause_mu);
    bool r = pause_requested;
    pthread_mutex_unlock(&pause_mu);
    return r;
}

bool app_lua_is_paused(void)
{
    pthread_mutex_lock(&pause_mu);
    bool p = pause_parked;
    pthread_mutex_unlock(&pause_mu);
    return p;
}

double app_lua_pause_point(void)
{
    pthread_mutex_lock(&pause_mu);
    if (!pause_requested || interrupt_flag) {
        pthread_mutex_unlock(&pause_mu);
        return 0;
    }
    double t0 = monotonic_s();
    pause_parked = true;
    while (pause_requested && !interrupt_flag) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 50 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        int rc = pthread_cond_timedwait(&pause_cv, &pause_mu, &until);
        if (rc != 0 && rc != ETIMEDOUT)
            break;
    }
    pause_parked = false;
    pthread_mutex_unlock(&pause_mu);
    return monotonic_s() - t0;
}

void app_lua_interrupt_request(void)
{
    on_sigint(SIGINT);
    pthread_mutex_lock(&pause_mu); /* a paused run wakes to stop */
    pthread_cond_broadcast(&pause_cv);
    pthread_mutex_unlock(&pause_mu);
}

void app_lua_release_sigint(void)
{
    signal(SIGINT, SIG_DFL);
    hook_state = NULL;
}

bool app_lua_interrupt_pending(void)
{
    return interrupt_flag != 0;
}

void app_lua_interrupt_take(lua_State *L)
{
    if (interrupt_flag)
        was_interrupted = true;
    interrupt_flag = 0;
    lua_sethook(L, NULL, 0, 0);
}

bool app_lua_was_interrupted(void)
{
    bool w = was_interrupted;
    was_interrupted = false;
    return w;
}

void app_lua_count_step(void)
{
    step_count++;
    if (step_budget > 0 && --step_budget == 0) {
        step_budget = -1;
        interrupt_flag = 1;
    }
}

long long app_lua_steps(void)
{
    return step_count;
}

void app_lua_reset_steps(void)
{
    step_count = 0;
}

/* ---- paths ---- */

static const char *first_existing(const char *env, const char *const *candidates, const char *probe)
{
    const char *e = getenv(env);
    if (e && *e)
        return e;
    for (int i = 0; candidates[i]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%s", candidates[i], probe);
        if (access(path, R_OK) == 0)
            return candidates[i];
    }
    return candidates[0];
}

const char *app_lua_scripts_dir(void)
{
    static const char *const dirs[] = {NNCW_SOURCE_SCRIPTS, NNCW_INSTALL_SCRIPTS, NULL};
    return first_existing("NNCW_SCRIPTS_DIR", dirs, "/nncw/init.lua");
}

const char *app_lua_docs_path(void)
{
    static const char *const paths[] = {NNCW_SOURCE_DOCS, NNCW_INSTALL_DOCS, NULL};
    return first_existing("NNCW_DOCS", paths, "");
}

/* ---- nncw.host ---- */

static int l_threads(lua_State *L)
{
    if (!lua_isnoneornil(L, 1))
        nncw_blas_set_threads((int)app_lua_check_int(L, 1, "nncw.host.threads", "n", 1, 256));
    lua_pushinteger(L, nncw_blas_get_threads());
    return 1;
}

/* interrupt_after_steps(n | nil): stop training as Ctrl-C would after n more steps (saved
 * REPL sessions replay an interrupted run with it); nil clears it */
static int l_interrupt_after_steps(lua_State *L)
{
    step_budget = lua_isnoneornil(L, 1) ? -1
                                        : app_lua_check_int(L, 1, "nncw.host.interrupt_after_steps",
                                                            "n", 1, LUA_MAXINTEGER);
    if (step_budget < 0)
        interrupt_flag = 0;
    return 0;
}

static const luaL_Reg host_functions[] = {
    {"threads", l_threads},
    {"interrupt_after_steps", l_interrupt_after_steps},
    {NULL, NULL},
};

int luaopen_nncw_host(lua_State *L)
{
    luaL_newlib(L, host_functions);
    lua_pushstring(L, NNCW_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushstring(L, app_lua_scripts_dir());
    lua_setfield(L, -2, "scripts_dir");
    lua_pushstring(L, app_lua_docs_path());
    lua_setfield(L, -2, "docs_path");
    return 1;
}

/* ---- state ---- */

static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int app_lua_pcall(lua_State *L, int nargs, int nresults)
{
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    int rc = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return rc;
}

/* runs protected: loads the modules and `nncw` */
static int setup(lua_State *L)
{
    static const luaL_Reg modules[] = {
        {"nncw.host", luaopen_nncw_host},     {"nncw.tensor", luaopen_nncw_tensor},
        {"nncw.graph", luaopen_nncw_graph},   {"nncw.zoo", luaopen_nncw_zoo},
        {"nncw.data", luaopen_nncw_data},     {"nncw.train", luaopen_nncw_train},
        {"nncw.config", luaopen_nncw_config}, {"nncw.checkpoint", luaopen_nncw_checkpoint},
        {"nncw.onnx", luaopen_nncw_onnx},
        {"nncw.compression", luaopen_nncw_compression},
        {NULL, NULL},
    };
    luaL_openlibs(L);
    for (const luaL_Reg *m = modules; m->name; m++) {
        luaL_requiref(L, m->name, m->func, 0);
        lua_pop(L, 1);
    }
    lua_getglobal(L, "package");
    const char *dir = app_lua_scripts_dir();
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", dir, dir, lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "nncw");
    lua_call(L, 1, 1);
    lua_setglobal(L, "nncw");
    return 0;
}

lua_State *app_lua_open(void)
{
    lua_State *L = luaL_newstate();
    if (!L) {
        fputs("nncw: cannot create a Lua state (out of memory)\n", stderr);
        return NULL;
    }
    lua_pushcfunction(L, setup);
    if (app_lua_pcall(L, 0, 0) != LUA_OK) {
        fprintf(stderr,
                "nncw: cannot load the Lua modules: %s\n(scripts from %s; set "
                "NNCW_SCRIPTS_DIR to the folder holding nncw/init.lua)\n",
                lua_tostring(L, -1), app_lua_scripts_dir());
        lua_close(L);
        return NULL;
    }
    return L;
}

void app_lua_close(lua_State *L)
{
    if (L)
        lua_close(L);
}

int app_lua_run_script(lua_State *L, const char *path, int argc, char **argv)
{
    lua_createtable(L, argc, 1);
    lua_pushstring(L, path ? path : "-");
    lua_rawseti(L, -2, 0);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, "arg");
    if (luaL_loadfile(L, path) != LUA_OK) {
        fprintf(stderr, "nncw run: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return 1;
    }
    luaL_checkstack(L, argc + 1, "too many script arguments");
    for (int i = 0; i < argc; i++)
        lua_pushstring(L, argv[i]);
    app_lua_catch_sigint(L);
    int rc = app_lua_pcall(L, argc, 0);
    app_lua_release_sigint();
    if (rc == LUA_OK)
        return 0;
    fprintf(stderr, "nncw run: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return app_lua_was_interrupted() ? 130 : 1;
}
