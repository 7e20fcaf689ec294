/*
** Per-sample augmentation the loader applies while assembling a batch: a translation with
** zeros shifted in (random crop of a zero-padded image) and a horizontal mirror. Rows are
** moved with memcpy/memset; only the mirror touches single values.
*/
#include "data/data_internal.h"

#include <string.h>

static void mirror_row(float *row, int64_t w)
{
    for (int64_t a = 0, b = w - 1; a < b; a++, b--) {
        float t = row[a];
        row[a] = row[b];
        row[b] = t;
    }
}

void nncw_data_shift_flip(const float *src, float *dst, int64_t c, int64_t h, int64_t w, int sy,
                          int sx, bool flip)
{
    /* columns x0..x1-1 of dst have a source column x + sx inside the image */
    int64_t x0 = sx < 0 ? -sx : 0;
    int64_t x1 = sx > 0 ? w - sx : w;
    bool empty = x1 <= x0; /* shifted by a whole width or more */
    for (int64_t p = 0; p < c; p++) {
        const float *plane = src + p * h * w;
        for (int64_t y = 0; y < h; y++) {
            float *row = dst + (p * h + y) * w;
            int64_t ys = y + sy;
            if (empty || ys < 0 || ys >= h) {
                memset(row, 0, (size_t)w * sizeof *row);
                continue;
            }
            memset(row, 0, (size_t)x0 * sizeof *row);
            memcpy(row + x0, plane + ys * w + x0 + sx, (size_t)(x1 - x0) * sizeof *row);
            memset(row + x1, 0, (size_t)(w - x1) * sizeof *row);
            if (flip)
                mirror_row(row, w);
        }
    }
}
