#!/usr/bin/env bash
# Pausing and resuming runs in the workbench, driven in tmux: p holds a run after its step
# (the panel and the title say "paused", the step counter stands still, a Lua line is refused
# with the reason), p again resumes it and it ends with the same numbers as a run that never
# paused (seeded, one thread); cancel while paused, then nncw.resume() finishes that run with
# the same numbers too; an accuracy-aware run shows its budget, rate steps and best point;
# quitting while paused asks first.
# Usage: test_workbench_pause.sh path/to/nncw [screen capture to write]
set -u
export LC_ALL=C.UTF-8
CAPTURE=${2:-}
. "$(dirname "$0")/tmux.sh"
wb_init wbp "$1"

wb_start 120 40
wait_idle "the session is idle" 180 || wb_abort

# each step busy-waits 10 ms in the callback: the run lasts long enough to press keys in,
# whatever the machine, and its numbers do not change
RUN='nncw.host.threads(1); m = nncw.zoo.cnn{seed = 1}; r = nncw.train(m, train_data:subset(1, 3200), {test = test_data:subset(1, 500), epochs = 2, batch = 32, seed = 3, log_every = 1, callback = function() local t = os.clock() + 0.01 while os.clock() < t do end end})'
SHOW='print(("%s %.9g %.9g %.6f"):format(TAG, r.train_loss, r.test_loss, r.test_acc))'
run() { # run TAG: starts the run from the ':' prompt (the Training panel keeps the focus)
    keys :
    type_line "lua TAG = '$1'; $RUN; $SHOW"
}
result() { screen | grep -Eo "$1 [0-9.e-]+ [0-9.e-]+ [0-9.]+" | tail -1 | cut -d' ' -f2-; }

keys 3
run ref
wait_for "the reference run finishes" "ref [0-9.e-]+ [0-9.e-]+ [0-9.]+" 600
ref=$(result ref)

# p pauses, the counter stands still, Lua waits, p resumes
run paused
wait_for "the second run starts" "run 2 running" 60
keys p
wait_for "p pauses the run after its step (the panel says so)" "run 2 paused +epoch" 30
wait_for "the title bar says paused" "training paused [0-9]+%" 5
s1=$(step_of)
sleep 1.2
s2=$(step_of)
check "the step counter does not advance while paused ($s1 -> $s2)" test -n "$s1" -a "$s1" = "$s2"
keys :
type_line "lua print('not now')"
wait_for "a Lua line is refused while paused, with the reason" "the training run is paused: p \(F7, :resume\) resumes it" 5
keys :
type_line "resume"
wait_for ":resume resumes the run" "run 2 running" 10
keys F7
wait_for "F7 pauses it again" "run 2 paused" 30
keys p
wait_for "p resumes it" "run 2 running" 10
wait_for "the paused run finishes" "paused [0-9.e-]+ [0-9.e-]+ [0-9.]+" 600
check "the paused run ends with the reference's numbers ($ref)" test "$(result paused)" = "$ref"

# cancel while paused; nncw.resume() finishes the run with the same numbers
run cancelled
wait_for "the third run starts" "run 3 running" 60
keys p
wait_for "it pauses" "run 3 paused" 30
keys x
wait_for "x cancels the paused run" "run 3 cancelled" 30
wait_for "the Log offers nncw.resume()" "nncw\.resume\(\) c" 5
keys :
type_line "lua TAG = 'resumed'; r = nncw.resume(); $SHOW"
wait_for "nncw.resume() finishes the cancelled run" "resumed [0-9.e-]+ [0-9.e-]+ [0-9.]+" 600
check "the cancelled and resumed run ends with the reference's numbers" test "$(result resumed)" = "$ref"

# an accuracy-aware run: magnitude sparsity searched with adaptive_compression_level
keys :
type_line "load $(dirname "$(realpath "$0")")/../data/aat/cnn_sparsity.lua"
wait_for "the accuracy-aware run starts: the budget line" "budget: accuracy >= [0-9.]+ % \(uncompressed [0-9.]+\)" 300
wait_for "the best point so far" "best: rate [0-9.]+ at accuracy [0-9.]+ %, epoch [0-9]+" 600
wait_for "the run ends" "Training  run 6: (done|stopped)" 600
keys z # the Training panel alone: both charts and the list of steps
wait_for "the search is done" "\| final \(done\)" 10
wait_for "the chart legend names the budget line" "budget \(minimal tolerable\)" 5
wait_for "the rate search shows its steps" "epoch +phase +target +rate +accuracy +in budget" 5
wait_for "zoomed, the rate chart shows the search" "compression rate +━ target rate" 5
wait_for "the list says whether each validation is within the budget" "^│ +[0-9]+ +(initial|search|final) +[0-9.]+ +[0-9.]+ +[0-9.]+ % +(yes|no)" 5
if [ -n "$CAPTURE" ]; then screen > "$CAPTURE"; fi
keys z

# quitting while paused asks first, then cancels
run last
wait_for "another run starts" "run 7 running" 60
keys p
wait_for "it pauses" "run 7 paused" 30
keys q
wait_for "q while paused asks first" "Work is running\. Cancel it and quit\?" 5
keys y
wait_exit "y cancels the paused run and quits with status 0"
finish
