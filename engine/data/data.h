/*
 * Data sets and batch loaders: image classification sets held in memory as normalised
 * float32 C x H x W samples with int32 labels, and a loader that cuts them into batches.
 *
 *     struct nncw_dataset *train;
 *     if (nncw_dataset_load_mnist_dir(NNCW_DATA_FASHION_MNIST_DIR, true,
 *                                     &nncw_data_norm_fashion_mnist, &train) != NNCW_OK)
 *         return report(nncw_last_error());     // names the file and what is wrong
 *     struct nncw_loader_opts o = {.batch_size = 64, .shuffle = true, .seed = 1,
 *                                  .crop_padding = 4, .hflip = true};
 *     struct nncw_loader *l;
 *     if (nncw_loader_new(train, &o, &l) != NNCW_OK) ...
 *     float *x = ...;   // 64 * nncw_dataset_get_sample_numel(train) floats
 *     int32_t y[64];
 *     int n;
 *     for (int epoch = 0; epoch < 10; epoch++) {
 *         nncw_loader_start_epoch(l, epoch);    // order depends only on (seed, epoch)
 *         while (nncw_loader_next(l, x, y, &n)) // n <= 64: the last batch may be short
 *             train_step(x, y, n);
 *     }
 *     nncw_loader_free(l);                      // before the data set it borrows
 *     nncw_dataset_free(train);
 *
 * Pixels are stored as (p / 255 - mean[c]) / std[c] for a byte p in channel c. Labels are
 * int32 in [0, class count). A data set is never empty and its samples are immutable once
 * loaded, so subsets share the parent's memory (refcounted storage) and may outlive it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"

/* files with more samples than this are rejected as corrupt or hostile */
#define NNCW_DATA_MAX_SAMPLES 100000000
/* largest channel count a normalisation can describe */
#define NNCW_DATA_MAX_CHANNELS 4
/* where the Debian package dataset-fashion-mnist installs its files */
#define NNCW_DATA_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* per-channel normalisation applied to pixels scaled to [0, 1]; std must be > 0 */
struct nncw_data_norm {
    float mean[NNCW_DATA_MAX_CHANNELS];
    float std[NNCW_DATA_MAX_CHANNELS];
};

/* the usual training-set statistics; passing NULL instead means mean 0, std 1 (just /255) */
extern const struct nncw_data_norm nncw_data_norm_mnist;         /* 0.1307 / 0.3081 */
extern const struct nncw_data_norm nncw_data_norm_fashion_mnist; /* 0.2860 / 0.3530 */
extern const struct nncw_data_norm nncw_data_norm_cifar10;       /* RGB, see dataset.c */

/* a learnable synthetic set: class k's samples are prototype k plus Gaussian noise */
struct nncw_synthetic_opts {
    int64_t count; /* samples, >= 1; sample i has label i % num_classes */
    int channels, height, width;
    int num_classes; /* >= 2 */
    float noise;     /* noise standard deviation; 0: 0.5 (prototypes have std 1) */
    uint64_t seed;        /* the class prototypes: same seed, same task */
    uint64_t sample_seed; /* the noise: a task's train and test sets share `seed` and differ
                           * here; same seeds and options, same data */
};

struct nncw_loader_opts {
    int batch_size;   /* >= 1 */
    bool shuffle;     /* a new permutation every epoch */
    bool drop_last;   /* skip a final batch shorter than batch_size */
    uint64_t seed;    /* drives shuffling and augmentation */
    int crop_padding; /* random crop: pad every side with this many zeros (0 after
                       * normalisation, i.e. the mean), crop back to H x W at a
                       * random offset; 0: off; at most min(H, W) */
    bool hflip;       /* random horizontal flip with probability 1/2 */
};

struct nncw_dataset;
struct nncw_loader;

/* ---- data set lifecycle ---- */

/* IDX (MNIST format) image file [N, H, W] and label file [N], gzip-compressed or plain.
 * num_classes 0: max label + 1; otherwise every label must be below it. norm may be NULL.
 * NNCW_ERR_IO (missing or unreadable file), NNCW_ERR_PARSE (bad magic or sizes, wrong
 * dimension count, truncation, corrupt gzip data, count mismatch, label out of range),
 * NNCW_ERR_UNSUPPORTED (a non-byte IDX type), NNCW_ERR_INVALID_ARG, NNCW_ERR_NOMEM */
enum nncw_status nncw_dataset_load_idx(const char *images_path, const char *labels_path,
                                       int num_classes, const struct nncw_data_norm *norm,
                                       struct nncw_dataset **out);
/* {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] in dir (MNIST or Fashion-MNIST),
 * 10 classes; errors as nncw_dataset_load_idx */
enum nncw_status nncw_dataset_load_mnist_dir(const char *dir, bool train,
                                             const struct nncw_data_norm *norm,
                                             struct nncw_dataset **out);
/* CIFAR-10 binary version: data_batch_1..5.bin (train) or test_batch.bin, in dir or in
 * dir/cifar-10-batches-bin; 3 x 32 x 32, 10 classes; errors as nncw_dataset_load_idx */
enum nncw_status nncw_dataset_load_cifar10_dir(const char *dir, bool train,
                                               const struct nncw_data_norm *norm,
                                               struct nncw_dataset **out);
/* deterministic synthetic set (see struct nncw_synthetic_opts); NNCW_ERR_INVALID_ARG,
 * NNCW_ERR_NOMEM */
enum nncw_status nncw_dataset_new_synthetic(const struct nncw_synthetic_opts *opts,
                                            struct nncw_dataset **out);
/* a copy of caller arrays: images [count, C, H, W] (already normalised), labels [count] in
 * [0, num_classes); name may be NULL. NNCW_ERR_INVALID_ARG, NNCW_ERR_NOMEM */
enum nncw_status nncw_dataset_new(const char *name, int64_t count, const int64_t shape[3],
                                  int num_classes, const float *images, const int32_t *labels,
                                  struct nncw_dataset **out);
/* samples [first, first + count) of ds, sharing its memory; ds may be freed first.
 * NNCW_ERR_INVALID_ARG if the range is empty or outside ds, NNCW_ERR_NOMEM */
enum nncw_status nncw_dataset_subset(const struct nncw_dataset *ds, int64_t first, int64_t count,
                                     struct nncw_dataset **out);
/* NULL is a no-op */
void nncw_dataset_free(struct nncw_dataset *ds);

/* ---- data set queries (ds must not be NULL) ---- */

/* e.g. "fashion-mnist/train", "cifar10/test", "synthetic(seed 1)", "mnist/train[0:1000]" */
const char *nncw_dataset_get_name(const struct nncw_dataset *ds);
/* number of samples, >= 1 */
int64_t nncw_dataset_count_samples(const struct nncw_dataset *ds);
/* labels lie in [0, this) */
int nncw_dataset_count_classes(const struct nncw_dataset *ds);
/* {C, H, W} */
void nncw_dataset_get_sample_shape(const struct nncw_dataset *ds, int64_t shape[3]);
/* C * H * W */
int64_t nncw_dataset_get_sample_numel(const struct nncw_dataset *ds);
/* the normalisation the pixels went through, first min(C, NNCW_DATA_MAX_CHANNELS) channels
 * (mean 0, std 1 for synthetic or copied sets); borrowed */
const struct nncw_data_norm *nncw_dataset_get_norm(const struct nncw_dataset *ds);
/* all samples, [count, C, H, W] and [count]; borrowed, valid while ds lives */
const float *nncw_dataset_get_images(const struct nncw_dataset *ds);
const int32_t *nncw_dataset_get_labels(const struct nncw_dataset *ds);

/* ---- loader ---- */

/* a loader over ds, which it borrows: ds must outlive it. NNCW_ERR_INVALID_ARG (bad batch
 * size or padding, naming the value), NNCW_ERR_NOMEM */
enum nncw_status nncw_loader_new(const struct nncw_dataset *ds, const struct nncw_loader_opts *opts,
                                 struct nncw_loader **out);
/* NULL is a no-op */
void nncw_loader_free(struct nncw_loader *l);
/* batches per epoch, honouring drop_last (0 if drop_last and batch_size > count) */
int64_t nncw_loader_count_batches(const struct nncw_loader *l);
/* as given in the options */
int nncw_loader_get_batch_size(const struct nncw_loader *l);
/* rewinds to the first batch of the epoch; the order and the augmentation depend only on
 * (seed, epoch), so runs resume reproducibly. A new loader starts at epoch 0. */
void nncw_loader_start_epoch(struct nncw_loader *l, int64_t epoch);
/* writes the next batch into images [batch_size, C, H, W] and labels [batch_size] and its
 * size into *count; returns false (writing nothing) once the epoch is exhausted */
bool nncw_loader_next(struct nncw_loader *l, float *images, int32_t *labels, int *count);
