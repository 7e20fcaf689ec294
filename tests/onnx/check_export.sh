#!/usr/bin/env bash
# Exported models are valid ONNX: every fixture of tests/data/onnx and every model of the fuzz
# corpus goes through import -> export -> import (outputs identical, export stable; see
# roundtrip.c), then python3-onnx's checker (Debian python3-onnx) validates the exported files
# with full shape inference.
# Usage: check_export.sh path/to/roundtrip path/to/source
set -u
ROUNDTRIP=$1
SRC=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
models=("$SRC"/tests/data/onnx/*/model.onnx "$SRC"/tests/onnx/fuzz_corpus/*.onnx)
"$ROUNDTRIP" "$TMP" "${models[@]}" || exit 1
if ! /usr/bin/python3 -c 'import onnx' 2>/dev/null; then
    echo "FAIL python3-onnx is not installed (apt-get install python3-onnx)"
    exit 1
fi
/usr/bin/python3 - "$TMP"/*.onnx <<'PY'
import sys
import onnx
failed = 0
for path in sys.argv[1:]:
    try:
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        print(f"ok   checker accepts {path} (opset {model.opset_import[0].version}, "
              f"{len(model.graph.node)} nodes)")
    except Exception as e:
        print(f"FAIL checker refuses {path}: {e}")
        failed += 1
print(f"{len(sys.argv) - 1 - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
