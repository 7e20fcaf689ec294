/*
 * Private to engine/data: the data set and loader structs, the gzip-aware file reader the
 * format parsers share, and the sample transforms the loader applies.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#include "core/rng.h"
#include "core/status.h"
#include "data/data.h"
#include "tensor/tensor.h"

/* a sample may hold at most this many values (guards H * W * C from hostile headers) */
#define NNCW_DATA_MAX_SAMPLE_NUMEL (1 << 24)

struct nncw_dataset {
    char *name;
    int64_t count;
    int64_t shape[3]; /* C, H, W */
    int64_t numel;    /* C * H * W */
    int num_classes;
    struct nncw_data_norm norm;
    struct nncw_storage *image_storage; /* shared with subsets */
    struct nncw_storage *label_storage;
    float *images;   /* into image_storage: [count, C, H, W] */
    int32_t *labels; /* into label_storage: [count] */
};

struct nncw_loader {
    const struct nncw_dataset *ds; /* borrowed */
    struct nncw_loader_opts opts;
    int64_t *order;      /* the epoch's permutation; NULL without shuffle */
    int64_t pos;         /* next sample position in the epoch */
    struct nncw_rng aug; /* augmentation draws, reseeded every epoch */
};

/* ---- dataset.c ---- */

/* a data set with uninitialised pixel and label storage for count samples of shape, to be
 * filled by a loader of some format; norm NULL: mean 0, std 1. NNCW_ERR_NOMEM */
enum nncw_status nncw_dataset_create(const char *name, int64_t count, const int64_t shape[3],
                                     int num_classes, const struct nncw_data_norm *norm,
                                     struct nncw_dataset **out);
/* NNCW_ERR_INVALID_ARG unless every channel's std is finite and > 0 and mean finite */
enum nncw_status nncw_data_check_norm(const struct nncw_data_norm *norm, int channels);
/* lut[p] = (p / 255 - mean) / std for channel c */
void nncw_data_make_lut(const struct nncw_data_norm *norm, int c, float lut[256]);

/* ---- reader.c: gzip or plain files through zlib ---- */

struct nncw_data_file {
    gzFile gz;
    const char *path; /* borrowed, for messages */
};

/* NNCW_ERR_IO naming the path and the system error, plus hint (may be NULL) */
enum nncw_status nncw_data_file_open(struct nncw_data_file *f, const char *path, const char *hint);
void nncw_data_file_close(struct nncw_data_file *f);
/* reads exactly n bytes into buf; NNCW_ERR_PARSE "truncated: expected n bytes of <what>, got
 * k" when the file ends early, NNCW_ERR_PARSE on corrupt gzip data, NNCW_ERR_IO otherwise */
enum nncw_status nncw_data_file_read(struct nncw_data_file *f, void *buf, size_t n,
                                     const char *what);
/* reads exactly n bytes into a new buffer (nncw_free it); the buffer grows as data arrives,
 * so a header that lies about n cannot make us allocate more than the file holds */
enum nncw_status nncw_data_file_read_alloc(struct nncw_data_file *f, size_t n, const char *what,
                                           uint8_t **out);
/* reads everything up to the end (at most max bytes) into a new buffer; NNCW_ERR_PARSE if
 * the file holds more than max */
enum nncw_status nncw_data_file_read_all(struct nncw_data_file *f, size_t max, uint8_t **out,
                                         size_t *n);
/* checks the file ends here (which also verifies a gzip checksum); trailing bytes log a
 * warning, corruption fails as in nncw_data_file_read */
enum nncw_status nncw_data_file_expect_end(struct nncw_data_file *f);

/* ---- transforms.c ---- */

/* dst = src translated by (sy, sx) with zeros shifted in (dst[y][x] = src[y + sy][x + sx]),
 * then mirrored left-right if flip; c planes of h x w; src and dst must not overlap */
void nncw_data_shift_flip(const float *src, float *dst, int64_t c, int64_t h, int64_t w, int sy,
                          int sx, bool flip);
