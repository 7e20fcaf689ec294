/* Scope lists against a graph: matching, and "matches nothing" errors that suggest the node
 * names closest to the pattern. */
#include "compression/quantization/scope_match.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

int nncw_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 1024 || lb > 1024) /* names are short; bound the work on odd input */
        return (int)(la > lb ? la : lb);
    int row[1025];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

bool nncw_scope_list_matches(const struct nncw_scope_list *l, const char *name)
{
    for (int i = 0; i < l->n; i++) {
        bool m = false;
        if (nncw_scope_matches(l->patterns[i], name, &m) == NNCW_OK && m)
            return true;
    }
    return false;
}

enum { N_CLOSEST = 3 };

/* how far a regex's literal text is from occurring somewhere in name (Sellers' approximate
 * substring distance: the match may start and end anywhere in name) */
static int substring_distance(const char *regex, const char *name)
{
    char lit[256];
    size_t m = 0;
    for (const char *r = regex; *r && m + 1 < sizeof lit; r++)
        if (!strchr("\\^$()[]{}*+?|", *r))
            lit[m++] = *r;
    lit[m] = '\0';
    size_t n = strlen(name);
    if (n > 1024)
        return (int)m;
    int row[1025];
    for (size_t j = 0; j <= n; j++)
        row[j] = 0;
    for (size_t i = 1; i <= m; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= n; j++) {
            int up = row[j];
            int best = diag + (lit[i - 1] != name[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    int best = row[0];
    for (size_t j = 1; j <= n; j++)
        best = row[j] < best ? row[j] : best;
    return best;
}

enum nncw_status nncw_scope_check_pattern(const struct nncw_graph *g, const char *source,
                                          const char *path, const char *pattern)
{
    int nn = nncw_graph_count_nodes(g), ni = nncw_graph_count_inputs(g);
    const char *best[N_CLOSEST] = {NULL};
    int best_d[N_CLOSEST];
    bool regex = strncmp(pattern, "{re}", 4) == 0;
    for (int i = 0; i < nn + ni; i++) { /* node scopes, then graph input names */
        const char *name = i < nn ? nncw_node_get_name(nncw_graph_get_node(g, i))
                                  : nncw_graph_get_value_name(g, nncw_graph_get_input(g, i - nn));
        bool m = false;
        enum nncw_status s = nncw_scope_matches(pattern, name, &m);
        if (s != NNCW_OK)
            return NNCW_FAIL(NNCW_ERR_PARSE, "config '%s': %s: bad regular expression '%s'", source,
                             path, pattern);
        if (m)
            return NNCW_OK;
        int d = regex ? substring_distance(pattern + 4, name) : nncw_edit_distance(pattern, name);
        for (int k = 0; k < N_CLOSEST; k++) {
            if (best[k] && (d > best_d[k] || (d == best_d[k] && strcmp(name, best[k]) >= 0)))
                continue;
            for (int j = N_CLOSEST - 1; j > k; j--) {
                best[j] = best[j - 1];
                best_d[j] = best_d[j - 1];
            }
            best[k] = name;
            best_d[k] = d;
            break;
        }
    }
    char near[768] = "";
    size_t len = 0;
    for (int k = 0; k < N_CLOSEST && best[k]; k++)
        len += (size_t)snprintf(near + len, len < sizeof near ? sizeof near - len : 0, "%s'%s'",
                                k ? ", " : "", best[k]);
    return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "config '%s': %s: '%s' matches no node (closest: %s)",
                     source, path, pattern, near[0] ? near : "none, the graph is empty");
}

enum nncw_status nncw_scope_check_list(const struct nncw_graph *g, const char *source,
                                       const struct nncw_scope_list *l)
{
    for (int i = 0; i < l->n; i++) {
        char path[300];
        if (l->single)
            snprintf(path, sizeof path, "%s", l->path ? l->path : "scopes");
        else
            snprintf(path, sizeof path, "%s[%d]", l->path ? l->path : "scopes", i);
        NNCW_TRY(nncw_scope_check_pattern(g, source, path, l->patterns[i]));
    }
    return NNCW_OK;
}
