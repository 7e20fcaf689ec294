/*
 * The help overlay (F1, ?): the global keys from the key table, the focused panel's own keys,
 * and how actions become Lua. Generated, so it cannot drift from the bindings.
 */
#pragma once

#include <curses.h>

#include "panel.h"

/* lines of help for the panel (NULL: globals only); returns the number of lines */
int ui_help_lines(const struct ui_panel *focused, char lines[][128], int max);
/* a centred box over w, scrolled by *scroll lines (clamped) */
void ui_help_draw(WINDOW *w, const struct ui_panel *focused, int *scroll);
