/*
 * Drawing helpers every panel uses: text clipped to a width in display columns (UTF-8 when
 * the terminal has it, '?' for other characters otherwise), frames with titles, and glyphs
 * with an ASCII stand-in.
 *
 *     ui_frame(win, "Graph  10 nodes", focused);
 *     int used = ui_put(win, 1, 1, width - 2, "CNN/conv1", ui_style(UI_STYLE_NORMAL));
 *     ui_glyph(win, 2, 5, "█", '#', ui_style(UI_STYLE_SERIES1));
 */
#pragma once

#include <stdbool.h>

#include <curses.h>

/* draws s at (y, x), at most max_cols columns; returns the columns used */
int ui_put(WINDOW *w, int y, int x, int max_cols, const char *s, attr_t a);
/* the same with printf formatting */
int ui_putf(WINDOW *w, int y, int x, int max_cols, attr_t a, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* s right-aligned so that it ends before column x_end */
void ui_put_right(WINDOW *w, int y, int x_end, int max_cols, const char *s, attr_t a);
/* n blanks with attribute a */
void ui_fill(WINDOW *w, int y, int x, int n, attr_t a);
/* display columns of s (as ui_put counts them) */
int ui_width(const char *s);
/* s after its first cols display columns (for wrapping) */
const char *ui_skip_cols(const char *s, int cols);
/* one glyph: utf8 on a UTF-8 terminal, ascii otherwise */
void ui_glyph(WINDOW *w, int y, int x, const char *utf8, char ascii, attr_t a);
/* the window's border with the title in its top edge; focused frames stand out */
void ui_frame(WINDOW *w, const char *title, bool focused);
