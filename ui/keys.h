/*
 * Keys: one encoding for characters and function keys, the table of global keys (htop's
 * Action bindings) from which the status line and the help overlay are generated, and the
 * help texts of each panel's own keys.
 *
 *     int key = ui_key_read(stdscr);                // ERR after the timeout
 *     if (key == UI_KEY_FN(KEY_F(1))) ...          // function keys
 *     if (key == 'q') ...                           // characters are Unicode code points
 */
#pragma once

#include <stdbool.h>

#include <curses.h>

#define UI_KEY_FN(k) (0x1000000 | (k))
#define UI_KEY_CTRL(c) ((c)&0x1f)
#define UI_KEY_ESC 27

/* the next key (characters as code points, function keys as UI_KEY_FN), or ERR */
int ui_key_read(WINDOW *w);
/* a printable character (not a function or control key)? */
bool ui_key_is_text(int key);
/* the key as UTF-8 into buf (at least 5 bytes); returns the length */
int ui_key_utf8(int key, char *buf);

enum ui_action {
    UI_ACTION_NONE,
    UI_ACTION_HELP,
    UI_ACTION_NEXT_PANEL,
    UI_ACTION_PREV_PANEL,
    UI_ACTION_SEARCH,
    UI_ACTION_TRAIN,
    UI_ACTION_CANCEL,
    UI_ACTION_SAVE,
    UI_ACTION_OPEN,
    UI_ACTION_COMMAND,
    UI_ACTION_ZOOM,
    UI_ACTION_QUIT,
    UI_ACTION_REDRAW,
    UI_ACTION_COMPRESS,
    UI_ACTION_PAUSE, /* pause or resume the training run */
    UI_ACTION_PANEL_1, /* ... to UI_ACTION_PANEL_1 + 7 */
    UI_ACTION_PANEL_2,
    UI_ACTION_PANEL_3,
    UI_ACTION_PANEL_4,
    UI_ACTION_PANEL_5,
    UI_ACTION_PANEL_6,
    UI_ACTION_PANEL_7,
    UI_ACTION_PANEL_8,
    UI_ACTION_PANEL_9, /* the Search panel */
    UI_ACTION_COUNT
};

/* a global key binding */
struct ui_binding {
    int keys[3]; /* 0-terminated */
    enum ui_action action;
    const char *label;      /* key names as shown: "F1 ?" */
    const char *short_help; /* the status line's word ("Help"), NULL: not in the status line */
    const char *help;       /* the help overlay's sentence */
};

/* a key a panel handles itself, for the help overlay */
struct ui_key_help {
    const char *label, *help;
};

/* the global binding of key, or UI_ACTION_NONE */
enum ui_action ui_keys_action(int key);
/* the table, ended by an entry with action UI_ACTION_NONE */
const struct ui_binding *ui_keys_table(void);
