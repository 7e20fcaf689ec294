/* The Scopes panel: a scope or "{re}" pattern typed here highlights the nodes it names in the
 * Graph as it is typed; Enter adds it to the ignored scopes of a config entry (comp:ignore),
 * Delete removes the selected ignored scope (comp:unignore). Both rebuild the compression, so
 * the Quantizers panel and the graph's marks change with them. */
#include "panels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../draw.h"
#include "../widgets/text_view.h"

struct scope_row {
    int entry;           /* 0-based config entry */
    const char *pattern; /* NULL: the entry's title row */
    bool target;         /* a target scope (shown, not removable here) */
};

struct scopes_panel {
    struct ui_panel base;
    struct ui_line_editor edit;
    int entry; /* where Enter adds the pattern (0-based) */
    unsigned serial;
    struct scope_row *rows;
    int n_rows, cap_rows;
    struct ui_scroll pos; /* over rows */
};

static const struct ui_key_help scopes_keys[] = {
    {"typing", "a scope (CNN/conv1) or {re}regex: the Graph marks matching nodes with »"},
    {"Enter", "ignore it: comp:ignore(pattern[, entry]) (the compression is rebuilt)"},
    {"^T", "the config entry Enter adds to (several algorithms)"},
    {"Up Down", "select an ignored scope"},
    {"Del ^D", "remove the selected ignored scope: comp:unignore(pattern[, entry])"},
    {"Esc", "leave the panel (letters are keys again); the pattern stays highlighted"},
    {NULL, NULL},
};

static struct scopes_panel *sp(struct ui_panel *p)
{
    return (struct scopes_panel *)p;
}

static bool add_row(struct scopes_panel *s, struct scope_row r)
{
    if (s->n_rows == s->cap_rows) {
        int cap = s->cap_rows ? 2 * s->cap_rows : 32;
        struct scope_row *grown = realloc(s->rows, sizeof *grown * (size_t)cap);
        if (!grown)
            return false;
        s->rows = grown;
        s->cap_rows = cap;
    }
    s->rows[s->n_rows++] = r;
    return true;
}

/* the list: per entry a title row, its ignored scopes, then its target scopes */
static void rebuild(struct scopes_panel *s)
{
    const struct compression_view *cv = ui_app_compression(s->base.app);
    s->n_rows = 0;
    for (int e = 0; cv && e < cv->n_entries; e++) {
        const struct compression_view_entry *ce = &cv->entries[e];
        add_row(s, (struct scope_row){.entry = e});
        for (int i = 0; i < ce->n_ignored; i++)
            add_row(s, (struct scope_row){.entry = e, .pattern = ce->ignored[i]});
        for (int i = 0; i < ce->n_target; i++)
            add_row(s, (struct scope_row){.entry = e, .pattern = ce->target[i], .target = true});
    }
    if (cv && s->entry >= cv->n_entries)
        s->entry = 0;
    s->pos.n = s->n_rows;
    ui_scroll_clamp(&s->pos);
}

static bool update(struct ui_panel *p)
{
    struct scopes_panel *s = sp(p);
    if (s->serial == p->app->cview_serial)
        return false;
    s->serial = p->app->cview_serial;
    rebuild(s);
    return true;
}

static const struct scope_row *selected(const struct scopes_panel *s)
{
    return s->pos.sel >= 0 && s->pos.sel < s->n_rows ? &s->rows[s->pos.sel] : NULL;
}

static enum ui_result remove_selected(struct scopes_panel *s)
{
    const struct scope_row *r = selected(s);
    if (!r || !r->pattern || r->target) {
        ui_app_message(s->base.app, UI_STYLE_WARN,
                       "select an ignored scope (Up/Down) to remove it");
        return UI_REDRAW;
    }
    ui_action_ignore(s->base.app, r->pattern, r->entry + 1, false);
    return UI_REDRAW;
}

static enum ui_result submit(struct scopes_panel *s)
{
    struct ui_app *a = s->base.app;
    if (!s->edit.buf[0])
        return UI_REDRAW;
    if (a->scope_hits < 0) { /* the engine would refuse it the same way */
        ui_app_message(a, UI_STYLE_ERROR, "%s", a->scope_error);
        return UI_REDRAW;
    }
    if (a->scope_hits == 0)
        ui_app_message(a, UI_STYLE_WARN, "no node matches %s (ignored anyway)", s->edit.buf);
    ui_action_ignore(a, s->edit.buf, s->entry + 1, true);
    ui_line_editor_history_add(&s->edit, s->edit.buf);
    ui_line_editor_set(&s->edit, "");
    ui_app_set_scope_pattern(a, "");
    return UI_REDRAW;
}

static enum ui_result handle_key(struct ui_panel *p, int key)
{
    struct scopes_panel *s = sp(p);
    struct ui_app *a = p->app;
    switch (key) {
    case UI_KEY_ESC:
        ui_app_focus(a, UI_PANEL_GRAPH);
        return UI_REDRAW;
    case UI_KEY_FN(KEY_DC):
    case UI_KEY_CTRL('d'):
        return remove_selected(s);
    case UI_KEY_CTRL('t'): {
        const struct compression_view *cv = ui_app_compression(a);
        if (cv && cv->n_entries)
            s->entry = (s->entry + 1) % cv->n_entries;
        return UI_REDRAW;
    }
    case UI_KEY_FN(KEY_UP):
    case UI_KEY_FN(KEY_DOWN):
    case UI_KEY_FN(KEY_PPAGE):
    case UI_KEY_FN(KEY_NPAGE):
        ui_scroll_key(&s->pos, key);
        return UI_REDRAW;
    default:
        break;
    }
    switch (ui_line_editor_key(&s->edit, key)) {
    case UI_EDIT_SUBMIT:
        return submit(s);
    case UI_EDIT_CHANGED:
        ui_app_set_scope_pattern(a, s->edit.buf); /* live: the Graph follows each key */
        return UI_REDRAW;
    case UI_EDIT_CANCEL:
        ui_app_focus(a, UI_PANEL_GRAPH);
        return UI_REDRAW;
    default:
        return UI_IGNORED;
    }
}

static enum ui_result mouse(struct ui_panel *p, int row, int col, int wheel)
{
    struct scopes_panel *s = sp(p);
    (void)col;
    if (wheel)
        ui_scroll_by(&s->pos, 3 * wheel);
    else if (row >= 4)
        ui_scroll_select(&s->pos, s->pos.top + row - 4);
    return UI_REDRAW;
}

static void draw(struct ui_panel *p, WINDOW *w, bool focused)
{
    struct scopes_panel *s = sp(p);
    struct ui_app *a = p->app;
    int h = getmaxy(w) - 2, width = getmaxx(w) - 2;
    const struct compression_view *cv = ui_app_compression(a);
    int pw = ui_put(w, 1, 1, width, "scope: ", ui_style(UI_STYLE_INPUT) | A_BOLD);
    ui_line_editor_draw(&s->edit, w, 1, 1 + pw, width - pw, A_NORMAL, focused);
    if (a->scope_pattern[0] && a->scope_hits < 0)
        ui_put(w, 2, 1, width, a->scope_error, ui_style(UI_STYLE_ERROR));
    else if (a->scope_pattern[0])
        ui_putf(w, 2, 1, width, ui_style(UI_STYLE_MATCH), "%d node%s match%s (» in the Graph)",
                a->scope_hits, a->scope_hits == 1 ? "" : "s", a->scope_hits == 1 ? "es" : "");
    else
        ui_put(w, 2, 1, width, "a scope or {re}regex; Enter ignores it", ui_style(UI_STYLE_DIM));
    if (!cv) {
        ui_put(w, 4, 1, width, "no compression of `model`: F4 (or :compress FILE) applies one",
               A_NORMAL);
        return;
    }
    ui_putf(w, 3, 1, width, ui_style(UI_STYLE_HEADER), "Enter adds to entry %d (%s)%s",
            s->entry + 1, cv->n_entries ? cv->entries[s->entry].algorithm : "-",
            cv->n_entries > 1 ? "; ^T: another" : "");
    s->pos.page = h - 3;
    s->pos.n = s->n_rows;
    ui_scroll_clamp(&s->pos);
    for (int i = 0; i < s->pos.page && s->pos.top + i < s->n_rows; i++) {
        int r = s->pos.top + i, y = 4 + i;
        const struct scope_row *row = &s->rows[r];
        bool sel = r == s->pos.sel;
        attr_t base = sel ? ui_style(UI_STYLE_SELECTED) : A_NORMAL;
        if (sel)
            ui_fill(w, y, 1, width, base);
        if (!row->pattern) {
            const struct compression_view_entry *e = &cv->entries[row->entry];
            ui_putf(w, y, 1, width, base | A_BOLD, "%d %s: %d ignored, %d target", row->entry + 1,
                    e->algorithm, e->n_ignored, e->n_target);
        } else {
            ui_putf(w, y, 1, width, base | (row->target ? ui_style(UI_STYLE_DIM) : 0), "  %s %s",
                    row->target ? "target " : "ignored", row->pattern);
        }
    }
}

static void title(struct ui_panel *p, char *buf, size_t size)
{
    const struct compression_view *cv = ui_app_compression(p->app);
    int n = 0;
    for (int e = 0; cv && e < cv->n_entries; e++)
        n += cv->entries[e].n_ignored;
    if (cv)
        snprintf(buf, size, "Scopes  %d ignored, %d quantizers; Esc leaves", n, cv->n_quantizers);
    else
        snprintf(buf, size, "Scopes");
}

static void destroy(struct ui_panel *p)
{
    struct scopes_panel *s = sp(p);
    ui_line_editor_fini(&s->edit);
    free(s->rows);
    free(s);
}

static const struct ui_panel_class scopes_class = {
    .name = "Scopes",
    .title = title,
    .draw = draw,
    .handle_key = handle_key,
    .mouse = mouse,
    .update = update,
    .destroy = destroy,
    .keys = scopes_keys,
};

struct ui_panel *ui_scopes_panel_new(struct ui_app *a)
{
    struct scopes_panel *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base.cls = &scopes_class;
    s->base.app = a;
    s->pos.cursor = true;
    ui_line_editor_init(&s->edit, 100);
    return &s->base;
}
