/*
 * The workbench session: one Lua state with the nncw module and the REPL core, driven by a
 * worker thread, so long work (training) never blocks the UI. Every action of the workbench
 * is a line of Lua submitted here, exactly as if typed at the REPL: it is echoed in the
 * Console, journaled when it succeeds, and `:save FILE` writes the journal as a script that
 * `nncw run FILE` replays. What the panels show is kept behind locks for the UI thread: the
 * Console and Log lines, a view of the graph in the global `model` (rebuilt after each
 * action), a view of the compression in the global `comp` (likewise), and the current
 * training run's metrics and compression series (fed by the training observer).
 *
 *     struct session *s;
 *     if (session_new(&s) != 0) return 1;                 // says why on stderr
 *     int tty = session_capture_output(s);                // stdout/stderr into the Console
 *     session_submit(s, "model = nncw.zoo.cnn{seed = 1}", true);
 *     ... UI loop: session_get_status, session_get_graph, train_history_copy ...
 *     session_pause(s, true);                              // holds a run after its step
 *     session_pause(s, false);                             // ... and lets it go on
 *     session_cancel(s);                                   // stops a run after its step
 *     session_free(s);                                     // waits for the worker
 *
 * ui/ talks to Lua only through this API (it never includes lua.h).
 */
#pragma once

#include <stdbool.h>

#include "aat_trace.h"
#include "compression_view.h"
#include "graph_view.h"
#include "line_ring.h"
#include "train_history.h"

struct session;

/* what the UI polls */
struct session_status {
    bool busy;            /* a line is running */
    bool more;            /* the last line was an incomplete chunk: the prompt is ">> " */
    bool quit;            /* :quit was entered */
    int queued;           /* lines waiting behind the running one */
    unsigned done;        /* lines finished so far */
    unsigned errors;      /* of which failed */
    char running[256];    /* the running line (first line of it) */
    char last_error[256]; /* the first line of the newest error */
    bool training;        /* the running line is in a training run */
    bool pausing;         /* a pause of that run is asked for (it holds after its step) */
    bool paused;          /* ... and the run is held now: its clocks stop */
};

/* a session with a fresh Lua state; -1 after a message on stderr */
int session_new(struct session **out);
/* stops the worker (cancelling running work and waiting for it), restores captured output,
 * closes Lua */
void session_free(struct session *s);

/* sends standard output and error into the Console/Log (see capture.h) until session_free;
 * returns a descriptor of the original standard output (the terminal) or -1 */
int session_capture_output(struct session *s);
/* puts descriptors 1 and 2 back at once (for a process about to die; async-signal-safe) */
void session_restore_output(struct session *s);

/* runs a line as the Console would (Lua, or a REPL command such as ":save f.lua"). With
 * queue false it is refused (false) while other work runs or waits */
bool session_submit(struct session *s, const char *line, bool queue);
/* stops the running line (a training run after its current step, a Lua loop at once) and
 * drops the lines waiting behind it */
void session_cancel(struct session *s);
void session_get_status(struct session *s, struct session_status *out);
/* pause true: holds the running training run (plain, compressed or accuracy-aware) after
 * its current step, until session_pause(s, false) or a cancel; nothing is lost and the run
 * ends with the numbers it would have had. False when no training run is going (pause only).
 * While held, other lines wait in the queue (the UI refuses them, as during a run) */
bool session_pause(struct session *s, bool pause);

struct line_ring *session_console(struct session *s);
struct line_ring *session_log(struct session *s);
struct train_history *session_history(struct session *s);
/* the newest view of the global `model` (a new reference; NULL when it is not a Graph) */
struct graph_view *session_get_graph(struct session *s);
/* the newest view of the global `comp` (a new reference; NULL when it is not an open
 * Compression) */
struct compression_view *session_get_compression(struct session *s);
/* the compression loss and level of the current run, point by point */
struct compression_trace *session_compression_trace(struct session *s);
/* the accuracy-aware side of the current run (budget, rate steps, best point) */
struct aat_trace *session_aat_trace(struct session *s);
/* the REPL's prompt for the next line: "> " or ">> " */
const char *session_prompt(struct session *s);
