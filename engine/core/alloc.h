/*
 * Allocation wrappers: 64-byte aligned (SIMD, OpenBLAS), with a test hook that fails the
 * N-th allocation so out-of-memory paths can be tested.
 *
 *     float *w = nncw_malloc(n * sizeof *w);   // NULL on failure
 *     nncw_free(w);
 */
#pragma once

#include <stddef.h>

void *nncw_malloc(size_t nbytes);
void *nncw_calloc(size_t count, size_t size);
/* grows or shrinks; the old block stays valid if NULL is returned */
void *nncw_realloc(void *p, size_t nbytes);
void nncw_free(void *p);
char *nncw_strdup(const char *s);

/* test hook: the n-th allocation from now fails (n = 1: the next one); n <= 0 disables */
void nncw_alloc_fail_after(long n);
