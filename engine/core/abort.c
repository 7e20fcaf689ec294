#include "core/common.h"

#include <stdio.h>
#include <stdlib.h>

static nncw_abort_hook_fn abort_hook;

void nncw_set_abort_hook(nncw_abort_hook_fn fn)
{
    abort_hook = fn;
}

/* the one other place besides the default log handler where the engine writes to stderr:
 * an engine invariant broke and the process is about to die */
_Noreturn void nncw_abort(const char *file, int line, const char *what)
{
    if (abort_hook)
        abort_hook();
    fprintf(stderr, "nncw: internal error at %s:%d: assertion '%s' failed\n", file, line, what);
    abort();
}
