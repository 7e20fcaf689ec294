#include "tensor/stats.h"

#include <math.h>
#include <stdbool.h>

/* element offset (in elements) of a flat row-major position under the tensor's strides */
static int64_t offset_of(const struct nncw_tensor *t, int64_t pos)
{
    int64_t off = 0;
    for (int d = t->ndim - 1; d >= 0; d--) {
        int64_t n = t->shape[d] > 0 ? t->shape[d] : 1;
        off += pos % n * t->strides[d];
        pos /= n;
    }
    return off;
}

static double load(const struct nncw_tensor *t, int64_t off)
{
    switch (t->dtype) {
    case NNCW_DTYPE_F32:
        return ((const float *)t->data)[off];
    case NNCW_DTYPE_I8:
        return ((const int8_t *)t->data)[off];
    case NNCW_DTYPE_U8:
    case NNCW_DTYPE_BOOL:
        return ((const uint8_t *)t->data)[off];
    case NNCW_DTYPE_I32:
        return ((const int32_t *)t->data)[off];
    case NNCW_DTYPE_I64:
        return (double)((const int64_t *)t->data)[off];
    default:
        return NAN;
    }
}

/* range of an integer dtype; false for float32 */
static bool int_range(enum nncw_dtype dt, double *lo, double *hi)
{
    switch (dt) {
    case NNCW_DTYPE_I8:
        *lo = INT8_MIN, *hi = INT8_MAX;
        return true;
    case NNCW_DTYPE_U8:
        *lo = 0, *hi = UINT8_MAX;
        return true;
    case NNCW_DTYPE_BOOL:
        *lo = 0, *hi = 1;
        return true;
    case NNCW_DTYPE_I32:
        *lo = INT32_MIN, *hi = INT32_MAX;
        return true;
    case NNCW_DTYPE_I64:
        *lo = -9223372036854775808.0, *hi = 9223372036854774784.0;
        return true;
    default:
        return false;
    }
}

static enum nncw_status store(struct nncw_tensor *t, int64_t off, double v)
{
    double lo, hi;
    if (int_range(t->dtype, &lo, &hi) && !(v >= lo && v <= hi && v == floor(v)))
        return NNCW_FAIL(NNCW_ERR_DTYPE, "tensor: %s cannot hold %g", nncw_dtype_name(t->dtype), v);
    switch (t->dtype) {
    case NNCW_DTYPE_F32:
        ((float *)t->data)[off] = (float)v;
        break;
    case NNCW_DTYPE_I8:
        ((int8_t *)t->data)[off] = (int8_t)v;
        break;
    case NNCW_DTYPE_U8:
    case NNCW_DTYPE_BOOL:
        ((uint8_t *)t->data)[off] = (uint8_t)v;
        break;
    case NNCW_DTYPE_I32:
        ((int32_t *)t->data)[off] = (int32_t)v;
        break;
    case NNCW_DTYPE_I64:
        ((int64_t *)t->data)[off] = (int64_t)v;
        break;
    default:
        return NNCW_FAIL(NNCW_ERR_DTYPE, "tensor: unknown dtype %d", (int)t->dtype);
    }
    return NNCW_OK;
}

double nncw_tensor_get_flat(const struct nncw_tensor *t, int64_t pos)
{
    return load(t, offset_of(t, pos));
}

enum nncw_status nncw_tensor_set_flat(struct nncw_tensor *t, int64_t pos, double v)
{
    if (!t->data)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "tensor: no data (a shape-only tensor)");
    if (pos < 0 || pos >= nncw_tensor_numel(t))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "tensor: position %lld outside [0, %lld)",
                         (long long)pos, (long long)nncw_tensor_numel(t));
    return store(t, offset_of(t, pos), v);
}

static enum nncw_status index_offset(const struct nncw_tensor *t, int n_idx, const int64_t *idx,
                                     int64_t *off)
{
    if (!t->data)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "tensor: no data (a shape-only tensor)");
    if (n_idx != t->ndim)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "tensor: %d indices for a %d-dimensional tensor",
                         n_idx, t->ndim);
    *off = 0;
    for (int d = 0; d < n_idx; d++) {
        if (idx[d] < 0 || idx[d] >= t->shape[d])
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "tensor: index %lld of dimension %d outside [0, %lld)",
                             (long long)idx[d], d, (long long)t->shape[d]);
        *off += idx[d] * t->strides[d];
    }
    return NNCW_OK;
}

enum nncw_status nncw_tensor_get_element(const struct nncw_tensor *t, int n_idx, const int64_t *idx,
                                         double *out)
{
    int64_t off;
    NNCW_TRY(index_offset(t, n_idx, idx, &off));
    *out = load(t, off);
    return NNCW_OK;
}

enum nncw_status nncw_tensor_set_element(struct nncw_tensor *t, int n_idx, const int64_t *idx,
                                         double v)
{
    int64_t off;
    NNCW_TRY(index_offset(t, n_idx, idx, &off));
    return store(t, off, v);
}

void nncw_tensor_get_stats(const struct nncw_tensor *t, struct nncw_tensor_stats *out)
{
    *out = (struct nncw_tensor_stats){.min = NAN, .max = NAN, .mean = NAN, .std = NAN};
    int64_t n = t->data ? nncw_tensor_numel(t) : 0;
    out->count = n;
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    int64_t finite = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = nncw_tensor_get_flat(t, i);
        if (isnan(v)) {
            out->n_nan++;
            continue;
        }
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        if (isinf(v)) {
            out->n_inf++;
            continue;
        }
        sum += v;
        finite++;
    }
    if (out->n_nan < n) {
        out->min = lo;
        out->max = hi;
    }
    if (finite == 0)
        return;
    double mean = sum / (double)finite, ss = 0;
    /* second pass: the textbook one-pass formula loses digits when |mean| >> std */
    for (int64_t i = 0; i < n; i++) {
        double v = nncw_tensor_get_flat(t, i);
        if (isfinite(v))
            ss += (v - mean) * (v - mean);
    }
    out->mean = mean;
    out->std = sqrt(ss / (double)finite);
}
