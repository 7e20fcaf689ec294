/*
 * Line charts with axes: braille dots (2x4 per cell) on a UTF-8 terminal, ASCII dots
 * (1x3 per cell: ' - . : |) otherwise. The Training panel plots loss per step and accuracy
 * per epoch with it; the whole run's history fits because points are rasterised, not
 * sampled.
 *
 *     double xs[] = {1, 2, 3}, ys[] = {2.3, 1.1, 0.7};
 *     struct ui_series s = {.x = xs, .y = ys, .n = 3, .style = UI_STYLE_SERIES1, .label = "train"};
 *     struct ui_chart_opts o = ui_chart_defaults();
 *     o.title = "loss";
 *     ui_chart_draw(win, 1, 1, 10, 60, &s, 1, &o);
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <curses.h>

#include "../term.h"

struct ui_series {
    const double *x, *y; /* n points; points with a NaN are skipped */
    int n;
    enum ui_style style;
    const char *label; /* in the legend */
};

/* a point drawn over the lines with its own glyph (the chosen point of a curve, a cursor) */
struct ui_chart_mark {
    double x, y;
    const char *glyph; /* UTF-8 */
    char ascii;        /* its stand-in */
    enum ui_style style;
};

struct ui_chart_opts {
    const char *title;
    const struct ui_chart_mark *marks; /* drawn in order, the last on top */
    int n_marks;
    double x_min, x_max, y_min, y_max; /* NaN: from the data */
    const char *x_unit;                /* after the last x label ("step") */
    const char *y_format;              /* printf format of y labels ("%.3f") */
};

struct ui_chart_opts ui_chart_defaults(void);
/* draws the chart in the h x width rectangle at (y, x) */
void ui_chart_draw(WINDOW *w, int y, int x, int h, int width, const struct ui_series *series,
                   int n_series, const struct ui_chart_opts *o);

/* rasterises series into cols x rows cells of sub_x x sub_y dots: bits[r * cols + c] gets dot
 * (dx, dy) of a cell as bit dy * sub_x + dx, owner[] the index of the last series drawn
 * there (-1: none). Points are joined by straight lines. Pure: no curses. */
void ui_chart_raster(const struct ui_series *series, int n_series, double x_min, double x_max,
                     double y_min, double y_max, int cols, int rows, int sub_x, int sub_y,
                     uint8_t *bits, int8_t *owner);
/* the cell (col, row) of the point (x, y) in a raster as ui_chart_raster makes it; false
 * when it lies outside. Pure */
bool ui_chart_cell(double x, double y, double x_min, double x_max, double y_min, double y_max,
                   int cols, int rows, int sub_x, int sub_y, int *col, int *row);
/* the data range of the series (NaN when there is no finite point) */
void ui_chart_range(const struct ui_series *series, int n_series, double *x_min, double *x_max,
                    double *y_min, double *y_max);
