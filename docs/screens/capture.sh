#!/usr/bin/env bash
# Regenerates the screen captures in this folder (tmux capture-pane text of each panel) by
# driving the workbench the way tests/ui/test_workbench.sh does.
# Usage: docs/screens/capture.sh build/app/nncw
set -eu
NNCW=$(realpath "$1")
OUT=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
T="tmux -L nncw-docs-$$"
trap '$T kill-server 2>/dev/null; rm -rf "$TMP"' EXIT
export LC_ALL=C.UTF-8

screen() { $T capture-pane -p -t docs; }
wait_for() { # REGEX: until the screen matches (3 minutes at most)
    for _ in $(seq 1800); do screen | grep -Eq -- "$1" && return 0; sleep 0.1; done
    echo "capture.sh: timed out waiting for /$1/" >&2
    screen >&2
    exit 1
}
keys() { $T send-keys -t docs "$@"; }
line() { $T send-keys -t docs -l "$1"; $T send-keys -t docs Enter; }
save() { screen | sed 's/ *$//' > "$OUT/$1.txt"; echo "wrote $OUT/$1.txt"; }
idle() { wait_for "workbench \| model: .* idle *$"; }

$T new-session -d -s docs -x 120 -y 36 -c "$TMP" "$NNCW; sleep 60"
wait_for "conv1 +Conv"
idle
# a 3-epoch run on 2000 images
keys t
wait_for "Train \`model\`"
keys 3
keys Enter
wait_for "run 1 done"
keys 1
sleep 0.5
save overview
keys 3 z
sleep 0.3
save training
keys z
# the Console: a few lines of Lua
keys 4
line '=model:node("CNN/conv2")'
line '=nncw.evaluate(model, test_data:subset(1, 1000))'
line 'for _, n in ipairs(model:find("{re}fc")) do print(n.scope, n.params) end'
idle
# zoomed: Esc leaves the Console for the Graph, z zooms, 4 shows the Console alone
keys Escape z 4
sleep 0.3
save console
keys Escape 5
sleep 0.3
save log
keys z 1
# the form and the help
keys t
wait_for "Train \`model\`"
save form
keys Escape F1
wait_for "Keys everywhere"
save help
keys Escape
# a bigger model: ResNet-20's scopes as a tree; one scope folded; the Inspector on a conv
keys o
line resnet20
wait_for "ResNet20"
idle
# fold layer1.1 and layer1.2 (Left: from a node to its scope, Left again: fold it)
keys /
line 'layer1\.1/conv1$'
keys Left Left
keys /
line 'layer1\.2/conv1$'
keys Left Left
keys /
line 'layer1\.0/conv2$'
sleep 0.3
keys z
save graph
keys z
keys /
line 'layer2\.0/conv2$'
keys 2 z
sleep 0.3
save inspector
keys z 1
# the narrow layout
$T resize-window -t docs -x 80 -y 24
sleep 0.5
save narrow-80x24
# compression: the CNN quantized for VPU (4-bit weights allowed), one quantizer edited, sorted
# by bits; the Scopes panel with a pattern typed
$T resize-window -t docs -x 120 -y 36
cat > "$TMP/q.json" <<'JSON'
{"input_info": {"sample_size": [1, 1, 28, 28]}, "target_device": "VPU",
 "compression": {"algorithm": "quantization", "initializer": {"range": {"num_init_samples": 256}}}}
JSON
keys o
line cnn
wait_for "Graph  model: 10 nodes"
idle
keys F4 C-u
line "compress q.json"
wait_for "Quantizers  8"
idle
keys Home Down Down Enter 4 Enter
wait_for "CNN/fc1\|WEIGHT +W +4 sym"
keys '>' '>'
wait_for "by bits"
sleep 0.3
save quantizers
keys 7
$T send-keys -t docs -l '{re}conv'
wait_for "» conv2"
sleep 0.3
save scopes
keys Escape
