#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

bool app_parse_int(const char *cmd, const char *opt, const char *text, long min, long max,
                   long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        if (min == 1)
            fprintf(stderr, "nncw %s: %s must be a positive integer (at most %ld), got '%s'\n",
                    cmd, opt, max, text);
        else
            fprintf(stderr, "nncw %s: %s must be an integer from %ld to %ld, got '%s'\n", cmd, opt,
                    min, max, text);
        return false;
    }
    *out = v;
    return true;
}

bool app_parse_float(const char *cmd, const char *opt, const char *text, double min, double max,
                     double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < min || v > max) {
        fprintf(stderr, "nncw %s: %s must be a number from %g to %g, got '%s'\n", cmd, opt, min,
                max, text);
        return false;
    }
    *out = v;
    return true;
}

const char *app_option_value(const char *cmd, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "nncw %s: option %s needs a value (see 'nncw %s --help')\n", cmd,
                argv[*i], cmd);
        return NULL;
    }
    return argv[++*i];
}
