/*
 * A one-line text editor (htop's LineEditor): the Console's input, the prompt line (search,
 * commands, file names) and the form's fields. Emacs keys, UTF-8 aware, optional history.
 *
 *     struct ui_line_editor e;
 *     ui_line_editor_init(&e, 100);                 // keep 100 history lines (0: none)
 *     switch (ui_line_editor_key(&e, key)) {
 *     case UI_EDIT_SUBMIT: run(e.buf); ui_line_editor_history_add(&e, e.buf); ...
 *     }
 *     ui_line_editor_draw(&e, win, y, x, width, attr, true);
 *     ui_line_editor_fini(&e);
 */
#pragma once

#include <stdbool.h>

#include <curses.h>

enum { UI_LINE_MAX = 2048 };

enum ui_edit_result {
    UI_EDIT_IGNORED, /* not an editing key */
    UI_EDIT_CHANGED,
    UI_EDIT_SUBMIT, /* Enter */
    UI_EDIT_CANCEL, /* Esc */
};

struct ui_line_editor {
    char buf[UI_LINE_MAX];
    int len, cur;                   /* bytes; cur is always at a character boundary */
    int scroll;                     /* first column shown */
    char **hist;                    /* oldest first */
    int n_hist, max_hist, hist_pos; /* hist_pos == n_hist: the line being typed */
    char draft[UI_LINE_MAX];        /* the line being typed while browsing history */
};

void ui_line_editor_init(struct ui_line_editor *e, int max_history);
void ui_line_editor_fini(struct ui_line_editor *e);
/* replaces the text; the cursor goes to its end */
void ui_line_editor_set(struct ui_line_editor *e, const char *text);
enum ui_edit_result ui_line_editor_key(struct ui_line_editor *e, int key);
void ui_line_editor_history_add(struct ui_line_editor *e, const char *line);
/* draws the text in width columns with the cursor as a reversed cell when focused */
void ui_line_editor_draw(struct ui_line_editor *e, WINDOW *w, int y, int x, int width, attr_t a,
                         bool focused);
