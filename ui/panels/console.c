/* The Console: the Lua REPL in a panel, sharing the session with the other panels. Lines run
 * through the same REPL core as `nncw repl`, so they are journaled for :save. */
#include "panels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../draw.h"
#include "../widgets/text_view.h"

struct console_panel {
    struct ui_panel base;
    struct ui_line_editor edit;
    struct ui_text_view view;
    long seen_end;
    int page;
};

static const struct ui_key_help console_keys[] = {
    {"Enter", "run the line (Lua, =expr prints, :help, :save FILE, :journal)"},
    {"Up Down", "previous / next line of the history"},
    {"PgUp PgDn", "scroll the output"},
    {"^A ^E ^U ^K ^W", "line start / end, delete to start / to end / a word"},
    {"Esc", "leave the Console (letters are keys again)"},
    {NULL, NULL},
};

static struct console_panel *cp(struct ui_panel *p)
{
    return (struct console_panel *)p;
}

static bool update(struct ui_panel *p)
{
    struct console_panel *c = cp(p);
    long end = line_ring_end(session_console(p->app->session));
    bool changed = end != c->seen_end;
    c->seen_end = end;
    return changed;
}

static enum ui_result submit(struct console_panel *c)
{
    struct ui_app *a = c->base.app;
    if (!c->edit.buf[0] && !a->status.more)
        return UI_REDRAW;
    if (!session_submit(a->session, c->edit.buf, ui_app_may_queue(a))) {
        ui_app_message(a, UI_STYLE_WARN,
                       "a training run is going: wait for it, or cancel it (x, F8, Ctrl-C)");
        return UI_REDRAW;
    }
    ui_line_editor_history_add(&c->edit, c->edit.buf);
    ui_line_editor_set(&c->edit, "");
    c->view.scroll = 0;
    return UI_REDRAW;
}

static enum ui_result handle_key(struct ui_panel *p, int key)
{
    struct console_panel *c = cp(p);
    if (key == UI_KEY_CTRL('c') && !p->app->status.busy && c->edit.len) {
        ui_line_editor_set(&c->edit, "");
        return UI_REDRAW;
    }
    if (key == UI_KEY_ESC) {
        ui_app_focus(p->app, UI_PANEL_GRAPH);
        return UI_REDRAW;
    }
    switch (ui_line_editor_key(&c->edit, key)) {
    case UI_EDIT_SUBMIT:
        return submit(c);
    case UI_EDIT_CHANGED:
        return UI_REDRAW;
    default:
        break;
    }
    return ui_text_view_key(&c->view, key, c->page, false) ? UI_REDRAW : UI_IGNORED;
}

static enum ui_result mouse(struct ui_panel *p, int row, int col, int wheel)
{
    (void)row;
    (void)col;
    ui_text_view_scroll(&cp(p)->view, -3 * wheel);
    return UI_REDRAW;
}

static void draw(struct ui_panel *p, WINDOW *w, bool focused)
{
    struct console_panel *c = cp(p);
    struct ui_app *a = p->app;
    int h = getmaxy(w) - 2, width = getmaxx(w) - 2;
    c->page = h - 1;
    ui_text_view_draw(&c->view, session_console(a->session), w, 1, 1, h - 1, width);
    const char *prompt = a->status.busy ? "busy " : session_prompt(a->session);
    attr_t pa = a->status.busy ? ui_style(UI_STYLE_WARN) : ui_style(UI_STYLE_INPUT) | A_BOLD;
    int pw = ui_put(w, h, 1, width, prompt, pa);
    ui_line_editor_draw(&c->edit, w, h, 1 + pw, width - pw, A_NORMAL, focused);
}

static void title(struct ui_panel *p, char *buf, size_t size)
{
    struct ui_app *a = p->app;
    if (a->status.busy)
        snprintf(buf, size, "Console  running: %s", a->status.running);
    else if (a->focus == UI_PANEL_CONSOLE)
        snprintf(buf, size, "Console  Lua; Esc leaves, F1 help");
    else
        snprintf(buf, size, "Console");
}

static void destroy(struct ui_panel *p)
{
    ui_line_editor_fini(&cp(p)->edit);
    free(p);
}

static const struct ui_panel_class console_class = {
    .name = "Console",
    .title = title,
    .draw = draw,
    .handle_key = handle_key,
    .mouse = mouse,
    .update = update,
    .destroy = destroy,
    .keys = console_keys,
};

struct ui_panel *ui_console_panel_new(struct ui_app *a)
{
    struct console_panel *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->base.cls = &console_class;
    c->base.app = a;
    ui_line_editor_init(&c->edit, 500);
    return &c->base;
}
