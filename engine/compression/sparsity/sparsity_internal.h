/* Shared by the sparsity algorithms (magnitude, RB, const): the sparsified layers and the mask
 * ops inserted on their weights, measured sparsity and NNCF's statistics tables, and the
 * controller state the three have in common. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "compression/compression.h"
#include "compression/sparsity/schedulers.h"
#include "compression/sparsity/sparsity_config.h"
#include "graph/graph.h"

/* the scope suffix of the mask node inserted on a weight ("CNN/conv1/weight_mask"); its
 * parameters are "<node>._binary_mask" (and RB's logits "<node>._mask", NNCF's names) */
#define NNCW_SPARSITY_NODE_SUFFIX "/weight_mask"

struct nncw_sparse_layer {
    char *name;      /* the scope of the first node reading the weight: NNCF's module name */
    int weight;      /* the weight parameter */
    int node;        /* the inserted node: Mul (magnitude, const) or RBSparsify */
    int mask;        /* the binary mask: a non-trainable parameter of 0s and 1s */
    int logits;      /* RB: the trainable logits; -1 otherwise */
    float threshold; /* magnitude: the importance threshold of the last mask update */
    float target;    /* RB local mode: the layer's target sparsity level */
};

struct nncw_sparsity;

/* what differs between magnitude, RB and const */
struct nncw_sparsity_ops {
    /* makes level the one the masks (magnitude) or the loss (RB) aim at */
    enum nncw_status (*apply_level)(struct nncw_sparsity *sp, float level);
    /* freezes the masks for good */
    enum nncw_status (*freeze)(struct nncw_sparsity *sp);
    /* brings the mask parameters up to date before they are read (RB: [logits > 0] unless
     * frozen; may be NULL) */
    void (*refresh)(const struct nncw_sparsity *sp);
    /* the algorithm's own statistics block after the model's (may be NULL) */
    char *(*algo_statistics)(const struct nncw_sparsity *sp);
};

struct nncw_sparsity {
    struct nncw_graph *g;
    struct nncw_sparsity_config *cfg;
    const struct nncw_sparsity_ops *ops;
    int n;
    struct nncw_sparse_layer *layers;
    int64_t total;      /* elements of all sparsified weights */
    bool has_scheduler; /* global mode of magnitude and RB */
    struct nncw_sparsity_scheduler sched;
    float level; /* the level set last */
    bool frozen;
};

/* ---- layers and masks (masks.c) ---- */
/* the weights of Conv, ConvTranspose, Gemm, MatMul, Embedding (and Gather over a float table)
 * nodes that the entry's scopes select, in topological order, each with a mask node spliced
 * between it and its readers (between the weight and its quantizer when quantization placed
 * one first). rb: RBSparsify with logits logit(0.99); otherwise Mul by a mask of ones.
 * NNCW_ERR_NOT_FOUND for a scope that matches no node, NNCW_ERR_INVALID_ARG for a weight another
 * sparsity entry masks already. */
enum nncw_status nncw_sparsity_insert_masks(struct nncw_sparsity *sp, bool rb);
/* the layer's mask as the model uses it outside training (0/1 floats, the weight's numel) */
const float *nncw_sparse_layer_mask(const struct nncw_sparsity *sp, int i);
int64_t nncw_sparse_layer_numel(const struct nncw_sparsity *sp, int i);

/* ---- measures and statistics (sparsity_stats.c) ---- */
/* the fraction of zeros in a layer's masked weight */
float nncw_sparsity_layer_level(const struct nncw_sparsity *sp, int i);
/* the fraction of zeros over all sparsified weights */
float nncw_sparsity_layers_level(const struct nncw_sparsity *sp);
/* the fraction of zeros over the model's parameters (masked weights as masked; compression
 * parameters such as quantizer scales and RB logits not counted) */
float nncw_sparsity_model_level(const struct nncw_sparsity *sp);
/* "Statistics of the sparsified model:" and "Statistics by sparsified layers:" tables; NULL
 * when out of memory */
char *nncw_sparsity_model_statistics(const struct nncw_sparsity *sp);
/* "<title>:\n" and a Statistic's name / Value table of rows (label, value) */
char *nncw_sparsity_value_table(const char *title, int n, const char *const *labels,
                                const float *values);
/* "%.3f", as NNCF's tables print floats */
void nncw_sparsity_format_level(char *buf, unsigned long size, float v);

/* ---- the controller (sparsity.c) ---- */
/* the algo record of sp with the callbacks the three algorithms share (scheduler, stage,
 * statistics, compression rate); the builder adds loss and lr_scale for RB */
struct nncw_compression_algo nncw_sparsity_algo(struct nncw_sparsity *sp);
void nncw_sparsity_free(void *self);
/* sets the level (0 <= level < 1) through ops->apply_level */
enum nncw_status nncw_sparsity_set_level(struct nncw_sparsity *sp, float level);

/* ---- per algorithm: set ops, insert the masks, set the initial level ---- */
enum nncw_status nncw_sparsity_magnitude_setup(struct nncw_sparsity *sp);
enum nncw_status nncw_sparsity_rb_setup(struct nncw_sparsity *sp);
enum nncw_status nncw_sparsity_const_setup(struct nncw_sparsity *sp);
/* magnitude.c: importance of each weight, |w| or |w| / ||w||_2, into out */
void nncw_magnitude_importance(const float *w, int64_t n, enum nncw_weight_importance imp,
                               float *out);
/* the element at index floor((n - 1) * level) of v sorted ascending (v is reordered) */
float nncw_magnitude_threshold(float *v, int64_t n, float level);
/* RB's loss (gradients into the logits) and the learning rate of its logits (rb.c) */
enum nncw_status nncw_sparsity_rb_loss(void *self, float *loss);
float nncw_sparsity_rb_lr_scale(void *self, int value_id);
