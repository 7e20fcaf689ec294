#!/usr/bin/env bash
# Resumable runs end to end: `nncw train` killed with SIGKILL mid-epoch and resumed ends with
# the same weights byte for byte as an uninterrupted run (single thread); the same for a
# compressed fine-tuning; a compressed checkpoint loads without its config and gives the same
# accuracy and statistics; damaged newest checkpoints are skipped; usage errors.
# Usage: test_resume.sh path/to/nncw
set -u
NNCW=$(realpath "$1")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/expect.sh"
cd "$TMP" || exit 1

ok() {
    echo "ok   $1"
    passed=$((passed + 1))
}
bad() {
    echo "FAIL $1"
    failed=$((failed + 1))
}
same() { # NAME FILE FILE: both present, not empty, equal
    if [ -s "$2" ] && cmp -s "$2" "$3"; then ok "$1"; else bad "$1: $2 and $3 differ"; fi
}

for opt in --checkpoint-dir --checkpoint-every --keep-checkpoints --resume; do
    expect "train help documents $opt" 0 "$opt" -- "$NNCW" train --help
    expect "compress help documents $opt" 0 "$opt" -- "$NNCW" compress --help
done
expect "--checkpoint-every needs a folder" 2 "need --checkpoint-dir" -- \
    "$NNCW" train --checkpoint-every 5
expect "resume from nothing" 1 "checkpoint folder '.*none'" -- \
    "$NNCW" train --resume "$TMP/none"
mkdir empty
expect "resume from an empty folder" 1 "no readable checkpoint" -- "$NNCW" train --resume empty

RUN=(--model cnn --train-subset 512 --test-subset 128 --epochs 2 --batch 32 --lr 0.01
     --threads 1 --log-every 0 --augment --seed 3)
"$NNCW" train "${RUN[@]}" --save full.nncw > full.log 2>&1 || bad "uninterrupted run"

# killed mid-epoch 1 (16 steps per epoch) once the step-5 checkpoint is there
"$NNCW" train "${RUN[@]}" --checkpoint-dir ck --checkpoint-every 5 --keep-checkpoints 100 \
    --save killed.nncw > killed.log 2>&1 &
pid=$!
for _ in $(seq 1 3000); do
    [ -e ck/ckpt-5.nncw ] && break
    sleep 0.01
done
kill -9 "$pid" 2>/dev/null
wait "$pid"
rc=$?
if [ "$rc" -eq 137 ] && [ ! -e killed.nncw ]; then ok "killed with SIGKILL mid-run"; else
    bad "the run was not killed mid-run (exit $rc)"; fi
expect "--resume rejects a changed option" 2 "--lr cannot be given with --resume" -- \
    "$NNCW" train --resume ck --lr 0.5
expect "resume after SIGKILL" 0 "resumed from ck/ckpt-[0-9]+\.nncw" -- \
    "$NNCW" train --resume ck --save resumed.nncw --threads 1
same "resumed weights equal the uninterrupted run's" full.nncw resumed.nncw
grep "final test accuracy" full.log | sed 's/ in .*//' > want.txt

# a deterministic mid-epoch point: the checkpoint of step 5, into another folder
expect "resume from a file" 0 "resumed from ck/ckpt-5\.nncw: epoch 1/2, step 5/16" -- \
    "$NNCW" train --resume ck/ckpt-5.nncw --checkpoint-dir ck5 --save from5.nncw --threads 1
same "resumed from step 5 equals the uninterrupted run" full.nncw from5.nncw
"$NNCW" train --resume ck/ckpt-20.nncw --checkpoint-dir ck20 --save from20.nncw --threads 1 \
    | grep "final test accuracy" | sed 's/ in .*//' > got.txt
same "the same final accuracy line after resuming in epoch 2" want.txt got.txt

# the newest checkpoint damaged: the one before is used
ls ck > /dev/null
newest=$(ls ck | sed 's/ckpt-\([0-9]*\)\.nncw/\1/' | sort -n | tail -1)
truncate -s 100 "ck/ckpt-$newest.nncw"
expect "a damaged newest checkpoint is skipped" 0 "resumed from ck/ckpt-[0-9]+\.nncw" -- \
    "$NNCW" train --resume ck --save skipped.nncw --threads 1
same "resuming past a damaged checkpoint still matches" full.nncw skipped.nncw

# compressed fine-tuning: the same command in two folders, one interrupted and resumed
cat > q.json <<'JSON'
{"input_info": {"sample_size": [1, 1, 28, 28]}, "target_device": "CPU",
 "compression": [
  {"algorithm": "magnitude_sparsity", "sparsity_init": 0.2,
   "params": {"schedule": "polynomial", "sparsity_target": 0.5, "sparsity_target_epoch": 2,
              "update_per_optimizer_step": true, "steps_per_epoch": 16}},
  {"algorithm": "quantization",
   "initializer": {"range": {"num_init_samples": 64},
                   "batchnorm_adaptation": {"num_bn_adaptation_samples": 0}}}]}
JSON
mkdir a b
cp q.json full.nncw a/
cp q.json full.nncw b/
CR=(cnn --config q.json --load full.nncw --train-subset 512 --test-subset 128 --epochs 2
    --batch 32 --threads 1 --checkpoint-dir ck --checkpoint-every 5 --keep-checkpoints 100
    --save out.nncw)
(cd a && "$NNCW" compress "${CR[@]}" > run.log 2>&1) || bad "compressed run"
(cd b && "$NNCW" compress "${CR[@]}" > /dev/null 2>&1 && rm out.nncw) || bad "compressed run b"
expect "compressed resume rejects a changed option" 2 "--epochs cannot be given with --resume" -- \
    "$NNCW" compress --resume b/ck --epochs 5
(cd b && "$NNCW" compress --resume ck/ckpt-10.nncw --save out.nncw --threads 1 > resumed.log 2>&1) \
    || bad "compressed resume"
grep -q "resumed fine-tuning at epoch 1, step 10/16" b/resumed.log && ok "compressed resume position" \
    || bad "compressed resume position: $(head -5 b/resumed.log)"
same "compressed resume ends with the same checkpoint" a/out.nncw b/out.nncw

# the compressed checkpoint in a fresh process, without the config file
rm a/q.json
grep "fine-tuned test accuracy" a/run.log | sed 's/.*accuracy //; s/ after.*//' > want_c.txt
"$NNCW" eval a/out.nncw --test-subset 128 --threads 1 > eval.log 2>&1 || bad "eval of a checkpoint"
grep "^test accuracy" eval.log | sed 's/.*accuracy //' > got_c.txt
same "nncw eval of the compressed checkpoint gives the same accuracy" want_c.txt got_c.txt
"$NNCW" compress --load a/out.nncw --test-subset 128 --epochs 0 --threads 1 > load.log 2>&1 \
    || bad "compress --load of a checkpoint"
grep "compressed (restored) test accuracy" load.log | sed 's/.*accuracy //' > got_l.txt
same "compress --load restores the same accuracy" want_c.txt got_l.txt
sed -n '/statistics after fine-tuning/,/^compressed\|^saved/p' a/run.log | grep '^|' > stats_a.txt
sed -n '/statistics as restored/,/^compressed\|^test/p' eval.log | grep '^|' > stats_e.txt
if [ -s stats_a.txt ]; then same "the same quantizer and mask statistics" stats_a.txt stats_e.txt;
else bad "no statistics in the compressed run's output"; fi
expect "a weights-only file is not a compressed model" 2 "holds weights only" -- \
    "$NNCW" compress --load full.nncw --test-subset 16

finish
