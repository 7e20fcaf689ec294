#!/usr/bin/env bash
# Drives `nncw repl` in tmux as a person would: Tab completion, a multi-line function, an
# error that does not end the session, :help, Ctrl-C dropping a line and stopping a training
# run, :save, Ctrl-D; then replays the saved session with `nncw run` and checks that it prints
# the same final accuracy and loss, digit for digit. Usage: test_repl.sh path/to/nncw
set -u
NNCW=$(realpath "$1")
TMP=$(mktemp -d)
SOCK=nncw-repl-test-$$
T="tmux -L $SOCK"
cleanup() {
    $T kill-server 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
passed=0
failed=0

ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() {
    echo "FAIL $1"
    $T capture-pane -p -S -60 -t repl 2>/dev/null | sed 's/^/    /' | tail -40
    failed=$((failed + 1))
}

screen() { $T capture-pane -p -J -S -300 -t repl 2>/dev/null; }

# wait_for NAME REGEX [SECONDS]: until the pane's text matches the extended regex
wait_for() {
    local name=$1 re=$2 limit=${3:-20}
    for _ in $(seq $((limit * 10))); do
        if screen | grep -Eq -- "$re"; then ok "$name"; return 0; fi
        sleep 0.1
    done
    fail "$name (waited ${limit}s for /$re/)"
    return 1
}

type_line() { $T send-keys -t repl -l "$1"; $T send-keys -t repl Enter; }

$T new-session -d -s repl -x 160 -y 50 \
    "env NNCW_HISTORY=$TMP/history $NNCW repl; echo REPL-EXITED \$?; sleep 30"
wait_for "the banner and prompt" "Tab completes, Ctrl-D quits" 10 || { echo "$passed passed, $failed failed"; exit 1; }

# completion of a table field, then of a method
$T send-keys -t repl -l "mdl = nncw.zoo.cn"
$T send-keys -t repl Tab
sleep 0.3
$T send-keys -t repl -l "{seed = 1}"
$T send-keys -t repl Enter
wait_for "Tab completes nncw.zoo.cn to nncw.zoo.cnn" "^> mdl = nncw\.zoo\.cnn\{seed = 1\}$"
$T send-keys -t repl -l "mdl:summ"
$T send-keys -t repl Tab
sleep 0.3
$T send-keys -t repl -l "()"
$T send-keys -t repl Enter
wait_for "Tab completes a method; the summary prints" "^> mdl:summary\(\)$" && \
    wait_for "the summary table" "^10 nodes, 225,034 parameters"
$T send-keys -t repl -l "nncw.zoo.res"
$T send-keys -t repl Tab Tab
wait_for "Tab Tab lists the candidates" "nncw\.zoo\.resnet18 +nncw\.zoo\.resnet20"
$T send-keys -t repl C-u

# a multi-line function
type_line "function double(x)"
wait_for "an incomplete chunk asks for more" "^>> $"
type_line "  return 2 * x"
type_line "end"
type_line "=double(21)"
wait_for "the multi-line function works" "^42$"

# an error does not end the session
type_line "nncw.train(mdl, 5)"
wait_for "the error is shown" "nncw\.train: argument 'data' must be a Dataset, got 5"
type_line "=1 + 1"
wait_for "the session goes on after the error" "^2$"

# :help
type_line ":help nncw.evaluate"
wait_for ":help shows the documentation" "^nncw\.evaluate\(model, data\[, options\]\)$"

# Ctrl-C at the prompt drops the line
$T send-keys -t repl -l "this line is dropped"
$T send-keys -t repl C-c
type_line "=3 * 3"
wait_for "Ctrl-C drops the line being typed" "^9$"

# Ctrl-C stops a training run after the current step; the model keeps its state
type_line "train = nncw.data.synthetic{count = 20000, noise = 3}"
type_line "test = nncw.data.synthetic{count = 500, noise = 3, sample_seed = 2}"
type_line "nncw.train(mdl, train, {epochs = 100, log_every = 5, callback = function(ev) if ev.type == 'step' then print('at step', ev.global_step) end end})"
wait_for "training runs" "^at step 10$" 30
$T send-keys -t repl C-c
wait_for "Ctrl-C stops training after the current step" "nncw\.train: interrupted after [0-9]+ steps" 30
type_line "r = nncw.train(mdl, train:subset(1, 1024), {test = test, epochs = 1, batch = 64, log_every = 0})"
type_line "=('final accuracy %.9f loss %.9f'):format(r.test_acc, r.test_loss)"
wait_for "training after the interruption" "^final accuracy [0-9.]+ loss [0-9.]+$" 60
repl_final=$(screen | grep -E "^final accuracy" | tail -1)

# :save, then Ctrl-D
type_line ":save $TMP/session.lua"
wait_for ":save writes the journal" "^saved [0-9]+ chunks to $TMP/session.lua$"
$T send-keys -t repl C-d
wait_for "Ctrl-D quits with status 0" "^REPL-EXITED 0$"
# the history persists: a new session recalls the last line with Up
$T kill-session -t repl
$T new-session -d -s repl -x 160 -y 50 "env NNCW_HISTORY=$TMP/history $NNCW repl"
wait_for "a second session starts" "Tab completes, Ctrl-D quits" 10
$T send-keys -t repl Up
wait_for "Up recalls the previous session's last line" "^> :save $TMP/session.lua$"
$T send-keys -t repl C-u C-d
if grep -q "interrupt_after_steps" "$TMP/session.lua" && ! grep -q "nncw.train(mdl, 5)" "$TMP/session.lua"; then
    ok "the journal replays the interrupted run and leaves out the failed chunk"
else
    fail "the journal content"; sed 's/^/    /' "$TMP/session.lua"
fi

# the saved session replays to the same numbers
out=$("$NNCW" run "$TMP/session.lua" 2>&1)
rc=$?
run_final=$(grep -E "^final accuracy" <<<"$out" | tail -1)
if [ "$rc" -eq 0 ] && [ -n "$run_final" ] && [ "$run_final" = "$repl_final" ]; then
    ok "nncw run of the saved session prints the same: $run_final"
else
    echo "FAIL replay: exit $rc, REPL '$repl_final', replay '$run_final'"
    sed 's/^/    /' <<<"$out" | tail -20
    failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
