/*
 * The fixture the compression suites share: the zoo's small CNN, synthetic data of its
 * 1x28x28 input shape, and configs for that input.
 *
 *     struct nncw_graph *g = nncwt_cnn();
 *     struct nncw_dataset *ds = nncwt_cnn_data(64);
 *     struct nncw_config *cfg = nncwt_cnn_config("\"target_device\": \"CPU\", ",
 *                                                "{\"algorithm\": \"quantization\"}");
 *
 * Each fails the running test on error.
 */
#pragma once

#include <stdint.h>

#include "config/config.h"
#include "data/data.h"
#include "graph/graph.h"

struct nncw_graph *nncwt_cnn(void);
/* count synthetic 1x28x28 images of 10 classes (seeds 3 and 1: the same in every suite) */
struct nncw_dataset *nncwt_cnn_data(int64_t count);
/* {"input_info": {"sample_size": [1, 1, 28, 28]}, <top>"compression": <compression>}; top is
 * further top-level keys ending in ", " (or "") */
struct nncw_config *nncwt_cnn_config(const char *top, const char *compression);
