#!/usr/bin/env bash
# `nncw compress` with initializer.precision: manual bits and HAWQ print the bits per quantizer
# and the bit-FLOPs ratio; bad entries name their JSON path. Usage: test_precision.sh path/to/nncw
set -u
NNCW=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/expect.sh"

config() { # device precision-json
    cat <<JSON
{"input_info": {"sample_size": [1, 1, 28, 28]}, "target_device": "$1",
 "compression": {"algorithm": "quantization",
   "initializer": {"range": {"num_init_samples": 32},
                   "batchnorm_adaptation": {"num_bn_adaptation_samples": 0},
                   "precision": $2}}}
JSON
}
config VPU '{"type": "manual", "bitwidth_per_scope": [[4, "CNN/conv2|WEIGHT"], [4, "CNN/relu1|OUTPUT"]]}' \
    > "$TMP/manual.json"
config CPU '{"type": "manual", "bitwidth_per_scope": [[4, "CNN/conv2|WEIGHT"]]}' > "$TMP/cpu4.json"
config VPU '{"type": "manual", "bitwidth_per_scope": [[4, "CNN/conv9|WEIGHT"]]}' > "$TMP/typo.json"
config VPU '{"type": "hawq", "bits": [4, 8], "compression_ratio": 1.3, "iter_number": 4,
             "num_data_points": 32}' > "$TMP/hawq.json"
config VPU '{"type": "hawq", "bits": [4, 8], "compression_ratio": 3}' > "$TMP/toomuch.json"
run=(--data synthetic --train-subset 64 --test-subset 32 --no-eval --threads 1)

expect "manual bits are printed" 0 "CNN/conv2\|WEIGHT +4" -- \
    "$NNCW" compress cnn --config "$TMP/manual.json" "${run[@]}"
# conv2 (4 bits, 4-bit input) is 2/3 of the cnn's multiply-accumulates
expect "manual bit-FLOPs ratio" 0 "bit-FLOPs compression ratio \(INT8 = 1\): 1\.[0-9]{4}" -- \
    "$NNCW" compress cnn --config "$TMP/manual.json" "${run[@]}"
expect "the CPU refuses 4-bit weights" 1 \
    "bitwidth_per_scope\[0\]\[0\].*'CNN/conv2\|WEIGHT'.*4 bits.*allowed: 8" -- \
    "$NNCW" compress cnn --config "$TMP/cpu4.json" "${run[@]}"
expect "an unknown quantizer names the closest" 1 \
    "bitwidth_per_scope\[0\]\[1\]: no quantizer 'CNN/conv9\|WEIGHT' \(closest: 'CNN/conv1\|WEIGHT'" -- \
    "$NNCW" compress cnn --config "$TMP/typo.json" "${run[@]}"
expect "HAWQ reports iterations" 0 "HAWQ: Hutchinson iteration 1/4" -- \
    "$NNCW" compress cnn --config "$TMP/hawq.json" "${run[@]}"
expect "HAWQ prints its choice" 0 "HAWQ: 4 layers, .* candidate bit configurations; chosen #" -- \
    "$NNCW" compress cnn --config "$TMP/hawq.json" "${run[@]}"
expect "HAWQ refuses an unreachable ratio" 1 "compression_ratio: 3 is not achievable" -- \
    "$NNCW" compress cnn --config "$TMP/toomuch.json" "${run[@]}"
finish
