/* What the keys and commands do: each action is a line of Lua (or a REPL command) submitted
 * to the session, so the Console shows it and :save replays it. */
#include "app.h"

#include <stdio.h>
#include <string.h>

#include "panels/panels.h"
#include "zoo/zoo.h"

void ui_lua_quote(const char *s, char *buf, size_t size)
{
    size_t k = 0;
    if (size < 3)
        return;
    buf[k++] = '"';
    for (; *s && k + 6 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[k++] = '\\';
            buf[k++] = (char)c;
        } else if (c < 0x20 || c == 0x7F) {
            k += (size_t)snprintf(buf + k, size - k, "\\%03u", c);
        } else {
            buf[k++] = (char)c;
        }
    }
    buf[k++] = '"';
    buf[k] = '\0';
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_zoo_model(const char *name)
{
    for (const char *const *n = nncw_zoo_names(); *n; n++)
        if (!strcmp(*n, name))
            return true;
    return false;
}

void ui_action_open(struct ui_app *a, const char *what)
{
    char q[1100], code[1200];
    while (*what == ' ')
        what++;
    if (!*what) {
        ui_app_message(a, UI_STYLE_ERROR,
                       "open: give an ONNX file, a checkpoint, a .lua file "
                       "or a built-in model (cnn, resnet20, ...)");
        return;
    }
    ui_lua_quote(what, q, sizeof q);
    if (ends_with(what, ".onnx")) {
        snprintf(code, sizeof code, "model = nncw.onnx.load(%s)", q);
    } else if (ends_with(what, ".nncw")) {
        snprintf(code, sizeof code, "model = nncw.checkpoint.load(model, %s)", q);
    } else if (ends_with(what, ".lua")) {
        snprintf(code, sizeof code, ":load %s", what);
    } else if (is_zoo_model(what)) {
        snprintf(code, sizeof code, "model = nncw.zoo.build(%s, {seed = 1})", q);
    } else {
        ui_app_message(a, UI_STYLE_ERROR,
                       "open: '%s' is neither a file ending in .onnx, .nncw or .lua nor a "
                       "built-in model (nncw models lists them)",
                       what);
        return;
    }
    if (ui_app_run_lua(a, code, "open"))
        ui_app_focus(a, UI_PANEL_GRAPH);
}

void ui_action_save(struct ui_app *a, const char *path)
{
    char code[1100];
    while (*path == ' ')
        path++;
    if (!*path) {
        ui_app_message(a, UI_STYLE_ERROR, "save: give a file name");
        return;
    }
    snprintf(code, sizeof code, ":save %s", path);
    ui_app_run_lua(a, code, "save the session");
}

void ui_action_cancel(struct ui_app *a)
{
    if (!a->status.busy && !a->status.queued) {
        ui_app_message(a, UI_STYLE_NORMAL, "nothing is running");
        return;
    }
    session_cancel(a->session);
    ui_app_message(a, UI_STYLE_WARN,
                   "cancelling: a run stops after its current step and the "
                   "model keeps its weights");
}

void ui_action_search(struct ui_app *a, const char *regex, int direction)
{
    char err[256];
    ui_app_focus(a, UI_PANEL_GRAPH);
    int n = ui_graph_panel_search(a->panels[UI_PANEL_GRAPH], regex, direction, err, sizeof err);
    if (n < 0)
        ui_app_message(a, UI_STYLE_ERROR, "%s", err);
    else if (n == 0)
        ui_app_message(a, UI_STYLE_WARN, "no scope matches /%s", regex ? regex : "");
    else
        ui_app_message(a, UI_STYLE_NORMAL, "%d node%s /%s (n: next, N: previous)", n,
                       n == 1 ? " matches" : "s match", regex ? regex : "");
}

/* the word at the start of line and where its argument begins */
static const char *word(const char *line, char *w, size_t size)
{
    size_t n = strcspn(line, " \t");
    snprintf(w, size, "%.*s", (int)(n < size - 1 ? n : size - 1), line);
    line += n;
    return line + strspn(line, " \t");
}

void ui_action_command(struct ui_app *a, const char *line)
{
    char cmd[32];
    line += strspn(line, " \t:");
    const char *arg = word(line, cmd, sizeof cmd);
    if (!cmd[0])
        return;
    if (!strcmp(cmd, "save") || !strcmp(cmd, "w")) {
        ui_action_save(a, arg);
    } else if (!strcmp(cmd, "open") || !strcmp(cmd, "o") || !strcmp(cmd, "e")) {
        ui_action_open(a, arg);
    } else if (!strcmp(cmd, "train")) {
        a->overlay = UI_OVERLAY_FORM;
    } else if (!strcmp(cmd, "cancel")) {
        ui_action_cancel(a);
    } else if (!strcmp(cmd, "quit") || !strcmp(cmd, "q")) {
        a->quit = true;
    } else if ((!strcmp(cmd, "help") || !strcmp(cmd, "h")) && !*arg) {
        a->overlay = UI_OVERLAY_HELP;
    } else if (!strcmp(cmd, "search")) {
        ui_action_search(a, arg, 0);
    } else if (!strcmp(cmd, "lua")) {
        ui_app_run_lua(a, arg, "lua");
    } else { /* the REPL's own commands: :help NAME, :journal, :load FILE */
        char code[UI_LINE_MAX + 2];
        snprintf(code, sizeof code, ":%s", line);
        ui_app_run_lua(a, code, "command");
    }
}
