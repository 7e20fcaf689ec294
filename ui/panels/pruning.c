/* The Pruning panel (filter pruning): the groups of filters pruned together with their
 * importance and what the current masks keep, the model's FLOPs and parameters now and once
 * the masked filters are removed, and the level and its target. Excluding a group and changing
 * the target or the level are Lua lines (comp:exclude_group, comp:set_pruning_target,
 * comp:set_compression_rate), so the costs update before any training and the session
 * replays them. */
#include "panels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../draw.h"
#include "../fmt.h"
#include "../widgets/text_view.h"

struct pruning_panel {
    struct ui_panel base;
    struct ui_scroll pos; /* the selected group */
};

static const struct ui_key_help pruning_keys[] = {
    {"Up Down PgUp PgDn", "select a group; Home/End: first/last"},
    {"x Space", "exclude the group from pruning, or include it again"},
    {"T", "change the scheduler's pruning target (:target LEVEL)"},
    {"L", "set the level now and hold it (:rate LEVEL): FLOPs and params follow at once"},
    {NULL, NULL},
};

static struct pruning_panel *pp(struct ui_panel *p)
{
    return (struct pruning_panel *)p;
}

static bool update(struct ui_panel *p)
{
    (void)p; /* draws straight from the app's compression view */
    return false;
}

static const struct compression_view_group *group(struct pruning_panel *g)
{
    const struct compression_view *cv = ui_app_compression(g->base.app);
    return cv && g->pos.sel >= 0 && g->pos.sel < cv->n_groups ? &cv->groups[g->pos.sel] : NULL;
}

static enum ui_result handle_key(struct ui_panel *p, int key)
{
    struct pruning_panel *g = pp(p);
    if (ui_scroll_key(&g->pos, key))
        return UI_REDRAW;
    switch (key) {
    case 'x':
    case ' ': {
        const struct compression_view_group *gr = group(g);
        if (!gr) {
            ui_app_message(p->app, UI_STYLE_WARN, "no pruning groups: the compression of "
                                                  "`model` has no filter_pruning");
            return UI_REDRAW;
        }
        ui_action_exclude_group(p->app, gr->info.id, !gr->info.excluded);
        return UI_REDRAW;
    }
    case 'T':
    case 'L': {
        const struct compression_view *cv = ui_app_compression(p->app);
        bool have = cv && cv->has_cost;
        char text[64];
        if (key == 'T')
            snprintf(text, sizeof text, "target %.2f", have ? cv->cost.target : 0.5);
        else
            snprintf(text, sizeof text, "rate %.2f", have ? cv->cost.level : 0.0);
        ui_app_prompt(p->app, UI_PROMPT_COMMAND, text);
        return UI_REDRAW;
    }
    default:
        return UI_IGNORED;
    }
}

static enum ui_result mouse(struct ui_panel *p, int row, int col, int wheel)
{
    struct pruning_panel *g = pp(p);
    (void)col;
    if (wheel)
        ui_scroll_by(&g->pos, 3 * wheel);
    else if (row >= 4)
        ui_scroll_select(&g->pos, g->pos.top + row - 4);
    return UI_REDRAW;
}

/* "12.3M -> 8.1M (66%)" */
static void cost_text(int64_t full, int64_t pruned, char *buf, size_t size)
{
    char a[32], b[32];
    snprintf(buf, size, "%s -> %s (%.0f%%)", ui_fmt_si((double)full, a, sizeof a),
             ui_fmt_si((double)pruned, b, sizeof b),
             full > 0 ? 100.0 * (double)pruned / (double)full : 100.0);
}

static void draw_row(WINDOW *w, int y, int width, const struct compression_view_group *gr,
                     attr_t base)
{
    const struct nncw_pruning_group_info *i = &gr->info;
    char members[200];
    snprintf(members, sizeof members, "%s%s", gr->scopes[0] ? gr->scopes[0] : "?",
             i->n_members > 1 ? " +" : "");
    if (i->n_members > 1)
        snprintf(members + strlen(members), sizeof members - strlen(members), "%d",
                 i->n_members - 1);
    int name = width - 50 > 8 ? width - 50 : 8;
    ui_putf(w, y, 1, 4, base, "%3d", i->id);
    ui_put(w, y, 6, name, members, base);
    ui_putf(w, y, 7 + name, width - name - 6, base | (i->excluded ? ui_style(UI_STYLE_WARN) : 0),
            "%5lld/%-5lld %-4s %8.3g %8.3g %8.3g", (long long)i->kept, (long long)i->filters,
            i->excluded ? "excl" : "", i->importance_min, i->importance_mean, i->importance_max);
}

static void draw(struct ui_panel *p, WINDOW *w, bool focused)
{
    struct pruning_panel *g = pp(p);
    int h = getmaxy(w) - 2, width = getmaxx(w) - 2;
    const struct compression_view *cv = ui_app_compression(p->app);
    if (!cv || !cv->n_groups) {
        ui_put(w, 1, 1, width, "no filter pruning in the compression of `model`", A_BOLD);
        ui_put(w, 2, 1, width, "F4 (or :compress FILE) with a filter_pruning config", A_NORMAL);
        return;
    }
    char flops[96], params[96];
    if (cv->has_cost) {
        cost_text(cv->cost.flops_full, cv->cost.flops_pruned, flops, sizeof flops);
        cost_text(cv->cost.params_full, cv->cost.params_pruned, params, sizeof params);
        ui_putf(w, 1, 1, width, A_BOLD, "FLOPs %s   params %s", flops, params);
        ui_putf(w, 2, 1, width, A_NORMAL, "level %.3f (L sets it)   target %.3f (T)",
                cv->cost.level, cv->cost.target);
    }
    int name = width - 50 > 8 ? width - 50 : 8;
    attr_t hdr = ui_style(UI_STYLE_HEADER);
    ui_put(w, 3, 1, 4, "  #", hdr);
    ui_put(w, 3, 6, name, "convs (first +others)", hdr);
    ui_put(w, 3, 7 + name, width - name - 6, " kept/filters       imp min     mean      max",
           hdr);
    g->pos.n = cv->n_groups;
    g->pos.page = h - 3;
    ui_scroll_clamp(&g->pos);
    for (int r = 0; r < g->pos.page && g->pos.top + r < cv->n_groups; r++) {
        int i = g->pos.top + r;
        bool sel = i == g->pos.sel;
        attr_t base = sel ? ui_style(focused ? UI_STYLE_SELECTED : UI_STYLE_HEADER) : A_NORMAL;
        if (sel)
            ui_fill(w, 4 + r, 1, width, base);
        draw_row(w, 4 + r, width, &cv->groups[i], base);
    }
}

static void title(struct ui_panel *p, char *buf, size_t size)
{
    const struct compression_view *cv = ui_app_compression(p->app);
    if (cv && cv->n_groups)
        snprintf(buf, size, "Pruning  %d groups", cv->n_groups);
    else
        snprintf(buf, size, "Pruning");
}

static void destroy(struct ui_panel *p)
{
    free(p);
}

static const struct ui_panel_class pruning_class = {
    .name = "Pruning",
    .title = title,
    .draw = draw,
    .handle_key = handle_key,
    .mouse = mouse,
    .update = update,
    .destroy = destroy,
    .keys = pruning_keys,
};

struct ui_panel *ui_pruning_panel_new(struct ui_app *a)
{
    struct pruning_panel *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->base.cls = &pruning_class;
    g->base.app = a;
    g->pos.cursor = true;
    return &g->base;
}
