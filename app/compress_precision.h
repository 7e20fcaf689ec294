/* `nncw compress` with initializer.precision (manual, HAWQ): Hutchinson progress lines and the
 * chosen bits per quantizer with the bit-FLOPs compression ratio. */
#pragma once

#include <stdbool.h>

#include "compression/compression.h"

/* the init's precision_progress: one line per HAWQ iteration (every 10th unless verbose) */
bool app_compress_precision_progress(void *user, int iteration, int iter_number,
                                     double mean_trace);
/* prints the HAWQ traces and choice (when there is one), every quantizer's bits and the
 * bit-FLOPs ratio; nothing when quiet or c has no quantization */
void app_compress_print_precision(const struct nncw_compression *c, bool quiet);
