/*
** CIFAR-10, binary version: each batch file is a run of 3073-byte records, one label byte
** (0..9) followed by a 32 x 32 image as three planes R, G, B, already the C x H x W layout.
*/
#include "data/data.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "data/data_internal.h"

enum {
    SIDE = 32,
    PLANE = SIDE * SIDE,
    PIXELS = 3 * PLANE,
    RECORD = 1 + PIXELS,
    CLASSES = 10,
    TRAIN_FILES = 5,
    PATH_CAP = 4096
};

static const char *const cifar_hint =
    "download cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html and "
    "unpack it there";

struct batch {
    char path[PATH_CAP + 32]; /* the folder (< PATH_CAP) plus a file name */
    uint8_t *bytes;
    size_t count; /* records */
};

/* the folder holding data_batch_1.bin: dir itself or dir/cifar-10-batches-bin (the name the
 * archive unpacks to) */
static enum nncw_status find_folder(const char *dir, const char *first, char *found)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return NNCW_FAIL(NNCW_ERR_IO, "data: %s: no such folder; %s", dir, cifar_hint);
    for (int i = 0; i < 2; i++) {
        int len = i == 0 ? snprintf(found, PATH_CAP, "%s", dir)
                         : snprintf(found, PATH_CAP, "%s/cifar-10-batches-bin", dir);
        char path[PATH_CAP];
        if (len >= PATH_CAP || snprintf(path, sizeof path, "%s/%s", found, first) >= PATH_CAP)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "data: folder name too long: %s", dir);
        if (access(path, F_OK) == 0)
            return NNCW_OK;
    }
    return NNCW_FAIL(NNCW_ERR_IO, "data: %s: no %s there nor in its cifar-10-batches-bin; %s", dir,
                     first, cifar_hint);
}

/* reads one batch file whole and checks its size and labels */
static enum nncw_status read_batch(struct batch *b)
{
    struct nncw_data_file f;
    size_t n = 0;
    NNCW_TRY(nncw_data_file_open(&f, b->path, cifar_hint));
    enum nncw_status s =
        nncw_data_file_read_all(&f, (size_t)NNCW_DATA_MAX_SAMPLES * RECORD, &b->bytes, &n);
    nncw_data_file_close(&f);
    if (s != NNCW_OK)
        return s;
    if (n == 0 || n % RECORD != 0)
        return NNCW_FAIL(NNCW_ERR_PARSE,
                         "data: %s: truncated or not a CIFAR-10 batch: %zu bytes is not a "
                         "whole number of %d-byte records (1 label + %d pixels)",
                         b->path, n, RECORD, PIXELS);
    b->count = n / RECORD;
    for (size_t i = 0; i < b->count; i++)
        if (b->bytes[i * RECORD] >= CLASSES)
            return NNCW_FAIL(NNCW_ERR_PARSE,
                             "data: %s: record %zu has label %d (expected 0..%d); is this "
                             "the CIFAR-100 format?",
                             b->path, i, b->bytes[i * RECORD], CLASSES - 1);
    return NNCW_OK;
}

/* converts records into the data set from sample first on */
static void convert(const struct batch *b, struct nncw_dataset *ds, const float lut[3][256],
                    int64_t first)
{
    for (size_t i = 0; i < b->count; i++) {
        const uint8_t *rec = b->bytes + i * RECORD;
        float *img = ds->images + (first + (int64_t)i) * PIXELS;
        ds->labels[first + (int64_t)i] = rec[0];
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < PLANE; p++)
                img[c * PLANE + p] = lut[c][rec[1 + c * PLANE + p]];
    }
}

static enum nncw_status build(struct batch *batches, int n_files, const char *name,
                              const struct nncw_data_norm *norm, struct nncw_dataset **out)
{
    int64_t total = 0;
    for (int i = 0; i < n_files; i++)
        total += (int64_t)batches[i].count;
    if (total > NNCW_DATA_MAX_SAMPLES)
        return NNCW_FAIL(NNCW_ERR_PARSE, "data: %s: %lld records (limit %d)", name,
                         (long long)total, NNCW_DATA_MAX_SAMPLES);
    struct nncw_dataset *ds;
    NNCW_TRY(nncw_dataset_create(name, total, (int64_t[]){3, SIDE, SIDE}, CLASSES, norm, &ds));
    float lut[3][256];
    for (int c = 0; c < 3; c++)
        nncw_data_make_lut(&ds->norm, c, lut[c]);
    int64_t first = 0;
    for (int i = 0; i < n_files; i++) {
        convert(&batches[i], ds, lut, first);
        first += (int64_t)batches[i].count;
    }
    *out = ds;
    return NNCW_OK;
}

enum nncw_status nncw_dataset_load_cifar10_dir(const char *dir, bool train,
                                               const struct nncw_data_norm *norm,
                                               struct nncw_dataset **out)
{
    if (!dir || !out)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "data: load_cifar10_dir needs a folder and an output");
    NNCW_TRY(nncw_data_check_norm(norm, 3));
    char folder[PATH_CAP];
    NNCW_TRY(find_folder(dir, train ? "data_batch_1.bin" : "test_batch.bin", folder));
    int n_files = train ? TRAIN_FILES : 1;
    struct batch *batches = nncw_calloc((size_t)n_files, sizeof *batches);
    if (!batches)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "data: %s: out of memory", dir);
    enum nncw_status s = NNCW_OK;
    for (int i = 0; i < n_files && s == NNCW_OK; i++) {
        if (train)
            snprintf(batches[i].path, sizeof batches[i].path, "%s/data_batch_%d.bin", folder,
                     i + 1);
        else
            snprintf(batches[i].path, sizeof batches[i].path, "%s/test_batch.bin", folder);
        s = read_batch(&batches[i]);
    }
    if (s == NNCW_OK)
        s = build(batches, n_files, train ? "cifar10/train" : "cifar10/test", norm, out);
    for (int i = 0; i < n_files; i++)
        nncw_free(batches[i].bytes);
    nncw_free(batches);
    return s;
}
