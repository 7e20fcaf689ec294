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
