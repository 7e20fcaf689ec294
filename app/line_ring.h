/*
 * A bounded, thread-safe list of text lines: the workbench's Console and Log. Writers (the Lua
 * worker, the output drain, the engine's log handler) append from any thread; the UI reads
 * lines by absolute number, so a scrolled view stays put while new lines arrive.
 *
 *     struct line_ring *r = line_ring_new(5000);
 *     line_ring_add(r, LINE_ERROR, "nncw.train: argument 'data' must be a Dataset");
 *     long first = line_ring_first(r), end = line_ring_end(r);   // lines [first, end)
 *     char buf[256];
 *     enum line_kind k;
 *     if (line_ring_get(r, end - 1, &k, buf, sizeof buf)) ...
 *     line_ring_free(r);
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum line_kind {
    LINE_OUTPUT, /* what code printed */
    LINE_INPUT,  /* code that ran (echoed with its prompt) */
    LINE_ERROR,  /* errors */
    LINE_WARN,   /* warnings */
    LINE_INFO,   /* the workbench's own notes */
    LINE_KIND_COUNT
};

struct line_ring;

/* keeps the last `capacity` lines; NULL when out of memory */
struct line_ring *line_ring_new(long capacity);
void line_ring_free(struct line_ring *r);

/* appends text, split at newlines (one line per piece; a trailing newline adds none) */
void line_ring_add(struct line_ring *r, enum line_kind kind, const char *text);
/* appends a formatted line */
void line_ring_addf(struct line_ring *r, enum line_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* the oldest kept line's number and one past the newest; numbers never repeat */
long line_ring_first(const struct line_ring *r);
long line_ring_end(const struct line_ring *r);
/* copies line n (truncated to size - 1 bytes); false when it is no longer (or not yet) kept */
bool line_ring_get(const struct line_ring *r, long n, enum line_kind *kind, char *buf, size_t size);
/* drops every line (numbers go on) */
void line_ring_clear(struct line_ring *r);
