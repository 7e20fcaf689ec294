/* Reading a bounded text file whole (hardware configs given by path). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compression/quantization/quantization_internal.h"
#include "core/alloc.h"

enum nncw_status nncw_quant_read_text_file(const char *path, const char *what, size_t max_bytes,
                                           char **out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NNCW_FAIL(NNCW_ERR_IO, "%s '%s': %s", what, path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    enum nncw_status s = NNCW_OK;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *p = nncw_realloc(buf, cap);
            if (!p) {
                s = NNCW_FAIL(NNCW_ERR_NOMEM, "%s '%s': out of memory", what, path);
                break;
            }
            buf = p;
        }
        size_t n = fread(buf + len, 1, 4096, f);
        len += n;
        if (len > max_bytes) {
            s = NNCW_FAIL(NNCW_ERR_PARSE, "%s '%s': larger than %zu bytes", what, path, max_bytes);
            break;
        }
        if (n < 4096) {
            if (ferror(f))
                s = NNCW_FAIL(NNCW_ERR_IO, "%s '%s': read error", what, path);
            break;
        }
    }
    fclose(f);
    if (s == NNCW_OK && memchr(buf, '\0', len))
        s = NNCW_FAIL(NNCW_ERR_PARSE, "%s '%s': not a text file (contains NUL bytes)", what, path);
    if (s != NNCW_OK) {
        nncw_free(buf);
        return s;
    }
    buf[len] = '\0';
    *out = buf;
    return NNCW_OK;
}
