/*
 * A histogram drawn with block characters (eighths: ▁▂▃▄▅▆▇█) on a UTF-8 terminal, or
 * '.', ':' and '#' otherwise, with the value range under it. The Inspector shows each
 * weight's distribution with it.
 *
 *     ui_histogram_draw(win, y, x, 6, 50, w->bins, GRAPH_VIEW_BINS, w->lo, w->hi,
 *                       UI_STYLE_SERIES1);      // 5 rows of bars + 1 row of labels
 */
#pragma once

#include <stdint.h>

#include <curses.h>

#include "../term.h"

/* bars in h - 1 rows and labels in the last row of the h x width rectangle at (y, x) */
void ui_histogram_draw(WINDOW *w, int y, int x, int h, int width, const uint32_t *bins, int n_bins,
                       double lo, double hi, enum ui_style style);
/* the mean count per bin of each of cols columns over n_bins bins (cols <= n_bins), so that
 * columns covering more bins do not stand out; returns the largest. Pure */
double ui_histogram_columns(const uint32_t *bins, int n_bins, int cols, double *out);
/* how many columns to draw for this many values in width cells: about 2 sqrt(values) (8 at
 * least), as many as fill the width with equal-width columns, at most n_bins. Pure */
int ui_histogram_count_columns(int64_t values, int n_bins, int width);
