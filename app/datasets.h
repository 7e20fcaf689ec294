/* The data sets the command line names: --data NAME [--data-dir DIR], subsets. */
#pragma once

#include <stdbool.h>

#include "core/status.h"
#include "data/data.h"

struct app_data_args {
    const char *name;     /* fashion-mnist, mnist, cifar10 or synthetic */
    const char *dir;      /* NULL: the default folder (fashion-mnist only) */
    int channels, height, width, classes; /* the synthetic set's sample shape */
};

/* the training (train = true) or test split; errors name the option to fix */
enum nncw_status app_load_dataset(const struct app_data_args *a, bool train,
                                  struct nncw_dataset **out);
/* keeps the first n samples (n <= 0 or >= the count: all) */
enum nncw_status app_subset_dataset(struct nncw_dataset **ds, long n);
