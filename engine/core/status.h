/*
 * Status codes and the thread-local error detail.
 *
 *     enum nncw_status s = nncw_graph_new(&g);
 *     if (s != NNCW_OK)
 *         fprintf(stderr, "%s: %s\n", nncw_status_str(s), nncw_last_error());
 *
 * Every engine function that can fail for a reason the user can cause returns a status and
 * records a message naming the culprit with NNCW_FAIL. Read nncw_last_error() right after.
 */
#pragma once

enum nncw_status {
    NNCW_OK = 0,
    NNCW_ERR_NOMEM,
    NNCW_ERR_INVALID_ARG,
    NNCW_ERR_SHAPE,
    NNCW_ERR_DTYPE,
    NNCW_ERR_UNSUPPORTED,
    NNCW_ERR_IO,
    NNCW_ERR_PARSE,
    NNCW_ERR_NOT_FOUND,
    NNCW_ERR_CANCELLED,
    NNCW_ERR_NUMERIC,
    NNCW_ERR_INTERNAL,
    NNCW_STATUS_COUNT
};

/* short fixed name of a status, e.g. "shape error" */
const char *nncw_status_str(enum nncw_status s);

/* detail of the most recent failure on this thread; "" if none */
const char *nncw_last_error(void);

/* records the code and a printf-style message; returns code */
enum nncw_status nncw_error_set(enum nncw_status code, const char *file, int line, const char *fmt,
                                ...) __attribute__((format(printf, 4, 5)));

/* clears the detail (tests use it) */
void nncw_error_clear(void);

#define NNCW_FAIL(code, ...) nncw_error_set((code), __FILE__, __LINE__, __VA_ARGS__)

/* returns early on failure; only where there is nothing to release */
#define NNCW_TRY(expr)                                                                             \
    do {                                                                                           \
        enum nncw_status nncw_try_s_ = (expr);                                                     \
        if (nncw_try_s_ != NNCW_OK)                                                                \
            return nncw_try_s_;                                                                    \
    } while (0)
