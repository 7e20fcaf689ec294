#!/usr/bin/env bash
# The example scripts in scripts/recipes run and print what they promise; `nncw run` sets
# `arg`, reports errors with a traceback and exits non-zero. Usage: test_scripts.sh nncw srcdir
set -u
NNCW=$1
SRC=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

# expect NAME EXIT_CODE PATTERN -- command...: the exit code and an extended regex matching a
# line of the output, or the whole output joined into one line
matches() {
    grep -Eq -- "$1" <<<"$2" || grep -Eq -- "$1" <<<"$(tr '\n' ' ' <<<"$2")"
}

expect() {
    local name=$1 code=$2 pattern=$3
    shift 4
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$code" ] || ! matches "$pattern" "$out"; then
        echo "FAIL $name: exit $rc (want $code), output:"
        sed 's/^/    /' <<<"$out" | head -30
        failed=$((failed + 1))
    else
        echo "ok   $name"
        passed=$((passed + 1))
    fi
}

R=$SRC/scripts/recipes
expect "train_cnn on the synthetic set saves" 0 "final test accuracy (9[0-9]|100)\.[0-9]+%" -- \
    "$NNCW" run "$R/train_cnn.lua" data=synthetic epochs=1 batch=64 log_every=32 save="$TMP/cnn.nncw"
expect "train_cnn prints progress from its callback" 0 "epoch 1/1  step 32/64  loss" -- \
    "$NNCW" run "$R/train_cnn.lua" data=synthetic epochs=1 log_every=32 train_subset=4096
[ -s "$TMP/cnn.nncw" ] && { echo "ok   saved weights exist"; passed=$((passed + 1)); } ||
    { echo "FAIL saved weights missing"; failed=$((failed + 1)); }
if [ -d /usr/share/datasets/fashion-mnist ]; then
    expect "train_cnn learns Fashion-MNIST (subset)" 0 "final test accuracy ([6-9][0-9]|100)\." -- \
        "$NNCW" run "$R/train_cnn.lua" epochs=1 train_subset=4000 test_subset=1000 quiet=1
fi
expect "train_cnn rejects a bad argument" 1 "arguments are key=value, got 'epochs'" -- \
    "$NNCW" run "$R/train_cnn.lua" epochs

expect "onnx_convs lists the convolutions of an exported ResNet-20" 0 \
    "ResNet20/layer3.0/downsample.0 +1x1 +2x2 +32 -> 64 .*21 convolutions, 270256 parameters" -- \
    "$NNCW" run "$R/onnx_convs.lua"
ONNX_TEST=/usr/share/libonnx-testdata/data/node/test_basic_conv_with_padding/model.onnx
if [ -f "$ONNX_TEST" ]; then
    expect "onnx_convs on an ONNX test model" 0 "Conv_0 +3x3 +1x1 +1 -> 1 .*1 convolutions" -- \
        "$NNCW" run "$R/onnx_convs.lua" "$ONNX_TEST"
fi
expect "onnx_convs on a missing file fails with a traceback" 1 \
    "nncw.onnx.load: I/O error.*stack traceback" -- "$NNCW" run "$R/onnx_convs.lua" "$TMP/none.onnx"

expect "find_scopes with the default patterns" 0 \
    "\{re\}layer\[34\]\\\\\.\[0-9\]/conv2\\$: 4 nodes" -- "$NNCW" run "$R/find_scopes.lua"
expect "find_scopes with a given model and pattern" 0 "\{re\}bn2\\$: 9 nodes" -- \
    "$NNCW" run "$R/find_scopes.lua" resnet20 '{re}bn2$'
expect "find_scopes with a bad regex" 1 "parse error: scope pattern '\{re\}\('" -- \
    "$NNCW" run "$R/find_scopes.lua" cnn '{re}('

# nncw run itself
printf 'print("args", arg[0], arg[1], arg[2], select("#", ...))\n' > "$TMP/args.lua"
expect "run sets arg and ..." 0 "^args	$TMP/args.lua	a	b c	2$" -- "$NNCW" run "$TMP/args.lua" a "b c"
printf 'local function f() error("deep failure") end\nf()\n' > "$TMP/fail.lua"
expect "run prints the traceback and exits 1" 1 "fail.lua:1: deep failure.*stack traceback.*in local 'f'" -- \
    "$NNCW" run "$TMP/fail.lua"
printf 'x = = 1\n' > "$TMP/syntax.lua"
expect "a syntax error exits 1" 1 "syntax.lua:1: unexpected symbol" -- "$NNCW" run "$TMP/syntax.lua"
expect "a missing script exits 1" 1 "cannot open $TMP/missing.lua" -- "$NNCW" run "$TMP/missing.lua"
expect "run without a script is a usage error" 2 "usage: nncw run" -- "$NNCW" run
expect "run --help" 0 "usage: nncw run SCRIPT.lua" -- "$NNCW" run --help
expect "a script from standard input" 0 "^42$" -- bash -c "echo 'print(6 * 7)' | '$NNCW' run -"
expect "the usage lists run and repl" 0 "run .*repl " -- bash -c "'$NNCW' --help | tr '\n' ' '"
expect "repl --help" 0 "usage: nncw repl" -- "$NNCW" repl --help
expect "repl rejects unknown options" 2 "unknown option '--frob'" -- "$NNCW" repl --frob
expect "repl reads piped input" 0 "^3$" -- bash -c "printf '=1+2\n' | '$NNCW' repl --no-history"
expect "a broken scripts folder is reported" 1 "cannot load the Lua modules.*NNCW_SCRIPTS_DIR" -- \
    env NNCW_SCRIPTS_DIR="$TMP" "$NNCW" run "$TMP/args.lua"

# Ctrl-C in a script stops training after the current step and exits 130
cat > "$TMP/long.lua" <<'LUA'
local m = nncw.zoo.cnn()
local d = nncw.data.synthetic{count = 20000}
print("started")
io.stdout:flush()
nncw.train(m, d, {epochs = 100, log_every = 0})
LUA
"$NNCW" run "$TMP/long.lua" > "$TMP/long.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q started "$TMP/long.log" 2>/dev/null && break; sleep 0.1; done
sleep 1
kill -INT $pid
wait $pid
rc=$?
if [ "$rc" -eq 130 ] && grep -q "interrupted after [0-9]* steps" "$TMP/long.log"; then
    echo "ok   ctrl-c stops a script's training run"
    passed=$((passed + 1))
else
    echo "FAIL ctrl-c stops a script's training run: exit $rc"; tail -5 "$TMP/long.log"
    failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
