/* Formatting of counts, SI sizes, durations and bars. */
#include "fmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

char *ui_fmt_count(int64_t v, char *buf, size_t size)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", (long long)(v < 0 ? -v : v));
    size_t n = strlen(digits), k = 0;
    char out[48];
    if (v < 0)
        out[k++] = '-';
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = digits[i];
    }
    out[k] = '\0';
    snprintf(buf, size, "%s", out);
    return buf;
}

char *ui_fmt_si(double v, char *buf, size_t size)
{
    static const char units[] = " kMGTP";
    double a = fabs(v);
    int u = 0;
    while (a >= 999.95 && u < 5) {
        a /= 1000;
        v /= 1000;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%.4g", v);
    else
        snprintf(buf, size, "%.1f%c", v, units[u]);
    return buf;
}

char *ui_fmt_duration(double s, char *buf, size_t size)
{
    if (!(s >= 0) || s > 1e8) {
        snprintf(buf, size, "--:--");
        return buf;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
    return buf;
}

char *ui_fmt_bar(double fraction, int width, const char *full, const char *empty, char *buf,
                 size_t size)
{
    if (!(fraction >= 0))
        fraction = 0;
    if (fraction > 1)
        fraction = 1;
    int filled = (int)(fraction * width + 0.5);
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < width; i++) {
        const char *g = i < filled ? (full ? full : "#") : (empty ? empty : "-");
        size_t n = strlen(g);
        if (k + n + 1 > size)
            break;
        memcpy(buf + k, g, n);
        k += n;
    }
    buf[k] = '\0';
    return buf;
}
