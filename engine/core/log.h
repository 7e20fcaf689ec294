/*
 * Logging through a replaceable handler; the engine never prints by itself.
 *
 *     nncw_log_set_handler(my_handler, my_state);   // UI: append to the log ring
 *     nncw_log(NNCW_LOG_WARN, "config: unknown key '%s'", key);
 *
 * The default handler writes to stderr (the one place in the engine that does).
 */
#pragma once

enum nncw_log_level {
    NNCW_LOG_DEBUG,
    NNCW_LOG_INFO,
    NNCW_LOG_WARN,
    NNCW_LOG_ERROR,
    NNCW_LOG_LEVEL_COUNT
};

typedef void (*nncw_log_fn)(void *user, enum nncw_log_level level, const char *msg);

/* fn NULL restores the default handler */
void nncw_log_set_handler(nncw_log_fn fn, void *user);
/* messages below this level are dropped (default NNCW_LOG_INFO) */
void nncw_log_set_level(enum nncw_log_level level);
void nncw_log(enum nncw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *nncw_log_level_str(enum nncw_log_level level);
