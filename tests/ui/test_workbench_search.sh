#!/usr/bin/env bash
# The workbench's Search panel driven in tmux: without a compression and on an 8-bit-only
# device it says why it cannot search; on a TRIAL config with bits [4, 8] and HAWQ on 32
# samples with 4 iterations, :compress shows what the initializer's HAWQ solved at once (no r
# or h), h measures the traces again (progress, bars, the curve), the cursor
# picks another point of the curve and Enter applies it (the Quantizers table changes), a layer
# is pinned and unpinned; then AutoQ runs 3 episodes on 128 test images, paused before the
# first and resumed, with the policy strips; Enter applies the best policy; the panel at 80x24;
# :save, and `nncw run` replays the session.
# Usage: test_workbench_search.sh path/to/nncw
set -u
export LC_ALL=C.UTF-8
. "$(dirname "$0")/tmux.sh"
wb_init wbs "$1"

quant_config hawq.json TRIAL 32 '{"type": "hawq", "bits": [4, 8], "num_data_points": 32,
                                   "iter_number": 4, "compression_ratio": 1.5}'
quant_config cpu.json CPU 32

wb_start 120 36
wb_ready

# nothing to search yet: clear messages, no crash
keys 9
wait_for "9 focuses the Search panel" "Search  HAWQ" 5
wait_for "the panel says there is no compression" "no compression of .model. to search" 5
keys F1
wait_for "F1 lists the Search panel's keys" "Keys of the Search panel:" 5
wait_for "the help names the pin keys" "pin the selected layer to that many bits" 5
keys q
wait_gone "any key closes the help" "Keys of the Search panel:" 5
keys h
wait_for "h without a compression is refused" "HAWQ: .model. has no compression" 5

# an 8-bit-only device: HAWQ is refused with the reason
type_line ":compress cpu.json"
wait_for "the CPU config applies" "Quantizers  8 \(4 W, 4 A\)" 60
keys 9 h
wait_for "HAWQ on CPU names the device" "target device CPU allows only 8-bit weights" 30
keys a
wait_for "a offers :autoq" "^:autoq" 5
keys Enter
wait_for "AutoQ on CPU names the device" "autoq: the target device CPU allows only 8-bit" 30

# the model again, then the TRIAL config with HAWQ
keys o
type_line "cnn"
wait_for "the model opens again" "> model = nncw\.zoo\.build\(\"cnn\"" 30
wait_idle "the session is idle again"
type_line ":compress hawq.json"
wait_for "the HAWQ config applies" "Quantizers  8 \(4 W, 4 A\)" 60
# what the initializer's HAWQ solved shows at once: the summary, the traces, the curve
keys 9
RESULT="HAWQ: 4 layers 5 points \| ratio 1\.[5-9][0-9]* target 1\.50 \| bits 4,8 \| 4 it"
wait_for ":compress shows the HAWQ result without r or h" "$RESULT" 10
wait_for "the initializer's traces show as bars" "CNN/fc2\|WEIGHT +█* +[ -]?[0-9.e-]+ +[48] " 5
wait_for "the initializer's curve is plotted" "metric vs ratio  chosen [0-9]/5" 5
keys r
wait_for "r reads what :compress solved" "> hawq_result = comp:hawq\(\)" 30
wait_for "the result of :compress still shows" "$RESULT" 30
type_line ":autoq many"
wait_for ":autoq with a bad count is refused" "autoq: give the episodes and the test_data samples" 5
keys 9 h
wait_for "h runs comp:hawq_run" "> comp:hawq_run\(\)" 30
wait_for "HAWQ solves: 4 layers on the curve" "$RESULT" 60
wait_for "the traces show as bars with bits" "CNN/conv1\|WEIGHT +█* *[ -]?[0-9.e-]+ +[48] " 5
wait_for "the curve is plotted with its title" "metric vs ratio  chosen [0-9]/5" 5
GREP=-P wait_for "the curve has braille dots" "[\x{2801}-\x{28FF}]" 5
wait_for "the chosen point is marked" "●" 5

# a Lua progress callback that takes its time: the panel shows the iterations as they run;
# x cancels the run and the previous result stays
type_line ':lua comp:hawq_run{progress = function() local t = os.clock() + 0.3 while os.clock() < t do end end}'
wait_for "the panel counts Hutchinson iterations" "HAWQ: Hutchinson iteration [1-3]/4 \[#" 30
keys x
wait_for "x cancels the run" "HAWQ failed: interrupted" 30
wait_idle "the session is idle after the cancel" 30
wait_for "the previous traces stay" "CNN/fc2\|WEIGHT +█* +[ -]?[0-9.e-]+ +[48] " 5

# the cursor to the last point (every layer at 4 bits), Enter applies it
keys Right Right Right Right Right
wait_for "the cursor moves along the curve" "metric vs ratio  cursor 5/5" 5
wait_for "the cursor is marked" "◆" 5
# NNCW_SEARCH_SCREENS=DIR keeps the screens docs/screens/search.txt shows
[ -n "${NNCW_SEARCH_SCREENS:-}" ] && screen > "$NNCW_SEARCH_SCREENS/hawq.txt"
keys Enter
wait_for "Enter runs comp:hawq_choose" "> comp:hawq_choose\([0-9]\)" 30
wait_for "the chosen point follows" "metric vs ratio  chosen 5/5" 30
keys 6
wait_for "the Quantizers table shows fc1 at 4 bits" "CNN/fc1\|WEIGHT +W +4 " 30
wait_for "the Quantizers table shows fc2 at 4 bits" "CNN/fc2\|WEIGHT +W +4 " 5

# pin conv1 to 8 bits, then free it
keys 9 Home 8
wait_for "8 pins the selected layer" "> comp:hawq_pin\(\"CNN/conv1\|WEIGHT\", 8\)" 30
wait_for "the pinned layer shows its pin" "CNN/conv1\|WEIGHT .* 8 +8 *$|CNN/conv1\|WEIGHT .* 8   8" 30
keys u
wait_for "u unpins it" "> comp:hawq_unpin\(\"CNN/conv1\|WEIGHT\"\)" 30
wait_idle "the session is idle after the pins"

# AutoQ: 3 episodes on 128 test images, paused before the first, resumed
keys a
wait_for "a offers :autoq" "^:autoq" 5
type_text "3 128"
keys Enter p
wait_for "the search is made" "> autoq = comp:autoq\{data = test_data" 30
wait_for "p pauses it before an episode" "AutoQ: 8 quantizers, episode 0/3 paused" 30
sleep 0.5
check "nothing runs while paused" off_screen "autoq:step\(\)"
keys p
wait_for "p resumes: 3 episodes run" "AutoQ: episode 3/3 .*\| best #[0-2] reward" 120
wait_for "each episode is a line of Lua" "> autoq_episode = autoq:step\(\)" 5
wait_for "the policy strip shows the bits" "bits now [2-8]{8}" 5
wait_for "the best policy's strip" "best     [2-8]{8}" 5
wait_for "the episodes table" "^.* +2 +[-0-9.]+ +0\.[0-9]+ +[0-9.]+ " 5
[ -n "${NNCW_SEARCH_SCREENS:-}" ] && screen > "$NNCW_SEARCH_SCREENS/autoq.txt"
keys Enter
wait_for "Enter applies the best policy" "> autoq:apply\(\)" 30
wait_for "the panel says it was applied" "\(best applied\)" 30
keys m
wait_for "m switches back to HAWQ" "Search  HAWQ" 5

# the panel at 80x24
resize 80 24
wait_for "at 80x24 the panel still shows the traces" "CNN/fc2\|WEIGHT" 10
wait_for "at 80x24 the curve is still drawn" "metric vs ratio" 10
[ -n "${NNCW_SEARCH_SCREENS:-}" ] && screen > "$NNCW_SEARCH_SCREENS/narrow.txt"
resize 120 36

# :save; the saved session replays the searches
wb_save
check_journal 'comp:hawq_run()' 'comp:hawq_choose(' 'comp:hawq_pin("CNN/conv1|WEIGHT", 8)' \
    'comp:hawq_unpin("CNN/conv1|WEIGHT")' 'autoq = comp:autoq{' 'autoq:apply()'
check "the journal has the 3 episodes" test "$(grep -c 'autoq:step()' "$TMP/nncw-session.lua")" -eq 3
keys q
wait_exit "q quits"
check_replay
finish
