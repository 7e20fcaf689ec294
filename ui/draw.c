/* Clipped UTF-8 text, frames and glyphs. */
#include "draw.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "term.h"

/* length of the UTF-8 sequence starting with byte c (1 for stray bytes) */
static int seq_len(unsigned char c)
{
    return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* decodes one character at s (n bytes available): its columns and bytes */
static int next_char(const char *s, int *bytes)
{
    unsigned char c = (unsigned char)*s;
    if (c < 0x80) {
        *bytes = 1;
        return 1;
    }
    int n = seq_len(c);
    for (int i = 1; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            n = i;
            break;
        }
    *bytes = n;
    if (!ui_term_utf8())
        return 1;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    wchar_t wc;
    if (mbrtowc(&wc, s, (size_t)n, &st) != (size_t)n)
        return 1;
    int w = wcwidth(wc);
    return w < 0 ? 1 : w;
}

int ui_width(const char *s)
{
    int cols = 0, bytes;
    for (; *s; s += bytes)
        cols += next_char(s, &bytes);
    return cols;
}

const char *ui_skip_cols(const char *s, int cols)
{
    int bytes;
    while (*s && cols > 0) {
        cols -= next_char(s, &bytes);
        s += bytes;
    }
    return s;
}

int ui_put(WINDOW *w, int y, int x, int max_cols, const char *s, attr_t a)
{
    int cols = 0, bytes;
    if (max_cols <= 0 || !s)
        return 0;
    wattrset(w, a);
    wmove(w, y, x);
    for (; *s; s += bytes) {
        int cw = next_char(s, &bytes);
        if (cols + cw > max_cols)
            break;
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7F)
            waddch(w, ' ');
        else if (c < 0x80)
            waddch(w, c);
        else if (ui_term_utf8() && cw > 0)
            waddnstr(w, s, bytes);
        else if (cw > 0)
            waddch(w, '?');
        cols += cw;
    }
    wattrset(w, A_NORMAL);
    return cols;
}

int ui_putf(WINDOW *w, int y, int x, int max_cols, attr_t a, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return ui_put(w, y, x, max_cols, buf, a);
}

void ui_put_right(WINDOW *w, int y, int x_end, int max_cols, const char *s, attr_t a)
{
    int width = ui_width(s);
    if (width > max_cols)
        width = max_cols;
    ui_put(w, y, x_end - width, width, s, a);
}

void ui_fill(WINDOW *w, int y, int x, int n, attr_t a)
{
    wattrset(w, a);
    for (int i = 0; i < n; i++)
        mvwaddch(w, y, x + i, ' ');
    wattrset(w, A_NORMAL);
}

void ui_glyph(WINDOW *w, int y, int x, const char *utf8, char ascii, attr_t a)
{
    wattrset(w, a);
    if (ui_term_utf8())
        mvwaddstr(w, y, x, utf8);
    else
        mvwaddch(w, y, x, (chtype)(unsigned char)ascii);
    wattrset(w, A_NORMAL);
}

void ui_frame(WINDOW *w, const char *title, bool focused)
{
    attr_t a = ui_style(focused ? UI_STYLE_BORDER_FOCUS : UI_STYLE_BORDER);
    wattrset(w, a);
    if (ui_term_utf8())
        box(w, 0, 0);
    else
        wborder(w, '|', '|', '-', '-', '+', '+', '+', '+');
    wattrset(w, A_NORMAL);
    int width = getmaxx(w);
    if (width < 6)
        return;
    char buf[256];
    snprintf(buf, sizeof buf, " %s ", title);
    ui_put(w, 0, 2, width - 4, buf, focused ? a | A_REVERSE : a | A_BOLD);
}
