#!/usr/bin/env bash
# The preference-learning pipeline through the CLI on a tiny model: study simulate -> study split
# -> train (DPO-IPO). A run stopped by SIGTERM and resumed ends with the same adapter bytes as an
# uninterrupted run; a second run in the same directory is refused; bad configs name the key.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }
source "$(dirname "$0")/lib/stop_run.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 # determinism and a fair share of a busy machine

"$cli" --quiet corpus build --out "$work/corpus" --clips 40 --seed 5 >/dev/null || fail "corpus"
"$cli" --quiet train-base --corpus "$work/corpus" --out "$work/model" --vqvae-steps 20 \
  --t5-steps 30 --t5-batch 8 --vqvae-batch 8 --text-vocab 150 >/dev/null 2>&1 || fail "train-base"

"$cli" --quiet study create "$work/s.db" >/dev/null || fail "study create"
"$cli" --quiet study simulate "$work/s.db" --corpus "$work/corpus" --model "$work/model" \
  --pairs 24 --seed 2 --noise 0.01 >"$work/sim.txt" || fail "simulate: $(cat "$work/sim.txt")"
grep -q '^24 pairs labeled by .simulated.' "$work/sim.txt" || fail "simulate: $(cat "$work/sim.txt")"
"$cli" --quiet study info "$work/s.db" | grep -q 'simulated' || fail "labeler not in the study"
"$cli" --quiet study simulate "$work/s.db" --corpus "$work/corpus" --model "$work/model" \
  --pairs 2 --judge "$work/no-judge" >/dev/null 2>"$work/judge.err"
[[ $? -eq 1 ]] || fail "a missing judge is not a user error"
grep -q "no-judge" "$work/judge.err" || fail "the judge error names no directory: $(cat "$work/judge.err")"
"$cli" --quiet study split "$work/s.db" --out "$work/split" --test-fraction 0.25 >/dev/null \
  || fail "split"
[[ -s "$work/split/all.jsonl" ]] || fail "split wrote no all.jsonl"

cat >"$work/run.json" <<EOF
{"method": "dpo", "model": "$work/model", "seed": 7, "epochs": 4, "batch_size": 2,
 "schedule": {"type": "cosine", "warmup_steps": 2},
 "dpo": {"loss": "ipo", "beta": 0.1},
 "data": {"pairs": "$work/split/all.jsonl", "train_ids": "$work/split/train.txt",
          "eval_ids": "$work/split/test.txt"},
 "eval": {"log_every_steps": 1}}
EOF

"$cli" --quiet train --config "$work/run.json" --out "$work/full" >/dev/null 2>"$work/full.err" \
  || fail "train: $(cat "$work/full.err")"
for f in config.json events.jsonl train_ids.txt eval_ids.txt adapter/adapter_config.json \
  adapter/adapter_model.safetensors best/best.json best/adapter_model.safetensors; do
  [[ -s "$work/full/$f" ]] || fail "run directory lacks $f"
done
grep -q '"type":"step"' "$work/full/events.jsonl" || fail "no step events"
grep -q '"type":"eval".*"eval_rewards/accuracies"' "$work/full/events.jsonl" || fail "no eval events"
tail -n 1 "$work/full/events.jsonl" | grep -q '"type":"done"' || fail "last event is not done"
# The run's list starts with its count line ("# N pair ids"); the ids are the given ones.
cmp -s <(grep -v '^#' "$work/split/train.txt") <(grep -v '^#' "$work/full/train_ids.txt") ||
    fail "train ids not the given list"

# The same directory again: refused, nothing lost.
before=$(wc -l <"$work/full/events.jsonl")
"$cli" --quiet train --config "$work/run.json" --out "$work/full" >/dev/null 2>"$work/again.err" \
  && fail "a second run in a used directory was accepted"
grep -q 'already holds a run' "$work/again.err" || fail "refusal message: $(cat "$work/again.err")"
[[ $(wc -l <"$work/full/events.jsonl") -eq $before ]] || fail "the refused run wrote events"

# Stop with SIGTERM after the first checkpoint, then resume: same adapter as the full run.
stop_after_first_checkpoint adapter "$work/part" --config "$work/run.json"
grep -q 'stopped by request' "$work/part/events.jsonl" || fail "no stop event"
grep -q 'continue with: motionpref-cli train --out' "$work/part.err" || fail "no resume hint"
# A resume reads the run's own config.json.
"$cli" --quiet train --out "$work/part" --resume >/dev/null \
  2>"$work/resume.err" || fail "resume: $(cat "$work/resume.err")"
cmp -s "$work/full/adapter/adapter_model.safetensors" "$work/part/adapter/adapter_model.safetensors" \
  || fail "resumed run's adapter differs from the uninterrupted run's"

# The reward model, PPO against it, and RLHF (both phases), briefly.
common='"model": "'$work/model'", "seed": 3, "data": {"pairs": "'$work/split/all.jsonl'"}'
echo "{\"method\": \"rm\", \"epochs\": 2, \"batch_size\": 4, $common}" >"$work/rm.json"
"$cli" --quiet train --config "$work/rm.json" --out "$work/rm" >/dev/null 2>"$work/rm.err" \
  || fail "rm: $(cat "$work/rm.err")"
[[ -s "$work/rm/reward_model/reward_head.safetensors" ]] || fail "rm wrote no reward head"
grep -q '"eval_accuracy"' "$work/rm/events.jsonl" || fail "rm logged no eval accuracy"
ppo='"ppo": {"epochs": 1, "batch_size": 4, "mini_batch_size": 2, "ppo_epochs": 1'
echo "{\"method\": \"ppo\", $ppo, \"reward_model\": \"$work/rm\"}, $common}" >"$work/ppo.json"
"$cli" --quiet train --config "$work/ppo.json" --out "$work/ppo" >/dev/null 2>"$work/ppo.err" \
  || fail "ppo: $(cat "$work/ppo.err")"
grep -q '"objective/kl"' "$work/ppo/events.jsonl" || fail "ppo logged no KL"
grep -q '"ppo/loss/total"' "$work/ppo/events.jsonl" || fail "ppo logged no loss"
[[ -s "$work/ppo/adapter/adapter_model.safetensors" ]] || fail "ppo wrote no adapter"
# The paper's other PPO: the value head on the policy's own decoder states.
echo "{\"method\": \"ppo\", $ppo, \"critic\": \"value_head\", \"reward_model\": \"$work/rm\"}, $common}" \
  >"$work/ppo_head.json"
"$cli" --quiet train --config "$work/ppo_head.json" --out "$work/ppo_head" >/dev/null \
  2>"$work/ppo_head.err" || fail "ppo with a value head: $(cat "$work/ppo_head.err")"
grep -q '"ppo/val/vpred"' "$work/ppo_head/events.jsonl" || fail "ppo (value head) logged no values"
tail -n 1 "$work/ppo_head/events.jsonl" | grep -q '"type":"done"' || fail "ppo (value head) did not finish"
echo "{\"method\": \"rlhf\", \"epochs\": 1, \"batch_size\": 8, $ppo}, $common}" >"$work/rlhf.json"
"$cli" --quiet train --config "$work/rlhf.json" --out "$work/rlhf" >/dev/null 2>"$work/rlhf.err" \
  || fail "rlhf: $(cat "$work/rlhf.err")"
[[ -s "$work/rlhf/reward_model_run/reward_model/reward_head.safetensors" ]] \
  || fail "rlhf trained no reward model"
tail -n 1 "$work/rlhf/events.jsonl" | grep -q '"type":"done"' || fail "rlhf did not finish"
echo "{\"method\": \"ppo\", $common}" >"$work/noreward.json"
"$cli" --quiet train --config "$work/noreward.json" --out "$work/noreward" 2>"$work/nr.err" \
  && fail "ppo without a reward model accepted"
grep -q 'ppo.reward_model' "$work/nr.err" || fail "ppo without reward model: $(cat "$work/nr.err")"

# A bad config names the key.
echo '{"dpo": {"beta": "high"}}' >"$work/bad.json"
"$cli" --quiet train --config "$work/bad.json" --out "$work/bad" 2>"$work/bad.err" \
  && fail "bad config accepted"
grep -q "dpo.beta" "$work/bad.err" || fail "bad config message: $(cat "$work/bad.err")"
echo "ok"
