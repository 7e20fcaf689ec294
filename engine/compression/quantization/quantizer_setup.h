/*
 * Where quantizers go: NNCF's propagation-based quantizer setup on nncw's graph IR. Weight
 * quantizers for Conv/ConvTranspose/Gemm/MatMul weights and embeddings; activation quantizers
 * seeded at the inputs of quantizable ops, moved up through quantization-agnostic ops, merged
 * where branches agree, cloned and unified through Concat, stopped at integer edges.
 *
 *     struct nncw_quant_config *q;     // nncw_quant_config_parse(cfg, 0, &q)
 *     struct nncw_hw_config *hw;       // nncw_hw_config_load_for_device(q->device, NULL, &hw)
 *     struct nncw_quantizer_setup *s;
 *     if (nncw_quantizer_setup_build(g, q, hw, &s) != NNCW_OK)
 *         report(nncw_last_error());   // "config 'q.json': compression[0].ignored_scopes[0]:
 *                                      //  'ResNet/layer5' matches no node (closest: ...)"
 *     for (int i = 0; i < s->n_points; i++)
 *         insert(&s->points[i]);        // s->points[i].configs[s->points[i].chosen]
 *     nncw_quantizer_setup_free(s);
 *
 * Quantizer ids follow NNCF: "<node>|WEIGHT" (the weighted node), "<node>|OUTPUT" (the last node
 * of the producing fused group; "<node>|OUTPUT<k>" for output k > 0 of a multi-output node),
 * "<node>|INPUT<port>" (a quantizer on one input only), "<input name>|OUTPUT" (a graph
 * input), "<output name>|MODEL_OUTPUT" (before a graph output, quantize_outputs only).
 * The setup reads the graph (value dtypes and shapes from its last shape inference, which ONNX
 * import and the zoo run) and never changes it. Points are in a stable order: graph inputs,
 * then nodes in topological order (ties by name), per node its input quantizers, its weight,
 * its output quantizer.
 */
#pragma once

#include <stdbool.h>

#include "compression/quantization/hw_config.h"
#include "compression/quantization/qconfig.h"
#include "compression/quantization/quant_config.h"
#include "core/status.h"
#include "graph/graph.h"

struct nncw_quantizer_target {
    int node; /* consumer node index; -1 for a graph output (port = output index) */
    int port;
};

struct nncw_quantizer_point {
    char *id; /* NNCF-style quantizer id, see above */
    bool is_weight;
    int value_id;  /* the value quantized: the weight parameter or the activation */
    int node;      /* weight: the node owning the weight; activation: the consumer node when
                    * placed at one input ("|INPUT<port>"), -1 otherwise */
    int n_targets; /* the (node, input port) pairs reading through this quantizer: all readers
                    * of value_id for an output quantizer; the weight port(s) for a weight */
    struct nncw_quantizer_target *targets;
    int n_configs; /* allowed configurations, first = the default choice */
    struct nncw_qconfig *configs;
    int chosen;           /* index into configs */
    int unified_group;    /* -1 none; points with the same group share one scale */
    bool half_range;      /* 8-bit weight quantizer under the CPU/ANY overflow fix (7 bits) */
    int range_init_index; /* entry of q->init.ranges that applies, -1 = the default */
};

struct nncw_quantizer_setup {
    int n_points;
    struct nncw_quantizer_point *points;
    int n_unified_groups; /* groups are numbered 0 .. n_unified_groups - 1 */
    int n_weights, n_activations;
    char target_device[16]; /* "CPU", "GPU", "VPU" (from the hardware config) or "TRIAL" */
};

/* ---- lifecycle ---- */
/* builds the setup of g for cfg on the device of hw (NULL: TRIAL, NNCF's default traits and
 * 8-bit symmetric per-tensor defaults). Fails with NNCW_ERR_NOT_FOUND naming the JSON path of
 * a scope (ignored/target scopes, scope_overrides, unified_scale_ops, range scopes) that matches
 * no node, with the closest names; NNCW_ERR_PARSE naming the JSON path when the constraints
 * allow nothing the device offers (nncw_quant_config_check_hw) or leave an op (named) no
 * configuration its hardware entry allows; NNCW_ERR_NOMEM. g is not modified (its topological
 * order may be computed). */
enum nncw_status nncw_quantizer_setup_build(struct nncw_graph *g,
                                            const struct nncw_quant_config *cfg,
                                            const struct nncw_hw_config *hw,
                                            struct nncw_quantizer_setup **out);
/* NULL is a no-op */
void nncw_quantizer_setup_free(struct nncw_quantizer_setup *s);

/* ---- queries ---- */
/* one line per point in order: "<W|A> <id> <bits> <sym|asym> <signed|unsigned|any>
 * <perchannel|pertensor> group=<g|-> [half_range] [+<k> alternatives]"; a new string for
 * nncw_free. NNCW_ERR_NOMEM */
enum nncw_status nncw_quantizer_setup_describe(const struct nncw_quantizer_setup *s,
                                               char **out_text);
/* the point with this id, NULL if none */
const struct nncw_quantizer_point *nncw_quantizer_setup_find(const struct nncw_quantizer_setup *s,
                                                             const char *id);
