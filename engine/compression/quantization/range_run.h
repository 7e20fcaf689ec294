/*
 * Running range initialisation over a quantized graph: weight quantizers from their tensors,
 * activation quantizers from forward passes of the float network over init samples (every
 * quantizer an identity meanwhile), then each quantizer's parameters and signedness set from
 * its range, unified-scale groups sharing one merged range.
 */
#pragma once

#include "compression/quantization/insert.h"
#include "compression/quantization/range_init.h"
#include "data/data.h"

struct nncw_range_setting {
    struct nncw_range_params params;
    int64_t num_init_samples; /* 0: leave this quantizer's parameters as they are */
};

struct nncw_range_run {
    const struct nncw_dataset *data;
    int batch_size;
    uint64_t seed;
    const struct nncw_range_setting *per_quantizer; /* one per quantizer */
};

enum nncw_status nncw_quantizers_init_ranges(struct nncw_graph *g, struct nncw_quantizer *q, int nq,
                                             const struct nncw_range_run *run);
