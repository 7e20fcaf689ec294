/* What the keys and commands do: each action is a line of Lua (or a REPL command) submitted
 * to the session, so the Console shows it and :save replays it. */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
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

void ui_action_pause(struct ui_app *a, int pause)
{
    bool held = a->status.pausing;
    if (pause < 0)
        pause = !held;
    if (!a->status.training) {
        ui_app_message(a, UI_STYLE_NORMAL, "no training run to %s", pause ? "pause" : "resume");
        return;
    }
    if (pause == held) {
        ui_app_message(a, UI_STYLE_NORMAL, "the run is %s already",
                       held ? "paused" : "running");
        return;
    }
    session_pause(a->session, pause);
    a->status.pausing = pause; /* at once, so p p in quick succession toggles twice */
    if (pause)
        ui_app_message(a, UI_STYLE_WARN,
                       "pausing after the current step: p (F7, :resume) resumes, x cancels");
    else
        ui_app_message(a, UI_STYLE_NORMAL, "resumed");
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

/* ---- compression ---- */

/* a compression to edit, or false with a message */
static bool need_compression(struct ui_app *a, const char *what)
{
    if (ui_app_compression(a))
        return true;
    ui_app_message(a, UI_STYLE_ERROR,
                   "%s: `model` has no compression: F4 (or :compress FILE) applies a config",
                   what);
    return false;
}

void ui_action_compress(struct ui_app *a, const char *path)
{
    char q[1100], code[1400];
    while (*path == ' ')
        path++;
    if (!*path) {
        ui_app_message(a, UI_STYLE_ERROR,
                       "compress: give a compression config (JSON), e.g. "
                       "configs/quantization/cnn_fashion_int8.json");
        return;
    }
    if (ui_app_compression(a)) { /* a second one would stack quantizers on the first */
        ui_app_message(a, UI_STYLE_ERROR,
                       "compress: `model` is compressed already (comp); open the model again "
                       "(o) before another config");
        return;
    }
    ui_lua_quote(path, q, sizeof q);
    snprintf(code, sizeof code,
             "comp_config = nncw.config.load(%s); "
             "comp = nncw.compression.create(model, comp_config, {data = train_data, seed = 1}); "
             "print(comp)",
             q);
    if (ui_app_run_lua(a, code, "compress"))
        ui_app_focus(a, UI_PANEL_QUANTIZERS);
}

void ui_action_ignore(struct ui_app *a, const char *pattern, int entry, bool ignore)
{
    char q[600], code[800];
    if (!need_compression(a, ignore ? "ignore" : "unignore"))
        return;
    if (!pattern || !*pattern) {
        ui_app_message(a, UI_STYLE_ERROR, "%s: give a scope or a {re} pattern",
                       ignore ? "ignore" : "unignore");
        return;
    }
    ui_lua_quote(pattern, q, sizeof q);
    if (entry > 1)
        snprintf(code, sizeof code, "comp:%s(%s, %d)", ignore ? "ignore" : "unignore", q, entry);
    else
        snprintf(code, sizeof code, "comp:%s(%s)", ignore ? "ignore" : "unignore", q);
    ui_app_run_lua(a, code, ignore ? "ignore a scope" : "unignore a scope");
}

void ui_action_set_quantizers(struct ui_app *a, const char *pattern,
                              const struct nncw_quantizer_change *ch)
{
    char q[600], fields[128] = "", code[900];
    if (!need_compression(a, "set"))
        return;
    size_t k = 0;
    if (ch->bits > 0)
        k += (size_t)snprintf(fields + k, sizeof fields - k, "bits = %d", ch->bits);
    if (ch->mode >= 0)
        k += (size_t)snprintf(fields + k, sizeof fields - k, "%smode = \"%s\"", k ? ", " : "",
                              ch->mode ? "asymmetric" : "symmetric");
    if (ch->per_channel >= 0)
        snprintf(fields + k, sizeof fields - k, "%sper_channel = %s", k ? ", " : "",
                 ch->per_channel ? "true" : "false");
    if (!fields[0]) {
        ui_app_message(a, UI_STYLE_ERROR, "set: nothing to change (bits=N, mode=..., "
                                          "per_channel=0|1)");
        return;
    }
    ui_lua_quote(pattern, q, sizeof q);
    snprintf(code, sizeof code, "comp:set(%s, {%s})", q, fields);
    ui_app_run_lua(a, code, "set quantizers");
}

void ui_action_exclude_group(struct ui_app *a, int group, bool exclude)
{
    char code[128];
    if (!need_compression(a, "exclude"))
        return;
    snprintf(code, sizeof code, "comp:exclude_group(%d, %s)", group,
             exclude ? "true" : "false");
    ui_app_run_lua(a, code, "exclude a pruning group");
}

void ui_action_pruning_target(struct ui_app *a, const char *level)
{
    char *end, code[128];
    double v = strtod(level, &end);
    if (!need_compression(a, "target"))
        return;
    if (end == level || *end || !(v >= 0 && v < 1)) {
        ui_app_message(a, UI_STYLE_ERROR, "target: give a pruning level from 0 to 1, got '%s'",
                       level);
        return;
    }
    snprintf(code, sizeof code, "comp:set_pruning_target(%.6g)", v);
    ui_app_run_lua(a, code, "pruning target");
}

/* ":set PATTERN bits=4 mode=asymmetric per_channel=1" */
static void set_command(struct ui_app *a, const char *arg)
{
    char pattern[512], item[64];
    size_t n = strcspn(arg, " \t");
    snprintf(pattern, sizeof pattern, "%.*s", (int)(n < sizeof pattern ? n : sizeof pattern - 1),
             arg);
    struct nncw_quantizer_change ch = {.bits = 0, .mode = -1, .per_channel = -1};
    for (const char *p = arg + n; *(p += strspn(p, " \t"));) {
        size_t len = strcspn(p, " \t");
        snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item ? len : sizeof item - 1), p);
        p += len;
        int v;
        char word[32];
        if (sscanf(item, "bits=%d", &v) == 1 && v >= 1 && v <= 8) {
            ch.bits = v;
        } else if (sscanf(item, "per_channel=%d", &v) == 1 && (v == 0 || v == 1)) {
            ch.per_channel = v;
        } else if (sscanf(item, "mode=%31s", word) == 1 &&
                   (!strcmp(word, "symmetric") || !strcmp(word, "asymmetric"))) {
            ch.mode = !strcmp(word, "asymmetric");
        } else {
            ui_app_message(a, UI_STYLE_ERROR,
                           "set: '%s' is not bits=1..8, mode=symmetric|asymmetric or "
                           "per_channel=0|1",
                           item);
            return;
        }
    }
    if (!pattern[0]) {
        ui_app_message(a, UI_STYLE_ERROR, "set: give a quantizer id or a {re} pattern");
        return;
    }
    ui_action_set_quantizers(a, pattern, &ch);
}

/* ":level 0.5" (the sparsity level) and ":rate 0.4" (NNCF's compression rate: filter
 * pruning's level, held there) */
static void level_command(struct ui_app *a, const char *cmd, const char *arg)
{
    char *end;
    double level = strtod(arg, &end);
    if (!need_compression(a, cmd))
        return;
    if (end == arg || *end || !(level >= 0 && level < 1)) {
        ui_app_message(a, UI_STYLE_ERROR, "%s: give a level from 0 to 1, got '%s'", cmd, arg);
        return;
    }
    char code[128];
    snprintf(code, sizeof code, "comp:%s(%.6g)",
             !strcmp(cmd, "rate") ? "set_compression_rate" : "set_sparsity_level", level);
    ui_app_run_lua(a, code, cmd);
}

/* ":hawq" and ":autoq [EPISODES [SAMPLES]]": the Search panel runs them */
static void search_command(struct ui_app *a, const char *cmd, const char *arg)
{
    struct ui_panel *p = a->panels[UI_PANEL_SEARCH];
    ui_app_focus(a, UI_PANEL_SEARCH);
    if (!strcmp(cmd, "hawq")) {
        ui_search_panel_hawq(p);
        return;
    }
    int episodes = 0, samples = 0;
    char extra;
    int n = sscanf(arg, "%d %d %c", &episodes, &samples, &extra);
    if (*arg && (n < 1 || n > 2 || episodes < 1 || (n == 2 && samples < 1))) {
        ui_app_message(a, UI_STYLE_ERROR,
                       "autoq: give the episodes and the test_data samples per episode, "
                       "e.g. :autoq 30 512 (got '%s')",
                       arg);
        return;
    }
    ui_search_panel_autoq(p, episodes, samples);
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
    } else if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume")) {
        ui_action_pause(a, !strcmp(cmd, "pause"));
    } else if (!strcmp(cmd, "quit") || !strcmp(cmd, "q")) {
        a->quit = true;
    } else if ((!strcmp(cmd, "help") || !strcmp(cmd, "h")) && !*arg) {
        a->overlay = UI_OVERLAY_HELP;
    } else if (!strcmp(cmd, "search")) {
        ui_action_search(a, arg, 0);
    } else if (!strcmp(cmd, "compress")) {
        ui_action_compress(a, arg);
    } else if (!strcmp(cmd, "ignore") || !strcmp(cmd, "unignore")) {
        ui_action_ignore(a, arg, 1, !strcmp(cmd, "ignore"));
    } else if (!strcmp(cmd, "set")) {
        set_command(a, arg);
    } else if (!strcmp(cmd, "target")) {
        ui_action_pruning_target(a, arg);
    } else if (!strcmp(cmd, "level") || !strcmp(cmd, "rate")) {
        level_command(a, cmd, arg);
    } else if (!strcmp(cmd, "stats")) {
        if (need_compression(a, "stats") && ui_app_run_lua(a, "print(comp:statistics())", "stats"))
            ui_app_focus(a, UI_PANEL_CONSOLE);
    } else if (!strcmp(cmd, "hawq") || !strcmp(cmd, "autoq")) { /* the Search panel */
        search_command(a, cmd, arg);
    } else if (!strcmp(cmd, "lua")) {
        ui_app_run_lua(a, arg, "lua");
    } else { /* the REPL's own commands: :help NAME, :journal, :load FILE */
        char code[UI_LINE_MAX + 2];
        snprintf(code, sizeof code, ":%s", line);
        ui_app_run_lua(a, code, "command");
    }
}
