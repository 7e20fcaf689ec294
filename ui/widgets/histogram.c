/* Histograms in block characters. */
#include "histogram.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../draw.h"

double ui_histogram_columns(const uint32_t *bins, int n_bins, int cols, double *out)
{
    double max = 0;
    for (int c = 0; c < cols; c++) {
        int from = (int)((int64_t)c * n_bins / cols), to = (int)((int64_t)(c + 1) * n_bins / cols);
        double sum = 0;
        for (int b = from; b < to; b++)
            sum += bins[b];
        /* a density: columns that cover 3 bins must not stand above those that cover 2 */
        out[c] = to > from ? sum / (to - from) : 0;
        if (out[c] > max)
            max = out[c];
    }
    return max;
}

int ui_histogram_count_columns(int64_t values, int n_bins, int width)
{
    double target = 2 * sqrt((double)values); /* a few values per column on average */
    if (target < 8)
        target = 8;
    long cells = lround(width / target); /* cells per column, so the columns fill the width */
    int cols = width / (int)(cells < 1 ? 1 : cells);
    return cols > n_bins ? n_bins : cols < 1 ? 1 : cols;
}

static void draw_bar(WINDOW *w, int y, int x, int rows, int eighths, attr_t a)
{
    static const char *const blocks[9] = {"", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    for (int r = 0; r < rows && eighths > 0; r++, eighths -= 8) {
        int part = eighths >= 8 ? 8 : eighths;
        char ascii = part >= 8 ? '#' : part >= 4 ? ':' : '.';
        ui_glyph(w, y + rows - 1 - r, x, blocks[part], ascii, a);
    }
}

void ui_histogram_draw(WINDOW *w, int y, int x, int h, int width, const uint32_t *bins, int n_bins,
                       double lo, double hi, enum ui_style style)
{
    int rows = h - 1;
    int64_t values = 0;
    for (int b = 0; b < n_bins; b++)
        values += bins[b];
    int cols = ui_histogram_count_columns(values, n_bins, width);
    int cw = width / cols; /* cells per column: few values get wide columns */
    if (rows < 1 || cols < 1 || cw < 1)
        return;
    double *count = malloc(sizeof *count * (size_t)cols);
    if (!count)
        return;
    double max = ui_histogram_columns(bins, n_bins, cols, count);
    for (int c = 0; c < cols && max > 0; c++) {
        /* nonzero columns get at least one eighth, so lone values stay visible */
        int eighths = (int)ceil(count[c] * rows * 8 / max);
        for (int k = 0; k < cw; k++)
            draw_bar(w, y, x + c * cw + k, rows, eighths, ui_style(style));
    }
    free(count);
    int span = cols * cw;
    char left[32], right[32];
    snprintf(left, sizeof left, "%.4g", lo);
    snprintf(right, sizeof right, "%.4g", hi);
    ui_put(w, y + rows, x, span, left, ui_style(UI_STYLE_DIM));
    if (ui_width(left) + ui_width(right) + 1 < span)
        ui_put_right(w, y + rows, x + span, span, right, ui_style(UI_STYLE_DIM));
}
