/* Wrapped, scrollable views of line rings. */
#include "text_view.h"

#include <stdio.h>

#include "../draw.h"
#include "../keys.h"
#include "../term.h"

static attr_t kind_attr(enum line_kind k)
{
    switch (k) {
    case LINE_INPUT:
        return ui_style(UI_STYLE_INPUT);
    case LINE_ERROR:
        return ui_style(UI_STYLE_ERROR);
    case LINE_WARN:
        return ui_style(UI_STYLE_WARN);
    case LINE_INFO:
        return ui_style(UI_STYLE_DIM);
    default:
        return A_NORMAL;
    }
}

static int rows_of(const char *text, int width)
{
    int cols = ui_width(text);
    return cols <= width ? 1 : (cols + width - 1) / width;
}

void ui_text_view_draw(struct ui_text_view *v, const struct line_ring *r, WINDOW *w, int y, int x,
                       int h, int width)
{
    long first = line_ring_first(r), end = line_ring_end(r);
    if (v->scroll > 0 && v->last_end)
        v->scroll += end - v->last_end; /* scrolled back: stay on the same lines */
    v->last_end = end;
    if (v->scroll > end - first - 1)
        v->scroll = end - first - 1;
    if (v->scroll < 0)
        v->scroll = 0;
    if (width < 1)
        return;
    int row = y + h; /* one past the next row to fill, filling upwards */
    char text[4096];
    enum line_kind kind;
    for (long n = end - 1 - v->scroll; n >= first && row > y; n--) {
        if (!line_ring_get(r, n, &kind, text, sizeof text))
            break;
        int rows = rows_of(text, width);
        for (int k = rows - 1; k >= 0; k--) {
            if (--row < y)
                break;
            ui_put(w, row, x, width, ui_skip_cols(text, k * width), kind_attr(kind));
        }
    }
    if (v->scroll > 0) {
        char more[48];
        snprintf(more, sizeof more, " %ld newer line%s below (End) ", v->scroll,
                 v->scroll == 1 ? "" : "s");
        ui_put_right(w, y + h - 1, x + width, width, more, ui_style(UI_STYLE_SELECTED));
    }
}

void ui_text_view_scroll(struct ui_text_view *v, long by)
{
    v->scroll += by;
    if (v->scroll < 0)
        v->scroll = 0;
}

bool ui_text_view_key(struct ui_text_view *v, int key, int page, bool lines)
{
    long p = page > 2 ? page - 1 : 1;
    switch (key) {
    case UI_KEY_FN(KEY_PPAGE):
        ui_text_view_scroll(v, p);
        return true;
    case UI_KEY_FN(KEY_NPAGE):
        ui_text_view_scroll(v, -p);
        return true;
    case UI_KEY_FN(KEY_UP):
    case 'k':
        if (!lines)
            return false;
        ui_text_view_scroll(v, 1);
        return true;
    case UI_KEY_FN(KEY_DOWN):
    case 'j':
        if (!lines)
            return false;
        ui_text_view_scroll(v, -1);
        return true;
    case UI_KEY_FN(KEY_HOME):
    case 'g':
        if (!lines && key == 'g')
            return false;
        v->scroll = 1L << 40; /* clamped at the next draw */
        return true;
    case UI_KEY_FN(KEY_END):
    case 'G':
        if (!lines && key == 'G')
            return false;
        v->scroll = 0;
        return true;
    default:
        return false;
    }
}

/* ---- list positions ---- */

void ui_scroll_clamp(struct ui_scroll *s)
{
    int page = s->page > 0 ? s->page : 1;
    if (s->cursor) {
        if (s->sel >= s->n)
            s->sel = s->n - 1;
        if (s->sel < 0)
            s->sel = 0;
        if (s->sel < s->top)
            s->top = s->sel;
        if (s->sel >= s->top + page)
            s->top = s->sel - page + 1;
    }
    if (s->top > s->n - page)
        s->top = s->n - page;
    if (s->top < 0)
        s->top = 0;
}

void ui_scroll_by(struct ui_scroll *s, int rows)
{
    if (s->cursor)
        s->sel += rows;
    else
        s->top += rows;
    ui_scroll_clamp(s);
}

void ui_scroll_select(struct ui_scroll *s, int r)
{
    s->sel = r;
    ui_scroll_clamp(s);
}

bool ui_scroll_key(struct ui_scroll *s, int key)
{
    int page = s->page > 1 ? s->page - 1 : 1;
    switch (key) {
    case UI_KEY_FN(KEY_UP):
    case 'k':
        ui_scroll_by(s, -1);
        return true;
    case UI_KEY_FN(KEY_DOWN):
    case 'j':
        ui_scroll_by(s, 1);
        return true;
    case UI_KEY_FN(KEY_PPAGE):
        ui_scroll_by(s, -page);
        return true;
    case UI_KEY_FN(KEY_NPAGE):
        ui_scroll_by(s, page);
        return true;
    case UI_KEY_FN(KEY_HOME):
    case 'g':
        ui_scroll_by(s, -(s->n + 1));
        return true;
    case UI_KEY_FN(KEY_END):
    case 'G':
        ui_scroll_by(s, s->n + 1);
        return true;
    default:
        return false;
    }
}
