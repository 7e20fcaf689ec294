#!/usr/bin/env bash
# End-to-end tests of `nncw compress` with binarization and AutoQ configs on synthetic data:
# the staged schedule through fine-tuning, statistics, the 2-level FakeQuantize export read
# back, AutoQ episodes with the random baseline and the best policy applied, and bad configs
# naming their JSON path. Usage: test_binarization.sh path/to/nncw
set -u
NNCW=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/expect.sh"

cat > "$TMP/xnor.json" <<'JSON'
{"input_info": {"sample_size": [1, 1, 28, 28]},
 "compression": {"algorithm": "binarization", "mode": "xnor",
                 "params": {"activations_quant_start_epoch": 0, "weights_quant_start_epoch": 1,
                            "lr_poly_drop_start_epoch": 1, "lr_poly_drop_duration_epochs": 1,
                            "base_lr": 0.001},
                 "initializer": {"batchnorm_adaptation": {"num_bn_adaptation_samples": 0}},
                 "ignored_scopes": ["CNN/conv1"]}}
JSON
sed 's/"xnor"/"dorefa"/' "$TMP/xnor.json" > "$TMP/dorefa.json"
sed 's/"xnor"/"xor"/' "$TMP/xnor.json" > "$TMP/bad_mode.json"
sed 's/"weights_quant_start_epoch": 1/"weights_quant_start_epoch": "one"/' "$TMP/xnor.json" \
    > "$TMP/bad_epoch.json"
cat > "$TMP/autoq.json" <<'JSON'
{"input_info": {"sample_size": [1, 1, 28, 28]}, "target_device": "VPU",
 "compression": {"algorithm": "quantization",
   "initializer": {"range": {"num_init_samples": 32},
                   "batchnorm_adaptation": {"num_bn_adaptation_samples": 0},
                   "precision": {"type": "autoq", "bits": [2, 4, 8], "iter_number": 3,
                                 "warmup_iter_number": 2, "compression_ratio": 0.15,
                                 "eval_subset_ratio": 0.5}}}}
JSON
sed 's/"compression_ratio": 0.15/"compression_ratio": "small"/' "$TMP/autoq.json" \
    > "$TMP/bad_autoq.json"

expect "xnor: activations first, then weights" 0 \
    "activations on \(from epoch 0\), weights on \(from epoch 1\); stage: FULLY_COMPRESSED" -- \
    "$NNCW" compress cnn --config "$TMP/xnor.json" --data synthetic --train-subset 128 \
    --test-subset 64 --epochs 2 --batch 32 --export "$TMP/xnor.onnx"
expect "before training only activations are on" 0 \
    "activations on \(from epoch 0\), weights off \(from epoch 1\); stage: PARTIALLY" -- \
    "$NNCW" compress cnn --config "$TMP/xnor.json" --data synthetic --train-subset 64 \
    --test-subset 32 --no-eval
expect "the export holds 2-level FakeQuantize" 0 "FakeQuantize +2" -- "$NNCW" info "$TMP/xnor.onnx"
expect "dorefa trains and exports" 0 "exported" -- \
    "$NNCW" compress cnn --config "$TMP/dorefa.json" --data synthetic --train-subset 128 \
    --test-subset 64 --epochs 2 --batch 32 --export "$TMP/dorefa.onnx"
expect "a bad mode names the JSON path" 1 "compression(\[0\])?\.mode" -- \
    "$NNCW" compress cnn --config "$TMP/bad_mode.json" --data synthetic --no-eval
expect "a bad start epoch names the JSON path" 1 \
    "compression(\[0\])?\.params\.weights_quant_start_epoch" -- \
    "$NNCW" compress cnn --config "$TMP/bad_epoch.json" --data synthetic --no-eval
expect "autoq runs its episodes and applies the best" 0 \
    "AutoQ: best episode [0-9]+: accuracy .* 5 random policies of the same ratio" -- \
    "$NNCW" compress cnn --config "$TMP/autoq.json" --data synthetic --train-subset 128 \
    --test-subset 64
expect "autoq prints each episode" 0 "AutoQ episode +2 +accuracy" -- \
    "$NNCW" compress cnn --config "$TMP/autoq.json" --data synthetic --train-subset 128 \
    --test-subset 64
expect "a bad autoq ratio names the JSON path" 1 \
    "compression(\[0\])?\.initializer\.precision\.compression_ratio" -- \
    "$NNCW" compress cnn --config "$TMP/bad_autoq.json" --data synthetic --no-eval
finish
