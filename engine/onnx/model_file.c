/*
** Reading protobuf files without trusting them.
**
** protobuf-c's unpacker recurses once per nested message and allocates as the data says, so
** before unpacking, a small walker checks the wire format against the message descriptors:
** every length fits, every field has a valid wire type, and messages nest at most
** MAX_DEPTH deep (a hostile file of nested GraphProto attributes would otherwise exhaust the
** stack). The unpacker then allocates through a budget proportional to the input, so no file
** can make it allocate without bound.
*/
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "onnx/onnx_internal.h"

#define MAX_DEPTH 48

enum nncw_status nncw_onnx_read_file(const char *path, size_t max, void **data, size_t *len)
{
    if (max == 0 || max > NNCW_ONNX_MAX_FILE)
        max = NNCW_ONNX_MAX_FILE;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NNCW_FAIL(NNCW_ERR_IO, "%s: %s", path, strerror(errno));
    enum nncw_status s = NNCW_OK;
    char *buf = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        s = NNCW_FAIL(NNCW_ERR_IO, "%s: not a regular file", path);
        goto out;
    }
    if ((unsigned long long)st.st_size > max) {
        s = NNCW_FAIL(NNCW_ERR_PARSE, "%s: %lld bytes is larger than the limit of %zu", path,
                      (long long)st.st_size, max);
        goto out;
    }
    size_t n = (size_t)st.st_size;
    buf = nncw_malloc(n ? n : 1);
    if (!buf) {
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, n);
        goto out;
    }
    if (fread(buf, 1, n, f) != n) {
        s = NNCW_FAIL(NNCW_ERR_IO, "%s: read error", path);
        goto out;
    }
    *data = buf;
    *len = n;
    buf = NULL;
out:
    nncw_free(buf);
    fclose(f);
    return s;
}

/* ---- the wire-format walker ---- */

struct wire {
    const uint8_t *p;
    size_t at, end;
};

static bool read_varint(struct wire *w, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (w->at >= w->end)
            return false;
        uint8_t b = w->p[w->at++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

static const ProtobufCFieldDescriptor *field_of(const ProtobufCMessageDescriptor *d, uint32_t id)
{
    for (unsigned i = 0; i < d->n_fields; i++)
        if (d->fields[i].id == id)
            return &d->fields[i];
    return NULL;
}

/* checks [w->at, w->end) as a message of type d; the recursion is bounded by MAX_DEPTH */
static bool walk(struct wire *w, const ProtobufCMessageDescriptor *d, int depth, const char **why)
{
    if (depth > MAX_DEPTH) {
        *why = "messages are nested too deeply";
        return false;
    }
    while (w->at < w->end) {
        uint64_t key, v;
        if (!read_varint(w, &key)) {
            *why = "a field key is truncated";
            return false;
        }
        uint32_t id = (uint32_t)(key >> 3);
        if (id == 0 || key >> 3 > 0x1fffffff) {
            *why = "a field number is invalid";
            return false;
        }
        switch (key & 7) {
        case 0:
            if (!read_varint(w, &v)) {
                *why = "a varint is truncated";
                return false;
            }
            break;
        case 1:
        case 5: {
            size_t n = (key & 7) == 1 ? 8 : 4;
            if (w->end - w->at < n) {
                *why = "a fixed-size field is truncated";
                return false;
            }
            w->at += n;
            break;
        }
        case 2: {
            if (!read_varint(w, &v) || v > w->end - w->at) {
                *why = "a length-delimited field runs past the end";
                return false;
            }
            const ProtobufCFieldDescriptor *f = d ? field_of(d, id) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                struct wire sub = {w->p, w->at, w->at + (size_t)v};
                if (!walk(&sub, f->descriptor, depth + 1, why))
                    return false;
            }
            w->at += (size_t)v;
            break;
        }
        default:
            *why = "a field has an unknown wire type";
            return false;
        }
    }
    return true;
}

/* ---- a bounded allocator ---- */

struct budget {
    size_t left;
};

/* each block carries its size in front, so free can give the budget back */
static void *budget_alloc(void *user, size_t size)
{
    struct budget *b = user;
    if (size > b->left || size > SIZE_MAX - 64)
        return NULL;
    size_t *p = nncw_malloc(size + 64);
    if (!p)
        return NULL;
    b->left -= size;
    p[0] = size;
    return (char *)p + 64;
}

static void budget_free(void *user, void *ptr)
{
    struct budget *b = user;
    if (!ptr)
        return;
    size_t *p = (size_t *)((char *)ptr - 64);
    b->left += p[0];
    nncw_free(p);
}

static void *plain_alloc(void *user, size_t size)
{
    (void)user;
    if (size > SIZE_MAX - 64)
        return NULL;
    size_t *p = nncw_malloc(size + 64);
    if (!p)
        return NULL;
    p[0] = size;
    return (char *)p + 64;
}

static void plain_free(void *user, void *ptr)
{
    (void)user;
    if (ptr)
        nncw_free((char *)ptr - 64);
}

static const char *kind_of(const ProtobufCMessageDescriptor *desc)
{
    if (desc == &nncw_onnx__model_proto__descriptor)
        return "ONNX model";
    if (desc == &nncw_onnx__tensor_proto__descriptor)
        return "ONNX tensor (TensorProto)";
    return desc->short_name;
}

enum nncw_status nncw_onnx_unpack(const ProtobufCMessageDescriptor *desc, const void *data,
                                  size_t len, const char *what, ProtobufCMessage **out)
{
    struct wire w = {data, 0, len};
    const char *why = "";
    if (!walk(&w, desc, 0, &why))
        return NNCW_FAIL(NNCW_ERR_PARSE, "%s: not a valid %s (%s at byte %zu)", what, kind_of(desc),
                         why, w.at);
    /* Unpacked messages are a few times larger than their encoding (pointers, structs for
     * short submessages); the budget is generous but finite. Freeing happens later through
     * nncw_onnx_message_free, which must not need the budget, so the allocator stores sizes
     * in a header and the budget struct only lives during unpacking. */
    struct budget b = {len > (SIZE_MAX - (64u << 20)) / 64 ? SIZE_MAX : len * 64 + (64u << 20)};
    ProtobufCAllocator a = {budget_alloc, budget_free, &b};
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, &a, len, data);
    if (!m)
        return NNCW_FAIL(NNCW_ERR_PARSE, "%s: not a valid %s (corrupt or truncated)", what,
                         kind_of(desc));
    *out = m;
    return NNCW_OK;
}

void nncw_onnx_message_free(ProtobufCMessage *m)
{
    if (!m)
        return;
    ProtobufCAllocator a = {plain_alloc, plain_free, NULL};
    protobuf_c_message_free_unpacked(m, &a);
}
