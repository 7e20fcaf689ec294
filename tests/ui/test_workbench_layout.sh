#!/usr/bin/env bash
# The workbench's layout and terminal handling: all panels at 120x36, one panel under a tab
# row at 80x24 and back after a resize, tiny terminals, the help overlay, NO_COLOR and an
# ASCII locale (no colour codes, no non-ASCII characters), Tab between panels, and SIGTERM
# and SIGINT restoring the terminal. Usage: test_workbench_layout.sh path/to/nncw
set -u
. "$(dirname "$0")/tmux.sh"
wb_init wb "$1"
# SGR colour parameters (foreground, background, bright, 256/true colour) in capture-pane -e
COLOUR='\x1b\[(?:[0-9]+;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9]+)*m'
colour_codes() { $T capture-pane -e -p -t "$SESSION" | grep -qP -- "$COLOUR"; }
no_colour_codes() { ! colour_codes; }

# start COLUMNS ROWS ENV...: synthetic data whatever is installed, the terminal's modes after
start() {
    local cols=$1 rows=$2
    shift 2
    wb_launch "$cols" "$rows" "env $* $NNCW workbench --data synthetic" "$WB_AFTER_TTY"
}

all_panels() { # all five panel frames are on the screen
    local s
    s=$(screen)
    for p in Graph Inspector Training Console Log; do grep -Eq -- "[-─] $p( |$)" <<<"$s" || return 1; done
}

# ---- monochrome, ASCII ----
start 120 36 LC_ALL=C NO_COLOR=1
wait_for "the workbench starts (ASCII frames)" "^\+- Graph  model: 10 nodes" 180 || wb_abort
wait_idle "the session is idle" 180
check "all five panels at 120x36" all_panels
check "NO_COLOR: no colour codes" no_colour_codes
only_ascii() { ! screen | LC_ALL=C grep -qP '[^\x00-\x7F]'; }
check "an ASCII locale: only ASCII on the screen" only_ascii
check "the status line shows the main keys" \
    on_screen '^F1 Help  Tab Panel  / Search  t Train  x Cancel  s Save  o Open'

# ---- resize to 80x24 and back ----
resize 80 24
wait_for "80x24: one panel under a tab row" "^ 1 Graph   2 Inspector   3 Training   4 Console   5 Log" 10
check "80x24: the graph still lists the nodes" on_screen 'conv1 +Conv +\[1, 32, 26, 26\]'
status_line_fits() { screen | tail -1 | grep -Eq '^F1 Help .*q Quit *$'; }
check "80x24: the status line fits" status_line_fits
keys Tab
wait_for "Tab focuses the next panel (the Inspector)" "^\+- Inspector  CNN/conv1" 5
keys Tab Tab
wait_for "two more: the Console" "^\+- Console" 5
keys Escape
wait_for "Esc leaves the Console for the Graph" "^\+- Graph" 5
resize 60 20
wait_for "60x20 still draws a panel" "^\+- Graph" 10
resize 30 8
wait_for "30x8 says the terminal is too small" "terminal too small" 10
resize 120 36
wait_for "back to 120x36" "^\+- Graph  model" 10
check "all five panels again" all_panels

# ---- help overlay, zoom ----
keys F1
wait_for "F1 shows the help, generated from the key table" "Keys everywhere" 5
wait_for "the help lists the Graph panel's keys" "Keys of the Graph panel" 5
keys Escape
wait_gone "any key closes the help" "Keys everywhere" 5
keys z
wait_for "z zooms the focused panel" "^\+- Graph  model.*-\+$" 5
check "zoomed: the other panels are hidden" off_screen '- Training'
keys z
wait_for "z again: all panels" "- Training" 5

# ---- q quits at once when nothing runs; the terminal is restored ----
keys q
wait_exit "q quits with status 0" 0 20
wait_tty_restored "the terminal is restored after q"

# ---- colours and UTF-8 by default ----
start 120 36 LC_ALL=C.UTF-8
wait_for "UTF-8: box-drawing frames" "^┌─ Graph  model" 180
check "colours are used without NO_COLOR" colour_codes

# ---- signals restore the terminal ----
# nncw runs under the pane's shell (env execs it)
pid_of_nncw() { pgrep -P "$($T display -p -t $SESSION '#{pane_pid}')" | head -1; }
pid=$(pid_of_nncw)
check "found the workbench's process" test -n "$pid"
kill -TERM "$pid" 2>/dev/null
wait_exit "SIGTERM ends it (status 143)" 143 20
wait_tty_restored "the terminal is restored after SIGTERM"
check "no alternate screen is left" test "$($T display -p -t $SESSION '#{alternate_on}')" = 0
start 120 36 LC_ALL=C.UTF-8
wait_for "restarted" "Graph  model" 180
wait_idle "idle again" 180
keys t
type_text 1000
keys Enter
wait_for "a run is going" "run 1 running" 120
pid=$(pid_of_nncw)
kill -INT "$pid" 2>/dev/null
wait_exit "SIGINT during a run ends it (status 130)" 130 30
wait_tty_restored "the terminal is restored after SIGINT"

# ---- without a terminal: no workbench, a clear message ----
out=$("$NNCW" </dev/null 2>&1)
rc=$?
check "no terminal: nncw prints the usage and exits 2" test "$rc" -eq 2 -a -n "$(grep 'usage: nncw' <<<"$out")"
out=$("$NNCW" workbench </dev/null 2>&1)
rc=$?
check "no terminal: nncw workbench says it needs one" test "$rc" -eq 2 -a -n "$(grep 'needs a terminal' <<<"$out")"
out=$("$NNCW" --no-tui 2>&1)
rc=$?
check "--no-tui: the usage" test "$rc" -eq 2 -a -n "$(grep 'usage: nncw' <<<"$out")"
out=$("$NNCW" --no-tui version 2>&1)
check "--no-tui keeps the subcommands" grep -q "^nncw [0-9]" <<<"$out"
finish
