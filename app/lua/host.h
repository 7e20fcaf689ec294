/*
 * The Lua host: a state with the nncw modules loaded, scripts run with a traceback, and the
 * nncw.host module (version, BLAS threads, replay budgets).
 *
 *     lua_State *L = app_lua_open();               // NULL after a message on stderr
 *     int rc = app_lua_run_script(L, "train.lua", argc, argv);   // arg set, 0 / 1 / 130
 *     app_lua_close(L);
 */
#pragma once

#include <lua.h>

/* a new state with the standard libraries and the global `nncw` (scripts/nncw/init.lua) */
lua_State *app_lua_open(void);
void app_lua_close(lua_State *L);

/* calls the function below nargs arguments with a traceback message handler; on failure the
 * message (with traceback) is left on the stack */
int app_lua_pcall(lua_State *L, int nargs, int nresults);

/* runs a script file (NULL: standard input) with the global `arg` = {[0] = path, args...}
 * and the same values as `...`; prints an error with its traceback to stderr. Returns the
 * exit status: 0, 1 on an error, 130 when interrupted by Ctrl-C */
int app_lua_run_script(lua_State *L, const char *path, int argc, char **argv);

/* where scripts/ and docs/lua-api.md are found (environment, source tree, install dir) */
const char *app_lua_scripts_dir(void);
const char *app_lua_docs_path(void);
