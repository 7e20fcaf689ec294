/*
 * What the screen and the panels share: the session, the graph view and selected node, the
 * copied training history and the status, and the actions every part can start (each one a
 * line of Lua submitted to the session, echoed in the Console and journaled).
 *
 *     ui_app_run_lua(app, "model = nncw.onnx.load(\"x.onnx\")", "open x.onnx");
 *     ui_app_message(app, UI_STYLE_ERROR, "no node matches /%s", re);
 */
#pragma once

#include <stdbool.h>

#include "panel.h"
#include "session.h"
#include "term.h"
#include "widgets/line_editor.h"

enum ui_panel_id {
    UI_PANEL_GRAPH,
    UI_PANEL_INSPECTOR,
    UI_PANEL_TRAINING,
    UI_PANEL_CONSOLE,
    UI_PANEL_LOG,
    UI_PANEL_QUANTIZERS, /* the compression panels share the Inspector's place */
    UI_PANEL_SCOPES,
    UI_PANEL_PRUNING,
    UI_PANEL_SEARCH, /* mixed-precision searches (HAWQ, AutoQ), also in the Inspector's place */
    UI_PANEL_COUNT
};

enum ui_overlay {
    UI_OVERLAY_NONE,
    UI_OVERLAY_HELP,
    UI_OVERLAY_FORM,    /* the training form */
    UI_OVERLAY_CONFIRM, /* quit while work runs? */
    UI_OVERLAY_PROMPT,  /* the bottom line edits a search, command or file name */
};

enum ui_prompt_kind {
    UI_PROMPT_SEARCH,  /* "/" */
    UI_PROMPT_COMMAND, /* ":" */
    UI_PROMPT_OPEN,    /* "open: " */
};

struct ui_form;

struct ui_app {
    struct session *session;
    struct ui_panel *panels[UI_PANEL_COUNT];
    int focus;
    bool zoom;     /* the focused panel alone */
    bool quit;     /* leave the loop */
    bool dirty;    /* redraw everything */
    bool relayout; /* windows must be rebuilt */
    enum ui_overlay overlay;
    int help_scroll;
    struct ui_form *form;
    enum ui_prompt_kind prompt_kind;
    struct ui_line_editor prompt;
    struct ui_line_editor commands; /* history of ':' lines */

    struct graph_view *view; /* the newest view of `model` (a reference), or NULL */
    unsigned view_serial;    /* counts view changes */
    int selected;            /* the selected node of the view, -1: none */
    struct session_status status;
    struct train_snapshot train;
    unsigned seen_errors;
    int lower_left; /* which panel the Inspector's place shows on a wide screen */

    struct compression_view *cview; /* the newest view of `comp` (a reference), or NULL */
    unsigned cview_serial;          /* counts changes */
    struct compression_series comp_series; /* the run's compression loss and level */
    /* the Scopes panel's pattern and the view's nodes it matches (the Graph highlights them) */
    char scope_pattern[256];
    bool *scope_hit; /* per node of `view`, NULL: no pattern */
    int scope_hits;  /* nodes matched, -1: a bad pattern (scope_error says why) */
    char scope_error[200];
    unsigned scope_serial; /* the view_serial scope_hit was made for */

    char message[320];
    attr_t message_attr;
    long message_until;  /* ms on the monotonic clock */
    bool want_save_name; /* the prompt is asking for a file name to :save */
};

/* a message in the status line (and the Log) */
void ui_app_message(struct ui_app *a, enum ui_style style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* whether a line may wait behind running work (not behind a training run: that could take
 * hours, so the user is told to cancel it instead) */
bool ui_app_may_queue(const struct ui_app *a);
/* runs a line of Lua for an action (what: for the Log); false (with a message) while busy */
bool ui_app_run_lua(struct ui_app *a, const char *code, const char *what);
void ui_app_focus(struct ui_app *a, enum ui_panel_id id);
/* opens the bottom prompt with a first text */
void ui_app_prompt(struct ui_app *a, enum ui_prompt_kind kind, const char *text);
/* milliseconds on the monotonic clock */
long ui_app_now_ms(void);
/* sets the Scopes panel's pattern and matches it against the view's nodes ("" clears) */
void ui_app_set_scope_pattern(struct ui_app *a, const char *pattern);
/* the compression of `comp` when it compresses `model` (what the panels edit), or NULL */
const struct compression_view *ui_app_compression(const struct ui_app *a);

/* the actions (actions.c) */
void ui_action_open(struct ui_app *a, const char *what);
void ui_action_save(struct ui_app *a, const char *path);
void ui_action_cancel(struct ui_app *a);
/* pause (1), resume (0) or toggle (-1) the training run */
void ui_action_pause(struct ui_app *a, int pause);
void ui_action_command(struct ui_app *a, const char *line);
void ui_action_search(struct ui_app *a, const char *regex, int direction);
/* compression: the config file applied to `model` as `comp` (data: `train_data`) */
void ui_action_compress(struct ui_app *a, const char *path);
/* comp:ignore / comp:unignore of a scope pattern in config entry (1-based) */
void ui_action_ignore(struct ui_app *a, const char *pattern, int entry, bool ignore);
/* comp:set(pattern, change) with the fields of ch that are set */
void ui_action_set_quantizers(struct ui_app *a, const char *pattern,
                              const struct nncw_quantizer_change *ch);
/* filter pruning: a group excluded (or included again), the target level */
void ui_action_exclude_group(struct ui_app *a, int group, bool exclude);
void ui_action_pruning_target(struct ui_app *a, const char *level);
/* a Lua string literal of s into buf ("..." with escapes) */
void ui_lua_quote(const char *s, char *buf, size_t size);
