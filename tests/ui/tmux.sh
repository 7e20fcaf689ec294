# Shared by the workbench's end-to-end tests: a private tmux server, the workbench started in
# it and waited for, screen captures, waiting for text with a deadline (never a fixed long
# sleep), typing, :save and the replay of the saved session, and the closing count line.
# A script begins
#     set -u
#     . "$(dirname "$0")/tmux.sh"
#     wb_init SESSION "$1"      # NNCW, TMP (removed at exit with the tmux server), DATA
#     wb_start 120 36           # the workbench on $DATA, in $TMP
#     wb_ready                  # its Graph is drawn and the session is idle
# and ends with `finish`, whose status is the script's.
SOCK=nncw-test-$$
T="tmux -L $SOCK"
passed=0
failed=0
# the title bar when no line of Lua runs or waits
IDLE='workbench \| model: .* idle *$'
# what the pane prints after the workbench: its exit status; with WB_AFTER_TTY also whether
# the terminal is back in canonical mode with echo ("icanon echo"); the pane stays 60 s
WB_AFTER='echo WB-EXITED $?; sleep 60'
TTY_MODES="stty -a | tr ' ;' '\n\n' | grep -Ex -- '-?(icanon|echo)' | tr '\n' ' '; echo"
WB_AFTER_TTY="echo WB-EXITED \$?; $TTY_MODES; sleep 60"

ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() {
    echo "FAIL $1"
    $T capture-pane -p -t "$SESSION" 2>/dev/null | sed 's/^/    |/'
    failed=$((failed + 1))
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# wb_abort: ends the script failing (when nothing after could pass)
wb_abort() {
    finish
    exit 1
}

# wb_init SESSION PATH-TO-NNCW: the tmux session's name, NNCW (absolute), a TMP directory that
# goes at exit with the tmux server, and DATA: the workbench's arguments for its data
# (Fashion-MNIST where the package is installed, synthetic elsewhere)
wb_init() {
    SESSION=$1
    NNCW=$(realpath "$2") || { echo "FAIL no nncw at '$2'"; exit 1; }
    TMP=$(mktemp -d)
    trap wb_cleanup EXIT
    DATA=()
    [ -d /usr/share/datasets/fashion-mnist ] || DATA=(workbench --data synthetic)
}

wb_cleanup() {
    $T kill-server 2>/dev/null
    rm -rf "$TMP"
}

# wb_launch COLUMNS ROWS COMMAND [AFTER]: a new session of that size (replacing one of the same
# name) in $TMP running the shell COMMAND, then AFTER (default WB_AFTER)
wb_launch() {
    $T kill-session -t "$SESSION" 2>/dev/null
    $T new-session -d -s "$SESSION" -x "$1" -y "$2" -c "$TMP" "$3; ${4:-$WB_AFTER}"
}

# wb_start COLUMNS ROWS [AFTER]: the workbench on $DATA
wb_start() { wb_launch "$1" "$2" "$NNCW ${DATA[*]}" "${3:-$WB_AFTER}"; }

# wb_ready: the workbench drew the CNN's first row and the session went idle (180 s each: the
# data loads first); a workbench that never starts ends the script
wb_ready() {
    wait_for "the workbench starts" "conv1 +Conv +\[1, 32, 26, 26\]" 180 || wb_abort
    wait_idle "the session is idle" 180
}

screen() { $T capture-pane -p -t "$SESSION" 2>/dev/null; }
# on_screen REGEX: the pane's text matches the extended regex (GREP=-P: a Perl regex, for
# ranges of characters such as braille dots); off_screen: it does not
on_screen() { screen | grep ${GREP:--E} -q -- "$1"; }
off_screen() { ! on_screen "$1"; }

# poll NAME SECONDS WHAT COMMAND...: runs COMMAND every 0.1 s until it succeeds (ok NAME) or
# the deadline passes (fail NAME, saying it waited for WHAT); returns whether it succeeded
poll() {
    local name=$1 limit=$2 what=$3
    shift 3
    local deadline=$((SECONDS + limit))
    while [ "$SECONDS" -le "$deadline" ]; do
        if "$@"; then ok "$name"; return 0; fi
        sleep 0.1
    done
    fail "$name (waited ${limit}s for $what)"
    return 1
}

# wait_for NAME REGEX [SECONDS]: until the pane's text matches (default 30 s)
wait_for() { poll "$1" "${3:-30}" "/$2/" on_screen "$2"; }
# wait_gone NAME REGEX [SECONDS]: until the pane's text no longer matches
wait_gone() { poll "$1" "${3:-30}" "/$2/ to go" off_screen "$2"; }
# wait_idle NAME [SECONDS]: until the title bar says idle (default 60 s)
wait_idle() { wait_for "$1" "$IDLE" "${2:-60}"; }
# wait_exit NAME [STATUS [SECONDS]]: until the pane says the workbench exited with STATUS (0)
wait_exit() { wait_for "$1" "^WB-EXITED ${2:-0}\$" "${3:-60}"; }
# wait_tty_restored NAME: the terminal is back in canonical mode with echo (WB_AFTER_TTY)
wait_tty_restored() { wait_for "$1" "^icanon echo *$" 10; }

# check NAME COMMAND...: one assertion on a command's status
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else fail "$name"; fi
}

keys() { $T send-keys -t "$SESSION" "$@"; }
resize() { $T resize-window -t "$SESSION" -x "$1" -y "$2"; }
type_text() { $T send-keys -t "$SESSION" -l "$1"; }
type_line() { type_text "$1"; keys Enter; }

# quant_config FILE DEVICE SAMPLES [PRECISION]: $TMP/FILE, a quantization config for the CNN
# on target DEVICE: range initialisation on SAMPLES images, no batch-norm adaptation (quick),
# and initializer.precision PRECISION (a JSON object) when given
quant_config() {
    local precision=${4:+,
                        \"precision\": $4}
    cat > "$TMP/$1" <<JSON
{
    "input_info": {"sample_size": [1, 1, 28, 28]},
    "target_device": "$2",
    "compression": {
        "algorithm": "quantization",
        "initializer": {"range": {"num_init_samples": $3},
                        "batchnorm_adaptation": {"num_bn_adaptation_samples": 0}$precision}
    }
}
JSON
}

# step_of: the Training panel's step counter ("step 12/40" -> 12), empty when not shown
step_of() { screen | grep -Eo "step [0-9]+/[0-9]+" | head -1 | grep -Eo "[0-9]+" | head -1; }

# wb_save: Esc, s (the prompt offers :save nncw-session.lua), Enter: the journal is written
wb_save() {
    keys Escape s
    wait_for "s offers :save with a file name" "^:save nncw-session\.lua" 5
    keys Enter
    wait_for ":save writes the journal" "saved [0-9]+ chunks to nncw-session\.lua" 10
}

# check_journal LINE...: the saved session has each line (fixed strings)
check_journal() {
    local l
    for l in "$@"; do
        check "the journal has $l" grep -qF -- "$l" "$TMP/nncw-session.lua"
    done
}

# not_in_journal TEXT: the saved session does not have TEXT (a fixed string)
not_in_journal() { ! grep -qF -- "$1" "$TMP/nncw-session.lua"; }

# wb_replay: `nncw run nncw-session.lua` in $TMP; its output in REPLAY, its status in REPLAY_RC
wb_replay() {
    REPLAY=$(cd "$TMP" && "$NNCW" run nncw-session.lua 2>&1)
    REPLAY_RC=$?
}

# check_replay: the saved session replays with status 0 (its last lines shown when not)
check_replay() {
    wb_replay
    [ "$REPLAY_RC" -eq 0 ] || tail -20 <<<"$REPLAY" | sed 's/^/    /'
    check "nncw run replays the session (exit $REPLAY_RC)" test "$REPLAY_RC" -eq 0
}
