/*
** TensorProto <-> tensor, and the TensorProto files of the ONNX test data.
**
** Data comes either as raw_data (little-endian, fixed width, bool one byte) or in the typed
** repeated fields (float_data; int32_data also for int8, uint8 and bool; int64_data). Every
** size is checked against the dims before anything is allocated, so a tensor never takes more
** memory than its encoding (times 8 for bytes widened in int32_data). External data and
** segments are refused with a clear message.
*/
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "onnx/onnx_internal.h"

static const char *const dt_names[] = {
    "undefined", "float",  "uint8",     "int8",       "uint16",   "int16",
    "int32",     "int64",  "string",    "bool",       "float16",  "double",
    "uint32",    "uint64", "complex64", "complex128", "bfloat16",
};
_Static_assert(sizeof dt_names / sizeof dt_names[0] == NNCW_ONNX_DT_COUNT, "dtype names");

const char *nncw_onnx_dtype_proto_name(int32_t dt)
{
    return dt >= 0 && dt < NNCW_ONNX_DT_COUNT ? dt_names[dt] : "unknown";
}

bool nncw_onnx_dtype_from_proto(int32_t dt, enum nncw_dtype *out)
{
    switch (dt) {
    case NNCW_ONNX_DT_FLOAT:
        *out = NNCW_DTYPE_F32;
        return true;
    case NNCW_ONNX_DT_UINT8:
        *out = NNCW_DTYPE_U8;
        return true;
    case NNCW_ONNX_DT_INT8:
        *out = NNCW_DTYPE_I8;
        return true;
    case NNCW_ONNX_DT_INT32:
        *out = NNCW_DTYPE_I32;
        return true;
    case NNCW_ONNX_DT_INT64:
        *out = NNCW_DTYPE_I64;
        return true;
    case NNCW_ONNX_DT_BOOL:
        *out = NNCW_DTYPE_BOOL;
        return true;
    default:
        return false;
    }
}

int32_t nncw_onnx_dtype_to_proto(enum nncw_dtype dt)
{
    switch (dt) {
    case NNCW_DTYPE_F32:
        return NNCW_ONNX_DT_FLOAT;
    case NNCW_DTYPE_U8:
        return NNCW_ONNX_DT_UINT8;
    case NNCW_DTYPE_I8:
        return NNCW_ONNX_DT_INT8;
    case NNCW_DTYPE_I32:
        return NNCW_ONNX_DT_INT32;
    case NNCW_DTYPE_I64:
        return NNCW_ONNX_DT_INT64;
    case NNCW_DTYPE_BOOL:
        return NNCW_ONNX_DT_BOOL;
    default:
        return NNCW_ONNX_DT_UNDEFINED;
    }
}

/* the values of a typed field into t: float_data, int32_data (narrowed), int64_data */
static enum nncw_status typed_data(const NncwOnnx__TensorProto *tp, const char *what, int64_t numel,
                                   struct nncw_tensor *t)
{
    size_t n = (size_t)numel;
    switch (t->dtype) {
    case NNCW_DTYPE_F32:
        if (tp->n_float_data != n)
            break;
        memcpy(t->data, tp->float_data, n * sizeof(float));
        return NNCW_OK;
    case NNCW_DTYPE_I64:
        if (tp->n_int64_data != n)
            break;
        memcpy(t->data, tp->int64_data, n * sizeof(int64_t));
        return NNCW_OK;
    case NNCW_DTYPE_I32:
        if (tp->n_int32_data != n)
            break;
        memcpy(t->data, tp->int32_data, n * sizeof(int32_t));
        return NNCW_OK;
    default: /* one byte each: int8, uint8, bool */
        if (tp->n_int32_data != n)
            break;
        for (size_t i = 0; i < n; i++) {
            int32_t v = tp->int32_data[i];
            if (t->dtype == NNCW_DTYPE_BOOL)
                v = v != 0;
            ((uint8_t *)t->data)[i] = (uint8_t)v;
        }
        return NNCW_OK;
    }
    char sh[96];
    return NNCW_FAIL(NNCW_ERR_PARSE, "%s: the data does not match its shape %s (%s)", what,
                     nncw_tensor_shape_str(t, sh, sizeof sh), nncw_dtype_name(t->dtype));
}

enum nncw_status nncw_onnx_tensor_from_proto(const NncwOnnx__TensorProto *tp, const char *what,
                                             struct nncw_tensor *out)
{
    enum nncw_dtype dt;
    if (!tp->has_data_type || !nncw_onnx_dtype_from_proto(tp->data_type, &dt))
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "%s: data type %s is not supported", what,
                         nncw_onnx_dtype_proto_name(tp->has_data_type ? tp->data_type : 0));
    if (tp->n_dims > NNCW_MAX_DIMS)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "%s: %zu dimensions (at most %d are supported)",
                         what, tp->n_dims, NNCW_MAX_DIMS);
    if (tp->segment || tp->n_external_data ||
        (tp->has_data_location &&
         tp->data_location == NNCW_ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL))
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "%s: external or segmented data is not supported",
                         what);
    int64_t shape[NNCW_MAX_DIMS];
    for (size_t d = 0; d < tp->n_dims; d++) {
        if (tp->dims[d] < 0)
            return NNCW_FAIL(NNCW_ERR_PARSE, "%s: dimension %zu is %lld", what, d,
                             (long long)tp->dims[d]);
        shape[d] = tp->dims[d];
    }
    int64_t numel = nncw_shape_numel((int)tp->n_dims, shape);
    size_t es = nncw_dtype_size(dt);
    if (numel < 0 || (uint64_t)numel > NNCW_ONNX_MAX_FILE)
        return NNCW_FAIL(NNCW_ERR_PARSE, "%s: the shape is too large", what);
    size_t nbytes = (size_t)numel * es;
    /* check the encoded size before allocating anything */
    bool raw = tp->has_raw_data;
    if (raw && tp->raw_data.len != nbytes)
        return NNCW_FAIL(NNCW_ERR_PARSE, "%s: %zu bytes of raw data for %lld %s values", what,
                         tp->raw_data.len, (long long)numel, nncw_dtype_name(dt));
    size_t typed = tp->n_float_data + tp->n_int32_data + tp->n_int64_data;
    if (!raw && typed != (size_t)numel)
        return NNCW_FAIL(NNCW_ERR_PARSE, "%s: %zu values for a shape of %lld elements", what, typed,
                         (long long)numel);
    struct nncw_tensor t;
    enum nncw_status s = nncw_tensor_init(&t, dt, (int)tp->n_dims, shape);
    if (s != NNCW_OK)
        return NNCW_FAIL(s, "%s: cannot allocate %zu bytes", what, nbytes);
    if (raw) {
        if (nbytes)
            memcpy(t.data, tp->raw_data.data, nbytes);
        if (dt == NNCW_DTYPE_BOOL)
            for (size_t i = 0; i < nbytes; i++)
                ((uint8_t *)t.data)[i] = ((uint8_t *)t.data)[i] != 0;
    } else if (numel > 0) {
        s = typed_data(tp, what, numel, &t);
        if (s != NNCW_OK) {
            nncw_tensor_fini(&t);
            return s;
        }
    }
    *out = t;
    return NNCW_OK;
}

void nncw_onnx_tensor_to_proto(const struct nncw_tensor *t, const char *name, int64_t *dims,
                               NncwOnnx__TensorProto *tp)
{
    nncw_onnx__tensor_proto__init(tp);
    for (int d = 0; d < t->ndim; d++)
        dims[d] = t->shape[d];
    tp->n_dims = (size_t)t->ndim;
    tp->dims = dims;
    tp->has_data_type = 1;
    tp->data_type = nncw_onnx_dtype_to_proto(t->dtype);
    tp->name = (char *)(name ? name : "");
    tp->has_raw_data = 1;
    tp->raw_data.len = nncw_tensor_nbytes(t);
    tp->raw_data.data = t->data;
}

enum nncw_status nncw_onnx_read_tensor_file(const char *path, struct nncw_tensor *out, char **name,
                                            size_t max_bytes)
{
    void *data = NULL;
    size_t len = 0;
    NNCW_TRY(nncw_onnx_read_file(path, max_bytes, &data, &len));
    ProtobufCMessage *m = NULL;
    enum nncw_status s =
        nncw_onnx_unpack(&nncw_onnx__tensor_proto__descriptor, data, len, path, &m);
    nncw_free(data);
    if (s != NNCW_OK)
        return s;
    NncwOnnx__TensorProto *tp = (NncwOnnx__TensorProto *)m;
    char what[512];
    snprintf(what, sizeof what, "%s: tensor '%s'", path, tp->name ? tp->name : "");
    struct nncw_tensor t;
    s = nncw_onnx_tensor_from_proto(tp, what, &t);
    char *dup = NULL;
    if (s == NNCW_OK && name && tp->name && tp->name[0]) {
        dup = nncw_strdup(tp->name);
        if (!dup) {
            nncw_tensor_fini(&t);
            s = NNCW_FAIL(NNCW_ERR_NOMEM, "%s: out of memory", path);
        }
    }
    nncw_onnx_message_free(m);
    if (s != NNCW_OK)
        return s;
    if (name)
        *name = dup;
    *out = t;
    return NNCW_OK;
}

enum nncw_status nncw_onnx_write_tensor_file(const char *path, const struct nncw_tensor *t,
                                             const char *name)
{
    if (nncw_onnx_dtype_to_proto(t->dtype) == NNCW_ONNX_DT_UNDEFINED)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "%s: dtype %s has no ONNX type", path,
                         nncw_dtype_name(t->dtype));
    struct nncw_tensor c;
    const struct nncw_tensor *src = t;
    if (!nncw_tensor_is_contiguous(t)) {
        NNCW_TRY(nncw_tensor_init_copy(&c, t));
        src = &c;
    }
    int64_t dims[NNCW_MAX_DIMS];
    NncwOnnx__TensorProto tp;
    nncw_onnx_tensor_to_proto(src, name, dims, &tp);
    size_t n = nncw_onnx__tensor_proto__get_packed_size(&tp);
    uint8_t *buf = nncw_malloc(n ? n : 1);
    enum nncw_status s = NNCW_OK;
    if (!buf) {
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, n);
        goto out;
    }
    nncw_onnx__tensor_proto__pack(&tp, buf);
    FILE *f = fopen(path, "wb");
    if (!f) {
        s = NNCW_FAIL(NNCW_ERR_IO, "%s: cannot create the file", path);
        goto out;
    }
    bool ok = fwrite(buf, 1, n, f) == n;
    ok = fclose(f) == 0 && ok;
    if (!ok)
        s = NNCW_FAIL(NNCW_ERR_IO, "%s: write error", path);
out:
    nncw_free(buf);
    if (src == &c)
        nncw_tensor_fini(&c);
    return s;
}
