/* Line charts: rasterised to braille or ASCII dots, with y and x axis labels. */
#include "chart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../draw.h"

struct ui_chart_opts ui_chart_defaults(void)
{
    return (struct ui_chart_opts){
        .x_min = NAN, .x_max = NAN, .y_min = NAN, .y_max = NAN, .y_format = "%.3g"};
}

void ui_chart_range(const struct ui_series *series, int n_series, double *x_min, double *x_max,
                    double *y_min, double *y_max)
{
    *x_min = *x_max = *y_min = *y_max = NAN;
    for (int s = 0; s < n_series; s++)
        for (int i = 0; i < series[s].n; i++) {
            double x = series[s].x[i], y = series[s].y[i];
            if (!isfinite(x) || !isfinite(y))
                continue;
            if (isnan(*x_min) || x < *x_min)
                *x_min = x;
            if (isnan(*x_max) || x > *x_max)
                *x_max = x;
            if (isnan(*y_min) || y < *y_min)
                *y_min = y;
            if (isnan(*y_max) || y > *y_max)
                *y_max = y;
        }
}

struct raster {
    int cols, rows, sub_x, sub_y;
    uint8_t *bits;
    int8_t *owner;
};

static void plot(const struct raster *r, int dx, int dy, int s)
{
    int w = r->cols * r->sub_x, h = r->rows * r->sub_y;
    if (dx < 0 || dy < 0 || dx >= w || dy >= h)
        return;
    int cell = (dy / r->sub_y) * r->cols + dx / r->sub_x;
    r->bits[cell] |= (uint8_t)(1u << ((dy % r->sub_y) * r->sub_x + dx % r->sub_x));
    r->owner[cell] = (int8_t)s;
}

/* Bresenham's line between two dots */
static void line(const struct raster *r, int x0, int y0, int x1, int y1, int s)
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    for (;;) {
        plot(r, x0, y0, s);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

void ui_chart_raster(const struct ui_series *series, int n_series, double x_min, double x_max,
                     double y_min, double y_max, int cols, int rows, int sub_x, int sub_y,
                     uint8_t *bits, int8_t *owner)
{
    struct raster r = {cols, rows, sub_x, sub_y, bits, owner};
    memset(bits, 0, (size_t)(cols * rows));
    memset(owner, -1, (size_t)(cols * rows));
    int w = cols * sub_x, h = rows * sub_y;
    double xs = x_max > x_min ? (w - 1) / (x_max - x_min) : 0;
    double ys = y_max > y_min ? (h - 1) / (y_max - y_min) : 0;
    for (int s = 0; s < n_series; s++) {
        bool have_prev = false;
        int px = 0, py = 0;
        for (int i = 0; i < series[s].n; i++) {
            double x = series[s].x[i], y = series[s].y[i];
            if (!isfinite(x) || !isfinite(y))
                continue;
            int dx = xs > 0 ? (int)lround((x - x_min) * xs) : w / 2;
            int dy = ys > 0 ? (int)lround((y_max - y) * ys) : h / 2;
            if (have_prev)
                line(&r, px, py, dx, dy, s);
            else
                plot(&r, dx, dy, s);
            px = dx;
            py = dy;
            have_prev = true;
        }
    }
}

/* the dot of (x, y) as ui_chart_raster places it */
static void dot_of(double x, double y, double x_min, double x_max, double y_min, double y_max,
                   int w, int h, int *dx, int *dy)
{
    double xs = x_max > x_min ? (w - 1) / (x_max - x_min) : 0;
    double ys = y_max > y_min ? (h - 1) / (y_max - y_min) : 0;
    *dx = xs > 0 ? (int)lround((x - x_min) * xs) : w / 2;
    *dy = ys > 0 ? (int)lround((y_max - y) * ys) : h / 2;
}

bool ui_chart_cell(double x, double y, double x_min, double x_max, double y_min, double y_max,
                   int cols, int rows, int sub_x, int sub_y, int *col, int *row)
{
    if (!isfinite(x) || !isfinite(y))
        return false;
    int dx, dy;
    dot_of(x, y, x_min, x_max, y_min, y_max, cols * sub_x, rows * sub_y, &dx, &dy);
    if (dx < 0 || dy < 0 || dx >= cols * sub_x || dy >= rows * sub_y)
        return false;
    *col = dx / sub_x;
    *row = dy / sub_y;
    return true;
}

/* the braille character of a cell's dots (bit dy * 2 + dx) as UTF-8 */
static void braille(uint8_t bits, char out[4])
{
    static const uint8_t dot[8] = {0x01, 0x08, 0x02, 0x10, 0x04, 0x20, 0x40, 0x80};
    unsigned code = 0x2800;
    for (int i = 0; i < 8; i++)
        if (bits & (1u << i))
            code |= dot[i];
    out[0] = (char)(0xE0 | (code >> 12));
    out[1] = (char)(0x80 | ((code >> 6) & 0x3F));
    out[2] = (char)(0x80 | (code & 0x3F));
    out[3] = '\0';
}

/* an ASCII stand-in for a cell of 1 x 3 dots */
static char ascii_dot(uint8_t bits)
{
    static const char glyph[8] = {' ', '\'', '-', ':', '.', ':', ':', '|'};
    return glyph[bits & 7];
}

static void draw_legend(WINDOW *w, int y, int x, int width, const struct ui_series *series,
                        int n_series, const char *title)
{
    int col = ui_put(w, y, x, width, title ? title : "", ui_style(UI_STYLE_HEADER));
    for (int s = 0; s < n_series && series[s].label; s++) {
        if (col + 4 + ui_width(series[s].label) > width)
            break;
        col += 2;
        ui_glyph(w, y, x + col, "━", '=', ui_style(series[s].style));
        col += 2;
        col += ui_put(w, y, x + col, width - col, series[s].label, A_NORMAL);
    }
}

/* the y labels and the axis line; returns the label width */
static int draw_y_axis(WINDOW *w, int y, int x, int rows, double y_min, double y_max,
                       const char *fmt)
{
    char top[32], mid[32], bottom[32];
    snprintf(top, sizeof top, fmt, y_max);
    snprintf(mid, sizeof mid, fmt, (y_min + y_max) / 2);
    snprintf(bottom, sizeof bottom, fmt, y_min);
    int lw = ui_width(top);
    if (ui_width(mid) > lw)
        lw = ui_width(mid);
    if (ui_width(bottom) > lw)
        lw = ui_width(bottom);
    for (int r = 0; r < rows; r++) {
        const char *label = r == 0 ? top : r == rows - 1 ? bottom : r == rows / 2 ? mid : NULL;
        if (label && (r == 0 || r == rows - 1 || rows >= 5)) {
            ui_put_right(w, y + r, x + lw, lw, label, ui_style(UI_STYLE_DIM));
            ui_glyph(w, y + r, x + lw + 1, "┤", '+', ui_style(UI_STYLE_DIM));
        } else {
            ui_glyph(w, y + r, x + lw + 1, "│", '|', ui_style(UI_STYLE_DIM));
        }
    }
    return lw;
}

static void draw_x_axis(WINDOW *w, int y, int x, int width, int lw, double x_min, double x_max,
                        const char *unit)
{
    ui_glyph(w, y, x + lw + 1, "└", '+', ui_style(UI_STYLE_DIM));
    for (int c = lw + 2; c < width; c++)
        ui_glyph(w, y, x + c, "─", '-', ui_style(UI_STYLE_DIM));
    char left[32], right[48];
    snprintf(left, sizeof left, "%.6g", x_min);
    snprintf(right, sizeof right, "%.6g%s%s", x_max, unit ? " " : "", unit ? unit : "");
    ui_put(w, y + 1, x + lw + 2, width - lw - 2, left, ui_style(UI_STYLE_DIM));
    if (x_max > x_min)
        ui_put_right(w, y + 1, x + width, width - lw - 4 - ui_width(left), right,
                     ui_style(UI_STYLE_DIM));
}

static void draw_cells(WINDOW *w, int y, int x, int cols, int rows, const uint8_t *bits,
                       const int8_t *owner, const struct ui_series *series)
{
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            int i = r * cols + c;
            if (!bits[i])
                continue;
            attr_t a = ui_style(series[owner[i]].style);
            if (ui_term_utf8()) {
                char g[4];
                braille(bits[i], g);
                ui_glyph(w, y + r, x + c, g, '*', a);
            } else {
                ui_glyph(w, y + r, x + c, "", ascii_dot(bits[i]), a);
            }
        }
}

void ui_chart_draw(WINDOW *w, int y, int x, int h, int width, const struct ui_series *series,
                   int n_series, const struct ui_chart_opts *o)
{
    if (h < 4 || width < 16)
        return;
    draw_legend(w, y, x, width, series, n_series, o->title);
    double x_min, x_max, y_min, y_max;
    ui_chart_range(series, n_series, &x_min, &x_max, &y_min, &y_max);
    if (!isnan(o->x_min))
        x_min = o->x_min;
    if (!isnan(o->x_max))
        x_max = o->x_max;
    if (!isnan(o->y_min))
        y_min = o->y_min;
    if (!isnan(o->y_max))
        y_max = o->y_max;
    int rows = h - 3;
    if (isnan(y_min) || isnan(x_min)) {
        ui_put(w, y + 1 + rows / 2, x + 2, width - 2, "(no data yet)", ui_style(UI_STYLE_DIM));
        return;
    }
    if (y_max <= y_min) { /* a flat line still needs a range */
        double pad = fabs(y_min) > 0 ? fabs(y_min) * 0.1 : 0.5;
        y_min -= pad;
        y_max += pad;
    }
    int lw = draw_y_axis(w, y + 1, x, rows, y_min, y_max, o->y_format ? o->y_format : "%.3g");
    int cols = width - lw - 2;
    if (cols < 4)
        return;
    int sub_x = ui_term_utf8() ? 2 : 1, sub_y = ui_term_utf8() ? 4 : 3;
    uint8_t *bits = malloc((size_t)(cols * rows));
    int8_t *owner = malloc((size_t)(cols * rows));
    if (bits && owner) {
        ui_chart_raster(series, n_series, x_min, x_max, y_min, y_max, cols, rows, sub_x, sub_y,
                        bits, owner);
        draw_cells(w, y + 1, x + lw + 2, cols, rows, bits, owner, series);
    }
    free(bits);
    free(owner);
    for (int m = 0; m < o->n_marks; m++) {
        const struct ui_chart_mark *k = &o->marks[m];
        int c, r;
        if (ui_chart_cell(k->x, k->y, x_min, x_max, y_min, y_max, cols, rows, sub_x, sub_y, &c,
                          &r))
            ui_glyph(w, y + 1 + r, x + lw + 2 + c, k->glyph, k->ascii, ui_style(k->style));
    }
    draw_x_axis(w, y + 1 + rows, x, width, lw, x_min, x_max, o->x_unit);
}
