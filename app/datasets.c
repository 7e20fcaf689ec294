#include "datasets.h"

#include <string.h>

enum nncw_status app_load_dataset(const struct app_data_args *a, bool train,
                                  struct nncw_dataset **out)
{
    const char *d = a->name;
    if (!strcmp(d, "fashion-mnist"))
        return nncw_dataset_load_mnist_dir(a->dir ? a->dir : NNCW_DATA_FASHION_MNIST_DIR, train,
                                           &nncw_data_norm_fashion_mnist, out);
    if (!strcmp(d, "mnist")) {
        if (!a->dir)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "--data mnist needs --data-dir DIR with the MNIST IDX files "
                             "(train-images-idx3-ubyte.gz ...)");
        return nncw_dataset_load_mnist_dir(a->dir, train, &nncw_data_norm_mnist, out);
    }
    if (!strcmp(d, "cifar10")) {
        if (!a->dir)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "--data cifar10 needs --data-dir DIR with the CIFAR-10 binary "
                             "batches (data_batch_1.bin ... test_batch.bin)");
        return nncw_dataset_load_cifar10_dir(a->dir, train, &nncw_data_norm_cifar10, out);
    }
    if (!strcmp(d, "synthetic")) {
        struct nncw_synthetic_opts so = {.count = train ? 4096 : 1024, .channels = a->channels,
                                         .height = a->height, .width = a->width,
                                         .num_classes = a->classes,
                                         .seed = 11, .sample_seed = train ? 1 : 2};
        return nncw_dataset_new_synthetic(&so, out);
    }
    return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                     "unknown data set '%s' (fashion-mnist, mnist, cifar10 or synthetic)", d);
}

enum nncw_status app_subset_dataset(struct nncw_dataset **ds, long n)
{
    if (n <= 0 || n >= nncw_dataset_count_samples(*ds))
        return NNCW_OK;
    struct nncw_dataset *sub;
    NNCW_TRY(nncw_dataset_subset(*ds, 0, n, &sub));
    nncw_dataset_free(*ds);
    *ds = sub;
    return NNCW_OK;
}
