#!/usr/bin/env bash
# The workbench driven in tmux as a person would, on the default model and data: open an ONNX
# model, search a scope, inspect weights, start a run from the form and watch its chart, cancel
# it (the model keeps its weights), bad input in the Console, a second run, :save, quitting
# during a run; then `nncw run` of the saved session reproduces the run's final metrics.
# Usage: test_workbench.sh path/to/nncw
set -u
export LC_ALL=C.UTF-8 # UTF-8 drawing, and grep ranges of braille characters
. "$(dirname "$0")/tmux.sh"
wb_init wb "$1"

# a small ONNX model with nested scopes (Tiny/features/..., Tiny/classifier/...)
cat > "$TMP/tiny.lua" <<'LUA'
local nn = nncw.nn
local net = nn.Sequential{
   nn.Sequential{nn.Conv2d(1, 8, 3):named("conv1"), nn.ReLU():named("relu1"),
                 nn.MaxPool2d(2):named("pool1")}:named("features"),
   nn.Sequential{nn.Flatten():named("flatten"), nn.Linear(nil, 32):named("fc1"),
                 nn.ReLU():named("relu2"), nn.Linear(nil, 10):named("fc2")}:named("classifier"),
}
nncw.onnx.save(nn.build(net, {name = "Tiny", input = {1, 28, 28}, seed = 5}), arg[1])
LUA
"$NNCW" run "$TMP/tiny.lua" "$TMP/tiny.onnx" || { echo "FAIL making the ONNX model"; exit 1; }
# a checkpoint of the CNN with 4 of conv1's 32 output channels pruned (all zero)
cat > "$TMP/pruned.lua" <<'LUA'
local model = nncw.zoo.cnn{seed = 1}
local w = model:param("conv1.weight")
for o = 1, 4 do for y = 1, 3 do for x = 1, 3 do w:set(o, 1, y, x, 0) end end end
nncw.checkpoint.save(model, arg[1])
LUA
"$NNCW" run "$TMP/pruned.lua" "$TMP/pruned.nncw" || { echo "FAIL making the checkpoint"; exit 1; }

wb_start 120 36 "$WB_AFTER_TTY"

# the graph panel on the built-in CNN
wait_for "the graph lists the CNN's nodes" "conv1 +Conv +\[1, 32, 26, 26\] +320" 180 || wb_abort
wait_for "all five panels are shown" "Inspector" 5
for p in Training Console Log; do check "panel $p is framed" on_screen "─ $p"; done
wait_for "the data is loaded (the Console echoes the Lua)" "> test_data = nncw\.data\." 180
wait_idle "the session is idle" 180

# a checkpoint into the model: the graph marks the pruned channels and the sparsity
keys o
type_line "$TMP/pruned.nncw"
wait_for "o loads a checkpoint; the graph marks sparsity and pruned channels" "conv1 +Conv .* S11% P4/32" 30

# open a model: o, the file name, Enter
keys o
type_line "$TMP/tiny.onnx"
wait_for "o opens the ONNX model (its scopes as a tree)" "▾ classifier +4 nodes" 30
wait_for "the Console shows the Lua of the action" "model = nncw\.onnx\.load\(" 5

# search a scope with a regex, next match, jump to the consumer
keys /
type_line "classifier/fc[0-9]"
wait_for "/ finds the matching scopes" "2 nodes match /classifier/fc\[0-9\]" 5
wait_for "the Inspector follows the selection" "Inspector  Tiny/classifier/fc1" 5
keys n
wait_for "n goes to the next match" "Inspector  Tiny/classifier/fc2" 5
keys p
wait_for "p jumps to the producer" "Inspector  Tiny/classifier/relu2" 5
keys /
type_line "no(such"
wait_for "a bad regex is an error message, not a crash" "bad regular expression 'no\(such'" 5

# bad input elsewhere: a file that is not there, a wrong value in the form
keys o
type_line "$TMP/missing.onnx"
wait_for "opening a missing file is an error in the status line" "error: stdin:1: nncw\.onnx\.load" 15
wait_for "the Log names the file" "missing\.onnx" 5
keys t
type_text "abc"
keys Enter
wait_for "the form names the wrong field" "epochs must be an integer from 1 to 10000, got 'abc'" 5
keys Escape
wait_gone "Esc closes the form" "Train .model. on .train_data." 5

# the Inspector: weight statistics and a histogram
keys /
type_line "features/conv1$"
keys 2 G
wait_for "the Inspector shows the weights' statistics" "min -?[0-9.e-]+  max [0-9.e-]+  mean -?[0-9.e-]+  std [0-9.e-]+" 5
check "the Inspector draws a histogram" on_screen '[▁▂▃▄▅▆▇█]'

# a long run from the form; the chart and the progress update; cancel it
keys t
wait_for "t opens the training form" "Train \`model\` on \`train_data\`" 5
type_text 1000
keys Enter
wait_for "the run starts" "run 1 running" 120
s1=$(step_of)
GREP=-P wait_for "the loss chart is drawn (braille dots)" "┤[\x{2800}-\x{28FF} ]*[\x{2801}-\x{28FF}]" 30
step_moved() { [ "$(step_of)" != "$s1" ]; }
poll "the progress goes on (from step ${s1:-?})" 60 "another step" step_moved
keys x
wait_for "x cancels the run" "run 1 cancelled" 30
# the Log, zoomed (the Lua error that follows the cancel takes the unzoomed Log's last lines)
keys 5 z
wait_for "the Log says the model keeps its weights" "training cancelled after [0-9]+ steps" 5
keys z 4
type_line '=("w %.6f"):format(model:param("classifier.fc1.weight"):get(1, 1))'
wait_for "the model keeps its state (the Console prints a weight)" "│w -?[0-9]+\.[0-9]{6} " 15

# bad input in the Console: shown in the Console and the Log, nothing crashes
type_line "x = = 1"
wait_for "a syntax error is shown" "unexpected symbol near '='" 10
type_line 'error("boom")'
wait_for "a runtime error is shown" "│stdin:1: boom" 10
type_line "nncw.train(model, 5)"
wait_for "an argument error reaches the status line" "error: stdin:1: nncw\.train: argument 'data' must be a" 10
type_line "=6 * 7"
wait_for "the session goes on after errors" "│42 " 10

# a short run that finishes; its final metrics
keys Escape
keys t
type_text 1
keys Down Down Down
type_text 500
keys Enter
wait_for "a 1-epoch run on a 500-sample subset finishes" "run 2 done" 300
keys 4
type_line '=("M %.6f %.4f %.6f %.4f"):format(run.train_loss, run.train_acc, run.test_loss, run.test_acc)'
wait_for "the final metrics" "│M [0-9.]+ [0-9.]+ [0-9.]+ [0-9.]+ " 10
tui_metrics=$(screen | grep -Eo "M [0-9.]+ [0-9.]+ [0-9.]+ [0-9.]+" | tail -1)

# :save through the s key (the prompt offers a file name)
wb_save

# quitting during a run asks first
keys t
type_text 1000
keys Enter
wait_for "a third run starts" "run 3 running" 120
keys q
wait_for "q during a run asks first" "Work is running\. Cancel it and quit\?" 5
keys n
wait_gone "n goes on" "Cancel it and quit\?" 5
wait_for "the run still runs" "run 3 running" 5
keys q
wait_for "q asks again" "Cancel it and quit\?" 5
keys y
wait_exit "y cancels and quits with status 0" 0 120
wait_tty_restored "the terminal is restored (canonical mode, echo)"

# the saved session replays: the cancelled run to the same step, then the same final metrics
check "the journal replays the cancelled run up to its step" grep -q "interrupt_after_steps([0-9]" "$TMP/nncw-session.lua"
check "the journal leaves the failed chunks out" not_in_journal boom
check_replay
run_metrics=$(grep -Eo "^M [0-9.]+ [0-9.]+ [0-9.]+ [0-9.]+" <<<"$REPLAY" | tail -1)
check "nncw run of the saved session reproduces the final metrics: workbench '$tui_metrics', \
replay '$run_metrics'" test -n "$tui_metrics" -a "$run_metrics" = "$tui_metrics"
check "the replay prints the run's final line" \
    grep -Eq "^final: train loss [0-9.]+ acc [0-9.]+, test loss" <<<"$REPLAY"
finish
