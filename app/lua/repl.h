/*
 * The REPL: a core that evaluates lines (shared with the TUI's REPL panel later) and a
 * terminal front end on libedit.
 *
 *     struct app_repl *r = app_repl_new(L, stdout, stderr);
 *     while ((line = read_line(app_repl_prompt(r))))
 *         if (app_repl_eval_line(r, line) == APP_REPL_QUIT)
 *             break;
 *     app_repl_free(r);
 *
 * lua.c's algorithm: a line is first tried as `return <line>` (so bare expressions print),
 * then as a statement; a syntax error at <eof> asks for more lines. `=expr` prints expr.
 * Lines starting with ':' are meta-commands (:help, :save, :load, :journal, :quit). Every
 * chunk that succeeded is journaled; :save writes the journal as a script that replays the
 * session (math.random's seed included, interrupted training runs stopped at the same step).
 */
#pragma once

#include <stdio.h>

#include <lua.h>

enum app_repl_status {
    APP_REPL_OK,    /* a chunk or command ran */
    APP_REPL_MORE,  /* the chunk is incomplete: read another line */
    APP_REPL_ERROR, /* it failed; the message was printed */
    APP_REPL_QUIT,  /* :quit */
};

struct app_repl;

/* results go to out, errors to err; seeds math.random and records the seed. NULL: no memory */
struct app_repl *app_repl_new(lua_State *L, FILE *out, FILE *err);
void app_repl_free(struct app_repl *r);

/* "> ", or ">> " while a chunk is incomplete */
const char *app_repl_prompt(const struct app_repl *r);
enum app_repl_status app_repl_eval_line(struct app_repl *r, const char *line);
/* drops an incomplete chunk (Ctrl-C at a continuation prompt) */
void app_repl_cancel(struct app_repl *r);
/* completion candidates for the word (identifiers joined by '.' or ':'); a NULL-terminated
 * malloc'd array of malloc'd strings, or NULL */
char **app_repl_complete(struct app_repl *r, const char *word);
/* writes the journal as a Lua script; 0 or -1 after printing why */
int app_repl_save(struct app_repl *r, const char *path);

/* the interactive loop on stdin/stdout with line editing, history kept in history_path
 * (NULL: none), tab completion; returns the exit status */
int app_repl_run(lua_State *L, const char *history_path);
