#include "tensor/tensor.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/common.h"

static const struct {
    const char *name;
    size_t size;
} dtype_info[] = {
    [NNCW_DTYPE_F32] = {"float32", 4}, [NNCW_DTYPE_I8] = {"int8", 1},
    [NNCW_DTYPE_U8] = {"uint8", 1},    [NNCW_DTYPE_I32] = {"int32", 4},
    [NNCW_DTYPE_I64] = {"int64", 8},  [NNCW_DTYPE_BOOL] = {"bool", 1},
};
_Static_assert(NNCW_ARRAY_LEN(dtype_info) == NNCW_DTYPE_COUNT, "dtype_info out of date");

size_t nncw_dtype_size(enum nncw_dtype dt)
{
    return (unsigned)dt < NNCW_DTYPE_COUNT ? dtype_info[dt].size : 0;
}

const char *nncw_dtype_name(enum nncw_dtype dt)
{
    return (unsigned)dt < NNCW_DTYPE_COUNT ? dtype_info[dt].name : "?";
}

struct nncw_storage *nncw_storage_new(size_t nbytes)
{
    struct nncw_storage *s = nncw_malloc(sizeof *s);
    if (!s)
        return NULL;
    s->data = nncw_calloc(1, nbytes ? nbytes : 1);
    if (!s->data) {
        nncw_free(s);
        return NULL;
    }
    s->refcount = 1;
    s->nbytes = nbytes;
    return s;
}

void nncw_storage_retain(struct nncw_storage *s)
{
    if (s)
        s->refcount++;
}

void nncw_storage_release(struct nncw_storage *s)
{
    if (!s || --s->refcount > 0)
        return;
    nncw_free(s->data);
    nncw_free(s);
}

int64_t nncw_shape_numel(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return -1;
        if (shape[i] && n > INT64_MAX / 16 / shape[i])
            return -1;
        n *= shape[i];
    }
    return n;
}

static void set_shape(struct nncw_tensor *t, enum nncw_dtype dt, int ndim, const int64_t *shape)
{
    memset(t, 0, sizeof *t);
    t->dtype = dt;
    t->ndim = ndim;
    int64_t stride = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        t->shape[i] = shape[i];
        t->strides[i] = stride;
        /* unsigned: a shape too large for int64 (refused by numel) must not be UB here */
        stride = (int64_t)((uint64_t)stride * (uint64_t)shape[i]);
    }
}

enum nncw_status nncw_tensor_init(struct nncw_tensor *t, enum nncw_dtype dt, int ndim,
                                  const int64_t *shape)
{
    if (ndim < 0 || ndim > NNCW_MAX_DIMS)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "tensor: %d dimensions (at most %d)", ndim,
                         NNCW_MAX_DIMS);
    if ((unsigned)dt >= NNCW_DTYPE_COUNT)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "tensor: unknown dtype %d", (int)dt);
    int64_t n = nncw_shape_numel(ndim, shape);
    if (n < 0 || n > (int64_t)(SIZE_MAX / 16))
        return NNCW_FAIL(NNCW_ERR_SHAPE, "tensor: invalid or too large shape");
    struct nncw_storage *s = nncw_storage_new((size_t)n * nncw_dtype_size(dt));
    if (!s)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "tensor: cannot allocate %lld elements", (long long)n);
    set_shape(t, dt, ndim, shape);
    t->storage = s;
    t->data = s->data;
    return NNCW_OK;
}

void nncw_tensor_init_borrowed(struct nncw_tensor *t, enum nncw_dtype dt, int ndim,
                               const int64_t *shape, void *data)
{
    NNCW_ASSERT(ndim >= 0 && ndim <= NNCW_MAX_DIMS);
    set_shape(t, dt, ndim, shape);
    t->data = data;
}

enum nncw_status nncw_tensor_init_copy(struct nncw_tensor *dst, const struct nncw_tensor *src)
{
    struct nncw_tensor t;
    NNCW_TRY(nncw_tensor_init(&t, src->dtype, src->ndim, src->shape));
    enum nncw_status s = nncw_tensor_copy(&t, src);
    if (s != NNCW_OK) {
        nncw_tensor_fini(&t);
        return s;
    }
    *dst = t;
    return NNCW_OK;
}

void nncw_tensor_fini(struct nncw_tensor *t)
{
    if (!t)
        return;
    nncw_storage_release(t->storage);
    memset(t, 0, sizeof *t);
}

int64_t nncw_tensor_numel(const struct nncw_tensor *t)
{
    return nncw_shape_numel(t->ndim, t->shape);
}

size_t nncw_tensor_nbytes(const struct nncw_tensor *t)
{
    return (size_t)nncw_tensor_numel(t) * nncw_dtype_size(t->dtype);
}

bool nncw_tensor_is_contiguous(const struct nncw_tensor *t)
{
    int64_t stride = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->strides[i] != stride)
            return false;
        stride *= t->shape[i];
    }
    return true;
}

bool nncw_tensor_same_shape(const struct nncw_tensor *a, const struct nncw_tensor *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return false;
    return true;
}

char *nncw_tensor_shape_str(const struct nncw_tensor *t, char *buf, size_t size)
{
    size_t len = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    len += (size_t)snprintf(buf + len, size - len, "[");
    for (int i = 0; i < t->ndim && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, i ? ", %lld" : "%lld",
                                (long long)t->shape[i]);
    if (len < size)
        snprintf(buf + len, size - len, "]");
    return buf;
}

void nncw_tensor_fill_f32(struct nncw_tensor *t, float v)
{
    NNCW_ASSERT(t->dtype == NNCW_DTYPE_F32 && nncw_tensor_is_contiguous(t));
    float *x = nncw_tensor_f32(t);
    int64_t n = nncw_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        x[i] = v;
}

enum nncw_status nncw_tensor_copy(struct nncw_tensor *dst, const struct nncw_tensor *src)
{
    if (dst->dtype != src->dtype)
        return NNCW_FAIL(NNCW_ERR_DTYPE, "tensor copy: %s into %s", nncw_dtype_name(src->dtype),
                         nncw_dtype_name(dst->dtype));
    if (!nncw_tensor_same_shape(dst, src)) {
        char a[96], b[96];
        return NNCW_FAIL(NNCW_ERR_SHAPE, "tensor copy: %s into %s",
                         nncw_tensor_shape_str(src, a, sizeof a),
                         nncw_tensor_shape_str(dst, b, sizeof b));
    }
    if (!nncw_tensor_is_contiguous(dst) || !nncw_tensor_is_contiguous(src))
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "tensor copy: non-contiguous tensors");
    if (nncw_tensor_nbytes(src))
        memmove(dst->data, src->data, nncw_tensor_nbytes(src));
    return NNCW_OK;
}
