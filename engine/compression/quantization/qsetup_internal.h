/* The quantizer setup's working structures: the insertion-point graph NNCF propagates
 * quantizers on (qprop_graph.c) and the propagation itself (qprop_solver.c).
 *
 * Fused groups of nodes are the ops of this graph. Each group has one pre-hook per input port
 * of its first node that carries an activation (a graph input or a node output, not a
 * parameter) and one post-hook covering the outputs of its last node; graph inputs are groups
 * with only a post-hook, graph outputs groups with one pre-hook. A post-hook with several
 * successor edges is a branching point. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "compression/quantization/hw_config.h"
#include "compression/quantization/op_traits.h"
#include "compression/quantization/quant_config.h"
#include "graph/graph.h"

enum nncw_qp_kind { NNCW_QP_OP, NNCW_QP_INPUT, NNCW_QP_OUTPUT };

struct nncw_qp_edge {
    int group, port; /* a pre-hook: input port of a group */
};

struct nncw_qp_list {
    int n, cap;
    int *v;
};

struct nncw_qp_group {
    enum nncw_qp_kind kind;
    int first, last;       /* node indices (NNCW_QP_OP), graph input / output index otherwise */
    const char *name;      /* the first node's scope, or the value's name */
    const char *last_name; /* the last node's scope (post-hook quantizer ids) */
    int rank;              /* position in the lexicographic topological order */
    enum nncw_qtrait trait;
    bool unified;        /* hardware config: the inputs share one scale */
    bool moves_channels; /* per-channel quantizers cannot pass it */
    int n_ports;
    int *port_value; /* value read at each port of the first node; -1: no activation edge */
    int port_base;   /* offset of its ports in qp_graph's flat per-port arrays */
    int n_out;
    struct nncw_qp_edge *out; /* successors of the post-hook */
    int n_cfg;
    struct nncw_qconfig *cfg; /* inputs-quantizable: allowed input configurations */
    struct nncw_qp_list aff;  /* propagating quantizers affecting the op (solver state) */
};

struct nncw_qp_graph {
    struct nncw_graph *g;
    int n_groups;
    struct nncw_qp_group *groups; /* in rank order */
    int n_ports;                  /* sum of n_ports */
    int *group_of_node;
    int *producer;          /* value -> group whose post-hook produces it, -1 for parameters */
    bool *is_int;           /* value -> carries integers */
    bool *dominates_output; /* group -> branching post-hook reaching an output through agnostic
                             * ops only (NNCF: no quantizer passes it unless quantize_outputs) */
    struct nncw_qconfig default_act; /* the default activation config, constraints applied */
};

/* builds the insertion-point graph with traits and allowed input configurations for cfg on
 * hw (NULL: TRIAL). NNCW_ERR_PARSE naming the JSON path and the op when constraints leave an op
 * nothing; NNCW_ERR_NOMEM */
enum nncw_status nncw_qp_graph_build(struct nncw_graph *g, const struct nncw_quant_config *cfg,
                                     const struct nncw_hw_config *hw, struct nncw_qp_graph *out);
void nncw_qp_graph_fini(struct nncw_qp_graph *qg);

/* whether node name is selected by a group's ignored/target lists plus the entry's own */
bool nncw_qp_scope_ignored(const struct nncw_quant_config *cfg,
                           const struct nncw_qgroup_config *grp, const char *name);
/* the constraints for a node: the group's section (0 weights, 1 activations), then every
 * matching scope override in file order */
struct nncw_qconstraints nncw_qp_constraints_for(const struct nncw_quant_config *cfg, int group,
                                                 const char *name);
/* "8-bit symmetric per-tensor, 8-bit asymmetric per-tensor" */
void nncw_qp_format_configs(const struct nncw_qconfig *list, int n, char *buf, size_t size);
/* NNCW_ERR_PARSE: the constraints c of group (0 weights, 1 activations) leave no config of
 * list for the op `name`; names the JSON path of the key responsible */
enum nncw_status nncw_qp_fail_constraints(const struct nncw_quant_config *cfg, int group,
                                          const struct nncw_qconstraints *c, const char *name,
                                          const char *hw_type, const char *device,
                                          const struct nncw_qconfig *list, int n);

int nncw_qp_list_add(struct nncw_qp_list *l, int v); /* -1 when out of memory */
void nncw_qp_list_remove(struct nncw_qp_list *l, int v);

/* one finished activation quantizer */
struct nncw_qp_result {
    int group, port; /* location: port -1 = the group's post-hook */
    int n_cfg;
    struct nncw_qconfig *cfg; /* owned */
    int ugroup;               /* unified-scale group id, -1 none */
};

/* propagates the activation quantizers; *out (n_out entries, caller frees with
 * nncw_qp_results_free) in no particular order. NNCW_ERR_NOT_FOUND / NNCW_ERR_PARSE for
 * unified_scale_ops that select no quantizer or allow no per-tensor configuration; NNCW_ERR_NOMEM
 */
enum nncw_status nncw_qp_solve(struct nncw_qp_graph *qg, const struct nncw_quant_config *cfg,
                               struct nncw_qp_result **out, int *n_out);
void nncw_qp_results_free(struct nncw_qp_result *r, int n);
