/*
 * Number and time formatting for the panels; pure functions (no curses), tested as plain C.
 *
 *     char b[32];
 *     ui_fmt_count(225034, b, sizeof b);       // "225,034"
 *     ui_fmt_si(389376, b, sizeof b);          // "389.4k"
 *     ui_fmt_duration(75.4, b, sizeof b);      // "1:15"
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* 1234567 -> "1,234,567" */
char *ui_fmt_count(int64_t v, char *buf, size_t size);
/* 389376 -> "389.4k", 1.8e9 -> "1.8G", 320 -> "320", 0 -> "0" */
char *ui_fmt_si(double v, char *buf, size_t size);
/* seconds -> "0:07", "12:05", "1:02:03"; NaN or negative -> "--:--" */
char *ui_fmt_duration(double s, char *buf, size_t size);
/* a progress bar of width cells filled to fraction, with '#'/'-' or the given glyphs */
char *ui_fmt_bar(double fraction, int width, const char *full, const char *empty, char *buf,
                 size_t size);
