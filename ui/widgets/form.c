/* Dialog forms: fields with ranges, buttons, and messages naming the wrong field. */
#include "form.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../draw.h"
#include "../keys.h"
#include "../term.h"

void ui_form_init(struct ui_form *f, const char *title, struct ui_field *fields, int n)
{
    memset(f, 0, sizeof *f);
    f->title = title;
    f->fields = fields;
    f->n = n;
    f->fresh = true;
    for (int i = 0; i < n; i++) {
        ui_line_editor_init(&fields[i].edit, 0);
        if (fields[i].initial)
            ui_line_editor_set(&fields[i].edit, fields[i].initial);
    }
}

void ui_form_fini(struct ui_form *f)
{
    for (int i = 0; i < f->n; i++)
        ui_line_editor_fini(&f->fields[i].edit);
}

static bool check_field(struct ui_form *f, int i)
{
    struct ui_field *d = &f->fields[i];
    if (d->type == UI_FIELD_CHOICE) {
        d->value = d->choice;
        return true;
    }
    char *end;
    errno = 0;
    double v = strtod(d->edit.buf, &end);
    while (*end == ' ')
        end++;
    bool ok = d->edit.buf[0] && !*end && errno == 0 && isfinite(v) && v >= d->min && v <= d->max &&
              (d->type != UI_FIELD_INT || v == floor(v));
    if (!ok) {
        snprintf(f->error, sizeof f->error, "%s must be %s from %g to %g, got '%.40s'", d->label,
                 d->type == UI_FIELD_INT ? "an integer" : "a number", d->min, d->max, d->edit.buf);
        return false;
    }
    d->value = v;
    return true;
}

bool ui_form_check(struct ui_form *f)
{
    for (int i = 0; i < f->n; i++)
        if (!check_field(f, i)) {
            f->focus = i;
            f->fresh = false;
            return false;
        }
    f->error[0] = '\0';
    return true;
}

static void move_focus(struct ui_form *f, int by)
{
    f->focus = ((f->focus + by) % (f->n + 2) + f->n + 2) % (f->n + 2);
    f->fresh = true;
}

static enum ui_form_result field_key(struct ui_form *f, int key)
{
    struct ui_field *d = &f->fields[f->focus];
    if (d->type == UI_FIELD_CHOICE) {
        int count = 0;
        while (d->choices[count])
            count++;
        if (key == UI_KEY_FN(KEY_LEFT) || key == UI_KEY_FN(KEY_RIGHT) || key == ' ') {
            d->choice = (d->choice + (key == UI_KEY_FN(KEY_LEFT) ? count - 1 : 1)) % count;
            return UI_FORM_CHANGED;
        }
        for (int i = 0; i < count && ui_key_is_text(key); i++) /* a first letter picks */
            if (d->choices[i][0] == key) {
                d->choice = i;
                return UI_FORM_CHANGED;
            }
        return UI_FORM_NONE;
    }
    if (f->fresh && ui_key_is_text(key))
        ui_line_editor_set(&d->edit, "");
    f->fresh = false;
    return ui_line_editor_key(&d->edit, key) == UI_EDIT_IGNORED ? UI_FORM_NONE : UI_FORM_CHANGED;
}

enum ui_form_result ui_form_key(struct ui_form *f, int key)
{
    switch (key) {
    case UI_KEY_ESC:
        return UI_FORM_CANCEL;
    case '\r':
    case '\n':
    case UI_KEY_FN(KEY_ENTER):
        if (f->focus == f->n + 1)
            return UI_FORM_CANCEL;
        return ui_form_check(f) ? UI_FORM_SUBMIT : UI_FORM_CHANGED;
    case '\t':
    case UI_KEY_FN(KEY_DOWN):
        move_focus(f, 1);
        return UI_FORM_CHANGED;
    case UI_KEY_FN(KEY_BTAB):
    case UI_KEY_FN(KEY_UP):
        move_focus(f, -1);
        return UI_FORM_CHANGED;
    default:
        if (f->focus < f->n)
            return field_key(f, key);
        if (key == UI_KEY_FN(KEY_LEFT) || key == UI_KEY_FN(KEY_RIGHT)) {
            f->focus = f->focus == f->n ? f->n + 1 : f->n;
            return UI_FORM_CHANGED;
        }
        return UI_FORM_NONE;
    }
}

void ui_form_draw(struct ui_form *f, WINDOW *w)
{
    int sh = getmaxy(w), sw = getmaxx(w);
    int bw = sw - 4 < 70 ? sw - 4 : 70, bh = f->n + 7;
    if (bh > sh - 2)
        bh = sh - 2;
    int y0 = (sh - bh) / 2, x0 = (sw - bw) / 2;
    for (int r = 0; r < bh; r++)
        ui_fill(w, y0 + r, x0, bw, A_NORMAL);
    WINDOW *box = derwin(w, bh, bw, y0, x0);
    if (!box)
        return;
    ui_frame(box, f->title, true);
    int lw = 14, vw = 12;
    for (int i = 0; i < f->n && 2 + i < bh - 4; i++) {
        struct ui_field *d = &f->fields[i];
        bool focus = f->focus == i;
        int y = 2 + i;
        ui_put(box, y, 2, lw, d->label, focus ? A_BOLD : A_NORMAL);
        if (d->type == UI_FIELD_CHOICE) {
            char buf[64];
            snprintf(buf, sizeof buf, "< %s >", d->choices[d->choice]);
            ui_put(box, y, 2 + lw, vw, buf, focus ? ui_style(UI_STYLE_SELECTED) : A_UNDERLINE);
        } else {
            ui_line_editor_draw(&d->edit, box, y, 2 + lw, vw, focus ? A_BOLD : A_UNDERLINE, focus);
        }
        ui_put(box, y, 3 + lw + vw, bw - lw - vw - 5, d->help, ui_style(UI_STYLE_DIM));
    }
    int by = bh - 3;
    ui_put(box, by, 2 + lw, 9, "[ Start ]",
           f->focus == f->n ? ui_style(UI_STYLE_SELECTED) : A_BOLD);
    ui_put(box, by, 4 + lw + 9, 10, "[ Cancel ]",
           f->focus == f->n + 1 ? ui_style(UI_STYLE_SELECTED) : A_NORMAL);
    if (f->error[0])
        ui_put(box, bh - 2, 2, bw - 4, f->error, ui_style(UI_STYLE_ERROR));
    else
        ui_put(box, bh - 2, 2, bw - 4,
               "Enter starts, Esc cancels, Up/Down/Tab move, Left/Right choose",
               ui_style(UI_STYLE_DIM));
    delwin(box);
}
