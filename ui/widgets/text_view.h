/*
 * A scrollable view of a line ring, newest at the bottom, long lines wrapped: the Console's
 * and the Log's scrollback. It follows new lines unless scrolled back, and then stays put.
 *
 *     struct ui_text_view v = {0};
 *     ui_text_view_draw(&v, ring, win, 1, 1, rows, cols);
 *     if (ui_text_view_key(&v, key, rows)) ...redraw...
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
