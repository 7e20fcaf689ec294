/* Strict command-line value parsing: every failure prints one message naming the option. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* each returns false after printing "nncw <cmd>: <option> must be ..., got '<text>'" */
bool app_parse_int(const char *cmd, const char *opt, const char *text, long min, long max,
                   long *out);
bool app_parse_float(const char *cmd, const char *opt, const char *text, double min, double max,
                     double *out);
/* the value of an option at argv[*i], advancing *i; NULL (after a message) if missing */
const char *app_option_value(const char *cmd, int argc, char **argv, int *i);

/* The option loop of a subcommand:
 *     for (int i = 1; i < argc; i++) {
 *         const char *o = argv[i], *v = NULL;
 *         long n;
 *         double x;
 *         if (!strcmp(o, "--epochs")) APP_OPT_INT(a->epochs, 1, 100000); ...
 * with `cmd` naming the command; each macro takes the option's value into field, or returns 2
 * from the parsing function after one message naming the option. */
#define APP_OPT_VALUE()                                                                            \
    do {                                                                                           \
        if (!(v = app_option_value(cmd, argc, argv, &i)))                                          \
            return 2;                                                                              \
    } while (0)
#define APP_OPT_STRING(field)                                                                      \
    do {                                                                                           \
        APP_OPT_VALUE();                                                                           \
        field = v;                                                                                 \
    } while (0)
#define APP_OPT_INT(field, lo, hi)                                                                 \
    do {                                                                                           \
        if (!(v = app_option_value(cmd, argc, argv, &i)) || !app_parse_int(cmd, o, v, lo, hi, &n)) \
            return 2;                                                                              \
        field = n;                                                                                 \
    } while (0)
#define APP_OPT_FLOAT(field, lo, hi)                                                               \
    do {                                                                                           \
        if (!(v = app_option_value(cmd, argc, argv, &i)) ||                                        \
            !app_parse_float(cmd, o, v, lo, hi, &x))                                               \
            return 2;                                                                              \
        field = x;                                                                                 \
    } while (0)
