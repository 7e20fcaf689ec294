/* The Graph panel's rows: a tree of scopes with sums, or a flat topological list. */
#include "graph_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_PARTS = 32 };

static struct ui_graph_row *add(struct ui_graph_rows *r)
{
    if (r->n == r->cap) {
        int cap = r->cap ? r->cap * 2 : 64;
        struct ui_graph_row *p = realloc(r->rows, sizeof *p * (size_t)cap);
        if (!p)
            return NULL;
        r->rows = p;
        r->cap = cap;
    }
    struct ui_graph_row *row = &r->rows[r->n++];
    memset(row, 0, sizeof *row);
    return row;
}

/* the scope's non-empty parts split at '/': start offsets and lengths */
static int split(const char *scope, int *start, int *len)
{
    int n = 0;
    for (int i = 0; scope[i] && n < MAX_PARTS;) {
        while (scope[i] == '/')
            i++;
        if (!scope[i])
            break;
        int j = i;
        while (scope[j] && scope[j] != '/')
            j++;
        start[n] = i;
        len[n++] = j - i;
        i = j;
    }
    return n;
}

static void set_name(char *dst, size_t size, const char *src, int len)
{
    snprintf(dst, size, "%.*s", len, src);
}

static bool node_row(struct ui_graph_rows *r, const struct graph_view_node *n, int depth,
                     const char *name, int name_len)
{
    struct ui_graph_row *row = add(r);
    if (!row)
        return false;
    row->kind = UI_ROW_NODE;
    row->depth = depth;
    row->node = n->index;
    set_name(row->name, sizeof row->name, name, name_len);
    row->params = n->params;
    row->flops = n->flops;
    row->count = 1;
    return true;
}

/* every row of the tree, collapsed or not */
static bool build_tree(struct ui_graph_rows *r, const struct graph_view *v)
{
    char open[MAX_PARTS][256]; /* the prefixes of the open groups, outermost first */
    int n_open = 0;
    for (int i = 0; i < v->n_nodes; i++) {
        const struct graph_view_node *n = &v->nodes[i];
        int start[MAX_PARTS], len[MAX_PARTS];
        int parts = split(n->scope, start, len);
        int groups = parts > 0 ? parts - 1 : 0;
        int keep = 0; /* open groups that this node is still inside */
        while (keep < n_open && keep < groups &&
               (int)strlen(open[keep]) == start[keep] + len[keep] &&
               strncmp(open[keep], n->scope, (size_t)(start[keep] + len[keep])) == 0)
            keep++;
        n_open = keep;
        for (int g = keep; g < groups; g++) {
            struct ui_graph_row *row = add(r);
            if (!row)
                return false;
            row->kind = UI_ROW_GROUP;
            row->depth = g;
            row->node = i;
            set_name(row->name, sizeof row->name, n->scope + start[g], len[g]);
            set_name(row->prefix, sizeof row->prefix, n->scope, start[g] + len[g]);
            snprintf(open[n_open++], sizeof open[0], "%s", row->prefix);
        }
        const char *name = parts ? n->scope + start[parts - 1] : n->scope;
        if (!node_row(r, n, groups, name, parts ? len[parts - 1] : (int)strlen(n->scope)))
            return false;
    }
    /* each group's sums over the rows below it */
    for (int i = 0; i < r->n; i++) {
        struct ui_graph_row *g = &r->rows[i];
        if (g->kind != UI_ROW_GROUP)
            continue;
        for (int j = i + 1; j < r->n && r->rows[j].depth > g->depth; j++)
            if (r->rows[j].kind == UI_ROW_NODE) {
                g->params += r->rows[j].params;
                g->flops += r->rows[j].flops;
                g->count++;
            }
    }
    return true;
}

static bool is_collapsed(const char *prefix, char *const *collapsed, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(collapsed[i], prefix) == 0)
            return true;
    return false;
}

/* drops the rows inside collapsed groups (in place) */
static void hide_collapsed(struct ui_graph_rows *r, char *const *collapsed, int n_collapsed)
{
    int out = 0, hide_below = -1;
    for (int i = 0; i < r->n; i++) {
        struct ui_graph_row *row = &r->rows[i];
        if (hide_below >= 0 && row->depth > hide_below)
            continue;
        hide_below = -1;
        if (row->kind == UI_ROW_GROUP && is_collapsed(row->prefix, collapsed, n_collapsed)) {
            row->collapsed = true;
            hide_below = row->depth;
        }
        r->rows[out++] = *row;
    }
    r->n = out;
}

bool ui_graph_rows_build(struct ui_graph_rows *r, const struct graph_view *v, bool tree,
                         char *const *collapsed, int n_collapsed)
{
    r->n = 0;
    if (!v)
        return true;
    bool ok = true;
    if (tree) {
        ok = build_tree(r, v);
        if (ok)
            hide_collapsed(r, collapsed, n_collapsed);
    } else {
        for (int i = 0; i < v->n_nodes && ok; i++) {
            const struct graph_view_node *n = &v->nodes[v->topo[i]];
            ok = node_row(r, n, 0, n->scope, (int)strlen(n->scope));
        }
    }
    if (!ok)
        r->n = 0;
    return ok;
}

void ui_graph_rows_fini(struct ui_graph_rows *r)
{
    free(r->rows);
    r->rows = NULL;
    r->n = r->cap = 0;
}

int ui_graph_rows_find_node(const struct ui_graph_rows *r, int node)
{
    for (int i = 0; i < r->n; i++)
        if (r->rows[i].kind == UI_ROW_NODE && r->rows[i].node == node)
            return i;
    return -1;
}
