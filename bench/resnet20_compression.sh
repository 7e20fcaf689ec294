#!/usr/bin/env bash
# The README's ResNet-20 compression table, reproduced: each config fine-tunes the trained
# FP32 ResNet-20 (Fashion-MNIST, `nncw train --model resnet20 ... --save`) and the FP32, the
# initialised and the fine-tuned test accuracies are collected.
# Usage: bench/resnet20_compression.sh BUILD FP32.nncw OUTDIR [TRAIN_SUBSET] [CONFIG...]
set -euo pipefail
build=$1 weights=$2 out=$3 subset=${4:-20000}
shift $(( $# >= 4 ? 4 : $# ))
here=$(cd "$(dirname "$0")/.." && pwd)
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(
    sparsity/resnet20_fashion_magnitude50 sparsity/resnet20_fashion_magnitude50_kd
    sparsity/resnet20_fashion_rb50 sparsity/resnet20_fashion_rb50_kd
    sparsity/resnet20_fashion_magnitude50_int8 sparsity/resnet20_fashion_magnitude50_int8_kd
    pruning/resnet20_fashion_pruning_gm40 pruning/resnet20_fashion_pruning_gm40_kd)
mkdir -p "$out"
printf '%-44s %8s %8s %8s %7s %7s\n' config fp32 init tuned drop secs
for c in "${configs[@]}"; do
    name=$(basename "$c")
    log="$out/$name.log"
    start=$(date +%s)
    "$build/app/nncw" compress resnet20 --load "$weights" --config "$here/configs/$c.json" \
        --train-subset "$subset" --save "$out/$name.nncw" > "$log" 2>&1 || {
        echo "$name: failed, see $log"; continue; }
    secs=$(( $(date +%s) - start ))
    fp32=$(sed -n 's/^FP32 test accuracy \([0-9.]*\)%.*/\1/p' "$log")
    init=$(sed -n 's/^compressed (initialised) test accuracy \([0-9.]*\)%.*/\1/p' "$log")
    tuned=$(sed -n 's/^fine-tuned test accuracy \([0-9.]*\)%.*/\1/p' "$log")
    drop=$(awk -v a="$fp32" -v b="$tuned" 'BEGIN { printf "%.2f", a - b }')
    printf '%-44s %8s %8s %8s %7s %7s\n' "$name" "$fp32" "$init" "$tuned" "$drop" "$secs"
done
