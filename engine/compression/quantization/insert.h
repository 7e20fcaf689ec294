/*
 * Turning a quantizer setup into graph edits: one SymmetricQuantize or AsymmetricQuantize node
 * per quantization point (named by its NNCF quantizer id), with its trainable range parameters,
 * spliced between the quantized value and the inputs that read it. Points of one unified-scale
 * group share one set of parameters.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "graph/graph.h"

struct nncw_quantizer_setup;

struct nncw_quantizer {
    int point;          /* index into the setup's points */
    int node;           /* the quantize node */
    int input;          /* the value it quantizes */
    int param0, param1; /* scale, -1 | input_low, input_range */
    bool is_weight, asymmetric, per_channel, half_range, owns_params;
    int bits;
    int signedness;   /* -1: decided by range initialisation, 0 unsigned, 1 signed */
    int axis;         /* -1 per-tensor */
    int64_t channels; /* parameter elements */
};

/* level_low and level_high of a quantizer with these settings (7-bit grid for half_range) */
void nncw_quantizer_levels_for(int bits, bool asymmetric, bool is_signed, bool half_range,
                               int64_t *level_low, int64_t *level_high);

/* Applies setup s (each point's chosen config) to g. Shapes must be inferable (they decide
 * per-channel parameter sizes). On success *out holds one entry per point. */
enum nncw_status nncw_quantizers_insert(struct nncw_graph *g, const struct nncw_quantizer_setup *s,
                                        struct nncw_quantizer **out, int *count);
