#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/common.h"

static _Thread_local char last_error[1024];

static const char *const status_names[] = {
    [NNCW_OK] = "ok",
    [NNCW_ERR_NOMEM] = "out of memory",
    [NNCW_ERR_INVALID_ARG] = "invalid argument",
    [NNCW_ERR_SHAPE] = "shape error",
    [NNCW_ERR_DTYPE] = "dtype error",
    [NNCW_ERR_UNSUPPORTED] = "unsupported",
    [NNCW_ERR_IO] = "I/O error",
    [NNCW_ERR_PARSE] = "parse error",
    [NNCW_ERR_NOT_FOUND] = "not found",
    [NNCW_ERR_CANCELLED] = "cancelled",
    [NNCW_ERR_NUMERIC] = "numeric error",
    [NNCW_ERR_INTERNAL] = "internal error",
};
_Static_assert(NNCW_ARRAY_LEN(status_names) == NNCW_STATUS_COUNT, "status_names out of date");

const char *nncw_status_str(enum nncw_status s)
{
    if ((unsigned)s >= NNCW_STATUS_COUNT)
        return "unknown status";
    return status_names[s];
}

const char *nncw_last_error(void)
{
    return last_error;
}

void nncw_error_clear(void)
{
    last_error[0] = '\0';
}

enum nncw_status nncw_error_set(enum nncw_status code, const char *file, int line, const char *fmt,
                                ...)
{
    (void)file;
    (void)line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}
