/* The Quantizers panel: the compression's quantizers as a sortable table (id, W/A, bits, mode,
 * signed, per-channel, range, unified group, alternatives), edited in place: each edit is a
 * comp:set(...) line, so the engine checks it against the hardware config and a refusal shows
 * its message and changes nothing. */
#include "panels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../draw.h"
#include "../quant_table.h"
#include "../widgets/text_view.h"

enum { EDIT_BITS, EDIT_MODE, EDIT_PER_CHANNEL, EDIT_FIELDS };

struct quantizers_panel {
    struct ui_panel base;
    const struct compression_view *cv; /* the app's view this order was made for */
    unsigned serial;
    int *order;
    int cap;
    enum ui_quant_column key;
    bool desc;
    struct ui_scroll pos;
    char sel_id[256]; /* the selection follows its quantizer across edits and re-sorts */
    bool editing;
    int field;                                /* EDIT_* */
    struct nncw_quantizer_info draft;         /* the row's values while editing */
    int x[UI_QCOL_COUNT + 1], w[UI_QCOL_COUNT]; /* where the columns were drawn (0: hidden) */
};

static const struct ui_key_help quantizers_keys[] = {
    {"Up Down PgUp PgDn", "select a quantizer; Home/End: first/last"},
    {"< >", "sort by the previous / next column (the title shows which)"},
    {"r", "reverse the order"},
    {"Enter e", "edit the row: Left/Right pick bits, mode or per-channel"},
    {"  (editing)", "Up/Down or +/- change it, 2-8 set the bits, Enter applies, Esc cancels"},
    {"apply", "runs comp:set(id, {...}); the hardware config may refuse (status line)"},
    {"F4", "no compression yet: :compress FILE applies a config to `model`"},
    {NULL, NULL},
};

static struct quantizers_panel *qp(struct ui_panel *p)
{
    return (struct quantizers_panel *)p;
}

static const struct compression_view *view(const struct quantizers_panel *q)
{
    return ui_app_compression(q->base.app);
}

/* the row's quantizer */
static const struct nncw_quantizer_info *row_info(const struct quantizers_panel *q, int row)
{
    const struct compression_view *cv = view(q);
    return cv && row >= 0 && row < cv->n_quantizers ? &cv->quantizers[q->order[row]] : NULL;
}

static void resort(struct quantizers_panel *q)
{
    const struct compression_view *cv = view(q);
    int n = cv ? cv->n_quantizers : 0;
    if (n > q->cap) {
        int *o = realloc(q->order, sizeof *o * (size_t)n);
        if (!o)
            n = 0;
        else
            q->order = o, q->cap = n;
    }
    if (n)
        ui_quant_sort(cv->quantizers, n, q->key, q->desc, q->order);
    q->pos.n = n;
    for (int r = 0; r < n; r++) /* keep the selected quantizer selected */
        if (!strcmp(row_info(q, r)->id, q->sel_id))
            q->pos.sel = r;
    ui_scroll_clamp(&q->pos);
}

static void remember_selection(struct quantizers_panel *q)
{
    const struct nncw_quantizer_info *i = row_info(q, q->pos.sel);
    snprintf(q->sel_id, sizeof q->sel_id, "%s", i ? i->id : "");
}

static bool update(struct ui_panel *p)
{
    struct quantizers_panel *q = qp(p);
    if (q->serial == p->app->cview_serial && q->cv == view(q))
        return false;
    q->serial = p->app->cview_serial;
    q->cv = view(q);
    q->editing = false; /* the engine answered: the row shows what it is now */
    resort(q);
    return true;
}

/* ---- editing ---- */

static void change(struct quantizers_panel *q, int by)
{
    struct nncw_quantizer_info *d = &q->draft;
    switch (q->field) {
    case EDIT_BITS:
        d->bits += by;
        d->bits = d->bits < 2 ? 2 : d->bits > 8 ? 8 : d->bits;
        break;
    case EDIT_MODE:
        d->asymmetric = !d->asymmetric;
        break;
    default:
        d->per_channel = !d->per_channel;
        break;
    }
}

static enum ui_result apply(struct quantizers_panel *q)
{
    const struct nncw_quantizer_info *now = row_info(q, q->pos.sel);
    q->editing = false;
    if (!now)
        return UI_REDRAW;
    struct nncw_quantizer_change ch = {
        .bits = q->draft.bits != now->bits ? q->draft.bits : 0,
        .mode = q->draft.asymmetric != now->asymmetric ? q->draft.asymmetric : -1,
        .per_channel = q->draft.per_channel != now->per_channel ? q->draft.per_channel : -1,
    };
    if (!ch.bits && ch.mode < 0 && ch.per_channel < 0) {
        ui_app_message(q->base.app, UI_STYLE_NORMAL, "%s: nothing changed", now->id);
        return UI_REDRAW;
    }
    ui_action_set_quantizers(q->base.app, now->id, &ch);
    return UI_REDRAW;
}

static enum ui_result edit_key(struct quantizers_panel *q, int key)
{
    switch (key) {
    case UI_KEY_ESC:
        q->editing = false;
        return UI_REDRAW;
    case '\r':
    case '\n':
    case UI_KEY_FN(KEY_ENTER):
        return apply(q);
    case UI_KEY_FN(KEY_LEFT):
    case 'h':
        q->field = (q->field + EDIT_FIELDS - 1) % EDIT_FIELDS;
        return UI_REDRAW;
    case UI_KEY_FN(KEY_RIGHT):
    case 'l':
    case '\t':
        q->field = (q->field + 1) % EDIT_FIELDS;
        return UI_REDRAW;
    case UI_KEY_FN(KEY_UP):
    case '+':
    case 'k':
        change(q, 1);
        return UI_REDRAW;
    case UI_KEY_FN(KEY_DOWN):
    case '-':
    case 'j':
        change(q, -1);
        return UI_REDRAW;
    default:
        if (key >= '2' && key <= '8') {
            q->field = EDIT_BITS;
            q->draft.bits = key - '0';
        }
        return UI_HANDLED; /* editing keeps the keys (no panel switching by accident) */
    }
}

/* ---- keys and mouse ---- */

static void sort_by(struct quantizers_panel *q, enum ui_quant_column key, bool desc)
{
    remember_selection(q);
    q->key = key;
    q->desc = desc;
    resort(q);
    ui_app_message(q->base.app, UI_STYLE_NORMAL, "quantizers sorted by %s (%s)",
                   ui_quant_column_title(key), desc ? "descending" : "ascending");
}

static enum ui_result handle_key(struct ui_panel *p, int key)
{
    struct quantizers_panel *q = qp(p);
    if (q->editing)
        return edit_key(q, key);
    if (ui_scroll_key(&q->pos, key)) {
        remember_selection(q);
        return UI_REDRAW;
    }
    switch (key) {
    case '<':
    case '>':
        sort_by(q, (q->key + (key == '>' ? 1 : UI_QCOL_COUNT - 1)) % UI_QCOL_COUNT, q->desc);
        return UI_REDRAW;
    case 'r':
        sort_by(q, q->key, !q->desc);
        return UI_REDRAW;
    case '\r':
    case '\n':
    case 'e':
    case UI_KEY_FN(KEY_ENTER): {
        const struct nncw_quantizer_info *i = row_info(q, q->pos.sel);
        if (!i) {
            ui_app_message(p->app, UI_STYLE_WARN,
                           "no quantizers: F4 (or :compress FILE) applies a config");
            return UI_REDRAW;
        }
        q->draft = *i;
        q->editing = true;
        q->field = EDIT_BITS;
        remember_selection(q);
        return UI_REDRAW;
    }
    default:
        return UI_IGNORED;
    }
}

static enum ui_result mouse(struct ui_panel *p, int row, int col, int wheel)
{
    struct quantizers_panel *q = qp(p);
    if (wheel) {
        ui_scroll_by(&q->pos, 3 * wheel);
    } else if (row == 1) { /* a click on a column title sorts by it (again: reverses) */
        for (int c = 0; c < UI_QCOL_COUNT; c++)
            if (q->w[c] && col >= q->x[c] && col < q->x[c] + q->w[c])
                sort_by(q, c, c == (int)q->key ? !q->desc : false);
    } else if (row >= 2 && !q->editing) {
        ui_scroll_select(&q->pos, q->pos.top + row - 2);
    }
    remember_selection(q);
    return UI_REDRAW;
}

/* ---- drawing ---- */

/* column positions: the id takes what the others leave; the least useful go when narrow */
static void columns(struct quantizers_panel *q, int width)
{
    static const enum ui_quant_column drop[] = {UI_QCOL_ALTS, UI_QCOL_GROUP, UI_QCOL_SIGNED,
                                                UI_QCOL_LOW, UI_QCOL_HIGH};
    int fixed = 0;
    for (int c = 1; c < UI_QCOL_COUNT; c++) {
        q->w[c] = ui_quant_column_width(c);
        fixed += q->w[c] + 1;
    }
    for (size_t i = 0; i < sizeof drop / sizeof *drop && width - fixed < 16; i++) {
        fixed -= q->w[drop[i]] + 1;
        q->w[drop[i]] = 0;
    }
    q->w[UI_QCOL_ID] = width - fixed > 4 ? width - fixed : 4;
    int x = 1;
    for (int c = 0; c < UI_QCOL_COUNT; c++) {
        q->x[c] = x;
        x += q->w[c] ? q->w[c] + 1 : 0;
    }
}

static bool numeric(enum ui_quant_column c)
{
    return c == UI_QCOL_BITS || c == UI_QCOL_PER_CHANNEL || c == UI_QCOL_LOW ||
           c == UI_QCOL_HIGH || c == UI_QCOL_GROUP || c == UI_QCOL_ALTS;
}

static void draw_header(struct quantizers_panel *q, WINDOW *w)
{
    attr_t hdr = ui_style(UI_STYLE_HEADER);
    for (int c = 0; c < UI_QCOL_COUNT; c++) {
        if (!q->w[c])
            continue;
        char t[32];
        const char *arrow = c != (int)q->key ? ""
                            : ui_term_utf8() ? (q->desc ? "▼" : "▲")
                                             : (q->desc ? "v" : "^");
        snprintf(t, sizeof t, "%s%s", ui_quant_column_title(c), arrow);
        if (numeric(c))
            ui_put_right(w, 1, q->x[c] + q->w[c], q->w[c], t, hdr | (*arrow ? A_BOLD : 0));
        else
            ui_put(w, 1, q->x[c], q->w[c], t, hdr | (*arrow ? A_BOLD : 0));
    }
}

static void draw_row(struct quantizers_panel *q, WINDOW *w, int y, int width, int r, bool focused)
{
    const struct nncw_quantizer_info *i = row_info(q, r);
    bool selected = r == q->pos.sel, editing = selected && q->editing;
    attr_t base = selected ? ui_style(focused ? UI_STYLE_SELECTED : UI_STYLE_HEADER) : A_NORMAL;
    if (selected)
        ui_fill(w, y, 1, width, base);
    const struct nncw_quantizer_info *shown = editing ? &q->draft : i;
    static const enum ui_quant_column editable[EDIT_FIELDS] = {UI_QCOL_BITS, UI_QCOL_MODE,
                                                               UI_QCOL_PER_CHANNEL};
    for (int c = 0; c < UI_QCOL_COUNT; c++) {
        if (!q->w[c])
            continue;
        char cell[256];
        ui_quant_cell(shown, c, cell, sizeof cell);
        attr_t a = base;
        if (c == UI_QCOL_KIND)
            a |= ui_style(shown->is_weight ? UI_STYLE_SERIES1 : UI_STYLE_SERIES2);
        if (editing && c == (int)editable[q->field])
            a = ui_style(UI_STYLE_INPUT) | A_REVERSE | A_BOLD;
        if (numeric(c))
            ui_put_right(w, y, q->x[c] + q->w[c], q->w[c], cell, a);
        else
            ui_put(w, y, q->x[c], q->w[c], cell, a);
    }
}

static void draw(struct ui_panel *p, WINDOW *w, bool focused)
{
    struct quantizers_panel *q = qp(p);
    int h = getmaxy(w) - 2, width = getmaxx(w) - 2;
    const struct compression_view *cv = view(q);
    if (!cv) {
        ui_put(w, 1, 1, width, "no compression of `model`", A_BOLD);
        ui_put(w, 2, 1, width, "F4 (or :compress FILE) applies a compression config,",
               A_NORMAL);
        ui_put(w, 3, 1, width, "e.g. configs/quantization/cnn_fashion_int8.json", A_NORMAL);
        ui_put(w, 4, 1, width, "it becomes the Lua global `comp`", ui_style(UI_STYLE_DIM));
        return;
    }
    columns(q, width);
    draw_header(q, w);
    q->pos.page = h - 2;
    q->pos.n = cv->n_quantizers;
    ui_scroll_clamp(&q->pos);
    for (int r = 0; r < q->pos.page && q->pos.top + r < cv->n_quantizers; r++)
        draw_row(q, w, 2 + r, width, q->pos.top + r, focused);
    if (!cv->n_quantizers)
        ui_put(w, 2, 1, width, "(this compression has no quantizers)", ui_style(UI_STYLE_DIM));
    const char *hint = q->editing ? "editing: Left/Right field, Up/Down or 2-8 change, Enter "
                                    "applies, Esc cancels"
                                  : "Enter: edit   < >: sort column   r: reverse";
    ui_put(w, h, 1, width, hint, ui_style(q->editing ? UI_STYLE_WARN : UI_STYLE_DIM));
}

static void title(struct ui_panel *p, char *buf, size_t size)
{
    const struct compression_view *cv = view(qp(p));
    if (!cv)
        snprintf(buf, size, "Quantizers");
    else
        snprintf(buf, size, "Quantizers  %d (%d W, %d A), by %s%s", cv->n_quantizers,
                 cv->n_weight_quantizers, cv->n_quantizers - cv->n_weight_quantizers,
                 ui_quant_column_title(qp(p)->key), qp(p)->desc ? " desc" : "");
}

static void destroy(struct ui_panel *p)
{
    free(qp(p)->order);
    free(p);
}

static const struct ui_panel_class quantizers_class = {
    .name = "Quantizers",
    .title = title,
    .draw = draw,
    .handle_key = handle_key,
    .mouse = mouse,
    .update = update,
    .destroy = destroy,
    .keys = quantizers_keys,
};

struct ui_panel *ui_quantizers_panel_new(struct ui_app *a)
{
    struct quantizers_panel *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->base.cls = &quantizers_class;
    q->base.app = a;
    q->pos.cursor = true;
    return &q->base;
}
