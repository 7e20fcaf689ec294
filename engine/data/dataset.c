/*
** The data set object: lifecycle, queries, subsets and copies of caller arrays. Format
** parsers (idx.c, cifar.c, synthetic.c) fill a set made by nncw_dataset_create.
*/
#include "data/data.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "data/data_internal.h"
#include "tensor/tensor.h"

const struct nncw_data_norm nncw_data_norm_mnist = {{0.1307f}, {0.3081f}};
const struct nncw_data_norm nncw_data_norm_fashion_mnist = {{0.2860f}, {0.3530f}};
/* measured over the 50000 training images (std of pixels, not the often quoted mean of
 * per-image stds 0.2023 / 0.1994 / 0.2010) */
const struct nncw_data_norm nncw_data_norm_cifar10 = {{0.4914f, 0.4822f, 0.4465f},
                                                      {0.2470f, 0.2435f, 0.2616f}};

static const struct nncw_data_norm identity_norm = {{0, 0, 0, 0}, {1, 1, 1, 1}};

enum nncw_status nncw_data_check_norm(const struct nncw_data_norm *norm, int channels)
{
    if (!norm)
        return NNCW_OK;
    for (int c = 0; c < channels && c < NNCW_DATA_MAX_CHANNELS; c++) {
        if (!isfinite(norm->mean[c]) || !isfinite(norm->std[c]) || !(norm->std[c] > 0))
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "data: normalisation of channel %d: mean %g, std %g (std must be "
                             "> 0; a zero-initialised struct has std 0 for every channel)",
                             c, (double)norm->mean[c], (double)norm->std[c]);
    }
    return NNCW_OK;
}

void nncw_data_make_lut(const struct nncw_data_norm *norm, int c, float lut[256])
{
    for (int p = 0; p < 256; p++)
        lut[p] = ((float)p / 255.0f - norm->mean[c]) / norm->std[c];
}

static enum nncw_status check_shape(const char *name, int64_t count, const int64_t shape[3])
{
    if (count < 1 || count > NNCW_DATA_MAX_SAMPLES)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "data: %s: %lld samples (expected 1..%d)", name,
                         (long long)count, NNCW_DATA_MAX_SAMPLES);
    int64_t numel = 1;
    for (int i = 0; i < 3; i++) {
        if (shape[i] < 1 || shape[i] > NNCW_DATA_MAX_SAMPLE_NUMEL)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "data: %s: sample shape %lld x %lld x %lld",
                             name, (long long)shape[0], (long long)shape[1], (long long)shape[2]);
        numel *= shape[i];
        if (numel > NNCW_DATA_MAX_SAMPLE_NUMEL)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "data: %s: sample shape %lld x %lld x %lld is larger than %d values",
                             name, (long long)shape[0], (long long)shape[1], (long long)shape[2],
                             NNCW_DATA_MAX_SAMPLE_NUMEL);
    }
    if ((uint64_t)count * (uint64_t)numel > SIZE_MAX / sizeof(float))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "data: %s: %lld samples of %lld values do not "
                         "fit in memory",
                         name, (long long)count, (long long)numel);
    return NNCW_OK;
}

enum nncw_status nncw_dataset_create(const char *name, int64_t count, const int64_t shape[3],
                                     int num_classes, const struct nncw_data_norm *norm,
                                     struct nncw_dataset **out)
{
    NNCW_TRY(check_shape(name, count, shape));
    struct nncw_dataset *ds = nncw_calloc(1, sizeof *ds);
    if (!ds)
        goto nomem;
    ds->count = count;
    memcpy(ds->shape, shape, sizeof ds->shape);
    ds->numel = shape[0] * shape[1] * shape[2];
    ds->num_classes = num_classes;
    ds->norm = norm ? *norm : identity_norm;
    ds->name = nncw_strdup(name);
    ds->image_storage = nncw_storage_new((size_t)count * (size_t)ds->numel * sizeof(float));
    ds->label_storage = nncw_storage_new((size_t)count * sizeof(int32_t));
    if (!ds->name || !ds->image_storage || !ds->label_storage)
        goto nomem;
    ds->images = ds->image_storage->data;
    ds->labels = ds->label_storage->data;
    *out = ds;
    return NNCW_OK;
nomem:
    nncw_dataset_free(ds);
    return NNCW_FAIL(NNCW_ERR_NOMEM, "data: %s: cannot allocate %lld samples of %lld x %lld x %lld",
                     name, (long long)count, (long long)shape[0], (long long)shape[1],
                     (long long)shape[2]);
}

void nncw_dataset_free(struct nncw_dataset *ds)
{
    if (!ds)
        return;
    nncw_storage_release(ds->image_storage);
    nncw_storage_release(ds->label_storage);
    nncw_free(ds->name);
    nncw_free(ds);
}

enum nncw_status nncw_dataset_new(const char *name, int64_t count, const int64_t shape[3],
                                  int num_classes, const float *images, const int32_t *labels,
                                  struct nncw_dataset **out)
{
    if (!name)
        name = "dataset";
    if (!shape || !images || !labels)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "data: %s: shape, images and labels are required",
                         name);
    if (num_classes < 1)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "data: %s: %d classes", name, num_classes);
    NNCW_TRY(check_shape(name, count, shape));
    for (int64_t i = 0; i < count; i++)
        if (labels[i] < 0 || labels[i] >= num_classes)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "data: %s: label %d of sample %lld is out of range [0, %d)", name,
                             (int)labels[i], (long long)i, num_classes);
    struct nncw_dataset *ds;
    NNCW_TRY(nncw_dataset_create(name, count, shape, num_classes, NULL, &ds));
    memcpy(ds->images, images, (size_t)count * (size_t)ds->numel * sizeof(float));
    memcpy(ds->labels, labels, (size_t)count * sizeof(int32_t));
    *out = ds;
    return NNCW_OK;
}

enum nncw_status nncw_dataset_subset(const struct nncw_dataset *ds, int64_t first, int64_t count,
                                     struct nncw_dataset **out)
{
    if (!ds)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "data: subset of a NULL data set");
    if (first < 0 || count < 1 || first > ds->count || count > ds->count - first)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "data: %s: subset [%lld, %lld + %lld) is empty or outside the %lld "
                         "samples",
                         ds->name, (long long)first, (long long)first, (long long)count,
                         (long long)ds->count);
    char name[256];
    snprintf(name, sizeof name, "%s[%lld:%lld]", ds->name, (long long)first,
             (long long)(first + count));
    struct nncw_dataset *sub = nncw_calloc(1, sizeof *sub);
    char *dup = nncw_strdup(name);
    if (!sub || !dup) {
        nncw_free(sub);
        nncw_free(dup);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "data: %s: cannot allocate a subset", ds->name);
    }
    *sub = *ds;
    sub->name = dup;
    sub->count = count;
    sub->images = ds->images + first * ds->numel;
    sub->labels = ds->labels + first;
    nncw_storage_retain(sub->image_storage);
    nncw_storage_retain(sub->label_storage);
    *out = sub;
    return NNCW_OK;
}

const char *nncw_dataset_get_name(const struct nncw_dataset *ds)
{
    return ds->name;
}

int64_t nncw_dataset_count_samples(const struct nncw_dataset *ds)
{
    return ds->count;
}

int nncw_dataset_count_classes(const struct nncw_dataset *ds)
{
    return ds->num_classes;
}

void nncw_dataset_get_sample_shape(const struct nncw_dataset *ds, int64_t shape[3])
{
    memcpy(shape, ds->shape, sizeof ds->shape);
}

int64_t nncw_dataset_get_sample_numel(const struct nncw_dataset *ds)
{
    return ds->numel;
}

const struct nncw_data_norm *nncw_dataset_get_norm(const struct nncw_dataset *ds)
{
    return &ds->norm;
}

const float *nncw_dataset_get_images(const struct nncw_dataset *ds)
{
    return ds->images;
}

const int32_t *nncw_dataset_get_labels(const struct nncw_dataset *ds)
{
    return ds->labels;
}
