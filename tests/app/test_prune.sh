#!/usr/bin/env bash
# End-to-end tests of `nncw compress` with filter pruning: a bad pruning config names its JSON
# path, a one-epoch run on synthetic data prunes, prints NNCF's pruning statistics and writes
# both exports (--export: original shapes with zeroed filters; --export-pruned: channels
# removed); the two ONNX files give the same outputs in nncw and, when node and the npm package
# onnxruntime-node are present (NNCW_ORT_DIR or /opt/nncw-ort), in ONNX Runtime.
# Usage: test_prune.sh path/to/nncw source-root
set -u
NNCW=$1
ROOT=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/expect.sh"

cat > "$TMP/p.json" <<'JSON'
{"input_info": {"sample_size": [1, 1, 28, 28]},
 "compression": {"algorithm": "filter_pruning",
                 "params": {"pruning_target": 0.5, "prune_first_conv": true,
                            "prune_last_conv": true, "filter_importance": "L1"}}}
JSON
echo '{"input_info": {"sample_size": [1, 1, 28, 28]}, "compression": {"algorithm": "filter_pruning", "params": {"pruning_target": "half"}}}' \
    > "$TMP/bad.json"
echo '{"input_info": {"sample_size": [1, 1, 28, 28]}, "compression": {"algorithm": "magnitude_sparsity"}}' \
    > "$TMP/sparse.json"
DATA=(--data synthetic --train-subset 128 --test-subset 64 --batch 32 --threads 1)

expect "help documents --export-pruned" 0 "--export-pruned" -- "$NNCW" compress --help
expect "bad target names the JSON path" 1 "compression\[0\]\.params\.pruning_target" -- \
    "$NNCW" compress cnn --config "$TMP/bad.json" "${DATA[@]}" --no-eval
expect "--export-pruned needs filter pruning" 1 "no filter_pruning" -- \
    "$NNCW" compress cnn --config "$TMP/sparse.json" "${DATA[@]}" --no-eval \
    --export-pruned "$TMP/x.onnx"
expect "prunes, reports and exports" 0 "exported pruned model .*pruned.onnx \([0-9]+ bytes\)" -- \
    "$NNCW" compress cnn --config "$TMP/p.json" "${DATA[@]}" --epochs 1 \
    --export "$TMP/masked.onnx" --export-pruned "$TMP/pruned.onnx"
expect "statistics after fine-tuning" 0 "FLOPS pruning level +\| 0\.[1-9]" -- \
    "$NNCW" compress cnn --config "$TMP/p.json" "${DATA[@]}" --epochs 1 --no-eval
expect "the shrink table lists the classifier's columns" 0 "CNN/fc1 +\| 1600 -> 800" -- \
    "$NNCW" compress cnn --config "$TMP/p.json" "${DATA[@]}" --epochs 1 --no-eval \
    --export-pruned "$TMP/pruned2.onnx"
if [ -s "$TMP/pruned.onnx" ] && [ -s "$TMP/masked.onnx" ] &&
    [ "$(stat -c %s "$TMP/pruned.onnx")" -lt "$(stat -c %s "$TMP/masked.onnx")" ]; then
    echo "ok   the pruned file is smaller"; passed=$((passed + 1))
else
    echo "FAIL the pruned file is smaller"; failed=$((failed + 1))
fi

# the same outputs from both files (python3-onnx writes the input TensorProto)
if /usr/bin/python3 -c 'import onnx, numpy' 2>/dev/null; then
    /usr/bin/python3 - "$TMP" <<'PY'
import sys, numpy as np
from onnx import numpy_helper
x = np.random.default_rng(3).uniform(-1, 1, (2, 1, 28, 28)).astype(np.float32)
open(sys.argv[1] + "/in.pb", "wb").write(numpy_helper.from_array(x).SerializeToString())
x.tofile(sys.argv[1] + "/in.bin")
PY
    expect "masked export runs" 0 "" -- \
        "$NNCW" eval "$TMP/masked.onnx" --input "$TMP/in.pb" --output "$TMP/masked_out.pb"
    expect "pruned export == masked export" 0 "" -- \
        "$NNCW" eval "$TMP/pruned.onnx" --input "$TMP/in.pb" --compare "$TMP/masked_out.pb"
    ORT_DIR=""
    for d in "${NNCW_ORT_DIR:-}" /opt/nncw-ort; do
        if [ -n "$d" ] && [ -d "$d/node_modules/onnxruntime-node" ]; then ORT_DIR=$d; break; fi
    done
    if command -v node >/dev/null && [ -n "$ORT_DIR" ]; then
        /usr/bin/python3 -c "
import sys, numpy as np, onnx
from onnx import numpy_helper
t = onnx.TensorProto(); t.ParseFromString(open('$TMP/masked_out.pb','rb').read())
numpy_helper.to_array(t).astype(np.float32).tofile('$TMP/masked_out.bin')"
        cat > "$TMP/ort.js" <<'JS'
const fs = require('fs'), ort = require('onnxruntime-node');
const dir = process.argv[2];
const floats = f => { const b = fs.readFileSync(dir + '/' + f);
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)); };
(async () => {
    const s = await ort.InferenceSession.create(dir + '/pruned.onnx');
    const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', floats('in.bin'), [2, 1, 28, 28]) });
    const got = out[s.outputNames[0]].data, want = floats('masked_out.bin');
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1e-3 + Math.abs(want[i])));
    console.log(`ort pruned vs nncw masked: ${want.length} values, worst relative error ${worst}`);
    process.exit(got.length === want.length && worst < 1e-3 ? 0 : 1);
})();
JS
        expect "ONNX Runtime runs the pruned export like nncw" 0 "worst relative error" -- \
            env NODE_PATH="$ORT_DIR/node_modules" node "$TMP/ort.js" "$TMP"
    else
        echo "skip ONNX Runtime check (node or onnxruntime-node missing)"
    fi
else
    echo "skip output comparison (python3-onnx missing)"
fi
finish
