/* Shared by the files of compression/pruning: the channel analysis of the graph (which values
 * carry which prunable channels), the groups of filters pruned together, the mask sites, the
 * controller, and the FLOPs/parameter counts. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "compression/compression.h"
#include "compression/pruning/pruning_config.h"
#include "graph/graph.h"

/* the scope suffixes of the mask nodes ("ResNet20/layer1.0/conv1/weight_pruning_mask"); their
 * parameters are "<node>._binary_filter_pruning_mask" (NNCF's name) */
#define NNCW_PRUNING_WEIGHT_MASK "/weight_pruning_mask"
#define NNCW_PRUNING_BIAS_MASK "/bias_pruning_mask"

/* ---- channel analysis (pruning_graph.c) ----
 * The channel axis of a value is a list of segments, each the output channels of one cluster of
 * convolutions (filters that must be pruned together) or channels that stay (cluster -1). A conv
 * starts a cluster; activations, batch norms and pooling pass their input's segments on;
 * Add/Sub/Mul join the clusters of their inputs; Concat appends; Flatten multiplies each channel
 * into mult columns for a following Gemm. */
struct nncw_prune_seg {
    int cluster;
    int64_t len;
};

struct nncw_prune_label {
    int n; /* 0: no prunable channel structure */
    struct nncw_prune_seg *segs;
    int64_t mult; /* columns per channel after Flatten (1 otherwise) */
};

struct nncw_prune_analysis {
    int n_values;
    struct nncw_prune_label *labels; /* per value id */
    int n_clusters;
    int *parent;       /* union-find over clusters */
    bool *blocked;     /* per cluster, merged into the roots by nncw_prune_analyse */
    int64_t *channels; /* per cluster */
};

/* a node whose work changes with pruning: Conv (any groups) or Gemm */
struct nncw_prune_cost_node {
    int node;
    bool gemm;
    int in, out;    /* the activation values it reads and writes */
    int weight;     /* the float parameter of its weight (-1 if none found) */
    int64_t kernel; /* conv: k_h * k_w */
    int64_t groups; /* conv groups (depthwise: follows the kept channels) */
    bool depthwise;
    int64_t spatial;     /* conv: H_out * W_out */
    int64_t c_in, c_out; /* unpruned channels (Gemm: in and out features) */
    bool bias;
};

enum nncw_status nncw_prune_analyse(struct nncw_graph *g, const struct nncw_pruning_config *pc,
                                    struct nncw_prune_analysis *an);
void nncw_prune_analysis_fini(struct nncw_prune_analysis *an);
int nncw_prune_root(const struct nncw_prune_analysis *an, int cluster);
/* the float parameter holding the weight of Conv/Gemm node n (directly or through a weight
 * quantizer, and through the weight mask once inserted) with the node and port reading it
 * (before the mask); false when there is none */
bool nncw_prune_find_weight(const struct nncw_graph *g, const struct nncw_node *n, int *param,
                            int *reader, int *port);

/* ---- groups and the controller (pruning.c) ---- */
struct nncw_prune_group {
    int root;         /* the analysis cluster */
    int64_t channels; /* filters of each member */
    int n_members;
    int *members;      /* conv nodes whose filters this group prunes (depthwise ones too) */
    float *importance; /* per filter: the criterion summed over the members */
    float *keep;       /* the current mask (0/1) */
    int64_t kept;
    bool excluded;
    float a, b; /* LeGR's affine ranking coefficients (1, 0 until learned or loaded) */
};

/* a parameter multiplied by a mask: conv weight ([C,1,1,1] mask), conv bias and batch-norm
 * scale/bias ([C] masks); label_value is the activation whose channels the mask follows */
struct nncw_prune_site {
    int param, mask, node; /* the masked parameter, the mask parameter, the Mul node */
    int label_value;
};

struct nncw_pruning {
    struct nncw_graph *g;
    struct nncw_pruning_config *cfg;
    struct nncw_prune_analysis an;
    int n_groups;
    struct nncw_prune_group *groups;
    int *group_of_root; /* per cluster: group index or -1 */
    int n_sites;
    struct nncw_prune_site *sites;
    int n_cost;
    struct nncw_prune_cost_node *cost;
    struct nncw_pruning_state st;
    bool has_coeffs; /* LeGR coefficients learned or loaded: the global ranking uses them */
};

/* the mask of a value's channel axis (expanded by mult) into out; returns its length */
int64_t nncw_prune_label_mask(const struct nncw_pruning *pr, int value, float *out);
/* the kept channels of a value's channel axis (times mult) given per-group kept counts (NULL:
 * unpruned) */
int64_t nncw_prune_label_kept(const struct nncw_pruning *pr, int value, const int64_t *kept);
/* writes every mask parameter from the groups' keep arrays */
void nncw_prune_write_masks(struct nncw_pruning *pr);
/* the groups' keep arrays and kept counts from the mask parameters (a checkpoint may have
 * loaded them) */
void nncw_prune_read_masks(struct nncw_pruning *pr);
/* splices the mask nodes in (conv weights and biases; batch norms if the config says so) */
enum nncw_status nncw_prune_insert_masks(struct nncw_pruning *pr);

/* ---- criteria and levels (importance.c) ---- */
/* the criterion of each of the n filters of a [n, k] weight into out */
void nncw_filter_importance(enum nncw_filter_importance crit, const float *w, int64_t n, int64_t k,
                            float *out);
/* NNCF's kept count for a level: ceil(c * (1 - level) / 8) * 8, within [min(8, c), c] */
int64_t nncw_prune_kept_count(int64_t c, float level);
/* fills each group's importance from the current weights */
enum nncw_status nncw_prune_rank(struct nncw_pruning *pr);
/* per-group kept counts for a filter level (uniform, or pooled when all_weights) */
enum nncw_status nncw_prune_counts_for_level(const struct nncw_pruning *pr, float level,
                                             int64_t *kept);
/* sets the masks to level (a FLOPs reduction when the config's target is in FLOPs) */
enum nncw_status nncw_prune_apply_level(struct nncw_pruning *pr, float level);
/* sets the masks to the smallest filter level reaching a FLOPs reduction of target, whatever
 * the config's target type (LeGR's candidates) */
enum nncw_status nncw_prune_apply_flops(struct nncw_pruning *pr, float target);

/* ---- LeGR (legr.c) ---- */
/* runs the search at build time as the config asks (learned_ranking without a coefficients
 * file, on init data), or loads the file; saves when save_ranking_coeffs_path is given */
enum nncw_status nncw_legr_from_config(struct nncw_pruning *pr,
                                       const struct nncw_compression_init *init);

/* ---- schedule (pruning_schedule.c) ---- */
/* the level at the start of epoch (NNCF's pruning schedulers) and whether masks freeze then */
float nncw_pruning_schedule_level(const struct nncw_pruning_config *pc, float target, int epoch,
                                  bool *frozen);

/* ---- counts and statistics (pruning_stats.c) ---- */
/* FLOPs (2 per multiply-add) and parameters of the convs and Gemms with the given kept counts
 * (NULL: unpruned) */
void nncw_prune_cost(const struct nncw_pruning *pr, const int64_t *kept, int64_t *flops,
                     int64_t *params);
enum nncw_status nncw_prune_statistics(const struct nncw_pruning *pr, char **text);
