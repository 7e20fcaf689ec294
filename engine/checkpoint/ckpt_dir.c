/*
** Checkpoint folders: DIR/ckpt-<global step>.nncw files, the newest K kept. The newest good
** one is found by reading the files themselves (magic, CRC, version), newest first, so a file a
** crash damaged, or a temporary file a kill left behind, is never taken for the latest: no
** "latest" pointer file is written at all.
*/
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint/checkpoint_internal.h"
#include "core/alloc.h"
#include "core/log.h"

#define PREFIX "ckpt-"
#define SUFFIX ".nncw"

/* the step of a checkpoint file name, or -1 (temporary files end in ".tmpXXXXXX") */
static int64_t step_of(const char *name)
{
    size_t n = strlen(name), p = strlen(PREFIX), s = strlen(SUFFIX);
    if (n <= p + s || strncmp(name, PREFIX, p) != 0 || strcmp(name + n - s, SUFFIX) != 0)
        return -1;
    int64_t v = 0;
    for (size_t i = p; i < n - s; i++) {
        if (name[i] < '0' || name[i] > '9' || v > INT64_MAX / 10 - 10)
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

static bool is_leftover(const char *name)
{
    return !strncmp(name, PREFIX, strlen(PREFIX)) && strstr(name, SUFFIX ".tmp") != NULL;
}

static int by_step_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

/* the steps of the checkpoint files in dir, newest first (caller frees *steps) */
static enum nncw_status list_steps(const char *dir, int64_t **steps, int *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return NNCW_FAIL(errno == ENOENT ? NNCW_ERR_NOT_FOUND : NNCW_ERR_IO,
                         "checkpoint folder '%s': %s", dir, strerror(errno));
    int count = 0, cap = 16;
    int64_t *v = nncw_malloc((size_t)cap * sizeof *v);
    enum nncw_status s = v ? NNCW_OK : NNCW_FAIL(NNCW_ERR_NOMEM, "checkpoint: out of memory");
    for (struct dirent *e; s == NNCW_OK && (e = readdir(d));) {
        int64_t step = step_of(e->d_name);
        if (step < 0)
            continue;
        if (count == cap) {
            int64_t *grown = nncw_realloc(v, (size_t)(cap *= 2) * sizeof *v);
            if (!grown) {
                s = NNCW_FAIL(NNCW_ERR_NOMEM, "checkpoint: out of memory");
                break;
            }
            v = grown;
        }
        v[count++] = step;
    }
    closedir(d);
    if (s != NNCW_OK) {
        nncw_free(v);
        return s;
    }
    qsort(v, (size_t)count, sizeof *v, by_step_desc);
    *steps = v;
    *n = count;
    return NNCW_OK;
}

static char *file_path(const char *dir, int64_t step)
{
    size_t need = strlen(dir) + strlen(PREFIX) + strlen(SUFFIX) + 24;
    char *p = nncw_malloc(need);
    if (p)
        snprintf(p, need, "%s/" PREFIX "%" PRId64 SUFFIX, dir, step);
    return p;
}

/* removes the files past the newest keep, and temporary files a crash left */
static void prune(const char *dir, int keep)
{
    int64_t *steps = NULL;
    int n = 0;
    if (list_steps(dir, &steps, &n) == NNCW_OK)
        for (int i = keep; i < n; i++) {
            char *p = file_path(dir, steps[i]);
            if (p && unlink(p) != 0)
                nncw_log(NNCW_LOG_WARN, "checkpoint: cannot remove old '%s': %s", p,
                         strerror(errno));
            nncw_free(p);
        }
    nncw_free(steps);
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!is_leftover(e->d_name))
            continue;
        size_t need = strlen(dir) + strlen(e->d_name) + 2;
        char *p = nncw_malloc(need);
        if (p) {
            snprintf(p, need, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        nncw_free(p);
    }
    if (d)
        closedir(d);
}

enum nncw_status nncw_checkpoint_dir_save(const char *dir, int64_t step, int keep,
                                          const struct nncw_checkpoint_parts *p, char **path_out)
{
    if (step < 0)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "checkpoint: step %lld", (long long)step);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return NNCW_FAIL(NNCW_ERR_IO, "checkpoint folder '%s': cannot create it: %s", dir,
                         strerror(errno));
    char *path = file_path(dir, step);
    if (!path)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "checkpoint: out of memory");
    enum nncw_status s = nncw_checkpoint_write(path, p);
    if (s == NNCW_OK)
        prune(dir, keep < 1 ? NNCW_CHECKPOINT_KEEP : keep);
    if (s == NNCW_OK && path_out)
        *path_out = path;
    else
        nncw_free(path);
    return s;
}

enum nncw_status nncw_checkpoint_dir_find_latest(const char *dir, char **path_out)
{
    int64_t *steps = NULL;
    int n = 0;
    NNCW_TRY(list_steps(dir, &steps, &n));
    enum nncw_status s = NNCW_FAIL(NNCW_ERR_NOT_FOUND,
                                   "checkpoint folder '%s' holds no readable checkpoint "
                                   "(ckpt-<step>.nncw)",
                                   dir);
    for (int i = 0; i < n; i++) {
        char *p = file_path(dir, steps[i]);
        struct nncw_checkpoint *ck = NULL;
        if (!p) {
            s = NNCW_FAIL(NNCW_ERR_NOMEM, "checkpoint: out of memory");
            break;
        }
        if (nncw_checkpoint_read(p, &ck) == NNCW_OK) {
            nncw_checkpoint_free(ck);
            *path_out = p;
            s = NNCW_OK;
            break;
        }
        nncw_log(NNCW_LOG_WARN, "checkpoint: skipping '%s': %s", p, nncw_last_error());
        nncw_free(p);
    }
    nncw_free(steps);
    return s;
}
