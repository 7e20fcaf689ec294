/*
 * Quantizer range initialisation (NNCF's initializer.range): statistics of the values a
 * quantizer sees over a few batches, reduced to a [low, high] per channel (or per tensor), then
 * turned into the quantizer's trainable parameters.
 *
 *     struct nncw_range_params p = {.type = NNCW_RANGE_MEAN_MIN_MAX,
 *                                   .min_percentile = 0.1f, .max_percentile = 99.9f};
 *     struct nncw_range_collector *c;
 *     nncw_range_collector_new(&p, 1, 64, false, false, &c);  // activations [N, 64, H, W]
 *     for (each batch)
 *         nncw_range_collector_add(c, activation);             // the quantizer's input
 *     float low[64], high[64], scale[64];
 *     nncw_range_collector_result(c, low, high);
 *     nncw_range_collector_free(c);
 *     struct nncw_quantizer_init qi = {.signedness = -1};
 *     bool is_signed;
 *     nncw_quantizer_params_from_range(&qi, 64, low, high, scale, NULL, &is_signed);
 *
 * Statistics (NNCF 2.0/2.1 semantics, per channel along `axis`, or over the whole tensor):
 *   min_max          global min and max
 *   mean_min_max     mean over batches of each batch's min and max
 *   threesigma       median -+ 3 * 1.4826 * MAD of all values, zeros discarded
 *   percentile       min_percentile / max_percentile of all values (linear interpolation)
 *   mean_percentile  mean over batches of each batch's percentiles
 *   mixed_min_max    global min and max, except: per-tensor asymmetric activations take the
 *                    mean of the batches' mins; per-tensor activations take the mean over
 *                    samples (dimension 0) of each sample's max
 * NaN and infinite values are ignored.
 *
 * Whole-history statistics (threesigma, percentile) keep the values themselves: all of them
 * while they fit in NNCW_RANGE_MAX_SAMPLES floats per collector (results are then exact), then
 * a uniform reservoir sample of that size (Vitter's algorithm L, fixed seed) per channel, whose
 * percentiles are within a rank error of about 1/sqrt(samples) of the exact ones. NNCF keeps
 * every value; 256 samples of a 64x56x56 activation would be 200 MB per quantizer.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "tensor/tensor.h"

/* floats of stored values per collector (1 MiB) for threesigma and percentile */
#define NNCW_RANGE_MAX_SAMPLES ((int64_t)1 << 18)

enum nncw_range_init {
    NNCW_RANGE_MIN_MAX,
    NNCW_RANGE_MEAN_MIN_MAX,
    NNCW_RANGE_THREESIGMA,
    NNCW_RANGE_PERCENTILE,
    NNCW_RANGE_MEAN_PERCENTILE,
    NNCW_RANGE_MIXED_MIN_MAX,
    NNCW_RANGE_INIT_COUNT
};

struct nncw_range_params {
    enum nncw_range_init type;
    float min_percentile, max_percentile; /* percent, NNCF's defaults 0.1 and 99.9 */
};

/* how a range becomes quantizer parameters */
struct nncw_quantizer_init {
    bool asymmetric;
    int signedness;       /* symmetric: -1 from the data (any low < 0), 0 unsigned, 1 signed */
    bool logarithm_scale; /* store log(scale) / log(input_range) */
};

struct nncw_range_collector;

/* ---- names ---- */
/* "min_max", "mean_min_max", "threesigma", "percentile", "mean_percentile", "mixed_min_max";
 * NNCW_ERR_PARSE listing them for any other name */
enum nncw_status nncw_range_init_parse(const char *name, enum nncw_range_init *out);
const char *nncw_range_init_name(enum nncw_range_init t);

/* ---- collecting ---- */
/* axis: -1 for one range over whole tensors, else the channel axis of the tensors given to
 * _add, whose size there is `channels`; is_weight and asymmetric select mixed_min_max's rules.
 * NNCW_ERR_INVALID_ARG for a bad type, percentiles outside 0..100 or min > max, channels < 1. */
enum nncw_status nncw_range_collector_new(const struct nncw_range_params *p, int axis,
                                          int64_t channels, bool is_weight, bool asymmetric,
                                          struct nncw_range_collector **out);
void nncw_range_collector_free(struct nncw_range_collector *c);
/* one batch (a float32 tensor; samples along dimension 0). NNCW_ERR_SHAPE if its channel axis
 * does not have `channels` entries, NNCW_ERR_DTYPE for a non-float tensor. */
enum nncw_status nncw_range_collector_add(struct nncw_range_collector *c,
                                          const struct nncw_tensor *batch);
/* batches added so far */
int64_t nncw_range_collector_count(const struct nncw_range_collector *c);
/* low[] and high[] (channels entries, or 1 for axis -1); NNCW_ERR_INVALID_ARG when nothing
 * finite was collected. A threesigma channel whose values were all zero gives [0, 0]. */
enum nncw_status nncw_range_collector_result(const struct nncw_range_collector *c, float *low,
                                             float *high);

/* ---- parameters ---- */
/* NNCF's initialisation of n channels from low[] and high[]. Symmetric: signed if forced, else
 * if any low < 0; scale = max(|low|, |high|), at least 0.1 (into scale_or_low; range_or_null
 * unused). Asymmetric: each range widened to at least 1% of the widest channel's, the widening
 * split between both ends (at least 0.1 when every range is empty): input_low into scale_or_low,
 * input_range into range_or_null; *is_signed false. With logarithm_scale the scale or range is
 * stored as its log. NNCW_ERR_INVALID_ARG for non-finite or inverted (low > high) input. */
enum nncw_status nncw_quantizer_params_from_range(const struct nncw_quantizer_init *q, int64_t n,
                                                  const float *low, const float *high,
                                                  float *scale_or_low, float *range_or_null,
                                                  bool *is_signed);
