/*
 * Captures the process's standard output and error while the workbench owns the terminal:
 * file descriptors 1 and 2 become pipes that a thread drains into line rings, so what Lua's
 * print, the REPL core and any library write lands in the Console and the Log instead of
 * over the curses screen. The terminal itself stays reachable through the descriptor that
 * capture_start returns.
 *
 *     int tty = capture_start(&cap, console, log);   // -1: nothing changed (errno set)
 *     ... newterm(NULL, fdopen(tty, "w"), stdin) ...
 *     capture_stop(&cap);                              // descriptors 1 and 2 restored
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>

#include "line_ring.h"

struct capture {
    int saved_out, saved_err; /* the original descriptors 1 and 2 */
    int out_pipe, err_pipe;   /* read ends */
    pthread_t thread;
    bool running;
    struct line_ring *console, *log;
};

/* standard output goes to console, standard error to console and log (as errors); returns a
 * new descriptor for the original standard output (the terminal), or -1 */
int capture_start(struct capture *c, struct line_ring *console, struct line_ring *log);
/* restores descriptors 1 and 2, drains what is left and joins the thread */
void capture_stop(struct capture *c);
/* restores descriptors 1 and 2 only: for a process about to die (async-signal-safe) */
void capture_restore_fds(const struct capture *c);
