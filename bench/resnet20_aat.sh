#!/usr/bin/env bash
# docs/accuracy-aware.md "Results", reproduced: accuracy-aware training of the trained FP32
# ResNet-20 (Fashion-MNIST, `nncw train --model resnet20 ... --save`) at 1 % maximal relative
# degradation:
#   resnet20_aat_sparsity            adaptive_compression_level, magnitude sparsity
#   resnet20_aat_pruning             adaptive_compression_level, filter pruning (geometric median)
#   resnet20_aat_early_exit_sparsity early_exit, magnitude sparsity to 0.7 by epoch 3
#   resnet20_aat_early_exit_pruning  early_exit, filter pruning 0.4 from the first epoch
# Each run is single-threaded and niced; JOBS of them (default 2) run at once. The logs hold the
# per-epoch trajectory (the `aat ...` lines); the table collects the summary and the CPU time.
# Usage: bench/resnet20_aat.sh BUILD FP32.ckpt OUTDIR [TRAIN_SUBSET [TEST_SUBSET [CONFIG...]]]
set -euo pipefail
build=$1 weights=$2 out=$3 train=${4:-10000} test=${5:-5000}
shift $(( $# >= 5 ? 5 : $# ))
here=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-2}
configs=("$@")
[ ${#configs[@]} -gt 0 ] ||
    configs=(resnet20_aat_sparsity resnet20_aat_pruning resnet20_aat_early_exit_sparsity
             resnet20_aat_early_exit_pruning)
mkdir -p "$out"

run() { # config name: log in $out/NAME.log, CPU and wall seconds in $out/NAME.time
    /usr/bin/time -f '%U %S %e' -o "$out/$1.time" nice -n 5 "$build/app/nncw" compress resnet20 \
        --load "$weights" --config "$here/configs/$1.json" --threads 1 \
        --train-subset "$train" --test-subset "$test" --save "$out/$1.nncw" > "$out/$1.log" 2>&1 ||
        echo "$1: failed, see $out/$1.log"
}

for c in "${configs[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    run "$c" &
done
wait

printf '%-32s %7s %6s %7s %7s %8s %7s  %s\n' config fp32 epochs rate acc cpu_s wall_s stop
for c in "${configs[@]}"; do
    log="$out/$c.log"
    fp32=$(sed -n 's/^FP32 test accuracy \([0-9.]*\)%.*/\1/p' "$log")
    stop=$(sed -n 's/^accuracy-aware training ([a-z_]*): \(.*\) after \([0-9]*\) epochs.*/\1/p' "$log")
    epochs=$(sed -n 's/^accuracy-aware training ([a-z_]*): .* after \([0-9]*\) epochs.*/\1/p' "$log")
    rate=$(sed -n 's/^  final: compression rate \([0-9.]*\), accuracy.*/\1/p' "$log")
    acc=$(sed -n 's/^  final: .*accuracy \([0-9.]*\)%.*/\1/p' "$log")
    read -r user sys wall < "$out/$c.time" || true
    cpu=$(awk -v u="${user:-0}" -v s="${sys:-0}" 'BEGIN { printf "%.0f", u + s }')
    printf '%-32s %7s %6s %7s %7s %8s %7s  %s\n' "$c" "$fp32" "$epochs" "$rate" "$acc" "$cpu" \
        "${wall%.*}" "$stop"
    grep '^  rate trajectory' "$log" || true
done
