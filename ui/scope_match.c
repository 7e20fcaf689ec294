/* Scope patterns against a graph view's nodes. */
#include "scope_match.h"

#include <stdio.h>
#include <string.h>

#include "graph/graph.h"

int ui_scope_hits(const struct graph_view *v, const char *pattern, bool *hit, char *err,
                  size_t err_size)
{
    int n = 0;
    for (int i = 0; v && i < v->n_nodes; i++) {
        bool m = false;
        hit[i] = false;
        if (strchr(v->nodes[i].scope, '|')) /* a quantizer the compression inserted */
            continue;
        if (nncw_scope_matches(pattern, v->nodes[i].scope, &m) != NNCW_OK) {
            snprintf(err, err_size, "%s", nncw_last_error());
            nncw_error_clear();
            for (int k = 0; k < v->n_nodes; k++)
                hit[k] = false;
            return -1;
        }
        hit[i] = m;
        n += m;
    }
    return n;
}
