#include "graph/exec_internal.h"

#include <stdlib.h>

#include "core/alloc.h"

struct item {
    int id;
    size_t size;
};

static int by_size_desc(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? 1 : -1;
    return x->id - y->id;
}

/* Greedy by size (largest first), each buffer at the lowest offset that does not collide with
 * an already placed buffer alive at the same time: the usual planner of inference runtimes,
 * within a few percent of optimal on chain-like networks. */
size_t nncw_plan_offsets(int n, const size_t *size, const int *start, const int *end,
                         size_t *offset)
{
    struct item *items = nncw_malloc((size_t)(n ? n : 1) * sizeof *items);
    int *placed = nncw_malloc((size_t)(n ? n : 1) * sizeof *placed);
    size_t total = 0;
    if (!items || !placed) {
        /* no memory for planning: give every buffer its own place */
        for (int i = 0; i < n; i++) {
            offset[i] = total;
            total += (size[i] + 63) & ~(size_t)63;
        }
        goto out;
    }
    for (int i = 0; i < n; i++)
        items[i] = (struct item){i, (size[i] + 63) & ~(size_t)63};
    qsort(items, (size_t)n, sizeof *items, by_size_desc);
    int n_placed = 0;
    for (int k = 0; k < n; k++) {
        int i = items[k].id;
        size_t sz = items[k].size, at = 0;
        if (sz == 0) {
            offset[i] = 0;
            continue;
        }
        /* restart the scan whenever the candidate collides; placed sets are small */
        bool moved = true;
        while (moved) {
            moved = false;
            for (int p = 0; p < n_placed; p++) {
                int j = placed[p];
                bool time_overlap = start[i] <= end[j] && start[j] <= end[i];
                size_t jsz = (size[j] + 63) & ~(size_t)63;
                if (time_overlap && at < offset[j] + jsz && offset[j] < at + sz) {
                    at = offset[j] + jsz;
                    moved = true;
                }
            }
        }
        offset[i] = at;
        placed[n_placed++] = i;
        if (at + sz > total)
            total = at + sz;
    }
out:
    nncw_free(items);
    nncw_free(placed);
    return total;
}
