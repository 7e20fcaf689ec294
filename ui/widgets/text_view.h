/*
 * Scrolling, shared by the panels. A scrollable view of a line ring, newest at the bottom,
 * long lines wrapped: the Console's and the Log's scrollback. It follows new lines unless
 * scrolled back, and then stays put. And a list position (ui_scroll): a selected row kept in
 * view (Graph, Quantizers, Scopes, Pruning), or a plain scroll offset (Inspector).
 *
 *     struct ui_text_view v = {0};
 *     ui_text_view_draw(&v, ring, win, 1, 1, rows, cols);
 *     if (ui_text_view_key(&v, key, rows)) ...redraw...
 *
 *     struct ui_scroll s = {.cursor = true};
 *     s.n = rows_in_list; s.page = rows_on_screen;
 *     if (ui_scroll_key(&s, key)) ...redraw...       // Up/Down/PgUp/PgDn/Home/End, j k g G
 *     ui_scroll_clamp(&s);                          // before drawing rows s.top ...
 */
#pragma once

#include <stdbool.h>

#include <curses.h>

#include "line_ring.h"

struct ui_text_view {
    long scroll;   /* lines back from the newest; 0 follows new lines */
    long last_end; /* the ring's end at the last draw */
};

void ui_text_view_draw(struct ui_text_view *v, const struct line_ring *r, WINDOW *w, int y, int x,
                       int h, int width);
/* PgUp/PgDn (and Up/Down with lines true), Home/End; true when handled */
bool ui_text_view_key(struct ui_text_view *v, int key, int page, bool lines);
/* the mouse wheel */
void ui_text_view_scroll(struct ui_text_view *v, long by);

/* a position in a list of n rows of which page show */
struct ui_scroll {
    int sel;     /* the selected row (cursor lists) */
    int top;     /* the first row shown */
    int n, page; /* rows, and rows on the screen (set before keys and clamping) */
    bool cursor; /* keys move the selection (else they scroll) */
};

/* the movement keys (Up Down k j PgUp PgDn Home End g G); true when handled */
bool ui_scroll_key(struct ui_scroll *s, int key);
/* moves by rows (the mouse wheel, jumps) */
void ui_scroll_by(struct ui_scroll *s, int rows);
/* selects row r (clamped) and keeps it in view */
void ui_scroll_select(struct ui_scroll *s, int r);
/* keeps sel in 0..n-1 and in view, top in range; call before drawing */
void ui_scroll_clamp(struct ui_scroll *s);
