/*
 * Panels are objects with a class (htop's PanelClass): the screen frames each one, asks it to
 * draw its inside, offers it keys and mouse clicks first, and asks it to pull new data once
 * per frame. handle_key changes state and reports what changed; it never draws. draw never
 * changes what the panel shows (only scroll positions that keep the selection visible).
 *
 *     struct my_panel { struct ui_panel base; int selected; };   // base first
 *     static const struct ui_panel_class my_class = {.name = "Mine", .draw = my_draw, ...};
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <curses.h>

#include "keys.h"

enum ui_result {
    UI_IGNORED = 0,
    UI_HANDLED = 1 << 0,
    UI_REDRAW = 1 << 1,
};

struct ui_app;
struct ui_panel;

struct ui_panel_class {
    const char *name;
    /* the title in the frame (the name plus what the panel shows) */
    void (*title)(struct ui_panel *p, char *buf, size_t size);
    /* paints rows 1..h-2, columns 1..w-2 of the panel's window */
    void (*draw)(struct ui_panel *p, WINDOW *w, bool focused);
    enum ui_result (*handle_key)(struct ui_panel *p, int key);
    /* a click at (row, col) inside the window, or the wheel (dir -1 up, +1 down, 0 click) */
    enum ui_result (*mouse)(struct ui_panel *p, int row, int col, int wheel);
    /* pulls new data from the session; true when the panel must be redrawn */
    bool (*update)(struct ui_panel *p);
    void (*destroy)(struct ui_panel *p);
    const struct ui_key_help *keys; /* its own keys, for the help overlay; NULL-label ended */
};

struct ui_panel {
    const struct ui_panel_class *cls;
    struct ui_app *app;
    WINDOW *win; /* NULL while the panel is not shown */
};
