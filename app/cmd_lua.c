/* `nncw run SCRIPT [args]` and `nncw repl`: the Lua faces of nncw. */
#include "commands.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/host.h"
#include "lua/repl.h"

static const char run_usage[] =
    "usage: nncw run SCRIPT.lua [args...]\n"
    "\n"
    "Run a Lua script with the nncw module loaded as the global `nncw`. The script sees its\n"
    "arguments in the global table `arg` (arg[0] is the script) and as `...`. '-' reads the\n"
    "script from standard input. An error prints the Lua traceback and exits 1; Ctrl-C stops\n"
    "running work (training stops after the current step) and exits 130.\n"
    "Documentation of the API: docs/lua-api.md, or :help in `nncw repl`.\n";

static const char repl_usage[] =
    "usage: nncw repl [--no-history]\n"
    "\n"
    "An interactive Lua prompt with the nncw module loaded: line editing, history (kept in\n"
    "$NNCW_HISTORY or ~/.nncw_history), Tab completion of globals, fields and methods,\n"
    "multi-line input, values printed as tables, tensor statistics and graph summaries.\n"
    "Ctrl-C stops running work and returns to the prompt; Ctrl-D quits.\n"
    "Commands: :help [name], :save FILE (the session as a replayable script), :load FILE,\n"
    ":journal, :quit.\n";

int app_cmd_run(int argc, char **argv)
{
    if (argc < 2) {
        fputs(run_usage, stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(run_usage, stdout);
        return 0;
    }
    lua_State *L = app_lua_open();
    if (!L)
        return 1;
    const char *path = strcmp(argv[1], "-") == 0 ? NULL : argv[1];
    int rc = app_lua_run_script(L, path, argc - 2, argv + 2);
    app_lua_close(L);
    return rc;
}

int app_cmd_repl(int argc, char **argv)
{
    bool history = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(repl_usage, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--no-history")) {
            history = false;
        } else {
            fprintf(stderr, "nncw repl: unknown option '%s' (see 'nncw repl --help')\n", argv[i]);
            return 2;
        }
    }
    char path[4096] = "";
    const char *env = getenv("NNCW_HISTORY"), *home = getenv("HOME");
    if (env && *env)
        snprintf(path, sizeof path, "%s", env);
    else if (home && *home)
        snprintf(path, sizeof path, "%s/.nncw_history", home);
    lua_State *L = app_lua_open();
    if (!L)
        return 1;
    int rc = app_repl_run(L, history && path[0] ? path : NULL);
    app_lua_close(L);
    return rc;
}
