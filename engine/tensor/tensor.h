/*
 * Tensors: a dtype, a shape, strides and a pointer into refcounted storage.
 *
 *     struct nncw_tensor t;
 *     int64_t shape[] = {64, 1, 28, 28};
 *     if (nncw_tensor_init(&t, NNCW_DTYPE_F32, 4, shape) != NNCW_OK) ...   // owns new storage
 *     float *x = nncw_tensor_f32(&t);
 *     ...
 *     nncw_tensor_fini(&t);                                               // drops the storage
 *
 * Decisions: strides are counted in elements, not bytes (torch7 TH); storage is contiguous
 * NCHW (row-major) unless a view says otherwise. The struct is transparent so kernels read
 * dtype, ndim, shape and data without calls; outside engine/tensor treat it as read-only.
 * A tensor with storage == NULL borrows its data (exec buffers) or describes a shape only
 * (data == NULL, used by shape inference).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define NNCW_MAX_DIMS 8

enum nncw_dtype {
    NNCW_DTYPE_F32,
    NNCW_DTYPE_I8,
    NNCW_DTYPE_U8,
    NNCW_DTYPE_I32,
    NNCW_DTYPE_I64,
    NNCW_DTYPE_BOOL, /* one byte, 0 or 1 (ONNX bool) */
    NNCW_DTYPE_COUNT
};

/* refcounted memory shared by tensors and views */
struct nncw_storage {
    int refcount;
    size_t nbytes;
    void *data;
};

struct nncw_tensor {
    enum nncw_dtype dtype;
    int ndim;
    int64_t shape[NNCW_MAX_DIMS];
    int64_t strides[NNCW_MAX_DIMS]; /* in elements */
    struct nncw_storage *storage;    /* NULL: data is borrowed or absent */
    void *data;
};

/* ---- dtypes ---- */
size_t nncw_dtype_size(enum nncw_dtype dt);
const char *nncw_dtype_name(enum nncw_dtype dt);

/* ---- storage ---- */
/* new zeroed storage with refcount 1, or NULL when out of memory */
struct nncw_storage *nncw_storage_new(size_t nbytes);
void nncw_storage_retain(struct nncw_storage *s);
/* drops one reference; frees at zero; NULL is a no-op */
void nncw_storage_release(struct nncw_storage *s);

/* ---- lifecycle ---- */
/* allocates zeroed contiguous storage for the shape; NNCW_ERR_SHAPE on a negative or too
 * large shape, NNCW_ERR_NOMEM */
enum nncw_status nncw_tensor_init(struct nncw_tensor *t, enum nncw_dtype dt, int ndim,
                                  const int64_t *shape);
/* describes a contiguous tensor over borrowed memory (may be NULL for shape-only) */
void nncw_tensor_init_borrowed(struct nncw_tensor *t, enum nncw_dtype dt, int ndim,
                               const int64_t *shape, void *data);
/* a deep copy into new contiguous storage */
enum nncw_status nncw_tensor_init_copy(struct nncw_tensor *dst, const struct nncw_tensor *src);
/* releases the storage reference (if any) and clears the struct */
void nncw_tensor_fini(struct nncw_tensor *t);

/* ---- queries ---- */
int64_t nncw_tensor_numel(const struct nncw_tensor *t);
size_t nncw_tensor_nbytes(const struct nncw_tensor *t);
bool nncw_tensor_is_contiguous(const struct nncw_tensor *t);
bool nncw_tensor_same_shape(const struct nncw_tensor *a, const struct nncw_tensor *b);
static inline float *nncw_tensor_f32(const struct nncw_tensor *t)
{
    return (float *)t->data;
}
/* "[64, 1, 28, 28]" into buf; returns buf */
char *nncw_tensor_shape_str(const struct nncw_tensor *t, char *buf, size_t size);
/* numel of a shape; -1 if any dim is negative or the product overflows */
int64_t nncw_shape_numel(int ndim, const int64_t *shape);

/* ---- operations ---- */
/* sets every f32 element */
void nncw_tensor_fill_f32(struct nncw_tensor *t, float v);
/* copies elements between tensors of equal shape and dtype */
enum nncw_status nncw_tensor_copy(struct nncw_tensor *dst, const struct nncw_tensor *src);
