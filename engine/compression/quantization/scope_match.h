/*
 * Scope lists of a quantization config against a graph: which nodes a list selects, and the
 * check that every pattern selects something (NNCF 2.4's strict scope check), with the closest
 * node names in the message.
 *
 *     bool hit = nncw_scope_list_matches(&q->ignored, "ResNet/layer3.0/conv1");
 *     nncw_scope_check_list(g, q->source, &q->ignored);
 *     // "config 'q.json': compression[0].ignored_scopes[1]: 'ResNet/layer3.0/cnv1' matches no
 *     //  node (closest: 'ResNet/layer3.0/conv1', 'ResNet/layer3.0/conv2', ...)"
 */
#pragma once

#include <stdbool.h>

#include "compression/quantization/quant_config.h"
#include "core/status.h"
#include "graph/graph.h"

/* Levenshtein distance (insertions, deletions, substitutions) */
int nncw_edit_distance(const char *a, const char *b);
/* whether any pattern of the list matches name (exact, or "{re}" searched in the name) */
bool nncw_scope_list_matches(const struct nncw_scope_list *l, const char *name);
/* NNCW_ERR_NOT_FOUND naming the first pattern of l that matches no node of g (nor the name of a
 * graph input, which quantizer ids use), its JSON path and the names closest to it; source
 * names the config */
enum nncw_status nncw_scope_check_list(const struct nncw_graph *g, const char *source,
                                       const struct nncw_scope_list *l);
/* the same for one pattern with its path */
enum nncw_status nncw_scope_check_pattern(const struct nncw_graph *g, const char *source,
                                          const char *path, const char *pattern);
