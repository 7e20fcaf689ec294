/* Shared by the checkpoint files: the serialisation buffer, the bounds-checked reading cursor,
 * the section table of a file read, and the section codecs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint/checkpoint.h"

#define NNCW_CKPT_TAG(a, b, c, d)                                                                  \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

enum {
    NNCW_CKPT_MAX_SECTIONS = 64,
    NNCW_CKPT_MAX_NAME = 4096,
};

/* ---- writing: everything goes through one buffer so the CRC covers it ---- */
struct nncw_ckpt_buf {
    unsigned char *p;
    size_t len, cap;
    bool failed; /* out of memory: reported once at the end */
};

void nncw_ckpt_put(struct nncw_ckpt_buf *b, const void *data, size_t n);
void nncw_ckpt_put_u32(struct nncw_ckpt_buf *b, uint32_t v);
void nncw_ckpt_put_u64(struct nncw_ckpt_buf *b, uint64_t v);
void nncw_ckpt_put_f32(struct nncw_ckpt_buf *b, float v);
void nncw_ckpt_put_f64(struct nncw_ckpt_buf *b, double v);
void nncw_ckpt_put_str(struct nncw_ckpt_buf *b, const char *s); /* u32 length + bytes */
/* opens a section (returns where its length goes) and closes it */
size_t nncw_ckpt_begin_section(struct nncw_ckpt_buf *b, uint32_t tag);
void nncw_ckpt_end_section(struct nncw_ckpt_buf *b, size_t at);

/* ---- reading ---- */
struct nncw_ckpt_cursor {
    const unsigned char *p;
    size_t len, at;
    const char *path; /* for messages */
};

bool nncw_ckpt_take(struct nncw_ckpt_cursor *c, void *out, size_t n);
bool nncw_ckpt_take_u32(struct nncw_ckpt_cursor *c, uint32_t *v);
bool nncw_ckpt_take_i64(struct nncw_ckpt_cursor *c, int64_t *v);
bool nncw_ckpt_take_f32(struct nncw_ckpt_cursor *c, float *v);
bool nncw_ckpt_take_f64(struct nncw_ckpt_cursor *c, double *v);
/* a u32-length string into a NUL-terminated buffer of size cap */
bool nncw_ckpt_take_str(struct nncw_ckpt_cursor *c, char *out, size_t cap);

struct nncw_ckpt_section {
    uint32_t tag;
    size_t at, len; /* payload offset and length in the file's bytes */
};

struct nncw_checkpoint {
    char *path;
    unsigned char *data; /* the whole file */
    size_t len;
    uint32_t version;
    int n;
    struct nncw_ckpt_section sections[NNCW_CKPT_MAX_SECTIONS];
    char *config, *compression; /* NUL-terminated copies of CONF and CMPR, or NULL */
};

/* a cursor over one section's payload, or false when the file has none with that tag */
bool nncw_ckpt_section(const struct nncw_checkpoint *ck, uint32_t tag,
                       struct nncw_ckpt_cursor *out);
#define NNCW_CKPT_CORRUPT(path, ...) NNCW_FAIL(NNCW_ERR_PARSE, "checkpoint '%s': " __VA_ARGS__)

/* ---- section codecs (ckpt_sections.c) ---- */
void nncw_ckpt_put_params(struct nncw_ckpt_buf *b, const struct nncw_graph *g);
/* reads a parameter section into g (all or nothing) */
enum nncw_status nncw_ckpt_read_params(struct nncw_ckpt_cursor *c, struct nncw_graph *g);
void nncw_ckpt_put_trainer(struct nncw_ckpt_buf *b, const struct nncw_trainer *t);
void nncw_ckpt_put_source(struct nncw_ckpt_buf *b, const struct nncw_model_source *src);
void nncw_ckpt_put_argv(struct nncw_ckpt_buf *b, int argc, char *const *argv);
