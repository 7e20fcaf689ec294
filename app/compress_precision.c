/* `nncw compress`: what mixed precision chose. */
#include "compress_precision.h"

#include <stdio.h>

bool app_compress_precision_progress(void *user, int iteration, int iter_number,
                                     double mean_trace)
{
    (void)user;
    if (iteration == 1 || iteration % 10 == 0 || iteration == iter_number) {
        printf("HAWQ: Hutchinson iteration %d/%d, mean summed trace %.6g\n", iteration,
               iter_number, mean_trace);
        fflush(stdout);
    }
    return true;
}

static void print_hawq(const struct nncw_compression *c)
{
    int nl, np, chosen, iters;
    if (nncw_compression_hawq_summary(c, &nl, &np, &chosen, &iters) != NNCW_OK)
        return;
    struct nncw_hawq_point p;
    if (nncw_compression_hawq_get_point(c, chosen, &p, NULL) != NNCW_OK)
        return;
    printf("HAWQ: %d layers, traces from %d Hutchinson iterations; %d candidate bit "
           "configurations; chosen #%d: ratio %.4f, metric %.6g\n",
           nl, iters, np, chosen, p.ratio, p.metric);
    printf("  %-48s %14s %10s %5s\n", "weight quantizer", "trace/param", "params", "bits");
    for (int i = 0; i < nl; i++) {
        struct nncw_hawq_layer l;
        if (nncw_compression_hawq_get_layer(c, i, &l) == NNCW_OK)
            printf("  %-48s %14.6g %10lld %5d%s\n", l.id, l.trace, (long long)l.numel, l.bits,
                   l.pinned_bits ? " (pinned)" : "");
    }
}

void app_compress_print_precision(const struct nncw_compression *c, bool quiet)
{
    int n = nncw_compression_count_quantizers(c);
    double ratio;
    if (quiet || n == 0 || nncw_compression_bitops_ratio(c, &ratio) != NNCW_OK)
        return;
    print_hawq(c);
    printf("bits per quantizer:\n");
    for (int i = 0; i < n; i++) {
        struct nncw_quantizer_info q;
        if (nncw_compression_get_quantizer(c, i, &q) == NNCW_OK)
            printf("  %-56s %d\n", q.id, q.bits);
    }
    printf("bit-FLOPs compression ratio (INT8 = 1): %.4f\n", ratio);
    fflush(stdout);
}
