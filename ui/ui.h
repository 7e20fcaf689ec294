/*
 * The ncurses workbench (htop's ScreenManager): panels for the graph, the selected node, the
 * training run, the Lua console and the log, over a session that runs every action as Lua.
 *
 *     int tty = session_capture_output(s);
 *     int status = ui_run(s, tty);       // returns when the user quits (or a signal asks)
 */
#pragma once

#include "session.h"

/* runs the workbench on the terminal behind tty_fd until the user quits; returns the exit
 * status (0, 1 when the terminal cannot be used, 128 + signal when a signal ended it) */
int ui_run(struct session *s, int tty_fd);
/* leaves curses mode at once, for a process about to die (the engine's abort hook) */
void ui_emergency_restore(void);
