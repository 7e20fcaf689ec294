/*
 * The data module: IDX (gzip and plain) and CIFAR-10 readers on fixture files written into a
 * temporary folder, their error messages, synthetic sets, subsets and the batch loader.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "core/alloc.h"
#include "data/data.h"
#include "nncwt.h"

/* ---- fixtures: a fresh temporary folder per test ---- */

static char tmpdir[256];

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[512];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/nncw-data-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    nncw_error_clear();
}

static void teardown(void)
{
    nncw_alloc_fail_after(0);
    remove_tree(tmpdir);
}

/* tmpdir/name into a static buffer (one of four, so a few can be live at once) */
static const char *tmp_path(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
    return b;
}

static void write_file(const char *path, const void *data, size_t n, bool gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(gzwrite(f, data, (unsigned)n), (int)n);
        ck_assert_int_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(data, 1, n, f), n);
        ck_assert_int_eq(fclose(f), 0);
    }
}

static uint8_t *read_whole(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*n);
    ck_assert_uint_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

/* an IDX file: magic 0x0000 type ndim, big-endian dims, then payload */
static void write_idx(const char *path, uint8_t type, int ndim, const uint32_t *dims,
                      const uint8_t *payload, size_t n, bool gz)
{
    size_t hdr = 4 + 4 * (size_t)ndim;
    uint8_t *b = malloc(hdr + n);
    b[0] = 0, b[1] = 0, b[2] = type, b[3] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        b[4 + 4 * i] = (uint8_t)(dims[i] >> 24);
        b[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
        b[6 + 4 * i] = (uint8_t)(dims[i] >> 8);
        b[7 + 4 * i] = (uint8_t)dims[i];
    }
    if (n)
        memcpy(b + hdr, payload, n);
    write_file(path, b, hdr + n, gz);
    free(b);
}

/* three 2 x 3 images whose pixels include 0 and 255, labels 2, 0, 1 */
enum { NI = 3, IH = 2, IW = 3, NPIX = NI * IH * IW };
static const uint8_t fixture_pixels[NPIX] = {0,  1,  2,  127, 128, 255, 10, 20, 30,
                                             40, 50, 60, 200, 201, 202, 3,  99, 254};
static const uint8_t fixture_labels[NI] = {2, 0, 1};

static void write_fixture_idx(const char *images, const char *labels, bool gz)
{
    write_idx(images, 0x08, 3, (uint32_t[]){NI, IH, IW}, fixture_pixels, NPIX, gz);
    write_idx(labels, 0x08, 1, (uint32_t[]){NI}, fixture_labels, NI, gz);
}

/* checks status and that the message contains every needle */
#define expect_fail(expr, code, ...)                                                               \
    expect_fail_at((expr), (code), __FILE__, __LINE__, (const char *[]){__VA_ARGS__, NULL})
static void expect_fail_at(enum nncw_status s, enum nncw_status code, const char *file, int line,
                           const char **needles)
{
    nncwt_assert_status_at(s, code, file, line);
    for (; *needles; needles++)
        if (!strstr(nncw_last_error(), *needles))
            ck_abort_msg("%s:%d: error message \"%s\" lacks \"%s\"", file, line, nncw_last_error(),
                         *needles);
}

static float normalised(uint8_t p, float mean, float std)
{
    return ((float)p / 255.0f - mean) / std;
}

/* ---- IDX ---- */

static void check_fixture_values(const struct nncw_dataset *ds, float mean, float std)
{
    int64_t shape[3];
    ck_assert_int_eq(nncw_dataset_count_samples(ds), NI);
    nncw_dataset_get_sample_shape(ds, shape);
    ck_assert_int_eq(shape[0], 1);
    ck_assert_int_eq(shape[1], IH);
    ck_assert_int_eq(shape[2], IW);
    ck_assert_int_eq(nncw_dataset_get_sample_numel(ds), IH * IW);
    const float *x = nncw_dataset_get_images(ds);
    for (int i = 0; i < NPIX; i++)
        ck_assert_float_eq_tol(x[i], normalised(fixture_pixels[i], mean, std), 1e-6);
    for (int i = 0; i < NI; i++)
        ck_assert_int_eq(nncw_dataset_get_labels(ds)[i], fixture_labels[i]);
}

START_TEST(test_idx_gzip_and_plain_give_exact_normalised_values)
{
    for (int gz = 0; gz < 2; gz++) {
        const char *img = tmp_path(gz ? "imgs-idx3-ubyte.gz" : "imgs-idx3-ubyte");
        const char *lab = tmp_path(gz ? "labs-idx1-ubyte.gz" : "labs-idx1-ubyte");
        write_fixture_idx(img, lab, gz);
        struct nncw_dataset *ds = NULL;
        nncwt_assert_status(nncw_dataset_load_idx(img, lab, 0, &nncw_data_norm_fashion_mnist, &ds),
                            NNCW_OK);
        check_fixture_values(ds, 0.2860f, 0.3530f);
        ck_assert_int_eq(nncw_dataset_count_classes(ds), 3); /* inferred: max label + 1 */
        ck_assert_str_eq(nncw_dataset_get_name(ds), "imgs-idx3-ubyte");
        ck_assert_float_eq(nncw_dataset_get_norm(ds)->mean[0], 0.2860f);
        nncw_dataset_free(ds);
    }
}
END_TEST

START_TEST(test_idx_without_norm_scales_to_unit_range)
{
    const char *img = tmp_path("i.gz"), *lab = tmp_path("l");
    write_fixture_idx(img, lab, true);
    write_idx(lab, 0x08, 1, (uint32_t[]){NI}, fixture_labels, NI, false);
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_load_idx(img, lab, 7, NULL, &ds), NNCW_OK);
    check_fixture_values(ds, 0.0f, 1.0f);
    ck_assert_float_eq(nncw_dataset_get_images(ds)[5], 1.0f);
    ck_assert_int_eq(nncw_dataset_count_classes(ds), 7);
    nncw_dataset_free(ds);
}
END_TEST

START_TEST(test_mnist_dir_prefers_gz_and_falls_back_to_plain)
{
    write_fixture_idx(tmp_path("train-images-idx3-ubyte.gz"), tmp_path("train-labels-idx1-ubyte"),
                      true);
    /* the labels file above is gzip-compressed but has no .gz suffix: zlib reads both */
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_load_mnist_dir(tmpdir, true, &nncw_data_norm_mnist, &ds),
                        NNCW_OK);
    check_fixture_values(ds, 0.1307f, 0.3081f);
    ck_assert_int_eq(nncw_dataset_count_classes(ds), 10);
    ck_assert_ptr_nonnull(strstr(nncw_dataset_get_name(ds), "/train"));
    ck_assert_ptr_nonnull(strstr(nncw_dataset_get_name(ds), "nncw-data-"));
    nncw_dataset_free(ds);
    expect_fail(nncw_dataset_load_mnist_dir(tmpdir, false, NULL, &ds), NNCW_ERR_IO, tmpdir,
                "t10k-images-idx3-ubyte", "dataset-fashion-mnist");
}
END_TEST

START_TEST(test_idx_trailing_bytes_are_tolerated)
{
    uint8_t more[NPIX + 5] = {0};
    memcpy(more, fixture_pixels, NPIX);
    write_idx(tmp_path("i"), 0x08, 3, (uint32_t[]){NI, IH, IW}, more, sizeof more, false);
    write_idx(tmp_path("l"), 0x08, 1, (uint32_t[]){NI}, fixture_labels, NI, false);
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_load_idx(tmp_path("i"), tmp_path("l"), 0, NULL, &ds), NNCW_OK);
    check_fixture_values(ds, 0.0f, 1.0f);
    nncw_dataset_free(ds);
}
END_TEST

/* ---- IDX errors ---- */

START_TEST(test_idx_missing_file_and_folder)
{
    struct nncw_dataset *ds = NULL;
    write_fixture_idx(tmp_path("i"), tmp_path("l"), false);
    expect_fail(nncw_dataset_load_idx(tmp_path("nope.gz"), tmp_path("l"), 0, NULL, &ds),
                NNCW_ERR_IO, "nope.gz", "cannot open", "No such file");
    expect_fail(nncw_dataset_load_idx(tmp_path("i"), tmp_path("gone"), 0, NULL, &ds), NNCW_ERR_IO,
                "gone");
    expect_fail(nncw_dataset_load_mnist_dir("/nonexistent/fmnist", true, NULL, &ds), NNCW_ERR_IO,
                "/nonexistent/fmnist", "no such folder", "dataset-fashion-mnist");
    ck_assert_ptr_null(ds); /* *out untouched on failure */
}
END_TEST

START_TEST(test_idx_bad_magic_type_and_dimension_count)
{
    struct nncw_dataset *ds;
    const char *img = tmp_path("i"), *lab = tmp_path("l");
    write_fixture_idx(img, lab, false);
    write_file(img, "\x12\x34\x56\x78\0\0\0\0", 8, false);
    expect_fail(nncw_dataset_load_idx(img, lab, 0, NULL, &ds), NNCW_ERR_PARSE, img,
                "bad magic number 0x12345678");
    write_idx(img, 0x0D, 3, (uint32_t[]){NI, IH, IW}, fixture_pixels, NPIX, false);
    expect_fail(nncw_dataset_load_idx(img, lab, 0, NULL, &ds), NNCW_ERR_UNSUPPORTED, img,
                "0x0D (float)");
    /* images and labels swapped */
    write_fixture_idx(img, lab, false);
    expect_fail(nncw_dataset_load_idx(lab, img, 0, NULL, &ds), NNCW_ERR_PARSE, lab,
                "wrong dimension count: 1 (expected 3", "labels file");
    write_idx(lab, 0x08, 2, (uint32_t[]){NI, 1}, fixture_labels, NI, false);
    expect_fail(nncw_dataset_load_idx(img, lab, 0, NULL, &ds), NNCW_ERR_PARSE, lab,
                "wrong dimension count: 2 (expected 1");
}
END_TEST

START_TEST(test_idx_truncated_files)
{
    struct nncw_dataset *ds;
    const char *img = tmp_path("train-images-idx3-ubyte.gz"), *lab = tmp_path("l");
    write_fixture_idx(img, lab, false);
    for (int gz = 0; gz < 2; gz++) {
        write_idx(img, 0x08, 3, (uint32_t[]){NI, IH, IW}, fixture_pixels, 10, gz);
        expect_fail(nncw_dataset_load_idx(img, lab, 0, NULL, &ds), NNCW_ERR_PARSE,
                    "train-images-idx3-ubyte.gz: truncated: expected 18 bytes of pixels, got 10");
        write_file(img, "\0\0\x08", 3, gz);
        expect_fail(nncw_dataset_load_idx(img, lab, 0, NULL, &ds), NNCW_ERR_PARSE,
                    "truncated: expected 4 bytes of IDX header, got 3");
        write_file(img, "", 0, gz);
        expect_fail(nncw_dataset_load_idx(img, lab, 0, NULL, &ds), NNCW_ERR_PARSE, img,
                    "truncated");
    }
    write_fixture_idx(img, lab, false);
    write_idx(lab, 0x08, 1, (uint32_t[]){NI}, fixture_labels, 1, false);
    expect_fail(nncw_dataset_load_idx(img, lab, 0, NULL, &ds), NNCW_ERR_PARSE, lab,
                "expected 3 bytes of labels, got 1");
}
END_TEST

START_TEST(test_idx_gzip_stream_cut_short_or_corrupt)
{
    enum { N = 20, SIDE = 28 };
    static uint8_t pix[N * SIDE * SIDE];
    uint32_t state = 1;
    for (size_t i = 0; i < sizeof pix; i++) {
        state = state * 1664525u + 1013904223u;
        pix[i] = (uint8_t)(state >> 24);
    }
    uint8_t labels[N] = {0};
    const char *img = tmp_path("i.gz"), *lab = tmp_path("l");
    write_idx(img, 0x08, 3, (uint32_t[]){N, SIDE, SIDE}, pix, sizeof pix, true);
    write_idx(lab, 0x08, 1, (uint32_t[]){N}, labels, N, false);
    size_t n;
    uint8_t *z = read_whole(img, &n);
    struct nncw_dataset *ds;

    write_file(img, z, n / 2, false); /* a gzip stream cut in half */
    expect_fail(nncw_dataset_load_idx(img, lab, 0, NULL, &ds), NNCW_ERR_PARSE, img,
                "truncated: expected 15680 bytes of pixels");

    z[n / 2] ^= 0x55; /* a flipped byte: caught by deflate or by the CRC in the trailer */
    write_file(img, z, n, false);
    expect_fail(nncw_dataset_load_idx(img, lab, 0, NULL, &ds), NNCW_ERR_PARSE, img,
                "corrupt gzip data");
    free(z);
}
END_TEST

START_TEST(test_idx_count_mismatch_and_label_range)
{
    struct nncw_dataset *ds;
    const char *img = tmp_path("i"), *lab = tmp_path("l.gz");
    write_fixture_idx(img, lab, false);
    write_idx(lab, 0x08, 1, (uint32_t[]){2}, fixture_labels, 2, true);
    expect_fail(nncw_dataset_load_idx(img, lab, 0, NULL, &ds), NNCW_ERR_PARSE, img, lab,
                "has 3 images but", "has 2 labels");
    write_fixture_idx(img, lab, true);
    expect_fail(nncw_dataset_load_idx(img, lab, 2, NULL, &ds), NNCW_ERR_PARSE, lab,
                "label 2 of sample 0 is out of range [0, 2)");
    /* the MNIST folder loader insists on 10 classes */
    write_fixture_idx(tmp_path("t10k-images-idx3-ubyte"), tmp_path("t10k-labels-idx1-ubyte"),
                      false);
    write_idx(tmp_path("t10k-labels-idx1-ubyte"), 0x08, 1, (uint32_t[]){NI}, (uint8_t[]){1, 10, 2},
              NI, false);
    expect_fail(nncw_dataset_load_mnist_dir(tmpdir, false, NULL, &ds), NNCW_ERR_PARSE,
                "t10k-labels-idx1-ubyte", "label 10 of sample 1 is out of range [0, 10)");
}
END_TEST

START_TEST(test_idx_hostile_headers_are_rejected_without_big_allocations)
{
    struct nncw_dataset *ds;
    const char *img = tmp_path("i"), *lab = tmp_path("l");
    write_fixture_idx(img, lab, false);
    write_idx(img, 0x08, 3, (uint32_t[]){4000000000u, 28, 28}, fixture_pixels, NPIX, false);
    expect_fail(nncw_dataset_load_idx(img, lab, 0, NULL, &ds), NNCW_ERR_PARSE, img,
                "claims 4000000000 samples", "corrupt");
    write_idx(img, 0x08, 3, (uint32_t[]){NI, 65536, 65536}, fixture_pixels, NPIX, false);
    expect_fail(nncw_dataset_load_idx(img, lab, 0, NULL, &ds), NNCW_ERR_PARSE, img,
                "images of 65536 x 65536 pixels");
    write_idx(img, 0x08, 3, (uint32_t[]){NI, 0, 5}, fixture_pixels, NPIX, false);
    expect_fail(nncw_dataset_load_idx(img, lab, 0, NULL, &ds), NNCW_ERR_PARSE, "0 x 5");
    /* plausible header, tiny file: the reader grows its buffer only as data arrives */
    write_idx(img, 0x08, 3, (uint32_t[]){NI, 4096, 4096}, fixture_pixels, NPIX, false);
    expect_fail(nncw_dataset_load_idx(img, lab, 0, NULL, &ds), NNCW_ERR_PARSE,
                "expected 50331648 bytes of pixels, got 18");
    write_idx(lab, 0x08, 1, (uint32_t[]){NNCW_DATA_MAX_SAMPLES}, fixture_labels, NI, false);
    write_idx(img, 0x08, 3, (uint32_t[]){NNCW_DATA_MAX_SAMPLES, 28, 28}, NULL, 0, false);
    expect_fail(nncw_dataset_load_idx(img, lab, 0, NULL, &ds), NNCW_ERR_PARSE, lab,
                "expected 100000000 bytes of labels, got 3");
}
END_TEST

START_TEST(test_idx_invalid_arguments)
{
    struct nncw_dataset *ds;
    write_fixture_idx(tmp_path("i"), tmp_path("l"), false);
    expect_fail(nncw_dataset_load_idx(tmp_path("i"), tmp_path("l"), -1, NULL, &ds),
                NNCW_ERR_INVALID_ARG, "-1 classes");
    struct nncw_data_norm zero = {{0}, {0}};
    expect_fail(nncw_dataset_load_idx(tmp_path("i"), tmp_path("l"), 0, &zero, &ds),
                NNCW_ERR_INVALID_ARG, "channel 0", "std 0");
    expect_fail(nncw_dataset_load_idx(NULL, tmp_path("l"), 0, NULL, &ds), NNCW_ERR_INVALID_ARG,
                "paths");
}
END_TEST

START_TEST(test_idx_out_of_memory_is_reported_and_leaks_nothing)
{
    write_fixture_idx(tmp_path("i.gz"), tmp_path("l.gz"), true);
    struct nncw_dataset *ds = NULL;
    enum nncw_status s = NNCW_ERR_NOMEM;
    int n;
    for (n = 1; n < 100 && s != NNCW_OK; n++) {
        nncw_alloc_fail_after(n);
        s = nncw_dataset_load_idx(tmp_path("i.gz"), tmp_path("l.gz"), 0, NULL, &ds);
        if (s != NNCW_OK)
            expect_fail(s, NNCW_ERR_NOMEM, "data: ");
    }
    nncw_alloc_fail_after(0);
    nncwt_assert_status(s, NNCW_OK);
    ck_assert_int_gt(n, 3);
    check_fixture_values(ds, 0.0f, 1.0f);
    nncw_dataset_free(ds);
}
END_TEST

/* ---- CIFAR-10 ---- */

enum { REC = 3073 };

/* n records; record r has label labels[r] and pixel (c, p) = (r * 7 + c * 50 + p) % 256 */
static void write_cifar(const char *path, int n, const uint8_t *labels)
{
    uint8_t *b = malloc((size_t)n * REC);
    for (int r = 0; r < n; r++) {
        b[r * REC] = labels[r];
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 1024; p++)
                b[r * REC + 1 + c * 1024 + p] = (uint8_t)((r * 7 + c * 50 + p) % 256);
    }
    write_file(path, b, (size_t)n * REC, false);
    free(b);
}

START_TEST(test_cifar_test_batch_exact_values)
{
    write_cifar(tmp_path("test_batch.bin"), 2, (uint8_t[]){3, 9});
    struct nncw_dataset *ds;
    const struct nncw_data_norm *nm = &nncw_data_norm_cifar10;
    nncwt_assert_status(nncw_dataset_load_cifar10_dir(tmpdir, false, nm, &ds), NNCW_OK);
    int64_t shape[3];
    nncw_dataset_get_sample_shape(ds, shape);
    ck_assert_int_eq(shape[0], 3);
    ck_assert_int_eq(shape[1], 32);
    ck_assert_int_eq(shape[2], 32);
    ck_assert_int_eq(nncw_dataset_count_samples(ds), 2);
    ck_assert_int_eq(nncw_dataset_count_classes(ds), 10);
    ck_assert_str_eq(nncw_dataset_get_name(ds), "cifar10/test");
    ck_assert_int_eq(nncw_dataset_get_labels(ds)[0], 3);
    ck_assert_int_eq(nncw_dataset_get_labels(ds)[1], 9);
    const float *x = nncw_dataset_get_images(ds);
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 1024; p += 37) {
                uint8_t v = (uint8_t)((r * 7 + c * 50 + p) % 256);
                ck_assert_float_eq_tol(x[r * 3072 + c * 1024 + p],
                                       normalised(v, nm->mean[c], nm->std[c]), 1e-6);
            }
    nncw_dataset_free(ds);
}
END_TEST

START_TEST(test_cifar_train_batches_in_unpacked_subfolder)
{
    ck_assert_int_eq(mkdir(tmp_path("cifar-10-batches-bin"), 0700), 0);
    for (int i = 1; i <= 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "cifar-10-batches-bin/data_batch_%d.bin", i);
        write_cifar(tmp_path(name), i, (uint8_t[]){(uint8_t)i, 0, 1, 2, 3});
    }
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_load_cifar10_dir(tmpdir, true, NULL, &ds), NNCW_OK);
    ck_assert_int_eq(nncw_dataset_count_samples(ds), 1 + 2 + 3 + 4 + 5);
    /* batch order is kept: batch 3 starts at sample 3 with label 3 */
    ck_assert_int_eq(nncw_dataset_get_labels(ds)[3], 3);
    ck_assert_int_eq(nncw_dataset_get_labels(ds)[4], 0);
    ck_assert_float_eq_tol(nncw_dataset_get_images(ds)[4 * 3072 + 1024 + 1],
                           (float)((7 + 50 + 1) % 256) / 255.0f, 1e-6);
    nncw_dataset_free(ds);
}
END_TEST

START_TEST(test_cifar_errors)
{
    struct nncw_dataset *ds;
    expect_fail(nncw_dataset_load_cifar10_dir("/nonexistent/cifar", false, NULL, &ds), NNCW_ERR_IO,
                "/nonexistent/cifar", "no such folder", "cifar-10-binary");
    expect_fail(nncw_dataset_load_cifar10_dir(tmpdir, false, NULL, &ds), NNCW_ERR_IO,
                "no test_batch.bin there");
    write_cifar(tmp_path("test_batch.bin"), 2, (uint8_t[]){3, 10});
    expect_fail(nncw_dataset_load_cifar10_dir(tmpdir, false, NULL, &ds), NNCW_ERR_PARSE,
                "test_batch.bin: record 1 has label 10");
    uint8_t part[REC + 100] = {0};
    write_file(tmp_path("test_batch.bin"), part, sizeof part, false);
    expect_fail(nncw_dataset_load_cifar10_dir(tmpdir, false, NULL, &ds), NNCW_ERR_PARSE,
                "test_batch.bin: truncated", "3173 bytes", "3073-byte records");
    write_file(tmp_path("test_batch.bin"), part, 0, false);
    expect_fail(nncw_dataset_load_cifar10_dir(tmpdir, false, NULL, &ds), NNCW_ERR_PARSE, "0 bytes");
    for (int i = 1; i <= 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "data_batch_%d.bin", i);
        if (i != 3)
            write_cifar(tmp_path(name), 1, (uint8_t[]){1});
    }
    expect_fail(nncw_dataset_load_cifar10_dir(tmpdir, true, NULL, &ds), NNCW_ERR_IO,
                "data_batch_3.bin", "cannot open");
    struct nncw_data_norm bad = nncw_data_norm_cifar10;
    bad.std[2] = -1;
    expect_fail(nncw_dataset_load_cifar10_dir(tmpdir, true, &bad, &ds), NNCW_ERR_INVALID_ARG,
                "channel 2");
}
END_TEST

/* ---- synthetic sets, copies and subsets ---- */

static struct nncw_dataset *synthetic(int64_t count, int c, int h, int w, int k, uint64_t seed)
{
    struct nncw_synthetic_opts o = {
        .count = count, .channels = c, .height = h, .width = w, .num_classes = k, .seed = seed};
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_new_synthetic(&o, &ds), NNCW_OK);
    return ds;
}

START_TEST(test_synthetic_is_reproducible_per_seed)
{
    struct nncw_dataset *a = synthetic(50, 2, 8, 8, 5, 7), *b = synthetic(50, 2, 8, 8, 5, 7);
    struct nncw_dataset *c = synthetic(50, 2, 8, 8, 5, 8);
    size_t bytes = 50 * 2 * 8 * 8 * sizeof(float);
    ck_assert_int_eq(memcmp(nncw_dataset_get_images(a), nncw_dataset_get_images(b), bytes), 0);
    ck_assert_int_ne(memcmp(nncw_dataset_get_images(a), nncw_dataset_get_images(c), bytes), 0);
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(nncw_dataset_get_labels(a)[i], i % 5);
    ck_assert_int_eq(nncw_dataset_count_classes(a), 5);
    nncw_dataset_free(a);
    nncw_dataset_free(b);
    nncw_dataset_free(c);
}
END_TEST

/* nearest class mean, fitted on the first half, must classify the second half well */
START_TEST(test_synthetic_is_learnable)
{
    enum { N = 400, K = 10, D = 1 * 12 * 12 };
    struct nncw_synthetic_opts o = {.count = N,
                                    .channels = 1,
                                    .height = 12,
                                    .width = 12,
                                    .num_classes = K,
                                    .noise = 1.0f,
                                    .seed = 3};
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_new_synthetic(&o, &ds), NNCW_OK);
    const float *x = nncw_dataset_get_images(ds);
    const int32_t *y = nncw_dataset_get_labels(ds);
    static double mean[K][D];
    memset(mean, 0, sizeof mean);
    for (int i = 0; i < N / 2; i++)
        for (int j = 0; j < D; j++)
            mean[y[i]][j] += x[i * D + j] / (N / 2 / K);
    int correct = 0;
    for (int i = N / 2; i < N; i++) {
        int best = -1;
        double best_d = INFINITY;
        for (int k = 0; k < K; k++) {
            double d = 0;
            for (int j = 0; j < D; j++)
                d += (x[i * D + j] - mean[k][j]) * (x[i * D + j] - mean[k][j]);
            if (d < best_d)
                best_d = d, best = k;
        }
        correct += best == y[i];
    }
    ck_assert_int_ge(correct, (N / 2) * 95 / 100);
    nncw_dataset_free(ds);
}
END_TEST

START_TEST(test_synthetic_rejects_bad_options)
{
    struct nncw_dataset *ds;
    struct nncw_synthetic_opts o = {
        .count = 10, .channels = 1, .height = 4, .width = 4, .num_classes = 1};
    expect_fail(nncw_dataset_new_synthetic(&o, &ds), NNCW_ERR_INVALID_ARG, "1 classes");
    o.num_classes = 3;
    o.count = 0;
    expect_fail(nncw_dataset_new_synthetic(&o, &ds), NNCW_ERR_INVALID_ARG, "count 0");
    o.count = 10;
    o.width = 100000;
    o.height = 100000;
    expect_fail(nncw_dataset_new_synthetic(&o, &ds), NNCW_ERR_INVALID_ARG, "100000 x 100000");
    o.width = o.height = 4;
    o.noise = -1;
    expect_fail(nncw_dataset_new_synthetic(&o, &ds), NNCW_ERR_INVALID_ARG, "noise -1");
}
END_TEST

START_TEST(test_dataset_new_copies_and_checks_labels)
{
    float img[4] = {1, 2, 3, 4};
    int32_t lab[2] = {1, 0};
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_new("mine", 2, (int64_t[]){1, 1, 2}, 2, img, lab, &ds),
                        NNCW_OK);
    img[0] = 9;
    ck_assert_float_eq(nncw_dataset_get_images(ds)[0], 1);
    ck_assert_str_eq(nncw_dataset_get_name(ds), "mine");
    nncw_dataset_free(ds);
    lab[1] = 2;
    expect_fail(nncw_dataset_new("mine", 2, (int64_t[]){1, 1, 2}, 2, img, lab, &ds),
                NNCW_ERR_INVALID_ARG, "mine", "label 2 of sample 1");
    expect_fail(nncw_dataset_new("mine", 2, (int64_t[]){1, 0, 2}, 2, img, lab, &ds),
                NNCW_ERR_INVALID_ARG, "sample shape 1 x 0 x 2");
}
END_TEST

START_TEST(test_subset_shares_data_and_outlives_parent)
{
    struct nncw_dataset *ds = synthetic(20, 1, 4, 4, 4, 1), *sub, *subsub;
    nncwt_assert_status(nncw_dataset_subset(ds, 5, 10, &sub), NNCW_OK);
    ck_assert_int_eq(nncw_dataset_count_samples(sub), 10);
    ck_assert_int_eq(nncw_dataset_count_classes(sub), 4);
    ck_assert_ptr_eq(nncw_dataset_get_images(sub), nncw_dataset_get_images(ds) + 5 * 16);
    ck_assert_int_eq(nncw_dataset_get_labels(sub)[0], 5 % 4);
    ck_assert_ptr_nonnull(strstr(nncw_dataset_get_name(sub), "[5:15]"));
    float first = nncw_dataset_get_images(sub)[0];
    nncw_dataset_free(ds);
    ck_assert_float_eq(nncw_dataset_get_images(sub)[0], first);
    nncwt_assert_status(nncw_dataset_subset(sub, 9, 1, &subsub), NNCW_OK);
    ck_assert_int_eq(nncw_dataset_get_labels(subsub)[0], 14 % 4);
    expect_fail(nncw_dataset_subset(sub, 5, 6, &ds), NNCW_ERR_INVALID_ARG, "[5, 5 + 6)",
                "10 samples");
    expect_fail(nncw_dataset_subset(sub, -1, 2, &ds), NNCW_ERR_INVALID_ARG, "subset");
    expect_fail(nncw_dataset_subset(sub, 0, 0, &ds), NNCW_ERR_INVALID_ARG, "empty");
    nncw_dataset_free(sub);
    nncw_dataset_free(subsub);
    nncw_dataset_free(NULL);
}
END_TEST

/* ---- loader ---- */

/* n samples of 1 x 1 x 1 whose value is their index, label index % 3 */
static struct nncw_dataset *indexed(int n)
{
    float *img = malloc((size_t)n * sizeof *img);
    int32_t *lab = malloc((size_t)n * sizeof *lab);
    for (int i = 0; i < n; i++)
        img[i] = (float)i, lab[i] = i % 3;
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_new("indexed", n, (int64_t[]){1, 1, 1}, 3, img, lab, &ds),
                        NNCW_OK);
    free(img);
    free(lab);
    return ds;
}

/* one epoch's sample order; returns the number of samples seen */
static int epoch_order(struct nncw_loader *l, int64_t epoch, int *order)
{
    float x[64];
    int32_t y[64];
    int n, seen = 0;
    nncw_loader_start_epoch(l, epoch);
    while (nncw_loader_next(l, x, y, &n))
        for (int i = 0; i < n; i++) {
            ck_assert_int_eq(y[i], (int)x[i] % 3);
            order[seen++] = (int)x[i];
        }
    return seen;
}

START_TEST(test_loader_batch_count_and_drop_last)
{
    struct nncw_dataset *ds = indexed(10);
    struct nncw_loader *l;
    struct nncw_loader_opts o = {.batch_size = 3};
    nncwt_assert_status(nncw_loader_new(ds, &o, &l), NNCW_OK);
    ck_assert_int_eq(nncw_loader_count_batches(l), 4);
    ck_assert_int_eq(nncw_loader_get_batch_size(l), 3);
    float x[3];
    int32_t y[3];
    int n, sizes[8], batches = 0;
    while (nncw_loader_next(l, x, y, &n))
        sizes[batches++] = n;
    ck_assert_int_eq(batches, 4);
    ck_assert_int_eq(sizes[0], 3);
    ck_assert_int_eq(sizes[3], 1);
    ck_assert(!nncw_loader_next(l, x, y, &n)); /* stays exhausted */
    nncw_loader_free(l);

    o.drop_last = true;
    nncwt_assert_status(nncw_loader_new(ds, &o, &l), NNCW_OK);
    ck_assert_int_eq(nncw_loader_count_batches(l), 3);
    int order[10];
    ck_assert_int_eq(epoch_order(l, 0, order), 9);
    for (int i = 0; i < 9; i++)
        ck_assert_int_eq(order[i], i);
    nncw_loader_free(l);
    o.batch_size = 11;
    nncwt_assert_status(nncw_loader_new(ds, &o, &l), NNCW_OK);
    ck_assert_int_eq(nncw_loader_count_batches(l), 0);
    ck_assert_int_eq(epoch_order(l, 0, order), 0);
    nncw_loader_free(l);
    nncw_dataset_free(ds);
}
END_TEST

START_TEST(test_loader_shuffle_is_a_reproducible_permutation)
{
    enum { N = 50 };
    struct nncw_dataset *ds = indexed(N);
    struct nncw_loader *a, *b, *c;
    struct nncw_loader_opts o = {.batch_size = 8, .shuffle = true, .seed = 42};
    nncwt_assert_status(nncw_loader_new(ds, &o, &a), NNCW_OK);
    nncwt_assert_status(nncw_loader_new(ds, &o, &b), NNCW_OK);
    o.seed = 43;
    nncwt_assert_status(nncw_loader_new(ds, &o, &c), NNCW_OK);
    int oa[N], oa1[N], ob[N], oc[N], again[N];
    ck_assert_int_eq(epoch_order(a, 0, oa), N);
    ck_assert_int_eq(epoch_order(a, 1, oa1), N);
    ck_assert_int_eq(epoch_order(b, 1, ob), N); /* b skips epoch 0: same epoch 1 */
    ck_assert_int_eq(epoch_order(a, 0, again), N);
    ck_assert_int_eq(epoch_order(c, 0, oc), N);
    bool seen[N] = {false}, moved = false;
    for (int i = 0; i < N; i++) {
        ck_assert(!seen[oa[i]]);
        seen[oa[i]] = true;
        moved |= oa[i] != i;
    }
    ck_assert(moved);
    ck_assert_int_eq(memcmp(oa1, ob, sizeof oa1), 0);
    ck_assert_int_eq(memcmp(oa, again, sizeof oa), 0);
    ck_assert_int_ne(memcmp(oa, oa1, sizeof oa), 0);
    ck_assert_int_ne(memcmp(oa, oc, sizeof oa), 0);
    nncw_loader_free(a);
    nncw_loader_free(b);
    nncw_loader_free(c);
    nncw_dataset_free(ds);
}
END_TEST

/* the augmentation as a formula: crop at offset (sy, sx) of the zero-padded image, then
 * mirror: out[c][y][x] = in[c][y + sy][(flip ? w - 1 - x : x) + sx], 0 outside */
static float reference_pixel(const float *in, int h, int w, int c, int y, int x, int sy, int sx,
                             bool flip)
{
    int ys = y + sy, xs = (flip ? w - 1 - x : x) + sx;
    return ys < 0 || ys >= h || xs < 0 || xs >= w ? 0.0f : in[(c * h + ys) * w + xs];
}

START_TEST(test_loader_crop_and_flip_are_exact_and_cover_all_offsets)
{
    enum { C = 2, H = 5, W = 6, PAD = 2, COPIES = 64, S = 2 * PAD + 1 };
    static float img[COPIES * C * H * W];
    int32_t lab[COPIES] = {0};
    for (int i = 0; i < COPIES * C * H * W; i++)
        img[i] = 1.0f + (float)(i % (C * H * W));
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_new("one", COPIES, (int64_t[]){C, H, W}, 1, img, lab, &ds),
                        NNCW_OK);
    struct nncw_loader_opts o = {
        .batch_size = COPIES, .crop_padding = PAD, .hflip = true, .seed = 5};
    struct nncw_loader *l;
    nncwt_assert_status(nncw_loader_new(ds, &o, &l), NNCW_OK);
    static float out[COPIES * C * H * W];
    int32_t y[COPIES];
    bool hit[S][S][2] = {{{false}}};
    for (int epoch = 0; epoch < 8; epoch++) {
        int n;
        nncw_loader_start_epoch(l, epoch);
        ck_assert(nncw_loader_next(l, out, y, &n));
        ck_assert_int_eq(n, COPIES);
        for (int s = 0; s < COPIES; s++) {
            const float *got = out + s * C * H * W;
            int matches = 0;
            for (int sy = -PAD; sy <= PAD; sy++)
                for (int sx = -PAD; sx <= PAD; sx++)
                    for (int f = 0; f < 2; f++) {
                        bool same = true;
                        for (int c = 0; c < C && same; c++)
                            for (int yy = 0; yy < H && same; yy++)
                                for (int xx = 0; xx < W && same; xx++)
                                    same = got[(c * H + yy) * W + xx] ==
                                           reference_pixel(img, H, W, c, yy, xx, sy, sx, f);
                        if (same) {
                            matches++;
                            hit[sy + PAD][sx + PAD][f] = true;
                        }
                    }
            ck_assert_msg(matches == 1, "sample %d of epoch %d matches %d candidates", s, epoch,
                          matches);
        }
    }
    for (int a = 0; a < S; a++)
        for (int b = 0; b < S; b++)
            ck_assert_msg(hit[a][b][0] && hit[a][b][1], "offset (%d, %d) never drawn", a - PAD,
                          b - PAD);
    nncw_loader_free(l);
    nncw_dataset_free(ds);
}
END_TEST

START_TEST(test_loader_augmentation_is_reproducible)
{
    struct nncw_dataset *ds = synthetic(32, 3, 8, 8, 4, 2);
    struct nncw_loader_opts o = {
        .batch_size = 32, .shuffle = true, .crop_padding = 2, .hflip = true, .seed = 9};
    struct nncw_loader *a, *b;
    nncwt_assert_status(nncw_loader_new(ds, &o, &a), NNCW_OK);
    nncwt_assert_status(nncw_loader_new(ds, &o, &b), NNCW_OK);
    static float xa[32 * 192], xb[32 * 192];
    int32_t ya[32], yb[32];
    int n;
    nncw_loader_start_epoch(a, 3);
    nncw_loader_start_epoch(b, 3);
    ck_assert(nncw_loader_next(a, xa, ya, &n));
    ck_assert(nncw_loader_next(b, xb, yb, &n));
    ck_assert_int_eq(memcmp(xa, xb, sizeof xa), 0);
    ck_assert_int_eq(memcmp(ya, yb, sizeof ya), 0);
    nncw_loader_start_epoch(b, 4);
    ck_assert(nncw_loader_next(b, xb, yb, &n));
    ck_assert_int_ne(memcmp(xa, xb, sizeof xa), 0);
    nncw_loader_free(a);
    nncw_loader_free(b);
    nncw_dataset_free(ds);
}
END_TEST

START_TEST(test_loader_on_a_subset)
{
    struct nncw_dataset *ds = indexed(30), *sub;
    nncwt_assert_status(nncw_dataset_subset(ds, 10, 7, &sub), NNCW_OK);
    struct nncw_loader_opts o = {.batch_size = 4, .shuffle = true, .seed = 1};
    struct nncw_loader *l;
    nncwt_assert_status(nncw_loader_new(sub, &o, &l), NNCW_OK);
    int order[7], sum = 0;
    ck_assert_int_eq(epoch_order(l, 0, order), 7);
    for (int i = 0; i < 7; i++) {
        ck_assert_int_ge(order[i], 10);
        ck_assert_int_lt(order[i], 17);
        sum += order[i];
    }
    ck_assert_int_eq(sum, 10 + 11 + 12 + 13 + 14 + 15 + 16);
    nncw_loader_free(l);
    nncw_dataset_free(sub);
    nncw_dataset_free(ds);
}
END_TEST

START_TEST(test_loader_errors)
{
    struct nncw_dataset *ds = synthetic(8, 1, 4, 6, 2, 1);
    struct nncw_loader *l = NULL;
    struct nncw_loader_opts o = {.batch_size = 0};
    expect_fail(nncw_loader_new(ds, &o, &l), NNCW_ERR_INVALID_ARG, "batch size 0");
    o.batch_size = 2;
    o.crop_padding = 5;
    expect_fail(nncw_loader_new(ds, &o, &l), NNCW_ERR_INVALID_ARG, "crop padding 5",
                "0..4 for 4 x 6");
    o.crop_padding = -1;
    expect_fail(nncw_loader_new(ds, &o, &l), NNCW_ERR_INVALID_ARG, "crop padding -1");
    expect_fail(nncw_loader_new(NULL, &o, &l), NNCW_ERR_INVALID_ARG, "loader");
    o.crop_padding = 0;
    o.shuffle = true;
    for (int n = 1; n <= 2; n++) {
        nncw_alloc_fail_after(n);
        expect_fail(nncw_loader_new(ds, &o, &l), NNCW_ERR_NOMEM, "sample order");
    }
    nncw_alloc_fail_after(0);
    ck_assert_ptr_null(l);
    nncw_loader_free(NULL);
    nncw_dataset_free(ds);
}
END_TEST

/* ---- the real Fashion-MNIST, when installed (Debian package dataset-fashion-mnist) ---- */

START_TEST(test_real_fashion_mnist)
{
    struct stat st;
    if (stat(NNCW_DATA_FASHION_MNIST_DIR, &st) != 0)
        return; /* not installed here */
    struct nncw_dataset *train, *test;
    nncwt_assert_status(nncw_dataset_load_mnist_dir(NNCW_DATA_FASHION_MNIST_DIR, true,
                                                    &nncw_data_norm_fashion_mnist, &train),
                        NNCW_OK);
    nncwt_assert_status(nncw_dataset_load_mnist_dir(NNCW_DATA_FASHION_MNIST_DIR, false,
                                                    &nncw_data_norm_fashion_mnist, &test),
                        NNCW_OK);
    ck_assert_int_eq(nncw_dataset_count_samples(train), 60000);
    ck_assert_int_eq(nncw_dataset_count_samples(test), 10000);
    ck_assert_str_eq(nncw_dataset_get_name(train), "fashion-mnist/train");
    ck_assert_str_eq(nncw_dataset_get_name(test), "fashion-mnist/test");
    int64_t shape[3];
    nncw_dataset_get_sample_shape(train, shape);
    ck_assert(shape[0] == 1 && shape[1] == 28 && shape[2] == 28);
    ck_assert_int_eq(nncw_dataset_count_classes(train), 10);
    ck_assert_int_eq(nncw_dataset_get_labels(train)[0], 9); /* an ankle boot */
    ck_assert_int_eq(nncw_dataset_get_labels(test)[0], 9);
    int per_class[10] = {0};
    for (int i = 0; i < 60000; i++)
        per_class[nncw_dataset_get_labels(train)[i]]++;
    for (int k = 0; k < 10; k++)
        ck_assert_int_eq(per_class[k], 6000);
    /* the published statistics normalise the training set to mean 0, std 1 */
    double s = 0, s2 = 0;
    const float *x = nncw_dataset_get_images(train);
    for (int64_t i = 0; i < 60000 * 784; i++)
        s += x[i], s2 += (double)x[i] * x[i];
    double mean = s / (60000.0 * 784), var = s2 / (60000.0 * 784) - mean * mean;
    ck_assert_double_eq_tol(mean, 0.0, 0.01);
    ck_assert_double_eq_tol(sqrt(var), 1.0, 0.01);
    nncw_dataset_free(train);
    nncw_dataset_free(test);
}
END_TEST

static Suite *data_suite(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("idx");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_idx_gzip_and_plain_give_exact_normalised_values);
    tcase_add_test(tc, test_idx_without_norm_scales_to_unit_range);
    tcase_add_test(tc, test_mnist_dir_prefers_gz_and_falls_back_to_plain);
    tcase_add_test(tc, test_idx_trailing_bytes_are_tolerated);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_set_timeout(tc, 60); /* writes whole CIFAR-sized files: slow on a busy disk */
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_idx_missing_file_and_folder);
    tcase_add_test(tc, test_idx_bad_magic_type_and_dimension_count);
    tcase_add_test(tc, test_idx_truncated_files);
    tcase_add_test(tc, test_idx_gzip_stream_cut_short_or_corrupt);
    tcase_add_test(tc, test_idx_count_mismatch_and_label_range);
    tcase_add_test(tc, test_idx_hostile_headers_are_rejected_without_big_allocations);
    tcase_add_test(tc, test_idx_invalid_arguments);
    tcase_add_test(tc, test_idx_out_of_memory_is_reported_and_leaks_nothing);
    tcase_add_test(tc, test_cifar_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("cifar");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_cifar_test_batch_exact_values);
    tcase_add_test(tc, test_cifar_train_batches_in_unpacked_subfolder);
    suite_add_tcase(s, tc);

    tc = tcase_create("sets");
    tcase_add_test(tc, test_synthetic_is_reproducible_per_seed);
    tcase_add_test(tc, test_synthetic_is_learnable);
    tcase_add_test(tc, test_synthetic_rejects_bad_options);
    tcase_add_test(tc, test_dataset_new_copies_and_checks_labels);
    tcase_add_test(tc, test_subset_shares_data_and_outlives_parent);
    suite_add_tcase(s, tc);

    tc = tcase_create("loader");
    tcase_add_test(tc, test_loader_batch_count_and_drop_last);
    tcase_add_test(tc, test_loader_shuffle_is_a_reproducible_permutation);
    tcase_add_test(tc, test_loader_crop_and_flip_are_exact_and_cover_all_offsets);
    tcase_add_test(tc, test_loader_augmentation_is_reproducible);
    tcase_add_test(tc, test_loader_on_a_subset);
    tcase_add_test(tc, test_loader_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("real");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_real_fashion_mnist);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(data_suite());
}
