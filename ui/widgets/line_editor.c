/* The one-line editor: editing keys, history, horizontal scrolling. */
#include "line_editor.h"

#include <stdlib.h>
#include <string.h>

#include "../draw.h"
#include "../keys.h"

void ui_line_editor_init(struct ui_line_editor *e, int max_history)
{
    memset(e, 0, sizeof *e);
    e->max_hist = max_history;
}

void ui_line_editor_fini(struct ui_line_editor *e)
{
    for (int i = 0; i < e->n_hist; i++)
        free(e->hist[i]);
    free(e->hist);
    e->hist = NULL;
    e->n_hist = 0;
}

void ui_line_editor_set(struct ui_line_editor *e, const char *text)
{
    size_t n = strlen(text);
    if (n >= sizeof e->buf)
        n = sizeof e->buf - 1;
    while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80) /* keep characters whole */
        n--;
    memcpy(e->buf, text, n);
    e->buf[n] = '\0';
    e->len = e->cur = (int)n;
    e->scroll = 0;
}

void ui_line_editor_history_add(struct ui_line_editor *e, const char *line)
{
    if (e->max_hist <= 0 || !line[0] || (e->n_hist && !strcmp(e->hist[e->n_hist - 1], line))) {
        e->hist_pos = e->n_hist;
        return;
    }
    char *copy = malloc(strlen(line) + 1);
    if (!copy)
        return;
    strcpy(copy, line);
    if (e->n_hist == e->max_hist) {
        free(e->hist[0]);
        memmove(e->hist, e->hist + 1, sizeof *e->hist * (size_t)(e->n_hist - 1));
        e->n_hist--;
    }
    char **h = realloc(e->hist, sizeof *h * (size_t)(e->n_hist + 1));
    if (!h) {
        free(copy);
        return;
    }
    e->hist = h;
    e->hist[e->n_hist++] = copy;
    e->hist_pos = e->n_hist;
}

static bool is_cont(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

static int prev_char(const struct ui_line_editor *e, int pos)
{
    while (pos > 0 && is_cont(e->buf[--pos]))
        ;
    return pos;
}

static int next_char(const struct ui_line_editor *e, int pos)
{
    if (pos < e->len)
        pos++;
    while (pos < e->len && is_cont(e->buf[pos]))
        pos++;
    return pos;
}

/* removes bytes [from, to) */
static void erase_bytes(struct ui_line_editor *e, int from, int to)
{
    memmove(e->buf + from, e->buf + to, (size_t)(e->len - to + 1));
    e->len -= to - from;
    e->cur = from;
}

static enum ui_edit_result insert(struct ui_line_editor *e, int key)
{
    char u[5];
    int n = ui_key_utf8(key, u);
    if (e->len + n >= (int)sizeof e->buf)
        return UI_EDIT_IGNORED;
    memmove(e->buf + e->cur + n, e->buf + e->cur, (size_t)(e->len - e->cur + 1));
    memcpy(e->buf + e->cur, u, (size_t)n);
    e->len += n;
    e->cur += n;
    return UI_EDIT_CHANGED;
}

static enum ui_edit_result browse(struct ui_line_editor *e, int dir)
{
    if (e->max_hist <= 0 || e->n_hist == 0)
        return UI_EDIT_IGNORED;
    int pos = e->hist_pos + dir;
    if (pos < 0 || pos > e->n_hist)
        return UI_EDIT_CHANGED;
    if (e->hist_pos == e->n_hist)
        memcpy(e->draft, e->buf, sizeof e->draft);
    e->hist_pos = pos;
    ui_line_editor_set(e, pos == e->n_hist ? e->draft : e->hist[pos]);
    return UI_EDIT_CHANGED;
}

static int word_start(const struct ui_line_editor *e)
{
    int p = e->cur;
    while (p > 0 && e->buf[p - 1] == ' ')
        p--;
    while (p > 0 && e->buf[p - 1] != ' ')
        p--;
    return p;
}

enum ui_edit_result ui_line_editor_key(struct ui_line_editor *e, int key)
{
    switch (key) {
    case '\r':
    case '\n':
    case UI_KEY_FN(KEY_ENTER):
        return UI_EDIT_SUBMIT;
    case UI_KEY_ESC:
        return UI_EDIT_CANCEL;
    case UI_KEY_FN(KEY_LEFT):
    case UI_KEY_CTRL('b'):
        e->cur = prev_char(e, e->cur);
        return UI_EDIT_CHANGED;
    case UI_KEY_FN(KEY_RIGHT):
    case UI_KEY_CTRL('f'):
        e->cur = next_char(e, e->cur);
        return UI_EDIT_CHANGED;
    case UI_KEY_FN(KEY_HOME):
    case UI_KEY_CTRL('a'):
        e->cur = 0;
        return UI_EDIT_CHANGED;
    case UI_KEY_FN(KEY_END):
    case UI_KEY_CTRL('e'):
        e->cur = e->len;
        return UI_EDIT_CHANGED;
    case 127:
    case UI_KEY_CTRL('h'):
    case UI_KEY_FN(KEY_BACKSPACE):
        if (e->cur > 0)
            erase_bytes(e, prev_char(e, e->cur), e->cur);
        return UI_EDIT_CHANGED;
    case UI_KEY_FN(KEY_DC):
    case UI_KEY_CTRL('d'):
        if (e->cur < e->len)
            erase_bytes(e, e->cur, next_char(e, e->cur));
        return UI_EDIT_CHANGED;
    case UI_KEY_CTRL('u'):
        erase_bytes(e, 0, e->cur);
        return UI_EDIT_CHANGED;
    case UI_KEY_CTRL('k'):
        e->buf[e->cur] = '\0';
        e->len = e->cur;
        return UI_EDIT_CHANGED;
    case UI_KEY_CTRL('w'):
        erase_bytes(e, word_start(e), e->cur);
        return UI_EDIT_CHANGED;
    case UI_KEY_FN(KEY_UP):
    case UI_KEY_CTRL('p'):
        return browse(e, -1);
    case UI_KEY_FN(KEY_DOWN):
    case UI_KEY_CTRL('n'):
        return browse(e, +1);
    default:
        return ui_key_is_text(key) ? insert(e, key) : UI_EDIT_IGNORED;
    }
}

void ui_line_editor_draw(struct ui_line_editor *e, WINDOW *w, int y, int x, int width, attr_t a,
                         bool focused)
{
    if (width <= 1)
        return;
    char save = e->buf[e->cur];
    e->buf[e->cur] = '\0';
    int col = ui_width(e->buf);
    e->buf[e->cur] = save;
    if (col - e->scroll >= width)
        e->scroll = col - width + 1;
    if (col < e->scroll)
        e->scroll = col;
    /* skip the characters left of the scroll column */
    int pos = 0, skipped = 0;
    while (pos < e->len && skipped < e->scroll) {
        int next = next_char(e, pos);
        char c = e->buf[next];
        e->buf[next] = '\0';
        skipped += ui_width(e->buf + pos);
        e->buf[next] = c;
        pos = next;
    }
    ui_fill(w, y, x, width, a);
    ui_put(w, y, x, width, e->buf + pos, a);
    if (!focused)
        return;
    int cx = x + col - e->scroll;
    char cell[8] = " ";
    if (e->cur < e->len) {
        int n = next_char(e, e->cur) - e->cur;
        memcpy(cell, e->buf + e->cur, (size_t)n);
        cell[n] = '\0';
    }
    ui_put(w, y, cx, 2, cell, a | A_REVERSE);
}
