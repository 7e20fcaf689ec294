/* `nncw compress` with a config's accuracy_aware_training section: the accuracy-aware loop in
 * place of plain fine-tuning, one line per epoch and a summary. */
#pragma once

#include <stdbool.h>

#include "compression/compression.h"
#include "config/config.h"
#include "data/data.h"
#include "graph/graph.h"
#include "train/trainer.h"

struct app_aat_args {
    struct nncw_train_options train; /* batch, optimizer, lr, schedule, seed (epochs unused) */
    long max_epochs;                 /* --epochs: caps maximal_total_epochs (-1: not given) */
    bool quiet;
    float uncompressed_acc; /* 0..1, measured before compression */
};

/* runs it on g (compressed by c), training on train and validating on test; prints progress
 * and the summary; returns the process exit status (130 after Ctrl-C) */
int app_compress_aat(const struct app_aat_args *a, const struct nncw_config *cfg,
                     struct nncw_graph *g, struct nncw_compression *c,
                     const struct nncw_dataset *train, const struct nncw_dataset *test);
