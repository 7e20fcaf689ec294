#!/usr/bin/env bash
# End-to-end tests of the nncw command line: help, bad input, a short training run, save/load,
# and Ctrl-C. Usage: test_cli.sh path/to/nncw
set -u
NNCW=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/expect.sh"

expect "help" 0 "train" -- "$NNCW" --help
expect "no command is a usage error" 2 "usage: nncw" -- "$NNCW"
expect "unknown command" 2 "unknown command 'frobnicate'" -- "$NNCW" frobnicate
expect "version" 0 "^nncw [0-9]" -- "$NNCW" version
expect "models" 0 "resnet20" -- "$NNCW" models
for opt in --model --data --data-dir --epochs --batch --lr --momentum --weight-decay --optimizer \
           --schedule --seed --save --load --threads --log-every --augment; do
    expect "train --help documents $opt" 0 "$opt" -- "$NNCW" train --help
done

expect "unknown model" 2 "unknown model 'vgg99'" -- "$NNCW" train --model vgg99
expect "negative batch" 2 "--batch must be a positive integer.*'-5'" -- "$NNCW" train --batch -5
expect "non-numeric lr" 2 "--lr must be a number.*'fast'" -- "$NNCW" train --lr fast
expect "missing option value" 2 "--epochs needs a value" -- "$NNCW" train --epochs
expect "unknown option" 2 "unknown option '--frob'" -- "$NNCW" train --frob
expect "unknown optimizer" 2 "unknown optimizer 'rmsprop'" -- "$NNCW" train --optimizer rmsprop
expect "unknown data set" 1 "unknown data set 'imagenet'" -- "$NNCW" train --data imagenet
expect "missing data folder" 1 "/nonexistent/fmnist" -- "$NNCW" train --data-dir /nonexistent/fmnist
expect "cifar10 needs a folder" 1 "--data-dir" -- "$NNCW" train --data cifar10

mkdir -p "$TMP/bad"
printf 'this is not an idx file' | gzip > "$TMP/bad/train-images-idx3-ubyte.gz"
printf 'nor this' | gzip > "$TMP/bad/train-labels-idx1-ubyte.gz"
cp "$TMP/bad/train-images-idx3-ubyte.gz" "$TMP/bad/t10k-images-idx3-ubyte.gz"
cp "$TMP/bad/train-labels-idx1-ubyte.gz" "$TMP/bad/t10k-labels-idx1-ubyte.gz"
expect "corrupt IDX file" 1 "train-images-idx3-ubyte.gz" -- "$NNCW" train --data-dir "$TMP/bad"

expect "short synthetic run saves" 0 "final test accuracy" -- \
    "$NNCW" train --data synthetic --epochs 1 --batch 32 --log-every 50 --save "$TMP/s.nncw"
expect "progress lines" 0 "step 50/128.*loss.*img/s.*ETA" -- \
    "$NNCW" train --data synthetic --epochs 1 --batch 32 --log-every 50
expect "load saved weights" 0 "final test accuracy" -- \
    "$NNCW" train --data synthetic --epochs 1 --batch 32 --load "$TMP/s.nncw" --quiet
printf 'garbage' > "$TMP/garbage.nncw"
expect "load a corrupt checkpoint" 1 "garbage.nncw" -- \
    "$NNCW" train --data synthetic --epochs 1 --load "$TMP/garbage.nncw"
expect "load another architecture" 1 "conv1.weight" -- \
    "$NNCW" train --model resnet20 --data synthetic --epochs 1 --load "$TMP/s.nncw"

if [ -d /usr/share/datasets/fashion-mnist ]; then
    expect "fashion-mnist subset learns" 0 "final test accuracy ([6-9][0-9]|100)\." -- \
        "$NNCW" train --train-subset 4000 --test-subset 1000 --epochs 1 --quiet
fi

# Ctrl-C: training stops after the current step, the weights are still saved, exit 130
"$NNCW" train --data synthetic --epochs 1000 --batch 32 --log-every 1 --save "$TMP/int.nncw" \
    > "$TMP/int.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "step" "$TMP/int.log" 2>/dev/null && break; sleep 0.1; done
kill -INT $pid
wait $pid
rc=$?
if [ "$rc" -eq 130 ] && [ -s "$TMP/int.nncw" ] && grep -q "stopped" "$TMP/int.log"; then
    echo "ok   ctrl-c stops and saves"
    passed=$((passed + 1))
else
    echo "FAIL ctrl-c stops and saves: exit $rc"; tail -5 "$TMP/int.log"
    failed=$((failed + 1))
fi

finish
