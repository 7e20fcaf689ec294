#!/usr/bin/env bash
# Runs nncw-bench and the PyTorch baseline alternately on this machine, ROUNDS times each, and
# prints per figure the median of each and the nncw/PyTorch ratio (for peak memory: lower is
# better, so the ratio is PyTorch/nncw). Usage: bench/compare.sh [build-dir] [rounds] [--quick]
# Each round also runs bench/torch_int8.py (torch.ao int8 ResNet-18); its images/s is paired
# with nncw's resnet18_int8_infer_images_per_s.
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
quick=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
baseline=${NNCW_TORCH_BASELINE:-$here/../../shared/bench/torch_baseline.py}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for r in $(seq "$rounds"); do
    "$build/bench/nncw-bench" --threads 2 $quick >> "$out/nncw.txt"
    /usr/bin/python3 "$baseline" --threads 2 $quick >> "$out/torch.txt"
    /usr/bin/python3 "$here/torch_int8.py" --threads 2 $quick |
        sed -n 's/^torch_int8_resnet18_infer_images_per_s /resnet18_int8_infer_images_per_s /p' \
            >> "$out/torch.txt"
done
python3 - "$out/nncw.txt" "$out/torch.txt" <<'PY'
import statistics, sys
def load(p):
    d = {}
    for line in open(p):
        parts = line.split()
        if len(parts) == 3:
            d.setdefault(parts[0], []).append(float(parts[1]))
    return {k: (statistics.median(v), len(v)) for k, v in d.items()}
n, t = load(sys.argv[1]), load(sys.argv[2])
print(f"{'figure':32} {'nncw':>10} {'pytorch':>10} {'ratio':>8}")
for k in sorted(set(n) | set(t)):
    a = n.get(k, (float('nan'), 0))[0]
    b = t.get(k, (float('nan'), 0))[0]
    if k.endswith('_mb'):
        ratio = b / a if a else float('nan')
    else:
        ratio = a / b if b else float('nan')
    print(f"{k:32} {a:10.4g} {b:10.4g} {ratio:8.2f}")
PY
