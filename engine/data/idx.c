/*
** IDX files, the format of MNIST and Fashion-MNIST: a magic number 0x0000TTDD (element type
** TT, DD dimensions), DD big-endian 32-bit sizes, then the elements in row-major order.
** Only unsigned-byte files are read: images [N, H, W] and labels [N].
*/
#include "data/data.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "data/data_internal.h"

enum { IDX_TYPE_U8 = 0x08, MAX_LABEL_CLASSES = 256, PATH_CAP = 4096 };

static const char *const mnist_hint =
    "install the Debian package dataset-fashion-mnist, or download "
    "{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (MNIST or Fashion-MNIST) into that folder";

static const char *idx_type_name(int type)
{
    switch (type) {
    case 0x09:
        return "signed byte";
    case 0x0B:
        return "short";
    case 0x0C:
        return "int";
    case 0x0D:
        return "float";
    case 0x0E:
        return "double";
    default:
        return NULL;
    }
}

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* reads and checks the magic number and the ndim sizes of an IDX file of bytes */
static enum nncw_status read_header(struct nncw_data_file *f, int ndim, const char *kind,
                                    uint32_t *dims)
{
    uint8_t m[4], raw[12];
    NNCW_TRY(nncw_data_file_read(f, m, 4, "IDX header"));
    if (m[0] != 0 || m[1] != 0 || (m[2] != IDX_TYPE_U8 && !idx_type_name(m[2])))
        return NNCW_FAIL(NNCW_ERR_PARSE,
                         "data: %s: bad magic number 0x%02X%02X%02X%02X (expected 0x000008%02X, "
                         "an IDX file of %s); is this an MNIST-format file?",
                         f->path, m[0], m[1], m[2], m[3], ndim, kind);
    if (m[2] != IDX_TYPE_U8)
        return NNCW_FAIL(NNCW_ERR_UNSUPPORTED,
                         "data: %s: IDX element type 0x%02X (%s) is not supported; only "
                         "unsigned bytes (0x08) are",
                         f->path, m[2], idx_type_name(m[2]));
    if (m[3] != ndim)
        return NNCW_FAIL(NNCW_ERR_PARSE,
                         "data: %s: wrong dimension count: %d (expected %d for %s)%s", f->path,
                         m[3], ndim, kind,
                         ndim == 3 && m[3] == 1   ? "; is this a labels file?"
                         : ndim == 1 && m[3] == 3 ? "; is this an images file?"
                                                  : "");
    NNCW_TRY(nncw_data_file_read(f, raw, 4 * (size_t)ndim, "IDX header"));
    for (int i = 0; i < ndim; i++)
        dims[i] = be32(raw + 4 * i);
    if (dims[0] == 0 || dims[0] > NNCW_DATA_MAX_SAMPLES)
        return NNCW_FAIL(NNCW_ERR_PARSE,
                         "data: %s: header claims %u samples (expected 1..%d); the file is "
                         "corrupt",
                         f->path, dims[0], NNCW_DATA_MAX_SAMPLES);
    if (ndim == 3 &&
        (dims[1] == 0 || dims[2] == 0 || (uint64_t)dims[1] * dims[2] > NNCW_DATA_MAX_SAMPLE_NUMEL))
        return NNCW_FAIL(NNCW_ERR_PARSE,
                         "data: %s: header claims images of %u x %u pixels (expected 1..%d "
                         "pixels); the file is corrupt",
                         f->path, dims[1], dims[2], NNCW_DATA_MAX_SAMPLE_NUMEL);
    return NNCW_OK;
}

/* reads the labels (after the header) and checks them against *num_classes, or sets it to
 * the largest label + 1 when it is 0 */
static enum nncw_status read_labels(struct nncw_data_file *f, uint32_t n, int *num_classes,
                                    uint8_t **out)
{
    uint8_t *labels;
    NNCW_TRY(nncw_data_file_read_alloc(f, n, "labels", &labels));
    enum nncw_status s = nncw_data_file_expect_end(f);
    int max = 0;
    for (uint32_t i = 0; s == NNCW_OK && i < n; i++) {
        if (*num_classes && labels[i] >= *num_classes)
            s = NNCW_FAIL(NNCW_ERR_PARSE, "data: %s: label %d of sample %u is out of range [0, %d)",
                          f->path, labels[i], i, *num_classes);
        max = labels[i] > max ? labels[i] : max;
    }
    if (s != NNCW_OK) {
        nncw_free(labels);
        return s;
    }
    if (!*num_classes)
        *num_classes = max + 1;
    *out = labels;
    return NNCW_OK;
}

/* converts the bytes into a new data set */
static enum nncw_status build(const char *name, uint32_t n, const uint32_t *dims, int num_classes,
                              const struct nncw_data_norm *norm, const uint8_t *pixels,
                              const uint8_t *labels, struct nncw_dataset **out)
{
    struct nncw_dataset *ds;
    NNCW_TRY(
        nncw_dataset_create(name, n, (int64_t[]){1, dims[1], dims[2]}, num_classes, norm, &ds));
    float lut[256];
    nncw_data_make_lut(&ds->norm, 0, lut);
    size_t total = (size_t)n * dims[1] * dims[2];
    for (size_t i = 0; i < total; i++)
        ds->images[i] = lut[pixels[i]];
    for (uint32_t i = 0; i < n; i++)
        ds->labels[i] = labels[i];
    *out = ds;
    return NNCW_OK;
}

static enum nncw_status load_idx(const char *name, const char *images_path, const char *labels_path,
                                 int num_classes, const struct nncw_data_norm *norm,
                                 struct nncw_dataset **out)
{
    struct nncw_data_file fi = {0}, fl = {0};
    uint8_t *labels = NULL, *pixels = NULL;
    uint32_t dims[3] = {0}, nl = 0;
    enum nncw_status s;
    if ((s = nncw_data_file_open(&fi, images_path, NULL)) != NNCW_OK ||
        (s = read_header(&fi, 3, "images (count, rows, columns)", dims)) != NNCW_OK ||
        (s = nncw_data_file_open(&fl, labels_path, NULL)) != NNCW_OK ||
        (s = read_header(&fl, 1, "labels (count)", &nl)) != NNCW_OK)
        goto out;
    if (nl != dims[0]) {
        s = NNCW_FAIL(NNCW_ERR_PARSE, "data: %s has %u images but %s has %u labels", images_path,
                      dims[0], labels_path, nl);
        goto out;
    }
    if ((s = read_labels(&fl, nl, &num_classes, &labels)) != NNCW_OK ||
        (s = nncw_data_file_read_alloc(&fi, (size_t)dims[0] * dims[1] * dims[2], "pixels",
                                       &pixels)) != NNCW_OK ||
        (s = nncw_data_file_expect_end(&fi)) != NNCW_OK)
        goto out;
    s = build(name, dims[0], dims, num_classes, norm, pixels, labels, out);
out:
    nncw_free(pixels);
    nncw_free(labels);
    nncw_data_file_close(&fi);
    nncw_data_file_close(&fl);
    return s;
}

/* the last path component without ".gz" and trailing slashes, into buf */
static const char *base_name(const char *path, char *buf, size_t size)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (len - start > 3 && memcmp(path + len - 3, ".gz", 3) == 0)
        len -= 3;
    snprintf(buf, size, "%.*s", (int)(len - start), path + start);
    return buf;
}

enum nncw_status nncw_dataset_load_idx(const char *images_path, const char *labels_path,
                                       int num_classes, const struct nncw_data_norm *norm,
                                       struct nncw_dataset **out)
{
    if (!images_path || !labels_path || !out)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "data: load_idx needs two paths and an output");
    if (num_classes < 0 || num_classes > MAX_LABEL_CLASSES)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "data: %s: %d classes (expected 0 to infer, or 1..%d)", labels_path,
                         num_classes, MAX_LABEL_CLASSES);
    NNCW_TRY(nncw_data_check_norm(norm, 1));
    char name[256];
    return load_idx(base_name(images_path, name, sizeof name), images_path, labels_path,
                    num_classes, norm, out);
}

/* dir/stem.gz if it exists, else dir/stem; NNCW_ERR_IO if neither does */
static enum nncw_status find_file(const char *dir, const char *stem, char *path)
{
    if (snprintf(path, PATH_CAP, "%s/%s.gz", dir, stem) >= PATH_CAP)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "data: folder name too long: %s", dir);
    if (access(path, F_OK) == 0)
        return NNCW_OK;
    snprintf(path, PATH_CAP, "%s/%s", dir, stem);
    if (access(path, F_OK) == 0)
        return NNCW_OK;
    return NNCW_FAIL(NNCW_ERR_IO, "data: %s: neither %s.gz nor %s is there; %s", dir, stem, stem,
                     mnist_hint);
}

enum nncw_status nncw_dataset_load_mnist_dir(const char *dir, bool train,
                                             const struct nncw_data_norm *norm,
                                             struct nncw_dataset **out)
{
    if (!dir || !out)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "data: load_mnist_dir needs a folder and an output");
    NNCW_TRY(nncw_data_check_norm(norm, 1));
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return NNCW_FAIL(NNCW_ERR_IO, "data: %s: no such folder; %s", dir, mnist_hint);
    const char *split = train ? "train" : "t10k";
    char stem[64], images[PATH_CAP], labels[PATH_CAP], name[256], base[200];
    snprintf(stem, sizeof stem, "%s-images-idx3-ubyte", split);
    NNCW_TRY(find_file(dir, stem, images));
    snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", split);
    NNCW_TRY(find_file(dir, stem, labels));
    snprintf(name, sizeof name, "%s/%s", base_name(dir, base, sizeof base),
             train ? "train" : "test");
    return load_idx(name, images, labels, 10, norm, out);
}
