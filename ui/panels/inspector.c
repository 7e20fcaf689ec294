/* The Inspector: everything about the selected node (attributes, inputs, producers and
 * consumers, each weight's statistics and histogram), or the sums of a selected scope. */
#include "panels.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../draw.h"
#include "../fmt.h"
#include "../widgets/histogram.h"
#include "../widgets/text_view.h"

enum { HIST_ROWS = 6 };

struct item {
    attr_t a;
    char text[200];
    const struct graph_view_weight *hist; /* a histogram of HIST_ROWS rows instead of text */
};

struct inspector_panel {
    struct ui_panel base;
    struct ui_scroll pos; /* a plain scroll offset (pos.top) */
    int last_node;
    struct graph_view *view; /* a reference: the items point into it while drawing */
    unsigned view_serial;
    struct item *items;
    int n, cap;
};

static const struct ui_key_help inspector_keys[] = {
    {"Up Down PgUp PgDn", "scroll; Home/End: top/bottom"},
    {NULL, NULL},
};

static struct inspector_panel *ip(struct ui_panel *p)
{
    return (struct inspector_panel *)p;
}

static void add(struct inspector_panel *q, attr_t a, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(struct inspector_panel *q, attr_t a, const char *fmt, ...)
{
    if (q->n == q->cap) {
        int cap = q->cap ? q->cap * 2 : 64;
        struct item *it = realloc(q->items, sizeof *it * (size_t)cap);
        if (!it)
            return;
        q->items = it;
        q->cap = cap;
    }
    struct item *it = &q->items[q->n++];
    it->a = a;
    it->hist = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->text, sizeof it->text, fmt, ap);
    va_end(ap);
}

/* a histogram item followed by the blank rows it covers */
static void add_hist(struct inspector_panel *q, const struct graph_view_weight *w)
{
    add(q, A_NORMAL, "%s", "");
    if (q->n)
        q->items[q->n - 1].hist = w;
    for (int r = 1; r < HIST_ROWS; r++)
        add(q, A_NORMAL, "%s", "");
}

/* "label  a (Op), b (Op)" wrapped to width columns; none when the list is empty */
static void node_list(struct inspector_panel *q, const char *label, const int *list, int n,
                      const char *none, int width)
{
    const struct graph_view *v = q->view;
    char line[200];
    int len = snprintf(line, sizeof line, "%-11s", label);
    if (n == 0)
        snprintf(line + len, sizeof line - (size_t)len, "%s", none);
    for (int i = 0; i < n; i++) {
        char part[160];
        snprintf(part, sizeof part, "%s (%s)%s", v->nodes[list[i]].scope, v->nodes[list[i]].op,
                 i + 1 < n ? "," : "");
        if (len > 11 && len + 1 + (int)strlen(part) > width) {
            add(q, A_NORMAL, "%s", line);
            len = snprintf(line, sizeof line, "%-11s", "");
        }
        len += snprintf(line + len, sizeof line - (size_t)len, "%s%s", len > 11 ? " " : "", part);
        if (len >= (int)sizeof line)
            len = (int)sizeof line - 1;
    }
    add(q, A_NORMAL, "%s", line);
}

/* the attributes, as many to a line as fit */
static void attr_lines(struct inspector_panel *q, const struct graph_view_node *n, int width)
{
    char line[200];
    int len = snprintf(line, sizeof line, "%-11s", "attributes");
    if (n->n_attrs == 0)
        snprintf(line + len, sizeof line - (size_t)len, "none");
    for (int i = 0; i < n->n_attrs; i++) {
        const char *a = n->attrs[i];
        if (len > 11 && len + 2 + (int)strlen(a) > width) {
            add(q, A_NORMAL, "%s", line);
            len = snprintf(line, sizeof line, "%-11s", "");
        }
        len += snprintf(line + len, sizeof line - (size_t)len, "%s%s", len > 11 ? ", " : "", a);
        if (len >= (int)sizeof line)
            len = (int)sizeof line - 1;
    }
    add(q, A_NORMAL, "%s", line);
}

static void weight_items(struct inspector_panel *q, const struct graph_view_weight *w)
{
    char count[32];
    add(q, A_BOLD, "%s %s %s%s, %s values", w->name, w->shape, w->dtype,
        w->trainable ? "" : " (buffer)", ui_fmt_count(w->stats.count, count, sizeof count));
    add(q, A_NORMAL, "  min %.4g  max %.4g  mean %.4g  std %.4g", w->stats.min, w->stats.max,
        w->stats.mean, w->stats.std);
    double zero_share = 100.0 * (double)w->zeros / (double)(w->stats.count ? w->stats.count : 1);
    if (w->zero_channels)
        add(q, A_NORMAL, "  zeros %lld (%.1f%%), %lld of %lld output channels all zero",
            (long long)w->zeros, zero_share, (long long)w->zero_channels, (long long)w->channels);
    else if (w->zeros)
        add(q, A_NORMAL, "  zeros %lld (%.1f%%)", (long long)w->zeros, zero_share);
    if (w->stats.n_nan || w->stats.n_inf)
        add(q, ui_style(UI_STYLE_ERROR), "  %lld NaN, %lld infinite values",
            (long long)w->stats.n_nan, (long long)w->stats.n_inf);
    if (w->stats.count > 1)
        add_hist(q, w);
}

/* the shape the node reads: its first input that is not a parameter */
static const char *input_shape(const struct graph_view_node *n)
{
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i].weight < 0)
            return n->inputs[i].shape;
    return "[]";
}

static void node_items(struct inspector_panel *q, int node, int width)
{
    const struct graph_view *v = q->view;
    const struct graph_view_node *n = &v->nodes[node];
    char params[32], flops[32], macs[32];
    add(q, A_BOLD, "%s", n->scope);
    add(q, A_NORMAL, "%s, node %d of %d, %s -> %s", n->op, node + 1, v->n_nodes, input_shape(n),
        n->out_shape);
    add(q, A_NORMAL, "params %s  FLOPs %s  MACs %s", ui_fmt_count(n->params, params, sizeof params),
        ui_fmt_count(n->flops, flops, sizeof flops), ui_fmt_count(n->macs, macs, sizeof macs));
    if (n->marks[0])
        add(q, ui_style(UI_STYLE_WARN), "%-11s%s", "marks", n->marks);
    attr_lines(q, n, width);
    node_list(q, "producers", n->producers, n->n_producers, "(the graph input)", width);
    node_list(q, "consumers", n->consumers, n->n_consumers, "(a graph output)", width);
    if (q->base.app->status.busy)
        add(q, ui_style(UI_STYLE_DIM), "%s", "(weights as before the running work)");
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i].weight >= 0)
            weight_items(q, &v->weights[n->inputs[i].weight]);
}

static void group_items(struct inspector_panel *q, const struct ui_graph_row *row)
{
    const struct graph_view *v = q->view;
    char params[32], flops[32];
    add(q, A_BOLD, "%s", row->prefix);
    add(q, A_NORMAL, "scope with %d nodes, params %s, FLOPs %s", row->count,
        ui_fmt_count(row->params, params, sizeof params),
        ui_fmt_count(row->flops, flops, sizeof flops));
    add(q, ui_style(UI_STYLE_HEADER), "ops");
    /* an op histogram of the nodes inside (they follow the group's first node) */
    size_t plen = strlen(row->prefix);
    for (int i = row->node; i < v->n_nodes; i++) {
        const char *s = v->nodes[i].scope;
        if (strncmp(s, row->prefix, plen) || s[plen] != '/')
            continue;
        bool seen = false;
        for (int j = row->node; j < i && !seen; j++)
            seen = !strcmp(v->nodes[j].op, v->nodes[i].op) &&
                   !strncmp(v->nodes[j].scope, row->prefix, plen) && v->nodes[j].scope[plen] == '/';
        if (seen)
            continue;
        int count = 0;
        for (int j = i; j < v->n_nodes; j++)
            count += !strcmp(v->nodes[j].op, v->nodes[i].op) &&
                     !strncmp(v->nodes[j].scope, row->prefix, plen) &&
                     v->nodes[j].scope[plen] == '/';
        add(q, A_NORMAL, "  %-16s %d", v->nodes[i].op, count);
    }
    add(q, ui_style(UI_STYLE_DIM), "Enter on the scope in the Graph folds it");
}

static void model_items(struct inspector_panel *q)
{
    const struct graph_view *v = q->view;
    char params[32], flops[32], macs[32];
    add(q, A_BOLD, "%s", v->name);
    add(q, A_NORMAL, "%d nodes, %d parameter tensors", v->n_nodes, v->n_weights);
    add(q, A_NORMAL, "params %s  FLOPs %s  MACs %s", ui_fmt_count(v->params, params, sizeof params),
        ui_fmt_count(v->flops, flops, sizeof flops), ui_fmt_count(v->macs, macs, sizeof macs));
    add(q, A_NORMAL, "inputs   %s", v->inputs);
    add(q, A_NORMAL, "outputs  %s", v->outputs);
    add(q, ui_style(UI_STYLE_DIM), "select a node in the Graph panel to inspect it");
}

static void build(struct inspector_panel *q, int width)
{
    q->n = 0;
    struct ui_app *a = q->base.app;
    if (!q->view) {
        add(q, ui_style(UI_STYLE_DIM), "%s", "no model");
        return;
    }
    const struct ui_graph_row *row = ui_graph_panel_row(a->panels[UI_PANEL_GRAPH]);
    if (a->selected >= 0 && a->selected < q->view->n_nodes)
        node_items(q, a->selected, width);
    else if (row && row->kind == UI_ROW_GROUP)
        group_items(q, row);
    else
        model_items(q);
}

static bool update(struct ui_panel *p)
{
    struct inspector_panel *q = ip(p);
    struct ui_app *a = p->app;
    bool changed = q->view_serial != a->view_serial || q->last_node != a->selected;
    if (q->view_serial != a->view_serial) {
        graph_view_release(q->view);
        q->view = a->view;
        graph_view_retain(q->view);
        q->view_serial = a->view_serial;
    }
    if (q->last_node != a->selected)
        q->pos.top = 0;
    q->last_node = a->selected;
    return changed;
}

static void draw(struct ui_panel *p, WINDOW *w, bool focused)
{
    struct inspector_panel *q = ip(p);
    (void)focused;
    int h = getmaxy(w) - 2, width = getmaxx(w) - 2;
    build(q, width);
    q->pos.n = q->n;
    q->pos.page = h;
    ui_scroll_clamp(&q->pos);
    int top = q->pos.top;
    for (int r = 0; r < h && top + r < q->n; r++) {
        const struct item *it = &q->items[top + r];
        if (it->hist) {
            int rows = HIST_ROWS;
            if (r + rows > h) /* a histogram cut at the bottom: its top rows only */
                rows = h - r;
            if (rows >= 2)
                ui_histogram_draw(w, 1 + r, 3, rows, width - 4, it->hist->bins, GRAPH_VIEW_BINS,
                                  it->hist->lo, it->hist->hi, UI_STYLE_SERIES1);
            continue;
        }
        ui_put(w, 1 + r, 1, width, it->text, it->a);
    }
    if (q->n > h) {
        char more[32];
        snprintf(more, sizeof more, " %d/%d ", top + h < q->n ? top + h : q->n, q->n);
        ui_put_right(w, h + 1, width, width, more, ui_style(UI_STYLE_DIM));
    }
}

static enum ui_result handle_key(struct ui_panel *p, int key)
{
    struct inspector_panel *q = ip(p);
    if (key == ' ') /* Space pages, as in a pager */
        key = UI_KEY_FN(KEY_NPAGE);
    return ui_scroll_key(&q->pos, key) ? UI_REDRAW : UI_IGNORED;
}

static enum ui_result mouse(struct ui_panel *p, int row, int col, int wheel)
{
    (void)row;
    (void)col;
    ui_scroll_by(&ip(p)->pos, 3 * wheel);
    return UI_REDRAW;
}

static void title(struct ui_panel *p, char *buf, size_t size)
{
    struct inspector_panel *q = ip(p);
    struct ui_app *a = p->app;
    if (q->view && a->selected >= 0 && a->selected < q->view->n_nodes)
        snprintf(buf, size, "Inspector  %s", q->view->nodes[a->selected].scope);
    else
        snprintf(buf, size, "Inspector");
}

static void destroy(struct ui_panel *p)
{
    struct inspector_panel *q = ip(p);
    graph_view_release(q->view);
    free(q->items);
    free(q);
}

static const struct ui_panel_class inspector_class = {
    .name = "Inspector",
    .title = title,
    .draw = draw,
    .handle_key = handle_key,
    .mouse = mouse,
    .update = update,
    .destroy = destroy,
    .keys = inspector_keys,
};

struct ui_panel *ui_inspector_panel_new(struct ui_app *a)
{
    struct inspector_panel *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->base.cls = &inspector_class;
    q->base.app = a;
    q->last_node = -2;
    return &q->base;
}
