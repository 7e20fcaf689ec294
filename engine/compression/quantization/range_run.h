/*
 * Running range initialisation over a quantized graph: weight quantizers from their tensors,
 * activation quantizers from forward passes of the float network over init samples (every
 * quantizer an identity meanwhile), then each quantizer's parameters and signedness set from
 * its range, unified-scale groups sharing one merged range.
 */
#pragma once

#include "compression/quantization/insert.h"
#include "data/data.h"

/* (the statistic by its NNCF name, so that config parsing and range collection stay
 * independent headers) */
struct nncw_range_setting {
    const char *type; /* "mean_min_max", ... */
    float min_percentile, max_percentile;
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
