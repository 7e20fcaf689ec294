/*
** Reading data files through zlib, which reads gzip-compressed and plain files alike. Every
** failure names the file; truncation and gzip corruption are told apart from system errors.
*/
#include "data/data_internal.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"

/* gzread takes an unsigned int; reading in bounded chunks also keeps the byte count of a
 * truncated gzip stream exact to within one chunk (zlib drops the count of a failing call) */
enum { CHUNK = 1 << 20, FIRST_BUFFER = 64 << 20 };

enum nncw_status nncw_data_file_open(struct nncw_data_file *f, const char *path, const char *hint)
{
    f->path = path;
    errno = 0;
    f->gz = gzopen(path, "rb");
    if (!f->gz) {
        const char *why = errno ? strerror(errno) : "out of memory";
        return NNCW_FAIL(NNCW_ERR_IO, "data: %s: cannot open: %s%s%s", path, why, hint ? "; " : "",
                         hint ? hint : "");
    }
    gzbuffer(f->gz, 256 * 1024);
    return NNCW_OK;
}

void nncw_data_file_close(struct nncw_data_file *f)
{
    if (f->gz)
        gzclose(f->gz);
    f->gz = NULL;
}

/* turns zlib's error state after a short or failed read into a status */
static enum nncw_status read_error(struct nncw_data_file *f, size_t want, size_t got,
                                   const char *what)
{
    int err = Z_OK;
    const char *msg = gzerror(f->gz, &err);
    if (err == Z_ERRNO)
        return NNCW_FAIL(NNCW_ERR_IO, "data: %s: read error: %s", f->path, strerror(errno));
    if (err == Z_DATA_ERROR)
        return NNCW_FAIL(NNCW_ERR_PARSE, "data: %s: corrupt gzip data (%s)", f->path, msg);
    if (err == Z_MEM_ERROR)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "data: %s: zlib out of memory", f->path);
    /* Z_OK (plain end of file) or Z_BUF_ERROR (gzip stream cut short) */
    return NNCW_FAIL(NNCW_ERR_PARSE, "data: %s: truncated: expected %zu bytes of %s, got %zu%s",
                     f->path, want, what, got,
                     err == Z_BUF_ERROR ? " (the gzip stream ends early)" : "");
}

/* reads up to n bytes; *got is what arrived; fails only on errors, not at end of file */
static enum nncw_status read_some(struct nncw_data_file *f, uint8_t *buf, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        size_t ask = n - *got < CHUNK ? n - *got : CHUNK;
        int r = gzread(f->gz, buf + *got, (unsigned)ask);
        if (r < 0)
            return NNCW_ERR_IO; /* the caller asks read_error for details */
        *got += (size_t)r;
        if ((size_t)r < ask)
            break;
    }
    return NNCW_OK;
}

enum nncw_status nncw_data_file_read(struct nncw_data_file *f, void *buf, size_t n,
                                     const char *what)
{
    size_t got;
    if (read_some(f, buf, n, &got) != NNCW_OK || got < n)
        return read_error(f, n, got, what);
    return NNCW_OK;
}

enum nncw_status nncw_data_file_read_alloc(struct nncw_data_file *f, size_t n, const char *what,
                                           uint8_t **out)
{
    size_t cap = n < FIRST_BUFFER ? n : FIRST_BUFFER, have = 0;
    uint8_t *buf = nncw_malloc(cap);
    if (!buf)
        goto nomem;
    for (;;) {
        size_t got;
        if (read_some(f, buf + have, cap - have, &got) != NNCW_OK || have + got < cap) {
            enum nncw_status s = read_error(f, n, have + got, what);
            nncw_free(buf);
            return s;
        }
        have += got;
        if (have == n)
            break;
        size_t grown = cap <= n / 2 ? cap * 2 : n;
        uint8_t *bigger = nncw_realloc(buf, grown);
        if (!bigger)
            goto nomem;
        buf = bigger;
        cap = grown;
    }
    *out = buf;
    return NNCW_OK;
nomem:
    nncw_free(buf);
    return NNCW_FAIL(NNCW_ERR_NOMEM, "data: %s: cannot allocate %zu bytes for %s", f->path, n,
                     what);
}

enum nncw_status nncw_data_file_read_all(struct nncw_data_file *f, size_t max, uint8_t **out,
                                         size_t *n)
{
    size_t cap = FIRST_BUFFER, have = 0;
    uint8_t *buf = nncw_malloc(cap);
    if (!buf)
        goto nomem;
    for (;;) {
        size_t got;
        if (read_some(f, buf + have, cap - have, &got) != NNCW_OK) {
            enum nncw_status s = read_error(f, cap, have + got, "data");
            nncw_free(buf);
            return s;
        }
        have += got;
        if (have > max) {
            nncw_free(buf);
            return NNCW_FAIL(NNCW_ERR_PARSE, "data: %s: larger than the limit of %zu bytes",
                             f->path, max);
        }
        if (have < cap)
            break;
        size_t grown = cap <= SIZE_MAX / 2 ? cap * 2 : SIZE_MAX;
        uint8_t *bigger = nncw_realloc(buf, grown);
        if (!bigger) {
            cap = grown;
            goto nomem;
        }
        buf = bigger;
        cap = grown;
    }
    *out = buf;
    *n = have;
    return NNCW_OK;
nomem:
    nncw_free(buf);
    return NNCW_FAIL(NNCW_ERR_NOMEM, "data: %s: cannot allocate %zu bytes", f->path, cap);
}

enum nncw_status nncw_data_file_expect_end(struct nncw_data_file *f)
{
    uint8_t extra[64];
    size_t got;
    if (read_some(f, extra, sizeof extra, &got) != NNCW_OK)
        return read_error(f, 0, 0, "trailing data");
    if (got > 0)
        nncw_log(NNCW_LOG_WARN, "data: %s: ignoring %s%zu bytes after the expected data", f->path,
                 got == sizeof extra ? "at least " : "", got);
    return NNCW_OK;
}
