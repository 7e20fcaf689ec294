/* The Graph panel: the model as a tree of scopes or a flat topological list, with op, output
 * shape, parameters and FLOPs; regex search; jumps to producers and consumers. */
#include "panels.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../draw.h"
#include "../fmt.h"
#include "../widgets/text_view.h"

struct graph_panel {
    struct ui_panel base;
    struct graph_view *view; /* a reference */
    unsigned view_serial;
    bool tree;
    char **collapsed;
    int n_collapsed;
    struct ui_graph_rows rows;
    struct ui_scroll pos; /* the selected row */
    regex_t re;
    bool have_re;
};

static const struct ui_key_help graph_keys[] = {
    {"Up Down PgUp PgDn", "move; Home/End: first/last row"},
    {"Enter Space", "fold or unfold a scope; on a node: the Inspector"},
    {"Left Right", "fold / unfold a scope (Left on a node: its scope)"},
    {"- +", "fold / unfold every scope"},
    {"v", "tree of scopes or flat list in topological order"},
    {"/ n N", "search scopes with a regex; next / previous match"},
    {"p c", "jump to the node's (first) producer / consumer; the Inspector lists all"},
    {"marks", "Q8: quantizers (bits) feed it (q8: disabled for now); S40%: sparsity mask; "
              "P3/32: pruned channels"},
    {"»", "the Scopes panel's pattern matches the node"},
    {NULL, NULL},
};

static struct graph_panel *gp(struct ui_panel *p)
{
    return (struct graph_panel *)p;
}

static void rebuild(struct graph_panel *g)
{
    int node = g->base.app->selected;
    ui_graph_rows_build(&g->rows, g->view, g->tree, g->collapsed, g->n_collapsed);
    g->pos.n = g->rows.n;
    int row = node >= 0 ? ui_graph_rows_find_node(&g->rows, node) : -1;
    if (row >= 0)
        g->pos.sel = row;
    if (g->pos.sel >= g->rows.n)
        g->pos.sel = g->rows.n ? g->rows.n - 1 : 0;
}

/* the shared selection follows the row */
static void select_row(struct graph_panel *g, int row)
{
    if (row < 0)
        row = 0;
    if (row >= g->rows.n)
        row = g->rows.n - 1;
    g->pos.sel = row < 0 ? 0 : row;
    g->base.app->selected =
        g->rows.n && g->rows.rows[g->pos.sel].kind == UI_ROW_NODE ? g->rows.rows[g->pos.sel].node : -1;
}

static bool update(struct ui_panel *p)
{
    struct graph_panel *g = gp(p);
    struct ui_app *a = p->app;
    if (g->view_serial == a->view_serial)
        return false;
    bool same =
        g->view && a->view && g->view->key == a->view->key && g->view->n_nodes == a->view->n_nodes;
    graph_view_release(g->view);
    g->view = a->view;
    graph_view_retain(g->view);
    g->view_serial = a->view_serial;
    if (!same) { /* another model: start at its top */
        g->pos.sel = g->pos.top = 0;
        a->selected = -1;
        for (int i = 0; i < g->n_collapsed; i++)
            free(g->collapsed[i]);
        g->n_collapsed = 0;
    }
    rebuild(g);
    if (!same)
        select_row(g, g->rows.n > 1 && g->rows.rows[0].kind == UI_ROW_GROUP ? 1 : 0);
    return true;
}

/* ---- folding ---- */

static int find_collapsed(struct graph_panel *g, const char *prefix)
{
    for (int i = 0; i < g->n_collapsed; i++)
        if (!strcmp(g->collapsed[i], prefix))
            return i;
    return -1;
}

static void set_collapsed(struct graph_panel *g, const char *prefix, bool on)
{
    int i = find_collapsed(g, prefix);
    if (!on && i >= 0) {
        free(g->collapsed[i]);
        g->collapsed[i] = g->collapsed[--g->n_collapsed];
    } else if (on && i < 0) {
        char **c = realloc(g->collapsed, sizeof *c * (size_t)(g->n_collapsed + 1));
        char *copy = malloc(strlen(prefix) + 1);
        if (!c || !copy) {
            free(copy);
            if (c)
                g->collapsed = c;
            return;
        }
        strcpy(copy, prefix);
        g->collapsed = c;
        g->collapsed[g->n_collapsed++] = copy;
    }
}

/* unfolds the groups holding node, so its row shows */
static void reveal(struct graph_panel *g, int node)
{
    const char *scope = g->view->nodes[node].scope;
    for (int i = g->n_collapsed - 1; i >= 0; i--) {
        size_t n = strlen(g->collapsed[i]);
        if (!strncmp(scope, g->collapsed[i], n) && scope[n] == '/')
            set_collapsed(g, g->collapsed[i], false);
    }
}

static void go_to_node(struct graph_panel *g, int node)
{
    reveal(g, node);
    g->base.app->selected = node;
    rebuild(g);
    select_row(g, ui_graph_rows_find_node(&g->rows, node));
}

static enum ui_result fold(struct graph_panel *g, int how) /* -1 fold, 1 unfold, 0 toggle */
{
    if (!g->rows.n)
        return UI_HANDLED;
    struct ui_graph_row *row = &g->rows.rows[g->pos.sel];
    if (row->kind == UI_ROW_NODE) {
        if (how >= 0 || row->depth == 0) {
            if (how == 0)
                ui_app_focus(g->base.app, UI_PANEL_INSPECTOR);
            return UI_REDRAW;
        }
        for (int i = g->pos.sel - 1; i >= 0; i--) /* Left on a node: to its group */
            if (g->rows.rows[i].depth < row->depth) {
                select_row(g, i);
                break;
            }
        return UI_REDRAW;
    }
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s", row->prefix);
    bool on = how == 0 ? !row->collapsed : how < 0;
    set_collapsed(g, prefix, on);
    rebuild(g);
    for (int i = 0; i < g->rows.n; i++)
        if (g->rows.rows[i].kind == UI_ROW_GROUP && !strcmp(g->rows.rows[i].prefix, prefix))
            select_row(g, i);
    return UI_REDRAW;
}

static void fold_all(struct graph_panel *g, bool on)
{
    if (!on) {
        for (int i = 0; i < g->n_collapsed; i++)
            free(g->collapsed[i]);
        g->n_collapsed = 0;
    } else {
        struct ui_graph_rows all = {0};
        ui_graph_rows_build(&all, g->view, true, NULL, 0);
        for (int i = 0; i < all.n; i++) /* fold below the outermost scope */
            if (all.rows[i].kind == UI_ROW_GROUP && all.rows[i].depth > 0)
                set_collapsed(g, all.rows[i].prefix, true);
        ui_graph_rows_fini(&all);
    }
    rebuild(g);
    select_row(g, g->pos.sel);
}

/* ---- search and jumps ---- */

/* node indices in display order */
static int display_order(struct graph_panel *g, int i)
{
    return g->tree ? i : g->view->topo[i];
}

static int count_matches(struct graph_panel *g)
{
    int n = 0;
    for (int i = 0; i < g->view->n_nodes; i++)
        n += regexec(&g->re, g->view->nodes[i].scope, 0, NULL, 0) == 0;
    return n;
}

int ui_graph_panel_search(struct ui_panel *p, const char *regex, int direction, char *err,
                          size_t err_size)
{
    struct graph_panel *g = gp(p);
    if (regex) {
        regex_t re;
        int rc = regcomp(&re, regex, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[128];
            regerror(rc, &re, msg, sizeof msg);
            snprintf(err, err_size, "bad regular expression '%s': %s", regex, msg);
            return -1;
        }
        if (g->have_re)
            regfree(&g->re);
        g->re = re;
        g->have_re = true;
    }
    if (!g->have_re) {
        snprintf(err, err_size, "no search yet: / starts one");
        return -1;
    }
    if (!g->view)
        return 0;
    int n = g->view->n_nodes, cur = 0, cur_node = p->app->selected;
    for (int i = 0; i < n; i++)
        if (display_order(g, i) == cur_node)
            cur = i;
    int step = direction < 0 ? -1 : 1;
    int start = direction == 0 && cur_node < 0 ? 0 : cur + step;
    for (int k = 0; k < n; k++) {
        int i = ((start + step * k) % n + n) % n;
        int node = display_order(g, i);
        if (regexec(&g->re, g->view->nodes[node].scope, 0, NULL, 0) == 0) {
            go_to_node(g, node);
            return count_matches(g);
        }
    }
    return 0;
}

static enum ui_result jump(struct graph_panel *g, bool producers)
{
    struct ui_app *a = g->base.app;
    if (a->selected < 0)
        return UI_HANDLED;
    const struct graph_view_node *n = &g->view->nodes[a->selected];
    int count = producers ? n->n_producers : n->n_consumers;
    const int *list = producers ? n->producers : n->consumers;
    if (count == 0) {
        ui_app_message(a, UI_STYLE_WARN, "%s has no %s", n->scope,
                       producers ? "producer (it reads graph inputs)" : "consumer (an output)");
        return UI_REDRAW;
    }
    int target = list[0];
    ui_app_message(a, UI_STYLE_NORMAL, "%s%s: %s", producers ? "producer" : "consumer",
                   count > 1 ? " 1 (the Inspector lists all)" : "", g->view->nodes[target].scope);
    go_to_node(g, target);
    return UI_REDRAW;
}

/* ---- keys and mouse ---- */

static enum ui_result handle_key(struct ui_panel *p, int key)
{
    struct graph_panel *g = gp(p);
    char err[256];
    if (ui_scroll_key(&g->pos, key)) {
        select_row(g, g->pos.sel);
        return UI_REDRAW;
    }
    switch (key) {
    case '\r':
    case '\n':
    case ' ':
    case UI_KEY_FN(KEY_ENTER):
        return fold(g, 0);
    case UI_KEY_FN(KEY_LEFT):
    case 'h':
        return fold(g, -1);
    case UI_KEY_FN(KEY_RIGHT):
    case 'l':
        return fold(g, 1);
    case '-':
    case '+':
    case '=':
        fold_all(g, key == '-');
        return UI_REDRAW;
    case 'v':
        g->tree = !g->tree;
        rebuild(g);
        select_row(g, g->pos.sel);
        ui_app_message(p->app, UI_STYLE_NORMAL, "%s",
                       g->tree ? "tree of scopes" : "flat list in topological order");
        return UI_REDRAW;
    case 'n':
    case 'N':
        if (ui_graph_panel_search(p, NULL, key == 'n' ? 1 : -1, err, sizeof err) < 0)
            ui_app_message(p->app, UI_STYLE_ERROR, "%s", err);
        return UI_REDRAW;
    case 'p':
    case 'c':
        return jump(g, key == 'p');
    default:
        return UI_IGNORED;
    }
}

static enum ui_result mouse(struct ui_panel *p, int row, int col, int wheel)
{
    struct graph_panel *g = gp(p);
    (void)col;
    if (wheel) {
        select_row(g, g->pos.sel + 3 * wheel);
        return UI_REDRAW;
    }
    int r = g->pos.top + row - 2; /* rows start under the header */
    if (row >= 2 && r < g->rows.n) {
        if (r == g->pos.sel && g->rows.rows[r].kind == UI_ROW_GROUP)
            return fold(g, 0);
        select_row(g, r);
    }
    return UI_REDRAW;
}

/* ---- drawing ---- */

struct columns {
    int name, op, shape, params, flops, marks;
};

/* the op column fits the longest op name (10 to 18) when the names keep 30 columns; the
 * marks column (compression markers) shows when some node has marks */
static struct columns layout(int width, const struct graph_view *v)
{
    int op = 10, marks = 0;
    for (int i = 0; v && i < v->n_nodes; i++) {
        int n = (int)strlen(v->nodes[i].op), m = (int)strlen(v->nodes[i].marks);
        if (n > op && n <= 18 && width - (n + 17 + 8 + 8 + 4) >= 30)
            op = n;
        if (m > marks)
            marks = m < 5 ? 5 : m;
    }
    /* what goes when the names would get fewer than 14 columns: FLOPs, parameters, marks,
     * then shapes */
    struct columns c = {0, op, 17, 8, 8, marks};
    int *const drop[] = {&c.flops, &c.params, &c.marks, &c.shape};
    int fixed = c.op;
    for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
        fixed += *drop[i] ? *drop[i] + 1 : 0;
    for (size_t i = 0; i < sizeof drop / sizeof *drop && width - fixed - 1 < 14; i++) {
        fixed -= *drop[i] ? *drop[i] + 1 : 0;
        *drop[i] = 0;
    }
    fixed += 1;
    c.name = width - fixed;
    return c;
}

static void draw_row(struct graph_panel *g, WINDOW *w, int y, int width, const struct columns *c,
                     int r, bool focused)
{
    const struct ui_graph_row *row = &g->rows.rows[r];
    bool selected = r == g->pos.sel;
    attr_t base = selected ? ui_style(focused ? UI_STYLE_SELECTED : UI_STYLE_HEADER) : A_NORMAL;
    if (selected)
        ui_fill(w, y, 1, width, base | (focused ? 0 : A_UNDERLINE));
    int x = 1 + 2 * row->depth;
    bool match = row->kind == UI_ROW_NODE && g->have_re &&
                 regexec(&g->re, g->view->nodes[row->node].scope, 0, NULL, 0) == 0;
    char buf[64];
    if (row->kind == UI_ROW_GROUP) {
        ui_glyph(w, y, x, row->collapsed ? "▸" : "▾", row->collapsed ? '+' : '-', base);
        ui_putf(w, y, x + 2, c->name - 2 * row->depth - 2, base | A_BOLD, "%s", row->name);
        snprintf(buf, sizeof buf, "%d nodes", row->count);
        ui_put(w, y, 1 + c->name + 1, c->op + 1 + c->shape, buf, base | ui_style(UI_STYLE_DIM));
    } else {
        const struct graph_view_node *n = &g->view->nodes[row->node];
        const struct ui_app *a = g->base.app;
        bool scoped = a->scope_hit && a->scope_serial == a->view_serial && a->scope_hit[row->node];
        if (scoped) /* the Scopes panel's pattern names it */
            x += ui_put(w, y, x, c->name - 2 * row->depth, ui_term_utf8() ? "» " : "> ",
                         base | ui_style(UI_STYLE_MATCH) | A_BOLD);
        ui_put(w, y, x, c->name - (x - 1), row->name,
               base | (match || scoped ? ui_style(UI_STYLE_MATCH) : 0) | (scoped ? A_BOLD : 0));
        ui_put(w, y, 1 + c->name + 1, c->op, n->op, base);
        if (c->shape)
            ui_put(w, y, 1 + c->name + 1 + c->op + 1, c->shape, n->out_shape, base);
    }
    int end = 1 + width;
    if (c->marks) {
        if (row->kind == UI_ROW_NODE)
            ui_put(w, y, end - c->marks, c->marks, g->view->nodes[row->node].marks,
                   base | ui_style(UI_STYLE_WARN));
        end -= c->marks + 1;
    }
    if (c->flops) {
        ui_put_right(w, y, end, c->flops, ui_fmt_si((double)row->flops, buf, sizeof buf), base);
        end -= c->flops + 1;
    }
    if (c->params)
        ui_put_right(w, y, end, c->params,
                     row->params ? ui_fmt_si((double)row->params, buf, sizeof buf) : "-", base);
}

static void draw(struct ui_panel *p, WINDOW *w, bool focused)
{
    struct graph_panel *g = gp(p);
    int h = getmaxy(w) - 2, width = getmaxx(w) - 2;
    if (!g->view) {
        ui_put(w, 1, 1, width, "no model: assign a Graph to the global `model`",
               ui_style(UI_STYLE_DIM));
        ui_put(w, 2, 1, width, "(o opens an ONNX file or a built-in model)",
               ui_style(UI_STYLE_DIM));
        return;
    }
    struct columns c = layout(width, g->view);
    attr_t hdr = ui_style(UI_STYLE_HEADER);
    ui_put(w, 1, 1, c.name, g->tree ? "scope" : "scope (topological order)", hdr);
    ui_put(w, 1, 1 + c.name + 1, c.op, "op", hdr);
    if (c.shape)
        ui_put(w, 1, 1 + c.name + 1 + c.op + 1, c.shape, "output", hdr);
    int end = 1 + width;
    if (c.marks) {
        ui_put(w, 1, end - c.marks, c.marks, "marks", hdr);
        end -= c.marks + 1;
    }
    if (c.flops) {
        ui_put_right(w, 1, end, c.flops, "FLOPs", hdr);
        end -= c.flops + 1;
    }
    if (c.params)
        ui_put_right(w, 1, end, c.params, "params", hdr);
    g->pos.page = h - 1;
    g->pos.n = g->rows.n;
    ui_scroll_clamp(&g->pos);
    for (int i = 0; i < g->pos.page && g->pos.top + i < g->rows.n; i++)
        draw_row(g, w, 2 + i, width, &c, g->pos.top + i, focused);
}

static void title(struct ui_panel *p, char *buf, size_t size)
{
    struct graph_panel *g = gp(p);
    char params[32], flops[32];
    if (!g->view) {
        snprintf(buf, size, "Graph");
        return;
    }
    const struct ui_app *a = p->app;
    int n = snprintf(buf, size, "Graph  %s: %d nodes, %s params, %s FLOPs", g->view->name,
                     g->view->n_nodes, ui_fmt_count(g->view->params, params, sizeof params),
                     ui_fmt_si((double)g->view->flops, flops, sizeof flops));
    if (a->scope_pattern[0] && a->scope_hits >= 0 && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, "  [%d match %s]", a->scope_hits, a->scope_pattern);
}

const struct ui_graph_row *ui_graph_panel_row(struct ui_panel *p)
{
    struct graph_panel *g = gp(p);
    return g->view && g->pos.sel < g->rows.n ? &g->rows.rows[g->pos.sel] : NULL;
}

static void destroy(struct ui_panel *p)
{
    struct graph_panel *g = gp(p);
    graph_view_release(g->view);
    for (int i = 0; i < g->n_collapsed; i++)
        free(g->collapsed[i]);
    free(g->collapsed);
    ui_graph_rows_fini(&g->rows);
    if (g->have_re)
        regfree(&g->re);
    free(g);
}

static const struct ui_panel_class graph_class = {
    .name = "Graph",
    .title = title,
    .draw = draw,
    .handle_key = handle_key,
    .mouse = mouse,
    .update = update,
    .destroy = destroy,
    .keys = graph_keys,
};

struct ui_panel *ui_graph_panel_new(struct ui_app *a)
{
    struct graph_panel *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->base.cls = &graph_class;
    g->base.app = a;
    g->tree = true;
    g->pos.cursor = true;
    return &g->base;
}
