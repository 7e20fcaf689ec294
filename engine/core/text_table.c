#include "core/text_table.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

struct nncw_text_table {
    int cols, rows, cap;
    char **cells; /* (rows + 1) * cols, the header first */
    bool failed;
};

struct nncw_text_table *nncw_text_table_new(int columns, const char *const *header)
{
    struct nncw_text_table *t = nncw_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cols = columns;
    nncw_text_table_add_row(t, header);
    t->rows = 0; /* the header is row -1 */
    return t;
}

void nncw_text_table_add_row(struct nncw_text_table *t, const char *const *cells)
{
    if (!t || t->failed)
        return;
    int have = t->cells ? t->rows + 1 : 0; /* rows stored, header included */
    if (have + 1 > t->cap) {
        int cap = t->cap ? 2 * t->cap : 8;
        char **grown = nncw_realloc(t->cells, (size_t)cap * (size_t)t->cols * sizeof *grown);
        if (!grown) {
            t->failed = true;
            return;
        }
        t->cells = grown;
        t->cap = cap;
    }
    for (int c = 0; c < t->cols; c++) {
        char *s = nncw_strdup(cells[c] ? cells[c] : "");
        if (!s)
            t->failed = true;
        t->cells[(size_t)have * (size_t)t->cols + (size_t)c] = s;
    }
    if (have > 0)
        t->rows++;
}

static size_t rule(char *out, const size_t *w, int cols, char fill)
{
    size_t n = 0;
    for (int c = 0; c < cols; c++) {
        out[n++] = '+';
        memset(out + n, fill, w[c] + 2);
        n += w[c] + 2;
    }
    out[n++] = '+';
    out[n++] = '\n';
    return n;
}

static size_t row(char *out, char *const *cells, const size_t *w, int cols)
{
    size_t n = 0;
    for (int c = 0; c < cols; c++) {
        const char *s = cells[c] ? cells[c] : "";
        size_t len = strlen(s);
        out[n++] = '|';
        out[n++] = ' ';
        memcpy(out + n, s, len);
        n += len;
        memset(out + n, ' ', w[c] - len + 1);
        n += w[c] - len + 1;
    }
    out[n++] = '|';
    out[n++] = '\n';
    return n;
}

char *nncw_text_table_render(const struct nncw_text_table *t)
{
    if (!t || t->failed || !t->cells)
        return NULL;
    size_t *w = nncw_calloc((size_t)t->cols, sizeof *w), line = 2;
    if (!w)
        return NULL;
    for (int r = 0; r <= t->rows; r++)
        for (int c = 0; c < t->cols; c++) {
            const char *s = t->cells[(size_t)r * (size_t)t->cols + (size_t)c];
            size_t len = s ? strlen(s) : 0;
            if (len > w[c])
                w[c] = len;
        }
    for (int c = 0; c < t->cols; c++)
        line += w[c] + 3;
    size_t lines = (size_t)t->rows + 4;
    char *out = nncw_malloc(line * lines + 1), *p = out;
    if (out) {
        p += rule(p, w, t->cols, '-');
        p += row(p, t->cells, w, t->cols);
        p += rule(p, w, t->cols, '=');
        for (int r = 1; r <= t->rows; r++)
            p += row(p, t->cells + (size_t)r * (size_t)t->cols, w, t->cols);
        p += rule(p, w, t->cols, '-');
        *p = '\0';
    }
    nncw_free(w);
    return out;
}

void nncw_text_table_free(struct nncw_text_table *t)
{
    if (!t)
        return;
    int stored = t->cells ? t->rows + 1 : 0;
    for (int i = 0; i < stored * t->cols; i++)
        nncw_free(t->cells[i]);
    nncw_free(t->cells);
    nncw_free(t);
}

void nncw_format_share(char *buf, unsigned long size, long part, long whole)
{
    snprintf(buf, size, "%.2f %% (%ld / %ld)", whole ? 100.0 * (double)part / (double)whole : 0.0,
             part, whole);
}
