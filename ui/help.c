/* The help overlay, generated from the key tables. */
#include "help.h"

#include <stdio.h>
#include <string.h>

#include "draw.h"
#include "keys.h"
#include "term.h"

enum { MAX_LINES = 80 };

int ui_help_lines(const struct ui_panel *focused, char lines[][128], int max)
{
    int n = 0;
#define LINE(...)                                                                                  \
    do {                                                                                           \
        if (n < max)                                                                               \
            snprintf(lines[n++], 128, __VA_ARGS__);                                                \
    } while (0)
    LINE("Every action runs a line of Lua in the session: the Console echoes it, and");
    LINE(":save FILE (or s) writes them all as a script that `nncw run FILE` replays.");
    LINE("%s", "");
    LINE("%s", "Keys everywhere (in the Console, use the F-keys):");
    for (const struct ui_binding *b = ui_keys_table(); b->action; b++)
        if (b->label)
            LINE("  %-10s %s", b->label, b->help);
    if (focused && focused->cls->keys) {
        LINE("%s", "");
        LINE("Keys of the %s panel:", focused->cls->name);
        for (const struct ui_key_help *k = focused->cls->keys; k->label; k++)
            LINE("  %-18s %s", k->label, k->help);
    }
    LINE("%s", "");
    LINE("%s", "The mouse focuses panels, selects rows and scrolls where the terminal sends it.");
#undef LINE
    return n;
}

void ui_help_draw(WINDOW *w, const struct ui_panel *focused, int *scroll)
{
    char lines[MAX_LINES][128];
    int n = ui_help_lines(focused, lines, MAX_LINES);
    int sh = getmaxy(w), sw = getmaxx(w);
    int bw = sw - 4 < 110 ? sw - 4 : 110, bh = n + 3 < sh - 2 ? n + 3 : sh - 2;
    int y0 = (sh - bh) / 2, x0 = (sw - bw) / 2, rows = bh - 3;
    if (*scroll > n - rows)
        *scroll = n - rows;
    if (*scroll < 0)
        *scroll = 0;
    for (int r = 0; r < bh; r++)
        ui_fill(w, y0 + r, x0, bw, A_NORMAL);
    WINDOW *box = derwin(w, bh, bw, y0, x0);
    if (!box)
        return;
    ui_frame(box, "Help  (Up/Down scroll, any other key closes)", true);
    for (int r = 0; r < rows && *scroll + r < n; r++) {
        const char *l = lines[*scroll + r];
        ui_put(box, 1 + r, 2, bw - 4, l, l[0] != ' ' ? ui_style(UI_STYLE_HEADER) : A_NORMAL);
    }
    if (n > rows)
        ui_putf(box, bh - 2, 2, bw - 4, ui_style(UI_STYLE_DIM), "lines %d-%d of %d", *scroll + 1,
                *scroll + rows, n);
    delwin(box);
}
