#!/usr/bin/env bash
# End-to-end tests of `nncw info` and `nncw eval` on ONNX models: summaries, runs against
# PyTorch's outputs (tests/data/onnx), the ONNX test data when installed, and bad input.
# Usage: test_onnx_cli.sh path/to/nncw path/to/source
set -u
NNCW=$1
SRC=$2
DATA=$SRC/tests/data/onnx
CORPUS=$SRC/tests/onnx/fuzz_corpus
TESTDATA=/usr/share/libonnx-testdata/data/node
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/expect.sh"

expect "help lists info and eval" 0 "info.*eval|eval" -- "$NNCW" --help
expect "info --help" 0 "histogram" -- "$NNCW" info --help
expect "eval --help documents --output-dir" 0 "--output-dir" -- "$NNCW" eval --help
expect "info without a model is a usage error" 2 "usage: nncw info" -- "$NNCW" info

m=$DATA/resnet18_layer1/model.onnx
expect "info: inputs with the symbolic batch" 0 "input +float32 \[batch, 3, 64, 64\]" -- "$NNCW" info "$m"
expect "info: outputs" 0 "output +float32 \[1, 10\]" -- "$NNCW" info "$m"
expect "info: op histogram" 0 "ops +Conv 5," -- "$NNCW" info "$m"
expect "info: parameter count" 0 "parameters +[0-9]+ \([0-9]+ trainable\)" -- "$NNCW" info "$m"
expect "info: FLOPs" 0 "MACs +[0-9.]+ M per image" -- "$NNCW" info "$m"
expect "info: nothing unsupported" 0 "unsupported +none" -- "$NNCW" info "$m"

# a model with an op nncw does not know: Abs renamed to Abz
LC_ALL=C sed 's/Abs/Abz/' "$CORPUS/unary_math.onnx" > "$TMP/abz.onnx"
expect "info names unsupported ops and their first node" 1 "Abz +1 node, first \"Abz_0\"" -- \
    "$NNCW" info "$TMP/abz.onnx"
expect "info: the import error names node and op" 1 "node \"Abz_0\": op Abz \(opset 13\) is not supported" -- \
    "$NNCW" info "$TMP/abz.onnx"
printf 'garbage, not protobuf' > "$TMP/garbage.onnx"
expect "info on a corrupt file names it" 1 "garbage.onnx: not a valid ONNX model" -- \
    "$NNCW" info "$TMP/garbage.onnx"
expect "info on a missing file" 1 "/nonexistent/m.onnx" -- "$NNCW" info /nonexistent/m.onnx
head -c 3000 "$m" > "$TMP/truncated.onnx"
expect "info on a truncated file" 1 "truncated.onnx: not a valid ONNX model" -- \
    "$NNCW" info "$TMP/truncated.onnx"

for f in shufflenet_v2 mobilenet_v3_small densenet; do
    expect "eval $f matches PyTorch" 0 "max rel err [0-9.e-]+" -- "$NNCW" eval \
        "$DATA/$f/model.onnx" --input "$DATA/$f/input_0.pb" --compare "$DATA/$f/output_0.pb"
done
expect "eval writes the output" 0 "" -- "$NNCW" eval "$m" --input "$DATA/resnet18_layer1/input_0.pb" \
    --output "$TMP/out.pb"
expect "the written output reads back" 0 "max abs err 0," -- "$NNCW" eval "$m" \
    --input "$DATA/resnet18_layer1/input_0.pb" --compare "$TMP/out.pb" --tolerance 0
expect "eval --repeat prints images/s" 0 "images/s" -- "$NNCW" eval "$m" \
    --input "$DATA/resnet18_layer1/input_0.pb" --output "$TMP/out.pb" --repeat 3
expect "eval --compare with a wrong reference fails" 1 "relative error .* above the tolerance" -- \
    "$NNCW" eval "$DATA/densenet/model.onnx" --input "$DATA/densenet/input_0.pb" \
    --compare "$DATA/shufflenet_v2/output_0.pb"
expect "eval with too many inputs" 2 "has 1 input, 2 given" -- "$NNCW" eval "$m" \
    --input "$DATA/resnet18_layer1/input_0.pb" --input "$DATA/resnet18_layer1/input_0.pb" \
    --output "$TMP/o.pb"
expect "eval with a bad input file names it" 1 "garbage.onnx" -- "$NNCW" eval "$m" \
    --input "$TMP/garbage.onnx" --output "$TMP/o.pb"
expect "eval with an input of the wrong shape" 1 "node \"/0/Conv\": op Conv.*64 channels" -- "$NNCW" eval "$m" \
    --input "$DATA/googlenet_inception/input_0.pb" --output "$TMP/o.pb"
expect "eval without an output is a usage error" 2 "usage: nncw eval" -- "$NNCW" eval "$m" \
    --input "$DATA/resnet18_layer1/input_0.pb"
expect "eval: unknown option" 2 "unknown option '--frob'" -- "$NNCW" eval "$m" --frob

# the ONNX test data's format, when Debian's libonnx-testdata is installed
t=$TESTDATA/test_split_equal_parts_1d
if [ -d "$t" ]; then
    expect "eval --output-dir writes every output" 0 "" -- "$NNCW" eval "$t/model.onnx" \
        --input "$t/test_data_set_0/input_0.pb" --output-dir "$TMP/split"
    for k in 0 1 2; do
        expect "output_$k is written" 0 "" -- test -s "$TMP/split/output_$k.pb"
    done
fi

finish
