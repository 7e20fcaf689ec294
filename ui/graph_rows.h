/*
 * The rows of the Graph panel, built from a graph view without curses (so they are tested
 * as plain C): a tree of scopes ("ResNet18/layer1.0/conv1" gives groups ResNet18 and
 * layer1.0 and the node conv1, with each group's parameters and FLOPs summed), or a flat
 * list in topological order. Collapsed groups hide what is inside them.
 *
 *     struct ui_graph_rows r = {0};
 *     ui_graph_rows_build(&r, view, true, collapsed, n_collapsed);
 *     for (int i = 0; i < r.n; i++) ... r.rows[i].name, r.rows[i].depth ...
 *     ui_graph_rows_fini(&r);
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "graph_view.h"

enum ui_graph_row_kind { UI_ROW_GROUP, UI_ROW_NODE };

struct ui_graph_row {
    enum ui_graph_row_kind kind;
    int depth;
    int node;         /* NODE: the node's index; GROUP: its first node */
    char name[96];    /* the scope part shown (a group's part, a node's last part) */
    char prefix[256]; /* GROUP: the scope prefix up to and including its part */
    int64_t params, flops;
    int count; /* GROUP: nodes inside */
    bool collapsed;
};

struct ui_graph_rows {
    struct ui_graph_row *rows;
    int n, cap;
};

/* rebuilds rows (tree: scopes; flat: topological order) hiding the groups whose prefix is in
 * collapsed; false when out of memory (rows then empty) */
bool ui_graph_rows_build(struct ui_graph_rows *r, const struct graph_view *v, bool tree,
                         char *const *collapsed, int n_collapsed);
void ui_graph_rows_fini(struct ui_graph_rows *r);
/* the row showing node (-1 if hidden or absent) */
int ui_graph_rows_find_node(const struct ui_graph_rows *r, int node);
