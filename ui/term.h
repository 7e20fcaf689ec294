/*
 * The terminal (htop's CRT): the one place that sets curses up and tears it down, picks
 * colours or monochrome attributes (NO_COLOR, terminals without colours) and UTF-8 or ASCII
 * drawing, and turns SIGINT/SIGTERM/SIGHUP into a flag the loop polls.
 *
 *     if (ui_term_open(tty_fd, err, sizeof err) != 0) { fputs(err, stderr); return 1; }
 *     ... wattron(win, ui_style(UI_STYLE_ERROR)); ...
 *     if (ui_term_signal()) ...                  // a signal asked to quit
 *     ui_term_close();                           // also from atexit and the abort hook
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <curses.h>

enum ui_style {
    UI_STYLE_NORMAL,
    UI_STYLE_BAR,     /* the title and status bars */
    UI_STYLE_BAR_KEY, /* key names in the status bar */
    UI_STYLE_BORDER,
    UI_STYLE_BORDER_FOCUS, /* the focused panel's frame and title */
    UI_STYLE_SELECTED,     /* the selected row */
    UI_STYLE_HEADER,       /* column titles, section names */
    UI_STYLE_INPUT,        /* echoed code */
    UI_STYLE_ERROR,
    UI_STYLE_WARN,
    UI_STYLE_DIM,
    UI_STYLE_MATCH,   /* search hits */
    UI_STYLE_SERIES1, /* chart lines, histograms */
    UI_STYLE_SERIES2,
    UI_STYLE_OK,
    UI_STYLE_COUNT
};

/* curses on the terminal behind tty_fd (input from standard input); -1 with a message */
int ui_term_open(int tty_fd, char *err, size_t err_size);
/* ends curses; safe to call twice, from atexit and from the engine's abort hook */
void ui_term_close(void);
/* only leaves curses mode, for a process about to die (the engine's abort hook) */
void ui_term_emergency(void);

bool ui_term_utf8(void);
bool ui_term_color(void);
attr_t ui_style(enum ui_style s);
/* the signal that asked to quit (SIGINT, SIGTERM, SIGHUP), or 0 */
int ui_term_signal(void);
