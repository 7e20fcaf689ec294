#include "checkpoint/checkpoint.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "core/alloc.h"
#include "core/log.h"

#define MAGIC "NNCWCKPT"
enum { VERSION = 1, TAG_PARAMS = 0x4d524150 /* "PARM" */, MAX_NAME = 4096 };

/* ---- writing: everything goes through a buffer so the CRC covers it ---- */
struct buf {
    unsigned char *p;
    size_t len, cap;
    bool failed;
};

static void put(struct buf *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *p = nncw_realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
    put(b, &v, 4);
}

static void put_u64(struct buf *b, uint64_t v)
{
    put(b, &v, 8);
}

static void put_params(struct buf *b, const struct nncw_graph *g)
{
    int n = nncw_graph_count_params(g);
    put_u32(b, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        int id = nncw_graph_get_param(g, i);
        const char *name = nncw_graph_get_value_name(g, id);
        const struct nncw_tensor *t = nncw_graph_get_value_tensor(g, id);
        put_u32(b, (uint32_t)strlen(name));
        put(b, name, strlen(name));
        put_u32(b, (uint32_t)t->dtype);
        put_u32(b, (uint32_t)t->ndim);
        for (int d = 0; d < t->ndim; d++)
            put_u64(b, (uint64_t)t->shape[d]);
        put(b, t->data, nncw_tensor_nbytes(t));
    }
}

static enum nncw_status write_atomically(const char *path, const void *data, size_t n)
{
    size_t len = strlen(path);
    char *tmp = nncw_malloc(len + 16);
    if (!tmp)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "checkpoint: out of memory");
    snprintf(tmp, len + 16, "%s.tmpXXXXXX", path);
    enum nncw_status s = NNCW_OK;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        s = NNCW_FAIL(NNCW_ERR_IO, "checkpoint: cannot create '%s': %s", tmp, strerror(errno));
        goto out;
    }
    const unsigned char *p = data;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s = NNCW_FAIL(NNCW_ERR_IO, "checkpoint: writing '%s': %s", tmp, strerror(errno));
            break;
        }
        done += (size_t)w;
    }
    if (s == NNCW_OK && fsync(fd) != 0)
        s = NNCW_FAIL(NNCW_ERR_IO, "checkpoint: syncing '%s': %s", tmp, strerror(errno));
    if (close(fd) != 0 && s == NNCW_OK)
        s = NNCW_FAIL(NNCW_ERR_IO, "checkpoint: closing '%s': %s", tmp, strerror(errno));
    if (s == NNCW_OK && rename(tmp, path) != 0)
        s = NNCW_FAIL(NNCW_ERR_IO, "checkpoint: renaming to '%s': %s", path, strerror(errno));
    if (s != NNCW_OK)
        unlink(tmp);
out:
    nncw_free(tmp);
    return s;
}

enum nncw_status nncw_checkpoint_save(const struct nncw_graph *g, const char *path)
{
    struct buf b = {0};
    put(&b, MAGIC, 8);
    put_u32(&b, VERSION);
    put_u32(&b, 1);
    put_u32(&b, TAG_PARAMS);
    size_t len_at = b.len;
    put_u64(&b, 0);
    size_t start = b.len;
    put_params(&b, g);
    enum nncw_status s;
    if (b.failed) {
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "checkpoint: out of memory serialising");
        goto out;
    }
    uint64_t plen = b.len - start;
    memcpy(b.p + len_at, &plen, 8);
    put_u32(&b, (uint32_t)crc32(0L, b.p, (uInt)b.len));
    if (b.failed) {
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "checkpoint: out of memory serialising");
        goto out;
    }
    s = write_atomically(path, b.p, b.len);
out:
    nncw_free(b.p);
    return s;
}

/* ---- reading: a bounds-checked cursor over the whole file ---- */
struct cursor {
    const unsigned char *p;
    size_t len, at;
    const char *path;
};

static bool take(struct cursor *c, void *out, size_t n)
{
    if (n > c->len - c->at)
        return false;
    memcpy(out, c->p + c->at, n);
    c->at += n;
    return true;
}

static enum nncw_status read_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NNCW_FAIL(NNCW_ERR_IO, "checkpoint: cannot open '%s': %s", path, strerror(errno));
    enum nncw_status s = NNCW_OK;
    unsigned char *data = NULL;
    long size = 0;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        s = NNCW_FAIL(NNCW_ERR_IO, "checkpoint: cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    data = nncw_malloc((size_t)size + 1);
    if (!data) {
        s = NNCW_FAIL(NNCW_ERR_NOMEM, "checkpoint: '%s' (%ld bytes) does not fit in memory", path,
                      size);
        goto out;
    }
    if (fread(data, 1, (size_t)size, f) != (size_t)size) {
        s = NNCW_FAIL(NNCW_ERR_IO, "checkpoint: cannot read '%s'", path);
        goto out;
    }
    *out = data;
    *len = (size_t)size;
    data = NULL;
out:
    nncw_free(data);
    fclose(f);
    return s;
}

#define CORRUPT(c, ...) NNCW_FAIL(NNCW_ERR_PARSE, "checkpoint '%s': " __VA_ARGS__)

/* checks one stored tensor against the graph and remembers where its data is */
static enum nncw_status read_entry(struct cursor *c, const struct nncw_graph *g,
                                   const unsigned char **src, int *param_index)
{
    uint32_t name_len, dtype, ndim;
    char name[MAX_NAME + 1];
    if (!take(c, &name_len, 4) || name_len > MAX_NAME || !take(c, name, name_len))
        return CORRUPT(c, "a parameter name is truncated or too long", c->path);
    name[name_len] = '\0';
    if (!take(c, &dtype, 4) || !take(c, &ndim, 4) || dtype >= NNCW_DTYPE_COUNT ||
        ndim > NNCW_MAX_DIMS)
        return CORRUPT(c, "parameter '%s' has a bad header", c->path, name);
    int64_t shape[NNCW_MAX_DIMS];
    for (uint32_t d = 0; d < ndim; d++)
        if (!take(c, &shape[d], 8) || shape[d] < 0)
            return CORRUPT(c, "parameter '%s' has a bad shape", c->path, name);
    int64_t numel = nncw_shape_numel((int)ndim, shape);
    size_t nbytes = (size_t)numel * nncw_dtype_size((enum nncw_dtype)dtype);
    if (numel < 0 || nbytes > c->len - c->at)
        return CORRUPT(c, "parameter '%s' is truncated", c->path, name);
    *src = c->p + c->at;
    c->at += nbytes;
    *param_index = -1;
    for (int i = 0; i < nncw_graph_count_params(g); i++) {
        int id = nncw_graph_get_param(g, i);
        if (strcmp(nncw_graph_get_value_name(g, id), name) != 0)
            continue;
        const struct nncw_tensor *t = nncw_graph_get_value_tensor(g, id);
        struct nncw_tensor stored;
        nncw_tensor_init_borrowed(&stored, (enum nncw_dtype)dtype, (int)ndim, shape, NULL);
        if (!nncw_tensor_same_shape(t, &stored) || t->dtype != stored.dtype) {
            char a[96], b[96];
            return NNCW_FAIL(NNCW_ERR_SHAPE,
                             "checkpoint '%s': parameter '%s' is %s %s in the file, %s %s in the "
                             "model",
                             c->path, name, nncw_dtype_name(stored.dtype),
                             nncw_tensor_shape_str(&stored, a, sizeof a),
                             nncw_dtype_name(t->dtype), nncw_tensor_shape_str(t, b, sizeof b));
        }
        *param_index = i;
    }
    if (*param_index < 0)
        nncw_log(NNCW_LOG_WARN, "checkpoint '%s': parameter '%s' is not in the model; ignored",
                 c->path, name);
    return NNCW_OK;
}

static enum nncw_status read_params(struct cursor *c, struct nncw_graph *g, size_t end)
{
    int np = nncw_graph_count_params(g);
    const unsigned char **src = nncw_calloc((size_t)(np ? np : 1), sizeof *src);
    if (!src)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "checkpoint: out of memory");
    enum nncw_status s = NNCW_OK;
    uint32_t count;
    if (!take(c, &count, 4)) {
        s = CORRUPT(c, "truncated parameter section", c->path);
        goto out;
    }
    for (uint32_t k = 0; k < count && s == NNCW_OK; k++) {
        const unsigned char *p;
        int idx;
        s = read_entry(c, g, &p, &idx);
        if (s == NNCW_OK && idx >= 0)
            src[idx] = p;
    }
    if (s == NNCW_OK && c->at != end)
        s = CORRUPT(c, "parameter section length does not match its contents", c->path);
    for (int i = 0; i < np && s == NNCW_OK; i++)
        if (!src[i])
            s = NNCW_FAIL(NNCW_ERR_NOT_FOUND, "checkpoint '%s': no values for parameter '%s'",
                          c->path, nncw_graph_get_value_name(g, nncw_graph_get_param(g, i)));
    /* only now, with everything checked, overwrite the model */
    for (int i = 0; i < np && s == NNCW_OK; i++) {
        struct nncw_tensor *t = nncw_graph_get_value_tensor(g, nncw_graph_get_param(g, i));
        memcpy(t->data, src[i], nncw_tensor_nbytes(t));
    }
out:
    nncw_free(src);
    return s;
}

enum nncw_status nncw_checkpoint_load(struct nncw_graph *g, const char *path)
{
    unsigned char *data = NULL;
    size_t len = 0;
    NNCW_TRY(read_file(path, &data, &len));
    struct cursor c = {data, len, 0, path};
    enum nncw_status s = NNCW_OK;
    char magic[8];
    uint32_t version, sections, stored_crc;
    if (!take(&c, magic, 8) || memcmp(magic, MAGIC, 8) != 0) {
        s = CORRUPT(&c, "not an nncw checkpoint (bad magic)", path);
        goto out;
    }
    if (len < 20) {
        s = CORRUPT(&c, "truncated", path);
        goto out;
    }
    memcpy(&stored_crc, data + len - 4, 4);
    if ((uint32_t)crc32(0L, data, (uInt)(len - 4)) != stored_crc) {
        s = CORRUPT(&c, "corrupt or truncated (checksum mismatch)", path);
        goto out;
    }
    c.len = len - 4;
    if (!take(&c, &version, 4) || version != VERSION) {
        s = CORRUPT(&c, "unsupported version %u (this build reads %d)", path, version, VERSION);
        goto out;
    }
    if (!take(&c, &sections, 4)) {
        s = CORRUPT(&c, "truncated", path);
        goto out;
    }
    bool found = false;
    for (uint32_t i = 0; i < sections && s == NNCW_OK; i++) {
        uint32_t tag;
        uint64_t slen;
        if (!take(&c, &tag, 4) || !take(&c, &slen, 8) || slen > c.len - c.at) {
            s = CORRUPT(&c, "section %u is truncated", path, i);
            break;
        }
        size_t end = c.at + (size_t)slen;
        if (tag == TAG_PARAMS) {
            s = read_params(&c, g, end);
            found = true;
        }
        c.at = end;
    }
    if (s == NNCW_OK && !found)
        s = CORRUPT(&c, "holds no parameters", path);
out:
    nncw_free(data);
    return s;
}
