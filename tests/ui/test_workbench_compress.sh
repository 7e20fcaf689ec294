#!/usr/bin/env bash
# The workbench's compression panels driven in tmux: a quantization config applied to the CNN
# (F4), the Graph's quantizer marks, the Quantizers panel sorted and edited in place (a 4-bit
# weight the VPU config allows; an asymmetric weight it refuses, which changes nothing), the
# Scopes panel highlighting matches as the pattern is typed and ignoring/unignoring a scope,
# a short QAT run on 500 images with the compression in the Training panel; then magnitude
# sparsity with its level plotted per step; filter pruning with a group excluded and the level
# set (marks, FLOPs); :save, and `nncw run` replays the session.
# Usage: test_workbench_compress.sh path/to/nncw
set -u
export LC_ALL=C.UTF-8
. "$(dirname "$0")/tmux.sh"
wb_init wbc "$1"

# VPU: 4-bit weights allowed, asymmetric weights not; a quick initialisation
quant_config q.json VPU 64
cat > "$TMP/sparse.json" <<'JSON'
{
    "input_info": {"sample_size": [1, 1, 28, 28]},
    "compression": {
        "algorithm": "magnitude_sparsity",
        "params": {"schedule": "polynomial", "sparsity_target": 0.6, "sparsity_target_epoch": 1,
                   "update_per_optimizer_step": true}
    }
}
JSON

wb_start 120 36
wb_ready

# nothing to edit yet: a clear message, no crash
keys 6
wait_for "the Quantizers panel says there is no compression" "no compression of .model." 5
type_line ":ignore CNN/conv1"
wait_for ":ignore without a compression is refused" "ignore: .model. has no compression" 5

# F4: the config applied as `comp`
keys F4
wait_for "F4 offers :compress" "^:compress configs/quantization/" 5
keys C-u
type_line "compress q.json"
wait_for "the Quantizers panel lists 8 quantizers" "Quantizers  8 \(4 W, 4 A\), by id" 60
wait_for "the Console shows the Lua of the action" "> comp_config = nncw\.config\.load\(\"q\.json\"\)" 5
wait_for "the Graph marks quantized nodes from the API (bits)" "conv1 +Conv .* Q8 " 5
wait_for "the table shows the weight quantizers per channel" "CNN/conv2\|WEIGHT +W +8 sym +yes +64 " 5
keys F4
keys C-u
type_line "compress q.json"
wait_for "a second config on the compressed model is refused" "compress: .model. is compressed already" 5

# edit fc1's weight to 4 bits in place: rows sorted by id, the third is CNN/fc1|WEIGHT
keys Home Down Down Enter
wait_for "Enter edits the row" "editing: Left/Right field" 5
keys 4
wait_for "the draft shows 4 bits" "CNN/fc1\|WEIGHT +W +4 " 5
keys Enter
wait_for "the Console shows comp:set" "> comp:set\(\"CNN/fc1\|WEIGHT\", \{bits = 4\}\)" 30
wait_for "the edit applied: fc1 quantized to 4 bits in the table" "CNN/fc1\|WEIGHT +W +4 sym" 30
wait_for "the Graph marks fc1 with 4 bits" "fc1 +Gemm .* Q4 " 10

# sort: > moves the sort column (id -> W/A -> bits); the 4-bit quantizer comes first; r reverses
keys '>' '>'
wait_for "sorted by bits" "Quantizers  8 \(4 W, 4 A\), by bits" 5
quantizer_rows() { screen | grep -E '(W|A) +[0-9] '; }
first_row_fc1() { quantizer_rows | head -1 | grep -qF 'CNN/fc1|WEIGHT'; }
last_row_fc1() { quantizer_rows | tail -1 | grep -qF 'CNN/fc1|WEIGHT'; }
check "the first row is the 4-bit quantizer" first_row_fc1
keys r
wait_for "r reverses the order" "Quantizers  8 \(4 W, 4 A\), by bits desc" 5
check "reversed: the 4-bit quantizer is the last row" last_row_fc1

# a change the hardware config refuses (an asymmetric weight): its message in the status line,
# nothing changes. < < sorts by id again: the first row is CNN/conv1|WEIGHT
keys '<' '<'
wait_for "< moves the sort column back" "Quantizers  8 \(4 W, 4 A\), by id desc" 5
keys r Home Enter Right
wait_for "Right picks the mode" "editing: Left/Right field" 5
keys Up Enter
wait_for "the refusal is in the status line" "error: .*Compression:set: invalid argument: quantizer" 30
check "the table is unchanged (8 quantizers, weights symmetric)" off_screen 'WEIGHT +W +[0-9] asym'

# Scopes: the pattern highlights nodes as it is typed; Enter ignores it
keys 7
wait_for "the Scopes panel lists the config's entry" "1 quantization: 0 ignored, 0 target" 5
type_text "{re}conv"
wait_for "typing highlights the matching nodes live" "» conv1 +Conv" 5
wait_for "both convs match" "» conv2 +Conv" 5
wait_for "the panel counts them" "2 nodes match" 5
type_text "2$"
wait_for "the highlight follows the pattern" "2 nodes match|1 node matches" 5
wait_gone "conv1 is no longer highlighted" "» conv1" 5
type_text "("
wait_for "a bad regex shows the engine's message" "scope: \{re\}conv2\\\$\(" 5
keys BSpace
keys Enter
wait_for "Enter runs comp:ignore" "> comp:ignore\(\"\{re\}conv2\\\$\"\)" 30
wait_for "the quantizer count changes" "Scopes  1 ignored, [0-7] quantizers" 30
wait_for "the Graph drops conv2's marks" "conv2 +Conv +\[1, 64, 11, 11\] +[0-9.kM]+( +[0-9.kM]+)? *│" 10
wait_for "the ignored scope is listed" "ignored \{re\}conv2\\\$" 5
keys Down
keys DC
wait_for "Delete runs comp:unignore" "> comp:unignore\(\"\{re\}conv2\\\$\"\)" 30
wait_for "the quantizers are back" "Scopes  0 ignored, 8 quantizers" 30
keys Escape

# a short QAT run: the form trains `comp`; the Training panel shows the compression
keys t
wait_for "t opens the training form" "Train \`model\` on \`train_data\`" 5
type_text 1
keys Down Down Down
type_text 500
keys Enter
wait_for "the run passes compression = comp" "compression = comp\}\)" 30
wait_for "a 1-epoch QAT run on 500 images finishes" "run 1 done" 300
wait_for "the Training panel shows the compression" "comp loss [0-9.e+-]+ \| 8 quantizers \| quantization" 10
keys 3 S
wait_for "S prints the statistics in the Console" "ran in [0-9.]+ s: print\(comp:statistics\(\)\)" 30

# magnitude sparsity on a fresh model: the level per node and per step
keys Escape o
type_line cnn
wait_for "a fresh CNN" "Graph  model: 10 nodes" 60
keys F4 C-u
type_line "compress sparse.json"
wait_for "sparsity applied" "> comp = nncw\.compression\.create|Compression \(magnitude_sparsity\)" 60
keys Escape
type_text ":level 0.5"
keys Enter
wait_for ":level sets the level" "> comp:set_sparsity_level\(0\.5\)" 30
wait_for "the Graph shows the sparsity of each layer's mask" "conv2 +Conv .* S[0-9]+%" 30
keys t
keys Enter
wait_for "a sparsity run starts and finishes" "run 2 done" 300
wait_for "the level is plotted per step" "compression level \(sparsity / pruning\)" 10
wait_for "the level is shown" "level 0\.[0-9]+ \| rate 0\.[0-9]+ \| comp loss" 10

# filter pruning: the groups, a group excluded, the level set: marks, FLOPs and params follow
cat > "$TMP/prune.json" <<'JSON'
{"input_info": {"sample_size": [1, 1, 28, 28]},
 "compression": {"algorithm": "filter_pruning",
                 "params": {"pruning_target": 0.5, "prune_first_conv": true,
                            "prune_last_conv": true}}}
JSON
keys Escape o
type_line cnn
wait_for "another fresh CNN" "Graph  model: 10 nodes" 60
keys F4 C-u
type_line "compress prune.json"
wait_for "filter pruning applied" "Compression \(filter_pruning\)" 60
keys 8
wait_for "the Pruning panel lists the groups" "Pruning  [0-9]+ groups" 10
wait_for "with the costs" "FLOPs [0-9.]+M -> [0-9.]+M \(100%\)" 10
keys Home x
wait_for "x excludes the first group" "> comp:exclude_group\(0, true\)" 30
wait_for "the group is marked excluded" "conv1 +Conv .* Px" 30
keys L
wait_for "L offers :rate" "^:rate " 5
keys C-u
type_line "rate 0.4"
wait_for "the level is set" "> comp:set_compression_rate\(0\.4\)" 30
wait_for "FLOPs follow before any training" "FLOPs [0-9.]+M -> [0-9.]+M \(([0-9]|[1-9][0-9])%\)" 30
wait_for "the Graph marks pruned filters" "conv2 +Conv .* P[1-9][0-9]*/64" 30

# :save; the saved session replays the compression edits
wb_save
check_journal 'comp:set("CNN/fc1|WEIGHT", {bits = 4})' 'comp:ignore("{re}conv2$")' \
    'comp:unignore("{re}conv2$")' 'comp:set_sparsity_level(0.5)' 'comp:exclude_group(0, true)' \
    'comp:set_compression_rate(0.4)'
check "the refused edit is not journaled" not_in_journal 'mode = "asymmetric"'
keys q
wait_exit "q quits"
check_replay
rebuilt() {
    grep -qF 'Compression (magnitude_sparsity)' <<<"$REPLAY" &&
        grep -qF 'Compression (filter_pruning)' <<<"$REPLAY"
}
check "the replay rebuilds the compressions" rebuilt
finish
