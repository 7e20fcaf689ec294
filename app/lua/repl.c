/* The REPL core: lua.c's read-eval-print algorithm, meta-commands and the session journal. */
#include "repl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#include "host.h"
#include "lnncw.h"

struct app_repl {
    lua_State *L;
    FILE *out, *err;
    char *pending;  /* lines of an incomplete chunk, NULL if none */
    char **journal; /* replayable script pieces */
    int n_journal;
    lua_Integer seed; /* math.random's seed */
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---- journal ---- */

static void journal_add(struct app_repl *r, const char *text)
{
    char **j = realloc(r->journal, (size_t)(r->n_journal + 1) * sizeof *j);
    char *copy = dup_str(text);
    if (!j || !copy) {
        free(copy);
        if (j)
            r->journal = j;
        fputs("nncw repl: out of memory: this chunk is not journaled\n", r->err);
        return;
    }
    r->journal = j;
    r->journal[r->n_journal++] = copy;
}

/* a journal entry for a chunk; kind: 's' statement, 'e' expression, 'i' interrupted */
static void journal_chunk(struct app_repl *r, const char *code, char kind, long long steps)
{
    lua_State *L = r->L;
    int n = r->n_journal + 1;
    if (kind == 'e')
        lua_pushfstring(L, "-- [%d]\nnncw.show(\n%s\n)\n", n, code);
    else if (kind == 's')
        lua_pushfstring(L, "-- [%d]\ndo\n%s\nend\n", n, code);
    else
        lua_pushfstring(L,
                        "-- [%d] interrupted (Ctrl-C) after %I training steps: replayed up to "
                        "the same step\nnncw.host.interrupt_after_steps(%I)\npcall(function()\n%s\n"
                        "end)\nnncw.host.interrupt_after_steps(nil)\n",
                        n, (LUAI_UACINT)steps, (LUAI_UACINT)steps, code);
    journal_add(r, lua_tostring(L, -1));
    lua_pop(L, 1);
}

int app_repl_save(struct app_repl *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(r->err, ":save: cannot write '%s'\n", path);
        return -1;
    }
    time_t now = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M", localtime(&now));
    fprintf(f, "-- nncw REPL session saved %s; replay it with: nncw run %s\n", date, path);
    fprintf(f, "-- each chunk runs in its own block, as at the prompt\n");
    fprintf(f, "math.randomseed(%lld)\n\n", (long long)r->seed);
    for (int i = 0; i < r->n_journal; i++)
        fprintf(f, "%s\n", r->journal[i]);
    if (fclose(f) != 0) {
        fprintf(r->err, ":save: error writing '%s'\n", path);
        return -1;
    }
    fprintf(r->out, "saved %d chunk%s to %s\n", r->n_journal, r->n_journal == 1 ? "" : "s", path);
    return 0;
}

/* ---- lifecycle ---- */

struct app_repl *app_repl_new(lua_State *L, FILE *out, FILE *err)
{
    struct app_repl *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->L = L;
    r->out = out;
    r->err = err;
    r->seed = (lua_Integer)time(NULL);
    lua_getglobal(L, "math");
    lua_getfield(L, -1, "randomseed");
    lua_pushinteger(L, r->seed);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK)
        lua_pop(L, 1);
    lua_pop(L, 1);
    return r;
}

void app_repl_free(struct app_repl *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n_journal; i++)
        free(r->journal[i]);
    free(r->journal);
    free(r->pending);
    free(r);
}

const char *app_repl_prompt(const struct app_repl *r)
{
    return r->pending ? ">> " : "> ";
}

void app_repl_cancel(struct app_repl *r)
{
    free(r->pending);
    r->pending = NULL;
}

/* ---- evaluation ---- */

/* prints the values on the stack above base with nncw.show (the pretty printer) */
static void print_results(struct app_repl *r, int base)
{
    lua_State *L = r->L;
    int n = lua_gettop(L) - base;
    if (n == 0)
        return;
    lua_getglobal(L, "nncw");
    lua_getfield(L, -1, "show");
    lua_remove(L, -2);
    lua_insert(L, base + 1);
    fflush(r->out);
    if (app_lua_pcall(L, n, 0) != LUA_OK) {
        fprintf(r->err, "error printing the result: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
}

static bool incomplete(lua_State *L, int status)
{
    if (status != LUA_ERRSYNTAX)
        return false;
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    return len >= 5 && strcmp(msg + len - 5, "<eof>") == 0;
}

/* compiles the chunk as an expression or a statement; 'e', 's', '+' (incomplete) or 0
 * (syntax error, message on the stack) */
static char compile(lua_State *L, const char *code)
{
    const char *ret = lua_pushfstring(L, "return %s;", code);
    if (luaL_loadbuffer(L, ret, strlen(ret), "=stdin") == LUA_OK) {
        lua_remove(L, -2);
        return 'e';
    }
    lua_pop(L, 2);
    int status = luaL_loadbuffer(L, code, strlen(code), "=stdin");
    if (status == LUA_OK)
        return 's';
    if (incomplete(L, status)) {
        lua_pop(L, 1);
        return '+';
    }
    return 0;
}

/* runs the compiled chunk on the stack; journals it on success */
static enum app_repl_status run_chunk(struct app_repl *r, const char *code, char kind)
{
    lua_State *L = r->L;
    int base = lua_gettop(L) - 1;
    app_lua_interrupt_take(L); /* a Ctrl-C at the prompt is not for this chunk */
    app_lua_was_interrupted();
    app_lua_reset_steps();
    int rc = app_lua_pcall(L, 0, LUA_MULTRET);
    bool interrupted = app_lua_was_interrupted();
    app_lua_interrupt_take(L);
    app_lua_was_interrupted();
    if (rc != LUA_OK) {
        fprintf(r->err, "%s\n", lua_tostring(L, -1));
        lua_settop(L, base);
        if (interrupted && app_lua_steps() > 0)
            journal_chunk(r, code, 'i', app_lua_steps());
        return APP_REPL_ERROR;
    }
    journal_chunk(r, code, kind, 0);
    print_results(r, base);
    lua_settop(L, base);
    return APP_REPL_OK;
}

/* ---- meta-commands ---- */

static enum app_repl_status cmd_help(struct app_repl *r, const char *arg)
{
    lua_State *L = r->L;
    lua_getglobal(L, "nncw");
    lua_getfield(L, -1, "help");
    lua_remove(L, -2);
    if (*arg)
        lua_pushstring(L, arg);
    else
        lua_pushnil(L);
    if (app_lua_pcall(L, 1, 1) != LUA_OK) {
        fprintf(r->err, "%s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return APP_REPL_ERROR;
    }
    fprintf(r->out, "%s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return APP_REPL_OK;
}

static enum app_repl_status cmd_load(struct app_repl *r, const char *path)
{
    lua_State *L = r->L;
    if (!*path) {
        fputs(":load needs a file name\n", r->err);
        return APP_REPL_ERROR;
    }
    /* the journal entry, with the path quoted as a Lua string literal */
    lua_getglobal(L, "string");
    lua_getfield(L, -1, "format");
    lua_pushliteral(L, "dofile(%q)");
    lua_pushstring(L, path);
    lua_call(L, 2, 1);
    const char *code = lua_tostring(L, -1);
    if (luaL_loadfile(L, path) != LUA_OK) {
        fprintf(r->err, "%s\n", lua_tostring(L, -1));
        lua_pop(L, 3);
        return APP_REPL_ERROR;
    }
    enum app_repl_status st = run_chunk(r, code, 's');
    lua_pop(L, 2);
    return st;
}

static const char meta_help[] =
    "REPL commands:\n"
    "  :help [name]   the documentation of a function (:help nncw.train), or the index\n"
    "  :save FILE     write the session so far as a script (replay: nncw run FILE)\n"
    "  :load FILE     run a Lua file here (it is journaled)\n"
    "  :journal       show what :save would write\n"
    "  :quit          leave (so does Ctrl-D)\n"
    "Expressions print their values (=expr too); Tab completes; Ctrl-C stops running work.";

static enum app_repl_status meta_command(struct app_repl *r, const char *line)
{
    char cmd[32] = "";
    const char *arg = line + 1;
    size_t n = strcspn(arg, " \t");
    snprintf(cmd, sizeof cmd, "%.*s", (int)(n < sizeof cmd - 1 ? n : sizeof cmd - 1), arg);
    arg += n;
    arg += strspn(arg, " \t");
    char argbuf[4096];
    snprintf(argbuf, sizeof argbuf, "%s", arg);
    for (size_t len = strlen(argbuf); len && strchr(" \t\r\n", argbuf[len - 1]); len--)
        argbuf[len - 1] = '\0';
    if (!strcmp(cmd, "help") || !strcmp(cmd, "h") || !strcmp(cmd, "?")) {
        if (!argbuf[0])
            fprintf(r->out, "%s\n", meta_help);
        return cmd_help(r, argbuf);
    }
    if (!strcmp(cmd, "quit") || !strcmp(cmd, "q") || !strcmp(cmd, "exit"))
        return APP_REPL_QUIT;
    if (!strcmp(cmd, "save")) {
        if (!argbuf[0]) {
            fputs(":save needs a file name\n", r->err);
            return APP_REPL_ERROR;
        }
        return app_repl_save(r, argbuf) == 0 ? APP_REPL_OK : APP_REPL_ERROR;
    }
    if (!strcmp(cmd, "load"))
        return cmd_load(r, argbuf);
    if (!strcmp(cmd, "journal")) {
        for (int i = 0; i < r->n_journal; i++)
            fprintf(r->out, "%s\n", r->journal[i]);
        return APP_REPL_OK;
    }
    fprintf(r->err, "unknown command ':%s'\n%s\n", cmd, meta_help);
    return APP_REPL_ERROR;
}

/* runs protected (so that nothing in here can end the process): compiles and runs
 * r->pending, or a meta-command; upvalue-free, argument 1 is the repl, 2 the line */
static int eval_protected(lua_State *L)
{
    struct app_repl *r = lua_touserdata(L, 1);
    const char *line = lua_tostring(L, 2);
    lua_settop(L, 0);
    enum app_repl_status st;
    if (!line) {
        char kind = compile(L, r->pending);
        if (kind == '+')
            st = APP_REPL_MORE;
        else if (kind == 0) {
            fprintf(r->err, "%s\n", lua_tostring(L, -1));
            lua_pop(L, 1);
            st = APP_REPL_ERROR;
        } else {
            st = run_chunk(r, r->pending, kind);
        }
    } else {
        st = meta_command(r, line);
    }
    lua_pushinteger(L, st);
    return 1;
}

enum app_repl_status app_repl_eval_line(struct app_repl *r, const char *line)
{
    lua_State *L = r->L;
    bool meta = !r->pending && line[0] == ':';
    if (!meta) {
        const char *text = !r->pending && line[0] == '=' ? line + 1 : line;
        size_t old = r->pending ? strlen(r->pending) : 0;
        char *code = realloc(r->pending, old + strlen(text) + 2);
        if (!code) {
            fputs("nncw repl: out of memory\n", r->err);
            return APP_REPL_ERROR;
        }
        if (old)
            code[old++] = '\n';
        strcpy(code + old, text);
        r->pending = code;
    }
    enum app_repl_status st = APP_REPL_ERROR;
    lua_pushcfunction(L, eval_protected);
    lua_pushlightuserdata(L, r);
    if (meta)
        lua_pushstring(L, line);
    else
        lua_pushnil(L);
    if (lua_pcall(L, 2, 1, 0) == LUA_OK)
        st = (enum app_repl_status)lua_tointeger(L, -1);
    else
        fprintf(r->err, "nncw repl: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    if (st != APP_REPL_MORE)
        app_repl_cancel(r);
    return st;
}

/* ---- completion ---- */

char **app_repl_complete(struct app_repl *r, const char *word)
{
    lua_State *L = r->L;
    lua_getglobal(L, "nncw");
    if (lua_getfield(L, -1, "complete") != LUA_TFUNCTION) {
        lua_pop(L, 2);
        return NULL;
    }
    lua_remove(L, -2);
    lua_pushstring(L, word);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    lua_Integer n = luaL_len(L, -1);
    char **list = calloc((size_t)n + 1, sizeof *list);
    for (lua_Integer i = 0; list && i < n; i++) {
        lua_geti(L, -1, i + 1);
        const char *s = lua_tostring(L, -1);
        list[i] = dup_str(s ? s : "");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return list;
}
