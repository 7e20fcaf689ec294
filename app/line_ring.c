/* A bounded ring of text lines shared between threads (the Console and the Log). */
#include "line_ring.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct line {
    enum line_kind kind;
    char *text;
};

struct line_ring {
    pthread_mutex_t mu; /* readers lock it too: the queries take a const ring but lock */
    struct line *lines; /* lines[n % capacity] holds line n */
    long capacity;
    long first, end;
};

struct line_ring *line_ring_new(long capacity)
{
    struct line_ring *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->capacity = capacity > 0 ? capacity : 1;
    r->lines = calloc((size_t)r->capacity, sizeof *r->lines);
    if (!r->lines) {
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

void line_ring_free(struct line_ring *r)
{
    if (!r)
        return;
    for (long i = 0; i < r->capacity; i++)
        free(r->lines[i].text);
    free(r->lines);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static void lock(const struct line_ring *r)
{
    pthread_mutex_lock((pthread_mutex_t *)&r->mu);
}

static void unlock(const struct line_ring *r)
{
    pthread_mutex_unlock((pthread_mutex_t *)&r->mu);
}

/* appends one line of len bytes; called locked. A line that cannot be copied (no memory) is
 * kept empty rather than dropped, so numbering stays exact. */
static void push(struct line_ring *r, enum line_kind kind, const char *text, size_t len)
{
    struct line *l = &r->lines[r->end % r->capacity];
    free(l->text);
    l->kind = kind;
    l->text = malloc(len + 1);
    if (l->text) {
        memcpy(l->text, text, len);
        l->text[len] = '\0';
        /* tabs would make column arithmetic wrong in the panels: one space each */
        for (char *p = l->text; (p = strchr(p, '\t')); p++)
            *p = ' ';
    }
    r->end++;
    if (r->end - r->first > r->capacity)
        r->first = r->end - r->capacity;
}

void line_ring_add(struct line_ring *r, enum line_kind kind, const char *text)
{
    if (!r || !text)
        return;
    lock(r);
    for (;;) {
        size_t n = strcspn(text, "\n");
        if (n > 0 && text[n - 1] == '\r')
            push(r, kind, text, n - 1);
        else if (n > 0 || text[n] == '\n')
            push(r, kind, text, n);
        if (text[n] != '\n' || text[n + 1] == '\0')
            break;
        text += n + 1;
    }
    unlock(r);
}

void line_ring_addf(struct line_ring *r, enum line_kind kind, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    line_ring_add(r, kind, buf);
}

long line_ring_first(const struct line_ring *r)
{
    lock(r);
    long n = r->first;
    unlock(r);
    return n;
}

long line_ring_end(const struct line_ring *r)
{
    lock(r);
    long n = r->end;
    unlock(r);
    return n;
}

bool line_ring_get(const struct line_ring *r, long n, enum line_kind *kind, char *buf, size_t size)
{
    lock(r);
    bool ok = n >= r->first && n < r->end;
    if (ok) {
        const struct line *l = &r->lines[n % r->capacity];
        if (kind)
            *kind = l->kind;
        snprintf(buf, size, "%s", l->text ? l->text : "");
    }
    unlock(r);
    return ok;
}

void line_ring_clear(struct line_ring *r)
{
    lock(r);
    r->first = r->end;
    unlock(r);
}
