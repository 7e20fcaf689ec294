#!/usr/bin/env bash
# nncw's QuantizeLinear/DequantizeLinear export runs in ONNX Runtime with nncw's outputs, and
# python3-onnx's checker accepts the QDQ and FakeQuantize exports. Needs node and the npm
# package onnxruntime-node, installed outside the tree (.ci/run does this):
#   mkdir -p /opt/nncw-ort && cd /opt/nncw-ort &&
#   npm install --ignore-scripts onnxruntime-node@1.30.0
# (--ignore-scripts skips its GPU-binary download; the CPU runtime ships in the package). The
# package is found in NNCW_ORT_DIR (the folder holding node_modules), else in /opt/nncw-ort.
# Skipped (exit 77) when node or the package is missing.
# Usage: ort_qdq.sh path/to/quant_model path/to/source
set -u
QUANT_MODEL=$1
SRC=$2
ORT_DIR=""
for d in "${NNCW_ORT_DIR:-}" /opt/nncw-ort; do
    if [ -n "$d" ] && [ -d "$d/node_modules/onnxruntime-node" ]; then ORT_DIR=$d; break; fi
done
if ! command -v node >/dev/null || [ -z "$ORT_DIR" ]; then
    echo "SKIP node or onnxruntime-node is missing (set NNCW_ORT_DIR)"
    exit 77
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$QUANT_MODEL" "$TMP" || exit 1
if /usr/bin/python3 -c 'import onnx' 2>/dev/null; then
    /usr/bin/python3 - "$TMP"/qdq.onnx "$TMP"/qdq_narrow.onnx "$TMP"/fq.onnx <<'PY' || exit 1
import sys
import onnx
for path in sys.argv[1:]:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check="fq" not in path)
    print(f"ok   checker accepts {path}")
PY
fi
NODE_PATH="$ORT_DIR/node_modules" node "$SRC/tests/onnx/ort_qdq.js" "$TMP"
