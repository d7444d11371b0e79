#!/usr/bin/env bash
# Semi-online DPO (issue 21) stopped by SIGTERM and resumed, as the other run kinds' resume tests
# (train_cli.sh, full_finetune_cli.sh): on a small corpus and the embedded default, a run stopped
# at the end of epoch 1 and one stopped inside epoch 2 (after its pairs were built) each end, once
# resumed, with the uninterrupted run's pairs of every epoch and its adapter, byte for byte; the
# run stopped inside epoch 2 reads that epoch's saved pairs back instead of sampling again.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }
source "$(dirname "$0")/lib/stop_run.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$cli" --quiet corpus build --out "$dir/corpus" --clips 30 --seed 21 --threads 1 >/dev/null ||
  fail "corpus build"
cat > "$dir/run.json" <<JSON
{"method": "dpo", "epochs": 2, "batch_size": 4, "seed": 3,
 "schedule": {"warmup_steps": 0},
 "data": {"source": "semi_online", "corpus": "$dir/corpus", "candidates": 3, "prompts": 10,
          "eval_fraction": 0.2}}
JSON
"$cli" --quiet train --config "$dir/run.json" --out "$dir/run" >"$dir/train.log" 2>&1 ||
  fail "train: $(tail -5 "$dir/train.log")"
# Stopped by SIGTERM after the first epoch's checkpoint (during epoch 2's refresh or steps), then
# resumed: the uninterrupted run's pairs of both epochs and its adapter, byte for byte.
stop_after_first_checkpoint adapter "$dir/part" --config "$dir/run.json"
grep -q 'stopped by request' "$dir/part/events.jsonl" || fail "no stop event"
"$cli" --quiet train --out "$dir/part" --resume >/dev/null 2>"$dir/resume.err" ||
  fail "resume: $(cat "$dir/resume.err")"
grep -q 'resumed from' "$dir/part/events.jsonl" || fail "no resume event"
for epoch in 001 002; do
  cmp -s "$dir/run/semi_online/epoch-$epoch.jsonl" "$dir/part/semi_online/epoch-$epoch.jsonl" ||
    fail "resumed run's epoch-$epoch pairs differ from the uninterrupted run's"
done
cmp -s "$dir/run/adapter/adapter_model.safetensors" "$dir/part/adapter/adapter_model.safetensors" ||
  fail "resumed run's adapter differs from the uninterrupted run's"

# The same stopped inside epoch 2 (4 steps an epoch, a checkpoint every 5 steps): the resumed run
# reads epoch 2's saved pairs back instead of sampling them again.
sed -e 's/"batch_size": 4/"batch_size": 2/' \
  -e 's/"schedule"/"checkpoint": {"every_steps": 5}, "schedule"/' "$dir/run.json" >"$dir/mid.json"
"$cli" --quiet train --config "$dir/mid.json" --out "$dir/mid-full" >/dev/null 2>"$dir/mid-full.err" ||
  fail "mid-epoch full run: $(tail -3 "$dir/mid-full.err")"
stop_after_first_checkpoint adapter "$dir/mid" --config "$dir/mid.json"
grep -q '"type":"checkpoint","step":5' "$dir/mid/events.jsonl" ||
  fail "first checkpoint not at step 5: $(grep checkpoint "$dir/mid/events.jsonl")"
[[ -f "$dir/mid/semi_online/epoch-002.jsonl" ]] || fail "epoch 2's pairs not saved before the stop"
cp "$dir/mid/semi_online/epoch-002.jsonl" "$dir/epoch-002.before"
"$cli" --quiet train --out "$dir/mid" --resume >/dev/null 2>"$dir/resume.err" ||
  fail "mid-epoch resume: $(cat "$dir/resume.err")"
[[ $(grep -c 'semi-online pairs of epoch 2: ' "$dir/mid/events.jsonl") -eq 1 ]] ||
  fail "epoch 2 sampled again on resume: $(grep 'semi-online pairs' "$dir/mid/events.jsonl")"
grep -q 'semi-online pairs of epoch 2 read back' "$dir/mid/events.jsonl" ||
  fail "epoch 2 not read back: $(grep 'semi-online pairs' "$dir/mid/events.jsonl")"
cmp -s "$dir/epoch-002.before" "$dir/mid/semi_online/epoch-002.jsonl" || fail "epoch-002 rewritten"
cmp -s "$dir/mid-full/adapter/adapter_model.safetensors" "$dir/mid/adapter/adapter_model.safetensors" ||
  fail "mid-epoch resumed run's adapter differs from the uninterrupted run's"
echo "ok"
