#!/usr/bin/env bash
# End-to-end tests of `nncw compress`: usage errors, bad configs naming their JSON path, and a
# short quantization run on synthetic data that initialises, fine-tunes, exports both ONNX
# flavours and saves. Usage: test_compress.sh path/to/nncw source-root
set -u
NNCW=$1
ROOT=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/expect.sh"
BAD=$ROOT/tests/data/configs/bad

cat > "$TMP/q.json" <<'JSON'
{"input_info": {"sample_size": [1, 1, 28, 28]}, "target_device": "CPU",
 "compression": {"algorithm": "quantization",
                 "initializer": {"range": {"num_init_samples": 64},
                                 "batchnorm_adaptation": {"num_bn_adaptation_samples": 0}}}}
JSON
sed 's/"algorithm": "quantization",/"algorithm": "quantization", "export_to_onnx_standard_ops": true,/' \
    "$TMP/q.json" > "$TMP/qdq.json"
echo '{"input_info": {"sample_size": [1, 1, 28, 28]}, "compression": {"algorithm": "movement_sparsity"}}' \
    > "$TMP/prune.json"

expect "help" 0 "usage: nncw compress MODEL --config" -- "$NNCW" compress --help
for opt in --config --load --data --epochs --lr --export --save --train-subset --int8; do
    expect "help documents $opt" 0 "$opt" -- "$NNCW" compress --help
done
expect "no model" 2 "no model given" -- "$NNCW" compress --config "$TMP/q.json"
expect "no config" 2 "--config is required" -- "$NNCW" compress cnn
expect "unknown option" 2 "unknown option '--frob'" -- "$NNCW" compress cnn --frob
expect "two models" 2 "one model only" -- "$NNCW" compress cnn resnet20 --config "$TMP/q.json"
expect "missing config file" 1 "/nonexistent.json" -- "$NNCW" compress cnn --config /nonexistent.json
expect "unknown model" 1 "neither an ONNX file" -- \
    "$NNCW" compress vgg99 --config "$TMP/q.json" --data synthetic
expect "missing ONNX file" 1 "missing.onnx" -- \
    "$NNCW" compress "$TMP/missing.onnx" --config "$TMP/q.json" --data synthetic
expect "bad bits type names the JSON path" 1 "compression\[0\]\.activations\.bits" -- \
    "$NNCW" compress cnn --config "$BAD/quant_bits_string.json" --data synthetic --no-eval
expect "unknown key names the JSON path" 1 "compression\.params\..*unknown" -- \
    "$NNCW" compress cnn --config "$BAD/quant_params_unknown.json" --data synthetic --no-eval
expect "an algorithm not there yet" 1 "compression.algorithm: 'movement_sparsity' is not implemented" -- \
    "$NNCW" compress cnn --config "$TMP/prune.json" --data synthetic --no-eval

expect "quantize, fine-tune, export" 0 "fine-tuned test accuracy" -- \
    "$NNCW" compress cnn --config "$TMP/q.json" --data synthetic --train-subset 256 \
    --test-subset 128 --epochs 1 --batch 32 --export "$TMP/fq.onnx" --save "$TMP/q.nncw"
expect "statistics are printed" 0 "Per-channel WQs / All placed WQs +\| 100.00 % \(4 / 4\)" -- \
    "$NNCW" compress cnn --config "$TMP/q.json" --data synthetic --train-subset 128 \
    --test-subset 64 --no-eval
expect "the integer executor evaluates the result" 0 \
    "int8 executor \([a-z0-9_]+, [0-9]+ nodes integer, 0 float\) test accuracy" -- \
    "$NNCW" compress cnn --config "$TMP/q.json" --data synthetic --train-subset 128 \
    --test-subset 64 --int8
expect "the FakeQuantize export re-imports" 0 "FakeQuantize +8" -- "$NNCW" info "$TMP/fq.onnx"
expect "QDQ export from the config" 0 "exported" -- \
    "$NNCW" compress cnn --config "$TMP/qdq.json" --data synthetic --train-subset 128 \
    --test-subset 64 --no-eval --export "$TMP/qdq.onnx"
expect "the QDQ export has QuantizeLinear" 0 "QuantizeLinear" -- "$NNCW" info "$TMP/qdq.onnx"
expect "an unwritable export path" 1 "--export" -- \
    "$NNCW" compress cnn --config "$TMP/q.json" --data synthetic --train-subset 128 \
    --test-subset 64 --no-eval --export /nonexistent/dir/x.onnx
finish
