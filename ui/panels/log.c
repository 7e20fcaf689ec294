/* The Log: engine messages, errors, and what each action ran; scrollable. */
#include "panels.h"

#include <stdio.h>
#include <stdlib.h>

#include "../draw.h"
#include "../widgets/text_view.h"

struct log_panel {
    struct ui_panel base;
    struct ui_text_view view;
    long seen_end;
    int page;
};

static const struct ui_key_help log_keys[] = {
    {"Up Down PgUp PgDn", "scroll; Home/End: oldest / newest"},
    {"C", "clear the Log"},
    {NULL, NULL},
};

static struct log_panel *lp(struct ui_panel *p)
{
    return (struct log_panel *)p;
}

static bool update(struct ui_panel *p)
{
    struct log_panel *l = lp(p);
    long end = line_ring_end(session_log(p->app->session));
    bool changed = end != l->seen_end;
    l->seen_end = end;
    return changed;
}

static enum ui_result handle_key(struct ui_panel *p, int key)
{
    struct log_panel *l = lp(p);
    if (key == 'C') {
        line_ring_clear(session_log(p->app->session));
        l->view.scroll = 0;
        return UI_REDRAW;
    }
    return ui_text_view_key(&l->view, key, l->page, true) ? UI_REDRAW : UI_IGNORED;
}

static enum ui_result mouse(struct ui_panel *p, int row, int col, int wheel)
{
    (void)row;
    (void)col;
    ui_text_view_scroll(&lp(p)->view, -3 * wheel);
    return UI_REDRAW;
}

static void draw(struct ui_panel *p, WINDOW *w, bool focused)
{
    struct log_panel *l = lp(p);
    (void)focused;
    int h = getmaxy(w) - 2, width = getmaxx(w) - 2;
    l->page = h;
    ui_text_view_draw(&l->view, session_log(p->app->session), w, 1, 1, h, width);
}

static void title(struct ui_panel *p, char *buf, size_t size)
{
    (void)p;
    snprintf(buf, size, "Log");
}

static void destroy(struct ui_panel *p)
{
    free(p);
}

static const struct ui_panel_class log_class = {
    .name = "Log",
    .title = title,
    .draw = draw,
    .handle_key = handle_key,
    .mouse = mouse,
    .update = update,
    .destroy = destroy,
    .keys = log_keys,
};

struct ui_panel *ui_log_panel_new(struct ui_app *a)
{
    struct log_panel *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->base.cls = &log_class;
    l->base.app = a;
    return &l->base;
}
