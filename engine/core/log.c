#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/common.h"

static const char *const level_names[] = {"debug", "info", "warning", "error"};
_Static_assert(NNCW_ARRAY_LEN(level_names) == NNCW_LOG_LEVEL_COUNT, "level_names out of date");

static void default_handler(void *user, enum nncw_log_level level, const char *msg)
{
    (void)user;
    fprintf(stderr, "nncw: %s: %s\n", level_names[level], msg);
}

static nncw_log_fn handler = default_handler;
static void *handler_user;
static enum nncw_log_level min_level = NNCW_LOG_INFO;

void nncw_log_set_handler(nncw_log_fn fn, void *user)
{
    handler = fn ? fn : default_handler;
    handler_user = fn ? user : NULL;
}

void nncw_log_set_level(enum nncw_log_level level)
{
    min_level = level;
}

const char *nncw_log_level_str(enum nncw_log_level level)
{
    return (unsigned)level < NNCW_LOG_LEVEL_COUNT ? level_names[level] : "?";
}

void nncw_log(enum nncw_log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    handler(handler_user, level, msg);
}
