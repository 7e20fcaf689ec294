#include "core/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { ALIGN = 64 };

static _Thread_local long fail_countdown;

void nncw_alloc_fail_after(long n)
{
    fail_countdown = n > 0 ? n : 0;
}

static int should_fail(void)
{
    if (fail_countdown <= 0)
        return 0;
    return --fail_countdown == 0;
}

/* a header before the aligned block records the block's size, for realloc */
struct block_header {
    size_t nbytes;
    char pad[ALIGN - sizeof(size_t)];
};

void *nncw_malloc(size_t nbytes)
{
    if (should_fail() || nbytes > SIZE_MAX - sizeof(struct block_header))
        return NULL;
    void *p = NULL;
    if (posix_memalign(&p, ALIGN, sizeof(struct block_header) + (nbytes ? nbytes : 1)) != 0)
        return NULL;
    struct block_header *h = p;
    h->nbytes = nbytes;
    return h + 1;
}

void *nncw_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = nncw_malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *nncw_realloc(void *p, size_t nbytes)
{
    if (!p)
        return nncw_malloc(nbytes);
    struct block_header *h = (struct block_header *)p - 1;
    void *q = nncw_malloc(nbytes);
    if (!q)
        return NULL;
    memcpy(q, p, h->nbytes < nbytes ? h->nbytes : nbytes);
    nncw_free(p);
    return q;
}

void nncw_free(void *p)
{
    if (p)
        free((struct block_header *)p - 1);
}

char *nncw_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = nncw_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}
