/* Small shared helpers: array length, always-on invariant checks, min/max. */
#pragma once

#include <stddef.h>

#define NNCW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Invariants the engine guarantees itself; never for anything a user can trigger. */
#define NNCW_ASSERT(x)                                                                             \
    do {                                                                                           \
        if (!(x))                                                                                  \
            nncw_abort(__FILE__, __LINE__, #x);                                                    \
    } while (0)

typedef void (*nncw_abort_hook_fn)(void);

/* the UI installs a hook that restores the terminal before an abort */
void nncw_set_abort_hook(nncw_abort_hook_fn fn);
_Noreturn void nncw_abort(const char *file, int line, const char *what);

static inline int nncw_imin(int a, int b)
{
    return a < b ? a : b;
}

static inline int nncw_imax(int a, int b)
{
    return a > b ? a : b;
}
