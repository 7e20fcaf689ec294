/*
** The batch loader: walks a data set in order or in a per-epoch permutation and copies
** samples into caller buffers, augmenting them on the way. Everything random is reseeded
** from (seed, epoch) at the start of an epoch, so epoch e looks the same in every run.
*/
#include "data/data.h"

#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "data/data_internal.h"

/* splitmix64's finaliser: spreads (seed, epoch, stream) over independent PCG seeds */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t epoch_seed(uint64_t seed, int64_t epoch, uint64_t stream)
{
    return mix(mix(mix(seed) ^ (uint64_t)epoch) ^ stream);
}

enum nncw_status nncw_loader_new(const struct nncw_dataset *ds, const struct nncw_loader_opts *opts,
                                 struct nncw_loader **out)
{
    if (!ds || !opts || !out)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "loader: data set, options and output required");
    if (opts->batch_size < 1)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "loader: %s: batch size %d (expected >= 1)",
                         ds->name, opts->batch_size);
    if (opts->crop_padding < 0 || opts->crop_padding > ds->shape[1] ||
        opts->crop_padding > ds->shape[2])
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                         "loader: %s: crop padding %d (expected 0..%lld for %lld x %lld images)",
                         ds->name, opts->crop_padding,
                         (long long)(ds->shape[1] < ds->shape[2] ? ds->shape[1] : ds->shape[2]),
                         (long long)ds->shape[1], (long long)ds->shape[2]);
    struct nncw_loader *l = nncw_calloc(1, sizeof *l);
    if (l && opts->shuffle)
        l->order = nncw_malloc((size_t)ds->count * sizeof *l->order);
    if (!l || (opts->shuffle && !l->order)) {
        nncw_free(l);
        return NNCW_FAIL(NNCW_ERR_NOMEM, "loader: %s: cannot allocate the sample order", ds->name);
    }
    l->ds = ds;
    l->opts = *opts;
    nncw_loader_start_epoch(l, 0);
    *out = l;
    return NNCW_OK;
}

void nncw_loader_free(struct nncw_loader *l)
{
    if (!l)
        return;
    nncw_free(l->order);
    nncw_free(l);
}

int64_t nncw_loader_count_batches(const struct nncw_loader *l)
{
    int64_t n = l->ds->count, b = l->opts.batch_size;
    return l->opts.drop_last ? n / b : (n + b - 1) / b;
}

int nncw_loader_get_batch_size(const struct nncw_loader *l)
{
    return l->opts.batch_size;
}

void nncw_loader_start_epoch(struct nncw_loader *l, int64_t epoch)
{
    l->pos = 0;
    nncw_rng_seed(&l->aug, epoch_seed(l->opts.seed, epoch, 1));
    if (!l->order)
        return;
    /* Fisher-Yates from the identity, so the order depends on nothing but (seed, epoch) */
    struct nncw_rng r;
    nncw_rng_seed(&r, epoch_seed(l->opts.seed, epoch, 0));
    int64_t n = l->ds->count;
    for (int64_t i = 0; i < n; i++)
        l->order[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = nncw_rng_below(&r, (uint32_t)(i + 1));
        int64_t t = l->order[i];
        l->order[i] = l->order[j];
        l->order[j] = t;
    }
}

/* copies sample idx into dst, with this sample's random crop offset and flip */
static void copy_augmented(struct nncw_loader *l, int64_t idx, float *dst)
{
    const struct nncw_dataset *ds = l->ds;
    int pad = l->opts.crop_padding;
    int sy = 0, sx = 0;
    if (pad > 0) {
        sy = (int)nncw_rng_below(&l->aug, (uint32_t)(2 * pad + 1)) - pad;
        sx = (int)nncw_rng_below(&l->aug, (uint32_t)(2 * pad + 1)) - pad;
    }
    bool flip = l->opts.hflip && (nncw_rng_u32(&l->aug) & 1u);
    nncw_data_shift_flip(ds->images + idx * ds->numel, dst, ds->shape[0], ds->shape[1],
                         ds->shape[2], sy, sx, flip);
}

bool nncw_loader_next(struct nncw_loader *l, float *images, int32_t *labels, int *count)
{
    const struct nncw_dataset *ds = l->ds;
    int64_t left = ds->count - l->pos;
    int n = left < l->opts.batch_size ? (int)left : l->opts.batch_size;
    if (n <= 0 || (l->opts.drop_last && n < l->opts.batch_size))
        return false;
    bool augment = l->opts.crop_padding > 0 || l->opts.hflip;
    size_t row = (size_t)ds->numel * sizeof(float);
    if (!l->order && !augment) {
        /* in order, unchanged: the batch is one contiguous block */
        memcpy(images, ds->images + l->pos * ds->numel, (size_t)n * row);
        memcpy(labels, ds->labels + l->pos, (size_t)n * sizeof *labels);
    } else {
        for (int i = 0; i < n; i++) {
            int64_t idx = l->order ? l->order[l->pos + i] : l->pos + i;
            float *dst = images + (int64_t)i * ds->numel;
            if (augment)
                copy_augmented(l, idx, dst);
            else
                memcpy(dst, ds->images + idx * ds->numel, row);
            labels[i] = ds->labels[idx];
        }
    }
    l->pos += n;
    *count = n;
    return true;
}
