/*
 * Element access by index and summary statistics for any dtype and any strides: what an
 * inspector (the Lua REPL, the tensor panel) shows of a tensor.
 *
 *     struct nncw_tensor_stats st;
 *     nncw_tensor_get_stats(&weight, &st);        // min, max, mean, std over all elements
 *     int64_t idx[] = {0, 1, 2, 2};
 *     double v;
 *     if (nncw_tensor_get_element(&weight, 4, idx, &v) != NNCW_OK) ...   // names the index
 *     nncw_tensor_set_element(&weight, 4, idx, 0.5);
 *
 * Values travel as double, which holds every float32, int8, uint8 and int32 exactly (int64
 * beyond 2^53 rounds). Setting converts to the dtype: float32 rounds, integer dtypes need an
 * integral value within their range.
 */
#pragma once

#include <stdint.h>

#include "core/status.h"
#include "tensor/tensor.h"

struct nncw_tensor_stats {
    int64_t count;   /* elements */
    double min, max; /* NaN for an empty tensor */
    double mean;     /* NaN for an empty tensor */
    double std;      /* population standard deviation (divides by count), as numpy's std */
    int64_t n_nan;   /* NaN elements (float32); min/max/mean/std skip them */
    int64_t n_inf;   /* infinite elements (float32); included in min/max, not in mean/std */
};

/* statistics over every element; a tensor without data gives count 0 and NaN figures */
void nncw_tensor_get_stats(const struct nncw_tensor *t, struct nncw_tensor_stats *out);

/* the element at a 0-based multi-index (ndim entries). NNCW_ERR_INVALID_ARG naming the
 * dimension for a wrong index count or an index out of range; NNCW_ERR_INVALID_ARG when the
 * tensor has no data */
enum nncw_status nncw_tensor_get_element(const struct nncw_tensor *t, int n_idx, const int64_t *idx,
                                         double *out);
/* writes an element (errors as for get, plus NNCW_ERR_DTYPE for a value the dtype cannot
 * hold: a fraction or an out-of-range number for an integer dtype) */
enum nncw_status nncw_tensor_set_element(struct nncw_tensor *t, int n_idx, const int64_t *idx,
                                         double v);
/* element at a flat row-major position (0 <= pos < numel), honouring strides; no checks */
double nncw_tensor_get_flat(const struct nncw_tensor *t, int64_t pos);
/* writes the element at a flat row-major position; checks as nncw_tensor_set_element */
enum nncw_status nncw_tensor_set_flat(struct nncw_tensor *t, int64_t pos, double v);
