/* `nncw compress` with initializer.precision.type "autoq": the search on the evaluation set,
 * one line per episode, the mean of 5 random policies of the same ratio, the best applied. */
#pragma once

#include <signal.h>
#include <stdbool.h>

#include "compression/compression.h"
#include "config/config.h"
#include "data/data.h"

/* runs AutoQ when cfg asks for it (nothing otherwise) on g / c, evaluating on eval; a set
 * *stop ends the search early keeping the best policy. 0, or 1 after printing the error */
int app_compress_autoq(const struct nncw_config *cfg, struct nncw_graph *g,
                       struct nncw_compression *c, const struct nncw_dataset *eval, int batch,
                       bool quiet, volatile sig_atomic_t *stop);
