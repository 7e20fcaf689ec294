/*
 * Which nodes of a graph view an NNCF scope pattern names (an exact scope, or "{re}" and a
 * POSIX extended regex, as ignored_scopes take them), without curses: the Scopes panel's live
 * highlighting. Tested as plain C.
 *
 *     bool hit[v->n_nodes];
 *     int n = ui_scope_hits(v, "{re}.*conv[12]$", hit, err, sizeof err);   // -1: bad pattern
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "graph_view.h"

/* marks hit[i] for each node whose scope the pattern matches (not the quantizers a compression
 * inserted: their ids hold '|', and scopes name the model's own nodes); returns how many, or
 * -1 with the engine's message in err (a bad regex) */
int ui_scope_hits(const struct graph_view *v, const char *pattern, bool *hit, char *err,
                  size_t err_size);
