/*
 * What quantizer placement knows about nncw's ops: NNCF's quantization traits, the OpenVINO op
 * name a hardware config lists an op under, which input is a quantizable weight, which values
 * carry integers, and the fused patterns whose internal edges get no quantizers.
 *
 *     const char *mode;
 *     const char *hw = nncw_quant_hw_name(g, node, &mode);   // "DepthWiseConvolution"
 *     enum nncw_qtrait t = nncw_quant_default_trait(g, node);  // NNCW_QTRAIT_INPUTS_QUANTIZABLE
 *     int wp = nncw_quant_weight_port(g, node);               // 1 for a Conv with a weight
 *
 * docs/quantization-placement.md lists the tables and says where they depart from NNCF's.
 */
#pragma once

#include <stdbool.h>

#include "core/status.h"
#include "graph/graph.h"

/* NNCF's QuantizationTrait */
enum nncw_qtrait {
    NNCW_QTRAIT_NON_QUANTIZABLE,    /* runs in FP32: no quantizer at its inputs, none passes it */
    NNCW_QTRAIT_INPUTS_QUANTIZABLE, /* its activation inputs get quantizers */
    NNCW_QTRAIT_AGNOSTIC,           /* quantizers pass through it towards the producers */
    NNCW_QTRAIT_CONCAT,             /* like agnostic; passing quantizers are cloned per input */
    NNCW_QTRAIT_OUTPUT_AS_WEIGHTS,  /* embeddings: the output is as quantized as the table */
    NNCW_QTRAIT_COUNT
};

/* "inputs quantizable", "agnostic", ... */
const char *nncw_qtrait_name(enum nncw_qtrait t);
/* the trait NNCF's default map gives the node: used without a hardware config (TRIAL), for
 * ops without an OpenVINO name, and for ops a hardware config lists without quantization */
enum nncw_qtrait nncw_quant_default_trait(const struct nncw_graph *g, const struct nncw_node *n);
/* the OpenVINO op name of the node in hardware configs ("Convolution", "DepthWiseConvolution",
 * "MatMul", ...), NULL if it has none; *mode (may be NULL) gets the Interpolate mode of a Resize
 * ("linear", "nearest", "cubic") and NULL otherwise */
const char *nncw_quant_hw_name(const struct nncw_graph *g, const struct nncw_node *n,
                               const char **mode);
/* the input port holding a weight that gets a weight quantizer: 1 for Conv, ConvTranspose,
 * Gemm and MatMul when it is a float parameter, 0 for Embedding and for a Gather over a float
 * parameter (an exported nn.Embedding); -1 otherwise */
int nncw_quant_weight_port(const struct nncw_graph *g, const struct nncw_node *n);
/* whether the op may move the channel axis (dimension 1), so that a per-channel activation
 * quantizer cannot move from its output to its input: Reshape, Flatten, Transpose, ... */
bool nncw_quant_op_moves_channels(enum nncw_op op);

/* marks in is_int[n_values] the values carrying integers (shapes, indices, masks): non-float
 * dtypes from shape inference, and outputs of ops that always produce integers (Shape, ArgMax,
 * comparisons, casts to integer types) or pass integer inputs on */
enum nncw_status nncw_quant_integer_values(struct nncw_graph *g, bool *is_int);

/* NNCF's fused patterns (quantizers go to the output of the whole group, never inside it):
 * Conv/ConvTranspose/Gemm/MatMul (optionally followed by a bias Add) followed by BatchNorm,
 * an activation, or both in either order; BatchNorm + activation; activation + BatchNorm;
 * Add/Mul followed by BatchNorm and/or an activation. Activations: Relu, Clip, Elu, PRelu,
 * Sigmoid, Swish, HardSwish, HardSigmoid. A chain only fuses where each inner value feeds
 * exactly the next op and is no graph output. head[i] gets the first node of node i's group
 * (i itself when it stands alone); head has nncw_graph_count_nodes(g) entries. */
enum nncw_status nncw_quant_fuse_patterns(struct nncw_graph *g, int *head);
