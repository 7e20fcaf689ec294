/*
 * A dialog form: labelled fields (integers, numbers, choices) with ranges, a Start and a
 * Cancel button, and a message naming the field that is wrong. The training form is one.
 *
 *     static const char *const opts[] = {"sgd", "adam", NULL};
 *     struct ui_field fields[] = {
 *         UI_FIELD_INT_("epochs", "1", 1, 1000, "passes over the data"),
 *         UI_FIELD_CHOICE_("optimizer", opts, "update rule"),
 *     };
 *     struct ui_form f;
 *     ui_form_init(&f, "Train", fields, 2);
 *     if (ui_form_key(&f, key) == UI_FORM_SUBMIT) use ui_form_value(&f, 0) ...
 *     ui_form_draw(&f, stdscr);
 */
#pragma once

#include <stdbool.h>

#include <curses.h>

#include "line_editor.h"

enum ui_field_type { UI_FIELD_INT, UI_FIELD_NUMBER, UI_FIELD_CHOICE };

struct ui_field {
    const char *label, *initial, *help;
    enum ui_field_type type;
    double min, max;            /* INT and NUMBER */
    const char *const *choices; /* CHOICE: NULL-terminated */
    struct ui_line_editor edit; /* INT and NUMBER: the text */
    int choice;
    double value; /* after a successful ui_form_check */
};

#define UI_FIELD_INT_(label, initial, lo, hi, help)                                                \
    {                                                                                              \
        label, initial, help, UI_FIELD_INT, lo, hi, NULL, {{0}}, 0, 0                              \
    }
#define UI_FIELD_NUMBER_(label, initial, lo, hi, help)                                             \
    {                                                                                              \
        label, initial, help, UI_FIELD_NUMBER, lo, hi, NULL, {{0}}, 0, 0                           \
    }
#define UI_FIELD_CHOICE_(label, choices, help)                                                     \
    {                                                                                              \
        label, NULL, help, UI_FIELD_CHOICE, 0, 0, choices, {{0}}, 0, 0                             \
    }

enum ui_form_result { UI_FORM_NONE, UI_FORM_CHANGED, UI_FORM_SUBMIT, UI_FORM_CANCEL };

struct ui_form {
    const char *title;
    struct ui_field *fields;
    int n;
    int focus;  /* a field, n: Start, n + 1: Cancel */
    bool fresh; /* the focused field was just entered: typing replaces its text */
    char error[160];
};

/* fields stay owned by the caller; their editors are set to the initial texts */
void ui_form_init(struct ui_form *f, const char *title, struct ui_field *fields, int n);
void ui_form_fini(struct ui_form *f);
/* Enter submits (after ui_form_check passes), Esc cancels */
enum ui_form_result ui_form_key(struct ui_form *f, int key);
/* parses and range-checks every field into .value; false with f->error and the focus on the
 * first wrong field */
bool ui_form_check(struct ui_form *f);
/* a centred box on the whole screen */
void ui_form_draw(struct ui_form *f, WINDOW *w);
