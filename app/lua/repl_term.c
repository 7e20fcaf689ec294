/* The terminal front end of the REPL: libedit line editing, persistent history, tab
 * completion, Ctrl-C (drop the line or stop running work) and Ctrl-D (quit). */
#include "repl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "host.h"
#include "lnncw.h"

enum { HISTORY_LINES = 1000 };

static struct app_repl *completing; /* the REPL the completion callbacks ask */
static char **matches;              /* the candidates of the current completion */
static int match_at;

/* frees the candidates not yet handed to libedit */
static void drop_matches(void)
{
    for (int i = match_at; matches && matches[i]; i++)
        free(matches[i]);
    free(matches);
    matches = NULL;
    match_at = 0;
}

static char *generator(const char *text, int state)
{
    if (state == 0) {
        drop_matches();
        matches = app_repl_complete(completing, text);
    }
    if (!matches || !matches[match_at])
        return NULL;
    return matches[match_at++]; /* libedit frees it */
}

static char **attempt_completion(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1; /* never fall back to file names */
    return rl_completion_matches(text, generator);
}

/* a line from the terminal (libedit) or, when stdin is not one, from stdio; NULL at the end
 * of input or on Ctrl-C (tell them apart with app_lua_interrupt_pending) */
static char *read_line(bool tty, const char *prompt)
{
    if (tty)
        return readline(prompt);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        return NULL;
    }
    if (n > 0 && line[n - 1] == '\n')
        line[n - 1] = '\0';
    return line;
}

/* appends line to the chunk being typed (history keeps whole chunks) */
static char *append(char *chunk, const char *line)
{
    size_t a = chunk ? strlen(chunk) : 0, b = strlen(line);
    char *p = realloc(chunk, a + b + 2);
    if (!p)
        return chunk;
    if (a)
        p[a++] = '\n';
    memcpy(p + a, line, b + 1);
    return p;
}

static void setup_editor(const char *history_path)
{
    rl_readline_name = "nncw";
    rl_attempted_completion_function = attempt_completion;
    /* '.' and ':' stay inside words: "nncw.zoo.res" and "m:sum" complete as a whole */
    rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(,+-*/%^#~[]";
    rl_completion_append_character = '\0';
    using_history();
    stifle_history(HISTORY_LINES);
    if (history_path)
        read_history(history_path);
}

int app_repl_run(lua_State *L, const char *history_path)
{
    bool tty = isatty(STDIN_FILENO);
    struct app_repl *r = app_repl_new(L, stdout, stderr);
    if (!r) {
        fputs("nncw repl: out of memory\n", stderr);
        return 1;
    }
    completing = r;
    if (tty) {
        setup_editor(history_path);
        printf("nncw %s — Lua %s.%s REPL. :help for help, Tab completes, Ctrl-D quits.\n",
               NNCW_VERSION, LUA_VERSION_MAJOR, LUA_VERSION_MINOR);
    }
    app_lua_catch_sigint(L);
    char *chunk = NULL;
    int rc = 0;
    for (;;) {
        fflush(stdout);
        char *line = read_line(tty, tty ? app_repl_prompt(r) : "");
        if (!line) {
            if (app_lua_interrupt_pending()) { /* Ctrl-C at the prompt: drop the line */
                app_lua_interrupt_take(L);
                app_repl_cancel(r);
                free(chunk);
                chunk = NULL;
                putchar('\n');
                continue;
            }
            if (tty)
                putchar('\n');
            break;
        }
        chunk = append(chunk, line);
        enum app_repl_status st = app_repl_eval_line(r, line);
        free(line);
        if (st != APP_REPL_MORE) {
            if (tty && chunk && chunk[strspn(chunk, " \t")]) {
                add_history(chunk);
                if (history_path)
                    write_history(history_path);
            }
            free(chunk);
            chunk = NULL;
        }
        if (!tty && st == APP_REPL_ERROR)
            rc = 1;
        if (st == APP_REPL_QUIT)
            break;
    }
    free(chunk);
    app_lua_release_sigint();
    drop_matches();
    completing = NULL;
    app_repl_free(r);
    return rc;
}
