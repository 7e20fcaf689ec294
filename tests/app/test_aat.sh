#!/usr/bin/env bash
# End-to-end tests of accuracy-aware training in `nncw compress` (a config with an
# accuracy_aware_training section): config errors naming their JSON path, option conflicts, and
# short adaptive and early-exit runs with magnitude sparsity on synthetic data.
# Usage: test_aat.sh path/to/nncw
set -u
NNCW=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/expect.sh"

# $1: the accuracy_aware_training section, $2: the sparsity params
config() {
    cat <<JSON
{"input_info": {"sample_size": [1, 1, 28, 28]},
 "optimizer": {"type": "SGD", "base_lr": 0.01, "momentum": 0.9, "schedule_type": "constant"},
 "compression": {"algorithm": "magnitude_sparsity", "params": $2},
 "accuracy_aware_training": $1}
JSON
}
SPARSE='{"sparsity_target": 0.5, "sparsity_target_epoch": 1, "sparsity_freeze_epoch": 1000}'
config '{"mode": "adaptive_compression_level", "params": {"maximal_relative_accuracy_degradation": 1,
        "initial_training_phase_epochs": 1, "patience_epochs": 1}}' "$SPARSE" > "$TMP/adaptive.json"
config '{"mode": "early_exit", "params": {"maximal_absolute_accuracy_degradation": 100,
        "maximal_total_epochs": 5}}' "$SPARSE" > "$TMP/early.json"
config '{"mode": "adaptive_compression_level", "params": {"maximal_relative_accuracy_degradation": 1,
        "patience_epochs": 0}}' "$SPARSE" > "$TMP/bad_patience.json"
config '{"mode": "fastest"}' "$SPARSE" > "$TMP/bad_mode.json"
cat > "$TMP/quant.json" <<'JSON'
{"input_info": {"sample_size": [1, 1, 28, 28]},
 "compression": {"algorithm": "quantization", "initializer": {"range": {"num_init_samples": 32},
                 "batchnorm_adaptation": {"num_bn_adaptation_samples": 0}}},
 "accuracy_aware_training": {"mode": "adaptive_compression_level",
                             "params": {"maximal_relative_accuracy_degradation": 1}}}
JSON
DATA=(--data synthetic --train-subset 128 --test-subset 64 --batch 32 --threads 1)

expect "help explains accuracy-aware training" 0 "accuracy_aware_training" -- \
    "$NNCW" compress --help
expect "a bad value names its JSON path" 1 \
    "accuracy_aware_training\.params\.patience_epochs: expected an integer in \[1," -- \
    "$NNCW" compress cnn --config "$TMP/bad_patience.json" "${DATA[@]}"
expect "an unknown mode is named" 1 "accuracy_aware_training\.mode: unknown mode 'fastest'" -- \
    "$NNCW" compress cnn --config "$TMP/bad_mode.json" "${DATA[@]}"
expect "it needs the evaluations" 2 "accuracy-aware training needs the evaluations" -- \
    "$NNCW" compress cnn --config "$TMP/adaptive.json" "${DATA[@]}" --no-eval
expect "adaptive needs an algorithm with a compression rate" 1 \
    "needs an algorithm with a compression rate" -- \
    "$NNCW" compress cnn --config "$TMP/quant.json" "${DATA[@]}"
expect "adaptive: one line per validation" 0 "aat initial +epoch 1/3 +acc [0-9.]+% +budget" -- \
    "$NNCW" compress cnn --config "$TMP/adaptive.json" "${DATA[@]}" --epochs 3
expect "adaptive: --epochs caps maximal_total_epochs, the trajectory is reported" 0 \
    "maximal_total_epochs reached after 3 epochs.*rate trajectory: 0\.[0-9]+ -> 0\.[0-9]+" -- \
    bash -c "'$NNCW' compress cnn --config '$TMP/adaptive.json' ${DATA[*]} --epochs 3 | tr '\n' ' '"
expect "adaptive: the search changes the target rate" 0 "aat rate target 0\.[0-9]+ -> 0\.[0-9]+ \(step 0\.1000" -- \
    "$NNCW" compress cnn --config "$TMP/adaptive.json" "${DATA[@]}" --epochs 3
expect "early exit stops once within budget and fully compressed" 0 \
    "accuracy-aware training \(early_exit\): accuracy budget met while fully compressed after 2 epochs" -- \
    "$NNCW" compress cnn --config "$TMP/early.json" "${DATA[@]}" --save "$TMP/kept.nncw"
expect "the kept model is saved" 0 "^kept$" -- bash -c "test -s '$TMP/kept.nncw' && echo kept"
finish
