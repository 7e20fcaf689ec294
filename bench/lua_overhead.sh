#!/usr/bin/env bash
# The overhead of driving training from Lua (nncw.train with a callback on every step) against
# plain `nncw train`, on one CNN epoch of Fashion-MNIST with the same options and results.
# Runs the two alternately ROUNDS times and prints, per round and as medians, the wall-clock
# time and the CPU time (user + system) of each whole process; CPU time is the steadier figure
# on a machine other work shares. A benchmark, not a test.
# Usage: bench/lua_overhead.sh [build-dir] [rounds] [threads]
set -euo pipefail
build=${1:-build}
rounds=${2:-5}
threads=${3:-1}
here=$(cd "$(dirname "$0")" && pwd)
nncw=$build/app/nncw
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# measure LOG -- command...: runs it, output to LOG; prints "wall cpu" in seconds
measure() {
    local log=$1
    shift 2
    python3 - "$log" "$@" <<'PY'
import resource, subprocess, sys, time
log, cmd = sys.argv[1], sys.argv[2:]
t0, r0 = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
with open(log, "w") as f:
    subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, check=True)
t1, r1 = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print(f"{t1 - t0:.3f} {cpu:.3f}")
PY
}

export OPENBLAS_NUM_THREADS=$threads
for r in $(seq "$rounds"); do
    cli=$(measure "$out/cli.log" -- "$nncw" train --epochs 1 --quiet --threads "$threads")
    lua=$(measure "$out/lua.log" -- "$nncw" run "$here/lua_overhead.lua" threads="$threads")
    echo "round $r: nncw train ${cli% *}s wall ${cli#* }s cpu   nncw run + Lua callbacks ${lua% *}s wall ${lua#* }s cpu"
    echo "    $(tail -1 "$out/cli.log")"
    echo "    $(tail -1 "$out/lua.log")"
    echo "$cli" >> "$out/cli.txt"
    echo "$lua" >> "$out/lua.txt"
done
"$nncw" run "$here/lua_overhead.lua" micro=1 threads="$threads" > "$out/micro.log"
cat "$out/micro.log"
python3 - "$out/cli.txt" "$out/lua.txt" "$out/micro.log" "$out/lua.log" <<'PY'
import re, statistics, sys
def load(p):
    rows = [tuple(map(float, line.split())) for line in open(p)]
    return [r[0] for r in rows], [r[1] for r in rows]
cw, cc = load(sys.argv[1])
lw, lc = load(sys.argv[2])
for name, a, b in (("wall", cw, lw), ("cpu", cc, lc)):
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"median {name:4}: nncw train {ma:.3f}s, nncw run with Lua callbacks {mb:.3f}s, "
          f"overhead {100 * (mb - ma) / ma:+.2f}% ({len(a)} alternating rounds)")
us = float(re.search(r"([-0-9.]+) us", open(sys.argv[3]).read()).group(1))
steps = int(re.search(r"(\d+) callbacks", open(sys.argv[4]).read()).group(1))
cpu = statistics.median(cc)
print(f"measured per-step cost {us:.2f} us x {steps} callbacks = {us * steps / 1e3:.2f} ms, "
      f"{100 * us * steps / 1e6 / cpu:.4f}% of the epoch's {cpu:.1f}s CPU time")
PY
