#!/usr/bin/env bash
# experiment run / report through the CLI on the embedded default model: a sweep of 2 DPO losses
# x 1 seed (3 steps each) plus the untrained baseline, evaluated with 2 replications on 32 test
# clips of a small corpus. Checks the tables, that a second run trains and evaluates nothing, that
# an interrupted run resumes from its checkpoint and one without a checkpoint starts again, that
# a failing configuration is reported in the tables, and the errors for bad sweep files.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 # determinism and a fair share of a busy machine
cd "$work" || fail "cd"

"$cli" --quiet corpus build --out corpus --clips 240 --seed 5 --threads 1 >/dev/null \
  || fail "corpus build"
"$cli" --quiet study create s.db >/dev/null || fail "study create"
"$cli" --quiet study simulate s.db --corpus corpus --pairs 16 --seed 2 >/dev/null \
  || fail "simulate"
"$cli" --quiet study split s.db --out split --test-fraction 0.25 >/dev/null || fail "split"

base='"base": {"method": "dpo", "epochs": 1, "batch_size": 4,
  "schedule": {"type": "cosine", "warmup_steps": 1}, "optimizer": {"type": "adamw", "lr": 5e-4},
  "data": {"pairs": "split/all.jsonl", "train_ids": "split/train.txt",
           "eval_ids": "split/test.txt"}}'
protocol='"eval": {"dataset": "corpus", "replications": 2, "max_clips": 32, "mm_texts": 0}'
echo "{$base, \"grid\": {\"loss\": [\"sigmoid\", \"ipo\"]}, \"seeds\": [7], $protocol}" >sweep.json

"$cli" experiment run sweep.json --out exp >out.txt 2>err.txt || fail "run: $(cat err.txt)"
grep -q 'exp/results.md' out.txt || fail "run does not name results.md: $(cat out.txt)"
for f in experiment.json results.csv results.md baseline/metrics.json \
  runs/c01_loss_sigmoid_s7/metrics.json runs/c02_loss_ipo_s7/metrics.json \
  runs/c01_loss_sigmoid_s7/train/best/adapter_model.safetensors \
  runs/c01_loss_sigmoid_s7/train.log; do
  [[ -s exp/$f ]] || fail "experiment directory lacks $f"
done
grep -q '"loss": "sigmoid"' exp/runs/c01_loss_sigmoid_s7/run.json || fail "child run.json"
grep -q '"seed": 7' exp/runs/c01_loss_sigmoid_s7/run.json || fail "child run.json seed"
grep -q '| baseline (untrained) | 1 | 0\.[0-9]* ± ' exp/results.md || fail "no baseline row"
grep -q '^| loss=ipo | 1 | [+-]' exp/results.md || fail "no paired difference row: $(cat exp/results.md)"
# results.csv: baseline + 2 runs + 2 pooled rows, 7 metrics each (no MultiModality), a header.
[[ $(wc -l <exp/results.csv) -eq 36 ]] || fail "results.csv has $(wc -l <exp/results.csv) lines"
grep -q '^"pooled","loss=sigmoid",,FID,[0-9.]*,[0-9.]*,2,-\?[0-9.]*,[0-9.]*,2,\(yes\|no\)$' \
  exp/results.csv || fail "pooled FID row: $(grep pooled exp/results.csv | head -3)"
grep -q '"state": "evaluated"' exp/experiment.json || fail "states: $(cat exp/experiment.json)"
# The paired differences are the per-replication differences of the files (python: the same
# arithmetic again, from metrics.json).
python3 - exp <<'EOF' || fail "paired difference does not match the metrics files"
import csv, json, math, sys
d = sys.argv[1]
base = json.load(open(d + "/baseline/metrics.json"))["FID"]["values"]
run = json.load(open(d + "/runs/c02_loss_ipo_s7/metrics.json"))["FID"]["values"]
diff = [r - b for r, b in zip(run, base)]
m = sum(diff) / len(diff)
half = 1.96 * math.sqrt(sum((x - m) ** 2 for x in diff) / len(diff)) / math.sqrt(len(diff))
row = [r for r in csv.reader(open(d + "/results.csv")) if r[0] == "pooled" and r[1] == "loss=ipo" and r[3] == "FID"][0]
assert abs(float(row[7]) - m) < 1e-5 and abs(float(row[8]) - half) < 1e-5, (row, m, half)
EOF

# Again: nothing trained or evaluated.
cp exp/runs/c01_loss_sigmoid_s7/train/events.jsonl events.before
cp exp/baseline/metrics.json baseline.before
"$cli" experiment run sweep.json --out exp >/dev/null 2>again.txt || fail "rerun: $(cat again.txt)"
[[ $(grep -c 'done before, kept' again.txt) -eq 2 ]] || fail "rerun redid work: $(cat again.txt)"
grep -q 'evaluating\|training' again.txt && fail "rerun trained or evaluated: $(cat again.txt)"
cmp -s events.before exp/runs/c01_loss_sigmoid_s7/train/events.jsonl || fail "rerun wrote events"
cmp -s baseline.before exp/baseline/metrics.json || fail "rerun evaluated the baseline again"

# report rewrites the same tables from disk.
cp exp/results.md results.before
rm exp/results.md exp/results.csv
"$cli" --quiet experiment report exp >/dev/null || fail "report"
cmp -s results.before exp/results.md || fail "report differs from run's tables"

# An interrupted run (events without 'done', no final adapter, a checkpoint) resumes; one that
# left no checkpoint starts again; neither touches the other run.
ipo=exp/runs/c02_loss_ipo_s7
sed -i '$d' $ipo/train/events.jsonl
rm -rf $ipo/train/adapter $ipo/metrics.json
sig=exp/runs/c01_loss_sigmoid_s7
rm -rf $sig/train/checkpoints/* $sig/metrics.json
sed -i '$d' $sig/train/events.jsonl
"$cli" experiment run sweep.json --out exp >/dev/null 2>resume.txt || fail "resume: $(cat resume.txt)"
grep -q 'loss=ipo seed 7: resuming training' resume.txt || fail "no resume: $(cat resume.txt)"
grep -q 'loss=sigmoid seed 7: training' resume.txt || fail "no restart: $(cat resume.txt)"
grep -q 'baseline' resume.txt && fail "baseline evaluated again: $(cat resume.txt)"
[[ -s $ipo/train/adapter/adapter_model.safetensors && -s $ipo/metrics.json ]] \
  || fail "resumed run not finished"
tail -n 1 $sig/train/events.jsonl | grep -q '"type":"done"' || fail "restarted run not done"

# A configuration that fails (train refuses full fine-tuning for RLHF) is reported; exit 1.
echo "{$base, \"variants\": [{\"name\": \"full\", \"set\": {\"lora.enabled\": false, \"method\": \"rlhf\"}}],
  \"baseline\": false, $protocol}" >mixed.json
"$cli" --quiet experiment run mixed.json --out mixed >/dev/null 2>mixed.txt \
  && fail "a failed run gave exit 0"
grep -q 'full.*failed' mixed.txt || fail "failure not reported: $(cat mixed.txt)"
grep -q '^- c01_full_s42: .*full fine-tuning' mixed/results.md || fail "results.md: $(cat mixed/results.md)"
grep -q 'Runs: 0 of 1 evaluated, 1 failed' mixed/results.md || fail "results.md: $(cat mixed/results.md)"
grep -q 'Paired difference' mixed/results.md && fail "paired differences without a baseline"

# Bad sweeps: one line naming the file and the key; another sweep in the same directory.
expect_error() { # expect_error PATTERN SWEEP_TEXT
  echo "$2" >bad.json
  "$cli" experiment run bad.json --out badexp >/dev/null 2>bad.txt; code=$?
  [[ $code -eq 1 ]] || fail "bad sweep exit $code: $2"
  [[ $(wc -l <bad.txt) -eq 1 ]] || fail "not one line: $(cat bad.txt)"
  grep -q "bad.json.*$1" bad.txt || fail "error '$(cat bad.txt)' lacks $1"
}
expect_error "key 'grid.betta'" "{$base, \"grid\": {\"betta\": [1]}, $protocol}"
expect_error "key 'eval'" "{$base}"
expect_error "configuration 'beta=-1'.*dpo.beta" "{$base, \"grid\": {\"beta\": [-1]}, $protocol}"
expect_error "key 'seeds'" "{$base, \"seeds\": [\"x\"], $protocol}"
expect_error "not valid JSON" "{$base"
echo "{$base, \"grid\": {\"loss\": [\"hinge\"]}, $protocol}" >other.json
"$cli" experiment run other.json --out exp >/dev/null 2>other.txt && fail "another sweep accepted"
grep -q 'exp/experiment.json: holds another sweep' other.txt || fail "refusal: $(cat other.txt)"
"$cli" experiment report nowhere >/dev/null 2>nowhere.txt && fail "report of nothing"
grep -q 'nowhere/experiment.json' nowhere.txt || fail "report error: $(cat nowhere.txt)"
echo "experiment_cli: ok"
