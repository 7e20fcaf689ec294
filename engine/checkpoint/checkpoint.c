/*
** The checkpoint file: assembling sections into one buffer, writing it atomically, reading a
** file back and checking it whole before anything uses it.
*/
#include "checkpoint/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "checkpoint/checkpoint_internal.h"
#include "core/alloc.h"

#define MAGIC "NNCWCKPT"
#define TAG_PARAMS NNCW_CKPT_TAG('P', 'A', 'R', 'M')
#define TAG_ORIG NNCW_CKPT_TAG('O', 'R', 'I', 'G')
#define TAG_CONFIG NNCW_CKPT_TAG('C', 'O', 'N', 'F')
#define TAG_COMPRESSION NNCW_CKPT_TAG('C', 'M', 'P', 'R')
#define TAG_SOURCE NNCW_CKPT_TAG('M', 'S', 'R', 'C')
#define TAG_ARGV NNCW_CKPT_TAG('A', 'R', 'G', 'V')
/* writes go out in chunks of this size, so a crash can stop a write in the middle */
#define CHUNK ((size_t)1 << 16)

static nncw_checkpoint_write_hook_fn write_hook;

void nncw_checkpoint_set_write_hook(nncw_checkpoint_write_hook_fn fn)
{
    write_hook = fn;
}

/* ---- the buffer ---- */
void nncw_ckpt_put(struct nncw_ckpt_buf *b, const void *data, size_t n)
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
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

void nncw_ckpt_put_u32(struct nncw_ckpt_buf *b, uint32_t v)
{
    nncw_ckpt_put(b, &v, 4);
}

void nncw_ckpt_put_u64(struct nncw_ckpt_buf *b, uint64_t v)
{
    nncw_ckpt_put(b, &v, 8);
}

void nncw_ckpt_put_f32(struct nncw_ckpt_buf *b, float v)
{
    nncw_ckpt_put(b, &v, 4);
}

void nncw_ckpt_put_f64(struct nncw_ckpt_buf *b, double v)
{
    nncw_ckpt_put(b, &v, 8);
}

void nncw_ckpt_put_str(struct nncw_ckpt_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    nncw_ckpt_put_u32(b, (uint32_t)n);
    nncw_ckpt_put(b, s, n);
}

size_t nncw_ckpt_begin_section(struct nncw_ckpt_buf *b, uint32_t tag)
{
    nncw_ckpt_put_u32(b, tag);
    size_t at = b->len;
    nncw_ckpt_put_u64(b, 0);
    return at;
}

void nncw_ckpt_end_section(struct nncw_ckpt_buf *b, size_t at)
{
    if (b->failed)
        return;
    uint64_t len = b->len - at - 8;
    memcpy(b->p + at, &len, 8);
}

/* ---- atomic writing ---- */
static enum nncw_status write_all(int fd, const char *tmp, const unsigned char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        size_t want = n - done < CHUNK ? n - done : CHUNK;
        ssize_t w = write(fd, p + done, want);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return NNCW_FAIL(NNCW_ERR_IO, "checkpoint: writing '%s': %s", tmp,
                             w < 0 ? strerror(errno) : "nothing written");
        done += (size_t)w;
        if (write_hook)
            write_hook(done);
    }
    return NNCW_OK;
}

/* the rename itself must reach the disk: fsync the folder holding the file */
static enum nncw_status sync_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return NNCW_FAIL(NNCW_ERR_IO, "checkpoint: cannot open folder '%s': %s", dir,
                         strerror(errno));
    int r = fsync(fd);
    int e = errno;
    close(fd);
    if (r != 0 && e != EINVAL) /* some file systems cannot sync a folder */
        return NNCW_FAIL(NNCW_ERR_IO, "checkpoint: syncing folder '%s': %s", dir, strerror(e));
    return NNCW_OK;
}

static enum nncw_status write_atomically(const char *path, const void *data, size_t n)
{
    size_t len = strlen(path);
    char *tmp = nncw_malloc(len + 16);
    if (!tmp)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "checkpoint: out of memory");
    /* same folder as the target, so the rename is atomic */
    snprintf(tmp, len + 16, "%s.tmpXXXXXX", path);
    enum nncw_status s = NNCW_OK;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        s = NNCW_FAIL(NNCW_ERR_IO, "checkpoint: cannot create '%s': %s", tmp, strerror(errno));
        goto out;
    }
    s = write_all(fd, tmp, data, n);
    if (s == NNCW_OK && fsync(fd) != 0)
        s = NNCW_FAIL(NNCW_ERR_IO, "checkpoint: syncing '%s': %s", tmp, strerror(errno));
    if (close(fd) != 0 && s == NNCW_OK)
        s = NNCW_FAIL(NNCW_ERR_IO, "checkpoint: closing '%s': %s", tmp, strerror(errno));
    if (s == NNCW_OK && rename(tmp, path) != 0)
        s = NNCW_FAIL(NNCW_ERR_IO, "checkpoint: renaming to '%s': %s", path, strerror(errno));
    if (s != NNCW_OK)
        unlink(tmp);
    else
        s = sync_folder(path);
out:
    nncw_free(tmp);
    return s;
}

/* ---- assembling a file ---- */
static void put_text_section(struct nncw_ckpt_buf *b, uint32_t tag, const char *text)
{
    size_t at = nncw_ckpt_begin_section(b, tag);
    nncw_ckpt_put(b, text, strlen(text));
    nncw_ckpt_end_section(b, at);
}

static enum nncw_status put_compression(struct nncw_ckpt_buf *b, const struct nncw_compression *c,
                                        uint32_t *sections)
{
    char *state = NULL;
    NNCW_TRY(nncw_compression_get_state(c, &state));
    put_text_section(b, TAG_COMPRESSION, state);
    nncw_free(state);
    size_t at = nncw_ckpt_begin_section(b, TAG_ORIG);
    nncw_ckpt_put_params(b, nncw_compression_get_original(c));
    nncw_ckpt_end_section(b, at);
    *sections += 2;
    return NNCW_OK;
}

static enum nncw_status assemble(const struct nncw_checkpoint_parts *p, struct nncw_ckpt_buf *b)
{
    nncw_ckpt_put(b, MAGIC, 8);
    nncw_ckpt_put_u32(b, NNCW_CHECKPOINT_VERSION);
    size_t count_at = b->len;
    nncw_ckpt_put_u32(b, 0);
    uint32_t sections = 1;
    size_t at = nncw_ckpt_begin_section(b, TAG_PARAMS);
    nncw_ckpt_put_params(b, p->graph);
    nncw_ckpt_end_section(b, at);
    if (p->compression)
        NNCW_TRY(put_compression(b, p->compression, &sections));
    if (p->config_json) {
        put_text_section(b, TAG_CONFIG, p->config_json);
        sections++;
    }
    if (p->source && p->source->kind != NNCW_MODEL_SOURCE_NONE) {
        at = nncw_ckpt_begin_section(b, TAG_SOURCE);
        nncw_ckpt_put_source(b, p->source);
        nncw_ckpt_end_section(b, at);
        sections++;
    }
    if (p->argv && p->argc > 0) {
        at = nncw_ckpt_begin_section(b, TAG_ARGV);
        nncw_ckpt_put_argv(b, p->argc, p->argv);
        nncw_ckpt_end_section(b, at);
        sections++;
    }
    if (p->trainer) {
        nncw_ckpt_put_trainer(b, p->trainer); /* its four sections */
        sections += 4;
    }
    if (!b->failed)
        memcpy(b->p + count_at, &sections, 4);
    nncw_ckpt_put_u32(b, b->failed ? 0 : (uint32_t)crc32(0L, b->p, (uInt)b->len));
    if (b->failed)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "checkpoint: out of memory serialising");
    return NNCW_OK;
}

enum nncw_status nncw_checkpoint_write(const char *path, const struct nncw_checkpoint_parts *p)
{
    if (!path || !p || !p->graph)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "checkpoint: a path and a graph are required");
    struct nncw_ckpt_buf b = {0};
    enum nncw_status s = assemble(p, &b);
    if (s == NNCW_OK)
        s = write_atomically(path, b.p, b.len);
    nncw_free(b.p);
    return s;
}

enum nncw_status nncw_checkpoint_save(const struct nncw_graph *g, const char *path)
{
    struct nncw_checkpoint_parts p = {.graph = g};
    return nncw_checkpoint_write(path, &p);
}

/* ---- reading ---- */
bool nncw_ckpt_take(struct nncw_ckpt_cursor *c, void *out, size_t n)
{
    if (n > c->len - c->at)
        return false;
    memcpy(out, c->p + c->at, n);
    c->at += n;
    return true;
}

bool nncw_ckpt_take_u32(struct nncw_ckpt_cursor *c, uint32_t *v)
{
    return nncw_ckpt_take(c, v, 4);
}

bool nncw_ckpt_take_i64(struct nncw_ckpt_cursor *c, int64_t *v)
{
    return nncw_ckpt_take(c, v, 8);
}

bool nncw_ckpt_take_f32(struct nncw_ckpt_cursor *c, float *v)
{
    return nncw_ckpt_take(c, v, 4);
}

bool nncw_ckpt_take_f64(struct nncw_ckpt_cursor *c, double *v)
{
    return nncw_ckpt_take(c, v, 8);
}

bool nncw_ckpt_take_str(struct nncw_ckpt_cursor *c, char *out, size_t cap)
{
    uint32_t n;
    if (!nncw_ckpt_take_u32(c, &n) || n >= cap || !nncw_ckpt_take(c, out, n))
        return false;
    out[n] = '\0';
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

void nncw_checkpoint_free(struct nncw_checkpoint *ck)
{
    if (!ck)
        return;
    nncw_free(ck->path);
    nncw_free(ck->data);
    nncw_free(ck->config);
    nncw_free(ck->compression);
    nncw_free(ck);
}

/* magic, CRC, version: in that order, so a damaged file is called damaged and not "from a
 * newer version" because its version bytes were hit */
static enum nncw_status check_header(struct nncw_checkpoint *ck, struct nncw_ckpt_cursor *c)
{
    const char *path = ck->path;
    char magic[8];
    if (!nncw_ckpt_take(c, magic, 8) || memcmp(magic, MAGIC, 8) != 0)
        return NNCW_CKPT_CORRUPT(path, "not an nncw checkpoint (bad magic)", path);
    if (ck->len < 20)
        return NNCW_CKPT_CORRUPT(path, "truncated", path);
    uint32_t stored;
    memcpy(&stored, ck->data + ck->len - 4, 4);
    if ((uint32_t)crc32(0L, ck->data, (uInt)(ck->len - 4)) != stored)
        return NNCW_CKPT_CORRUPT(path, "corrupt or truncated (checksum mismatch)", path);
    c->len = ck->len - 4;
    nncw_ckpt_take_u32(c, &ck->version);
    if (ck->version < 1 || ck->version > NNCW_CHECKPOINT_VERSION)
        return NNCW_CKPT_CORRUPT(path,
                                 "written in checkpoint format version %u; this build of nncw "
                                 "reads versions 1 to %d (a newer nncw wrote it?)",
                                 path, ck->version, NNCW_CHECKPOINT_VERSION);
    return NNCW_OK;
}

static enum nncw_status index_sections(struct nncw_checkpoint *ck, struct nncw_ckpt_cursor *c)
{
    uint32_t n;
    if (!nncw_ckpt_take_u32(c, &n))
        return NNCW_CKPT_CORRUPT(ck->path, "truncated", ck->path);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t tag;
        uint64_t len;
        if (!nncw_ckpt_take_u32(c, &tag) || !nncw_ckpt_take(c, &len, 8) || len > c->len - c->at)
            return NNCW_CKPT_CORRUPT(ck->path, "section %u is truncated", ck->path, i);
        if (ck->n == NNCW_CKPT_MAX_SECTIONS)
            return NNCW_CKPT_CORRUPT(ck->path, "more than %d sections", ck->path,
                                     NNCW_CKPT_MAX_SECTIONS);
        ck->sections[ck->n++] = (struct nncw_ckpt_section){tag, c->at, (size_t)len};
        c->at += (size_t)len;
    }
    if (c->at != c->len)
        return NNCW_CKPT_CORRUPT(ck->path, "%zu stray bytes after the sections", ck->path,
                                 c->len - c->at);
    return NNCW_OK;
}

bool nncw_ckpt_section(const struct nncw_checkpoint *ck, uint32_t tag, struct nncw_ckpt_cursor *out)
{
    for (int i = 0; i < ck->n; i++)
        if (ck->sections[i].tag == tag) {
            *out = (struct nncw_ckpt_cursor){ck->data + ck->sections[i].at, ck->sections[i].len, 0,
                                             ck->path};
            return true;
        }
    return false;
}

/* a text section as a NUL-terminated copy (NULL when absent) */
static enum nncw_status copy_text(struct nncw_checkpoint *ck, uint32_t tag, char **out)
{
    struct nncw_ckpt_cursor c;
    if (!nncw_ckpt_section(ck, tag, &c))
        return NNCW_OK;
    if (memchr(c.p, '\0', c.len))
        return NNCW_CKPT_CORRUPT(ck->path, "a text section holds a NUL byte", ck->path);
    char *t = nncw_malloc(c.len + 1);
    if (!t)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "checkpoint: out of memory");
    memcpy(t, c.p, c.len);
    t[c.len] = '\0';
    *out = t;
    return NNCW_OK;
}

enum nncw_status nncw_checkpoint_read(const char *path, struct nncw_checkpoint **out)
{
    struct nncw_checkpoint *ck = nncw_calloc(1, sizeof *ck);
    if (!ck || !(ck->path = nncw_strdup(path))) {
        nncw_free(ck);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "checkpoint: out of memory");
    }
    enum nncw_status s = read_file(path, &ck->data, &ck->len);
    struct nncw_ckpt_cursor c = {ck->data, ck->len, 0, ck->path};
    if (s == NNCW_OK)
        s = check_header(ck, &c);
    if (s == NNCW_OK)
        s = index_sections(ck, &c);
    if (s == NNCW_OK)
        s = copy_text(ck, TAG_CONFIG, &ck->config);
    if (s == NNCW_OK)
        s = copy_text(ck, TAG_COMPRESSION, &ck->compression);
    struct nncw_ckpt_cursor params;
    if (s == NNCW_OK && !nncw_ckpt_section(ck, TAG_PARAMS, &params))
        s = NNCW_CKPT_CORRUPT(path, "holds no parameters", path);
    if (s != NNCW_OK) {
        nncw_checkpoint_free(ck);
        return s;
    }
    *out = ck;
    return NNCW_OK;
}

uint32_t nncw_checkpoint_get_version(const struct nncw_checkpoint *ck)
{
    return ck->version;
}

const char *nncw_checkpoint_get_path(const struct nncw_checkpoint *ck)
{
    return ck->path;
}

bool nncw_checkpoint_has(const struct nncw_checkpoint *ck, const char *tag)
{
    if (!tag || strlen(tag) != 4)
        return false;
    struct nncw_ckpt_cursor c;
    return nncw_ckpt_section(ck, NNCW_CKPT_TAG(tag[0], tag[1], tag[2], tag[3]), &c);
}

const char *nncw_checkpoint_get_config(const struct nncw_checkpoint *ck)
{
    return ck->config;
}

const char *nncw_checkpoint_get_compression_state(const struct nncw_checkpoint *ck)
{
    return ck->compression;
}

static enum nncw_status restore_params(const struct nncw_checkpoint *ck, uint32_t tag,
                                       const char *what, struct nncw_graph *g)
{
    struct nncw_ckpt_cursor c;
    if (!nncw_ckpt_section(ck, tag, &c))
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "checkpoint '%s' holds no %s", ck->path, what);
    return nncw_ckpt_read_params(&c, g);
}

enum nncw_status nncw_checkpoint_restore_graph(const struct nncw_checkpoint *ck,
                                               struct nncw_graph *g)
{
    return restore_params(ck, TAG_PARAMS, "parameters", g);
}

enum nncw_status nncw_checkpoint_restore_original(const struct nncw_checkpoint *ck,
                                                  struct nncw_graph *g)
{
    return restore_params(ck, TAG_ORIG, "float model (it was not saved from a compression)", g);
}

enum nncw_status nncw_checkpoint_load(struct nncw_graph *g, const char *path)
{
    struct nncw_checkpoint *ck;
    NNCW_TRY(nncw_checkpoint_read(path, &ck));
    enum nncw_status s = nncw_checkpoint_restore_graph(ck, g);
    nncw_checkpoint_free(ck);
    return s;
}
