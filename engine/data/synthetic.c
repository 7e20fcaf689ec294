/*
** A synthetic, learnable classification set for tests: each class has a random prototype
** image made of constant blocks (so it survives small crops and shifts), and each sample is
** its class's prototype plus Gaussian noise. Everything comes from one seeded generator.
*/
#include "data/data.h"

#include <math.h>
#include <stdio.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "data/data_internal.h"

enum { MAX_CLASSES = 1 << 16, MAX_CHANNELS = 1 << 12 };

static enum nncw_status check_opts(const struct nncw_synthetic_opts *o)
{
    if (o->count < 1 || o->count > NNCW_DATA_MAX_SAMPLES)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "data: synthetic: count %lld (expected 1..%d)",
                         (long long)o->count, NNCW_DATA_MAX_SAMPLES);
    if (o->channels < 1 || o->channels > MAX_CHANNELS || o->height < 1 || o->width < 1 ||
        (int64_t)o->channels * o->height * o->width > NNCW_DATA_MAX_SAMPLE_NUMEL)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "data: synthetic: sample shape %d x %d x %d (each >= 1, at most %d "
                         "values)",
                         o->channels, o->height, o->width, NNCW_DATA_MAX_SAMPLE_NUMEL);
    if (o->num_classes < 2 || o->num_classes > MAX_CLASSES)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "data: synthetic: %d classes (expected 2..%d)",
                         o->num_classes, MAX_CLASSES);
    if (!(o->noise >= 0) || !isfinite(o->noise))
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "data: synthetic: noise %g (expected >= 0)",
                         (double)o->noise);
    return NNCW_OK;
}

/* fills the prototypes: per class and channel, a grid of blocks of side `block` */
static void make_prototypes(struct nncw_rng *r, const struct nncw_synthetic_opts *o, int block,
                            float *proto)
{
    int64_t plane = (int64_t)o->height * o->width;
    for (int k = 0; k < o->num_classes; k++)
        for (int c = 0; c < o->channels; c++) {
            float *p = proto + ((int64_t)k * o->channels + c) * plane;
            for (int y = 0; y < o->height; y += block)
                for (int x = 0; x < o->width; x += block) {
                    float v = nncw_rng_normal(r);
                    for (int yy = y; yy < y + block && yy < o->height; yy++)
                        for (int xx = x; xx < x + block && xx < o->width; xx++)
                            p[yy * o->width + xx] = v;
                }
        }
}

enum nncw_status nncw_dataset_new_synthetic(const struct nncw_synthetic_opts *opts,
                                            struct nncw_dataset **out)
{
    if (!opts || !out)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "data: synthetic: options and output required");
    NNCW_TRY(check_opts(opts));
    int64_t shape[3] = {opts->channels, opts->height, opts->width};
    int64_t numel = shape[0] * shape[1] * shape[2];
    float *proto = nncw_malloc((size_t)opts->num_classes * (size_t)numel * sizeof *proto);
    if (!proto)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "data: synthetic: cannot allocate %d prototypes",
                         opts->num_classes);
    struct nncw_dataset *ds;
    char name[96];
    snprintf(name, sizeof name, "synthetic(seed %llu/%llu)", (unsigned long long)opts->seed,
             (unsigned long long)opts->sample_seed);
    enum nncw_status s =
        nncw_dataset_create(name, opts->count, shape, opts->num_classes, NULL, &ds);
    if (s == NNCW_OK) {
        int side = opts->height < opts->width ? opts->height : opts->width;
        int block = side / 4 > 1 ? side / 4 : 1;
        float noise = opts->noise > 0 ? opts->noise : 0.5f;
        struct nncw_rng r;
        nncw_rng_seed(&r, opts->seed);
        make_prototypes(&r, opts, block, proto);
        nncw_rng_seed(&r, opts->sample_seed ^ 0x9e3779b97f4a7c15ULL);
        for (int64_t i = 0; i < opts->count; i++) {
            int k = (int)(i % opts->num_classes);
            const float *p = proto + k * numel;
            float *x = ds->images + i * numel;
            for (int64_t j = 0; j < numel; j++)
                x[j] = p[j] + noise * nncw_rng_normal(&r);
            ds->labels[i] = k;
        }
        *out = ds;
    }
    nncw_free(proto);
    return s;
}
