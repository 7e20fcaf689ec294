/* The screen: layout, the loop (keys, mouse, updates, drawing), bars and overlays. */
#include "ui.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "draw.h"
#include "fmt.h"
#include "help.h"
#include "panels/panels.h"
#include "scope_match.h"
#include "term.h"
#include "train_form.h"

enum {
    FRAME_MS = 30,      /* the key timeout: charts refresh about 30 times a second */
    MESSAGE_MS = 10000, /* how long a status message stays */
    WIDE_COLS = 100,    /* from here on, all panels side by side */
    WIDE_ROWS = 28,
};

/* ---- what panels call ---- */

long ui_app_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* shows the message in the status line only */
static void show_message(struct ui_app *a, enum ui_style style, const char *text)
{
    snprintf(a->message, sizeof a->message, "%s", text);
    a->message_attr = ui_style(style);
    a->message_until = ui_app_now_ms() + MESSAGE_MS;
    a->dirty = true;
}

void ui_app_message(struct ui_app *a, enum ui_style style, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    show_message(a, style, text);
    enum line_kind k = style == UI_STYLE_ERROR  ? LINE_ERROR
                       : style == UI_STYLE_WARN ? LINE_WARN
                                                : LINE_INFO;
    line_ring_add(session_log(a->session), k, a->message);
}

bool ui_app_may_queue(const struct ui_app *a)
{
    return a->train.state != TRAIN_RUN_RUNNING;
}

bool ui_app_run_lua(struct ui_app *a, const char *code, const char *what)
{
    if (!session_submit(a->session, code, ui_app_may_queue(a))) {
        if (a->status.pausing) /* the worker is held: the line would wait for the run */
            ui_app_message(a, UI_STYLE_WARN,
                           "the training run is paused: p (F7, :resume) resumes it, x cancels "
                           "it; Lua runs once it is over");
        else
            ui_app_message(a, UI_STYLE_WARN,
                           "a training run is going: wait for it, or cancel it (x, F8, Ctrl-C)");
        return false;
    }
    (void)what; /* the session logs what ran, with its time */
    a->dirty = true;
    return true;
}

void ui_app_focus(struct ui_app *a, enum ui_panel_id id)
{
    a->focus = id;
    a->relayout = true; /* on a narrow screen the focused panel is the one shown */
}

void ui_app_prompt(struct ui_app *a, enum ui_prompt_kind kind, const char *text)
{
    a->overlay = UI_OVERLAY_PROMPT;
    a->prompt_kind = kind;
    ui_line_editor_set(&a->prompt, text);
}

static bool in_lower_left(int panel)
{
    return panel == UI_PANEL_INSPECTOR || panel == UI_PANEL_QUANTIZERS ||
           panel == UI_PANEL_SCOPES || panel == UI_PANEL_PRUNING ||
           panel == UI_PANEL_SEARCH;
}

const struct compression_view *ui_app_compression(const struct ui_app *a)
{
    return a->cview && a->cview->of_model ? a->cview : NULL;
}

void ui_app_set_scope_pattern(struct ui_app *a, const char *pattern)
{
    snprintf(a->scope_pattern, sizeof a->scope_pattern, "%s", pattern ? pattern : "");
    free(a->scope_hit);
    a->scope_hit = NULL;
    a->scope_hits = 0;
    a->scope_error[0] = '\0';
    a->scope_serial = a->view_serial;
    a->dirty = true;
    if (!a->scope_pattern[0] || !a->view)
        return;
    a->scope_hit = calloc((size_t)a->view->n_nodes + 1, sizeof *a->scope_hit);
    if (!a->scope_hit)
        return;
    a->scope_hits = ui_scope_hits(a->view, a->scope_pattern, a->scope_hit, a->scope_error,
                                  sizeof a->scope_error);
}

/* ---- layout ---- */

static bool wide(void)
{
    return COLS >= WIDE_COLS && LINES >= WIDE_ROWS;
}

static void place(struct ui_panel *p, int h, int w, int y, int x)
{
    if (p->win)
        delwin(p->win);
    p->win = h >= 3 && w >= 10 ? derwin(stdscr, h, w, y, x) : NULL;
}

/* rows 1 .. LINES - 2 hold the panels: all of them on a wide screen, else the focused one
 * under a tab row */
static void layout(struct ui_app *a)
{
    for (int i = 0; i < UI_PANEL_COUNT; i++)
        place(a->panels[i], 0, 0, 0, 0);
    int top = 1, rows = LINES - 2;
    if (!wide() || a->zoom) {
        int tabs = wide() ? 0 : 1;
        place(a->panels[a->focus], rows - tabs, COLS, top + tabs, 0);
        return;
    }
    int left = COLS * 58 / 100, right = COLS - left;
    int graph = rows * 45 / 100;
    if (in_lower_left(a->focus))
        a->lower_left = a->focus;
    place(a->panels[UI_PANEL_GRAPH], graph, left, top, 0);
    place(a->panels[a->lower_left], rows - graph, left, top + graph, 0);
    int training = rows * 45 / 100, log = rows * 20 / 100 > 5 ? rows * 20 / 100 : 5;
    place(a->panels[UI_PANEL_TRAINING], training, right, top, left);
    place(a->panels[UI_PANEL_CONSOLE], rows - training - log, right, top + training, left);
    place(a->panels[UI_PANEL_LOG], log, right, top + rows - log, left);
}

/* ---- drawing ---- */

static void draw_title(struct ui_app *a)
{
    attr_t bar = ui_style(UI_STYLE_BAR);
    ui_fill(stdscr, 0, 0, COLS, bar);
    char left[256], right[160], params[32];
    if (a->view)
        snprintf(left, sizeof left, " nncw workbench | model: %d nodes, %s params",
                 a->view->n_nodes, ui_fmt_count(a->view->params, params, sizeof params));
    else
        snprintf(left, sizeof left, " nncw workbench | no model");
    const struct train_snapshot *t = &a->train;
    if (t->state == TRAIN_RUN_RUNNING && t->total_steps)
        snprintf(right, sizeof right, "%s %.0f%% ",
                 a->status.paused    ? "training paused"
                 : a->status.pausing ? "training pausing"
                                     : "training",
                 100.0 * (double)t->steps_done / (double)t->total_steps);
    else if (a->status.busy)
        snprintf(right, sizeof right, "running ");
    else if (a->status.queued)
        snprintf(right, sizeof right, "%d waiting ", a->status.queued);
    else
        snprintf(right, sizeof right, "idle ");
    int used = ui_put(stdscr, 0, 0, COLS, left, bar | A_BOLD);
    if (used + ui_width(right) < COLS)
        ui_put_right(stdscr, 0, COLS, COLS - used, right, bar | A_BOLD);
}

/* a tab's label: " 6 Quantizers ", or only " 6 " for a compression panel that is not focused
 * when all the names would not fit */
static void tab_label(const struct ui_app *a, int i, char *buf, size_t size)
{
    int full = 0;
    for (int k = 0; k < UI_PANEL_COUNT; k++)
        full += (int)strlen(a->panels[k]->cls->name) + 5;
    if (full > COLS && i >= UI_PANEL_QUANTIZERS && i != a->focus)
        snprintf(buf, size, " %d ", i + 1);
    else
        snprintf(buf, size, " %d %s ", i + 1, a->panels[i]->cls->name);
}

static void draw_tabs(struct ui_app *a)
{
    int x = 0;
    for (int i = 0; i < UI_PANEL_COUNT && x < COLS; i++) {
        char label[32];
        tab_label(a, i, label, sizeof label);
        x += ui_put(stdscr, 1, x, COLS - x, label,
                    i == a->focus ? ui_style(UI_STYLE_SELECTED) : ui_style(UI_STYLE_DIM));
        x += ui_put(stdscr, 1, x, COLS - x, " ", A_NORMAL);
    }
}

/* the bottom line: the prompt while one is open, else the main keys and the message */
static void draw_status(struct ui_app *a)
{
    int y = LINES - 1;
    attr_t bar = ui_style(UI_STYLE_BAR), key = ui_style(UI_STYLE_BAR_KEY) | A_BOLD;
    ui_fill(stdscr, y, 0, COLS, bar);
    if (a->overlay == UI_OVERLAY_PROMPT) {
        static const char *const prefixes[] = {"/", ":", "open: "};
        int pw = ui_put(stdscr, y, 0, COLS, prefixes[a->prompt_kind], bar | A_BOLD);
        ui_line_editor_draw(&a->prompt, stdscr, y, pw, COLS - pw, bar, true);
        return;
    }
    bool message = a->message[0] && ui_app_now_ms() < a->message_until;
    int x = 0, limit = COLS;
    if (message) { /* right of the keys when both fit, else alone */
        int mw = ui_width(a->message) + 1;
        limit = COLS - mw > 40 ? COLS - mw : 0;
        ui_put(stdscr, y, limit, COLS - limit, a->message, bar | A_BOLD);
    }
    for (const struct ui_binding *b = ui_keys_table(); b->action && limit; b++) {
        if (!b->short_help)
            continue;
        char name[16];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(b->label, " "), b->label);
        if (x + ui_width(name) + ui_width(b->short_help) + 2 > limit)
            break;
        x += ui_put(stdscr, y, x, limit - x, name, key);
        x += ui_put(stdscr, y, x, limit - x, " ", bar);
        x += ui_put(stdscr, y, x, limit - x, b->short_help, bar);
        x += ui_put(stdscr, y, x, limit - x, "  ", bar);
    }
}

static void draw_confirm(struct ui_app *a)
{
    (void)a;
    const char *l1 = "Work is running. Cancel it and quit?";
    const char *l2 = "y: cancel and quit    n, Esc: go on";
    int bw = 44, bh = 5, y0 = (LINES - bh) / 2, x0 = (COLS - bw) / 2;
    if (x0 < 0)
        x0 = 0, bw = COLS;
    for (int r = 0; r < bh; r++)
        ui_fill(stdscr, y0 + r, x0, bw, A_NORMAL);
    WINDOW *box = derwin(stdscr, bh, bw, y0, x0);
    if (!box)
        return;
    ui_frame(box, "Quit", true);
    ui_put(box, 1, 2, bw - 4, l1, A_BOLD);
    ui_put(box, 3, 2, bw - 4, l2, A_NORMAL);
    delwin(box);
}

static void draw_panel(struct ui_app *a, int i)
{
    struct ui_panel *p = a->panels[i];
    if (!p->win)
        return;
    char title[256];
    p->cls->title(p, title, sizeof title);
    ui_frame(p->win, title, i == a->focus);
    p->cls->draw(p, p->win, i == a->focus && a->overlay != UI_OVERLAY_PROMPT);
}

static void draw(struct ui_app *a)
{
    werase(stdscr);
    if (LINES < 10 || COLS < 40) {
        ui_put(stdscr, 0, 0, COLS, "nncw: terminal too small", A_BOLD);
        ui_put(stdscr, 1, 0, COLS, "(40x10 at least; q quits)", A_NORMAL);
    } else {
        draw_title(a);
        if (!wide())
            draw_tabs(a);
        for (int i = 0; i < UI_PANEL_COUNT; i++)
            draw_panel(a, i);
        draw_status(a);
        if (a->overlay == UI_OVERLAY_HELP)
            ui_help_draw(stdscr, a->panels[a->focus], &a->help_scroll);
        else if (a->overlay == UI_OVERLAY_FORM)
            ui_form_draw(a->form, stdscr);
        else if (a->overlay == UI_OVERLAY_CONFIRM)
            draw_confirm(a);
    }
    touchwin(stdscr);
    wnoutrefresh(stdscr);
    doupdate();
}

/* ---- updates from the session ---- */

static bool poll_session(struct ui_app *a)
{
    bool changed = false;
    struct session_status st;
    session_get_status(a->session, &st);
    if (memcmp(&st, &a->status, sizeof st) != 0)
        changed = true;
    if (st.errors != a->seen_errors && st.last_error[0]) { /* the Log has it already */
        char text[300];
        bool cancelled = strstr(st.last_error, "interrupted") != NULL;
        snprintf(text, sizeof text, "%s: %s", cancelled ? "cancelled" : "error", st.last_error);
        show_message(a, cancelled ? UI_STYLE_WARN : UI_STYLE_ERROR, text);
        a->seen_errors = st.errors;
    }
    a->status = st;
    struct graph_view *v = session_get_graph(a->session);
    if (v != a->view) {
        graph_view_release(a->view);
        a->view = v;
        a->view_serial++;
        changed = true;
    } else {
        graph_view_release(v);
    }
    changed |= train_history_copy(session_history(a->session), &a->train);
    struct compression_view *cv = session_get_compression(a->session);
    if (cv != a->cview) {
        compression_view_release(a->cview);
        a->cview = cv;
        a->cview_serial++;
        changed = true;
    } else {
        compression_view_release(cv);
    }
    changed |= compression_trace_copy(session_compression_trace(a->session), &a->comp_series);
    if (a->scope_pattern[0] && a->scope_serial != a->view_serial) /* a new graph: match again */
        ui_app_set_scope_pattern(a, a->scope_pattern);
    for (int i = 0; i < UI_PANEL_COUNT; i++)
        changed |= a->panels[i]->cls->update(a->panels[i]);
    if (a->message[0] && ui_app_now_ms() >= a->message_until) {
        a->message[0] = '\0';
        changed = true;
    }
    return changed;
}

/* ---- keys ---- */

static void request_quit(struct ui_app *a)
{
    a->quit = false;
    if (a->status.busy || a->status.queued)
        a->overlay = UI_OVERLAY_CONFIRM;
    else
        a->quit = true;
}

static void run_action(struct ui_app *a, enum ui_action action)
{
    switch (action) {
    case UI_ACTION_HELP:
        a->overlay = UI_OVERLAY_HELP;
        a->help_scroll = 0;
        break;
    case UI_ACTION_NEXT_PANEL:
    case UI_ACTION_PREV_PANEL:
        a->focus =
            (a->focus + (action == UI_ACTION_NEXT_PANEL ? 1 : UI_PANEL_COUNT - 1)) % UI_PANEL_COUNT;
        break;
    case UI_ACTION_SEARCH:
        ui_app_prompt(a, UI_PROMPT_SEARCH, "");
        break;
    case UI_ACTION_TRAIN:
        a->overlay = UI_OVERLAY_FORM;
        a->form->error[0] = '\0';
        a->form->focus = 0;
        a->form->fresh = true; /* typing replaces the first field's value */
        break;
    case UI_ACTION_CANCEL:
        ui_action_cancel(a);
        break;
    case UI_ACTION_PAUSE:
        ui_action_pause(a, -1);
        break;
    case UI_ACTION_SAVE:
        ui_app_prompt(a, UI_PROMPT_COMMAND, "save nncw-session.lua");
        break;
    case UI_ACTION_OPEN:
        ui_app_prompt(a, UI_PROMPT_OPEN, "");
        break;
    case UI_ACTION_COMMAND:
        ui_app_prompt(a, UI_PROMPT_COMMAND, "");
        break;
    case UI_ACTION_ZOOM:
        a->zoom = !a->zoom;
        break;
    case UI_ACTION_QUIT:
        request_quit(a);
        break;
    case UI_ACTION_REDRAW:
        clearok(curscr, TRUE);
        break;
    case UI_ACTION_COMPRESS:
        ui_app_prompt(a, UI_PROMPT_COMMAND, "compress configs/quantization/");
        break;
    default:
        if (action >= UI_ACTION_PANEL_1 && action < UI_ACTION_PANEL_1 + UI_PANEL_COUNT)
            a->focus = (int)(action - UI_ACTION_PANEL_1);
        break;
    }
    a->relayout = true;
}

static void prompt_key(struct ui_app *a, int key)
{
    switch (ui_line_editor_key(&a->prompt, key)) {
    case UI_EDIT_SUBMIT: {
        char line[UI_LINE_MAX];
        snprintf(line, sizeof line, "%s", a->prompt.buf);
        a->overlay = UI_OVERLAY_NONE;
        if (a->prompt_kind == UI_PROMPT_SEARCH)
            ui_action_search(a, line, 0);
        else if (a->prompt_kind == UI_PROMPT_OPEN)
            ui_action_open(a, line);
        else
            ui_action_command(a, line);
        if (a->quit)
            request_quit(a);
        a->relayout = true;
        break;
    }
    case UI_EDIT_CANCEL:
        a->overlay = UI_OVERLAY_NONE;
        break;
    default:
        break;
    }
}

static void form_key(struct ui_app *a, int key)
{
    switch (ui_form_key(a->form, key)) {
    case UI_FORM_SUBMIT: {
        char code[1024];
        ui_train_form_lua(a->form, ui_app_compression(a) ? "comp" : NULL, code, sizeof code);
        if (ui_app_run_lua(a, code, "train")) {
            a->overlay = UI_OVERLAY_NONE;
            ui_app_message(a, UI_STYLE_NORMAL, "training started (x, F8 or Ctrl-C cancels)");
        }
        break;
    }
    case UI_FORM_CANCEL:
        a->overlay = UI_OVERLAY_NONE;
        break;
    default:
        break;
    }
}

static void overlay_key(struct ui_app *a, int key)
{
    switch (a->overlay) {
    case UI_OVERLAY_HELP:
        if (key == UI_KEY_FN(KEY_DOWN) || key == 'j' || key == UI_KEY_FN(KEY_NPAGE))
            a->help_scroll += key == UI_KEY_FN(KEY_NPAGE) ? 10 : 1;
        else if (key == UI_KEY_FN(KEY_UP) || key == 'k' || key == UI_KEY_FN(KEY_PPAGE))
            a->help_scroll -= key == UI_KEY_FN(KEY_PPAGE) ? 10 : 1;
        else
            a->overlay = UI_OVERLAY_NONE;
        break;
    case UI_OVERLAY_CONFIRM:
        if (key == 'y' || key == 'Y') {
            session_cancel(a->session);
            a->quit = true;
            ui_app_message(a, UI_STYLE_WARN, "cancelling, then quitting");
        }
        a->overlay = UI_OVERLAY_NONE;
        break;
    case UI_OVERLAY_FORM:
        form_key(a, key);
        break;
    case UI_OVERLAY_PROMPT:
        prompt_key(a, key);
        break;
    default:
        break;
    }
}

/* which panel's window holds the screen position, or -1 */
static int panel_at(struct ui_app *a, int y, int x)
{
    for (int i = 0; i < UI_PANEL_COUNT; i++) {
        WINDOW *w = a->panels[i]->win;
        if (w && y >= getbegy(w) && y < getbegy(w) + getmaxy(w) && x >= getbegx(w) &&
            x < getbegx(w) + getmaxx(w))
            return i;
    }
    return -1;
}

static void mouse_key(struct ui_app *a)
{
    MEVENT ev;
    if (getmouse(&ev) != OK || a->overlay != UI_OVERLAY_NONE)
        return;
    if (!wide() && ev.y == 1) { /* the tab row */
        int x = 0;
        for (int i = 0; i < UI_PANEL_COUNT; i++) {
            char label[32];
            tab_label(a, i, label, sizeof label);
            x += (int)strlen(label) + 1;
            if (ev.x < x) {
                a->focus = i;
                a->relayout = true;
                return;
            }
        }
    }
    int i = panel_at(a, ev.y, ev.x);
    if (i < 0)
        return;
    struct ui_panel *p = a->panels[i];
    int wheel = ev.bstate & BUTTON4_PRESSED ? -1 : ev.bstate & BUTTON5_PRESSED ? 1 : 0;
    if (!wheel)
        a->focus = i;
    if (p->cls->mouse)
        p->cls->mouse(p, ev.y - getbegy(p->win), ev.x - getbegx(p->win), wheel);
}

static void handle_key(struct ui_app *a, int key)
{
    a->dirty = true;
    if (key == UI_KEY_FN(KEY_RESIZE)) {
        a->relayout = true;
        return;
    }
    if (key == UI_KEY_FN(KEY_MOUSE)) {
        mouse_key(a);
        a->relayout = true;
        return;
    }
    if (a->overlay != UI_OVERLAY_NONE) {
        overlay_key(a, key);
        return;
    }
    struct ui_panel *p = a->panels[a->focus];
    if (p->cls->handle_key && p->cls->handle_key(p, key) != UI_IGNORED)
        return;
    enum ui_action action = ui_keys_action(key);
    if (action != UI_ACTION_NONE)
        run_action(a, action);
}

/* ---- the loop ---- */

static int create_panels(struct ui_app *a)
{
    struct ui_panel *(*const make[UI_PANEL_COUNT])(struct ui_app *) = {
        ui_graph_panel_new,      ui_inspector_panel_new, ui_training_panel_new,
        ui_console_panel_new,    ui_log_panel_new,       ui_quantizers_panel_new,
        ui_scopes_panel_new,     ui_pruning_panel_new,
        ui_search_panel_new, /* UI_PANEL_SEARCH */
    };
    for (int i = 0; i < UI_PANEL_COUNT; i++)
        if (!(a->panels[i] = make[i](a)))
            return -1;
    a->form = ui_train_form_new();
    return a->form ? 0 : -1;
}

/* the panels' windows go before the screen they belong to */
static void drop_windows(struct ui_app *a)
{
    for (int i = 0; i < UI_PANEL_COUNT; i++)
        if (a->panels[i] && a->panels[i]->win) {
            delwin(a->panels[i]->win);
            a->panels[i]->win = NULL;
        }
}

static void destroy(struct ui_app *a)
{
    for (int i = 0; i < UI_PANEL_COUNT; i++)
        if (a->panels[i])
            a->panels[i]->cls->destroy(a->panels[i]);
    ui_train_form_free(a->form);
    ui_line_editor_fini(&a->prompt);
    graph_view_release(a->view);
    compression_view_release(a->cview);
    compression_series_fini(&a->comp_series);
    free(a->scope_hit);
    train_snapshot_fini(&a->train);
}

/* after a quit signal: cancel, give running work a moment to stop */
static void wind_down(struct ui_app *a)
{
    session_cancel(a->session);
    for (int i = 0; i < 200; i++) {
        session_get_status(a->session, &a->status);
        if (!a->status.busy)
            break;
        napms(25);
    }
}

static void loop(struct ui_app *a)
{
    wtimeout(stdscr, FRAME_MS);
    for (;;) {
        if (ui_term_signal()) {
            wind_down(a);
            return;
        }
        if (poll_session(a))
            a->dirty = true;
        if (a->status.quit)
            request_quit(a);
        if (a->quit && !a->status.busy && !a->status.queued)
            return;
        if (a->relayout) {
            layout(a);
            a->relayout = false;
            a->dirty = true;
        }
        if (a->dirty) {
            draw(a);
            a->dirty = false;
        }
        int key = ui_key_read(stdscr);
        if (key != ERR)
            handle_key(a, key);
    }
}

int ui_run(struct session *s, int tty_fd)
{
    char err[256];
    if (ui_term_open(tty_fd, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct ui_app a;
    memset(&a, 0, sizeof a);
    a.session = s;
    a.selected = -1;
    a.relayout = true;
    a.lower_left = UI_PANEL_INSPECTOR;
    ui_line_editor_init(&a.prompt, 0);
    int rc = 0;
    if (create_panels(&a) != 0) {
        ui_term_close();
        fputs("nncw: out of memory\n", stderr);
        rc = 1;
    } else {
        loop(&a);
        int sig = ui_term_signal();
        drop_windows(&a);
        ui_term_close();
        rc = sig ? 128 + sig : 0;
    }
    destroy(&a);
    return rc;
}

void ui_emergency_restore(void)
{
    ui_term_emergency();
}
