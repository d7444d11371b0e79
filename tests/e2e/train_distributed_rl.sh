#!/usr/bin/env bash
# The reward model and PPO under two data-parallel ranks (issue 24), Gloo over loopback on the
# embedded default model. PPO samples, scores and evaluates its shard of the prompts and the
# ranks exchange the rollouts; the update runs on every rank: equal to one process.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1

python3 "$here/make_pairs.py" "$work/pairs.jsonl" 16 || fail "make_pairs"
# The reward model and PPO against it, under two ranks.
common='"seed": 3, "lora": {"r": 4, "alpha": 8, "dropout": 0.0}, "data": {"pairs": "'$work/pairs.jsonl'"}'
echo "{\"method\": \"rm\", \"epochs\": 1, \"batch_size\": 4, $common}" >"$work/rm.json"
"$cli" --quiet train --config "$work/rm.json" --out "$work/rm1" >/dev/null 2>"$work/rm.err" \
  || fail "rm: $(cat "$work/rm.err")"
"$cli" --quiet train --config "$work/rm.json" --out "$work/rm2" --nproc 2 >/dev/null \
  2>"$work/rm.err" || fail "rm under two ranks: $(cat "$work/rm.err")"
# The reward model trains with T5's dropout, whose masks each rank draws for its own shard: the
# run equals one process in distribution, not in bits. It finishes and evaluates.
tail -n 1 "$work/rm2/events.jsonl" | grep -q '"type":"done"' || fail "rm under two ranks did not finish"
grep -q '"eval_accuracy"' "$work/rm2/events.jsonl" || fail "rm under two ranks logged no eval accuracy"
[[ -s "$work/rm2/reward_model/reward_head.safetensors" ]] || fail "rm under two ranks wrote no head"
ppo='"ppo": {"epochs": 1, "batch_size": 3, "mini_batch_size": 3, "ppo_epochs": 1, "max_new_tokens": 8'
echo "{\"method\": \"ppo\", $ppo, \"reward_model\": \"$work/rm1\"}, $common}" >"$work/ppo.json"
"$cli" --quiet train --config "$work/ppo.json" --out "$work/ppo1" >/dev/null 2>"$work/ppo.err" \
  || fail "ppo: $(cat "$work/ppo.err")"
"$cli" --quiet train --config "$work/ppo.json" --out "$work/ppo2" --nproc 2 >/dev/null \
  2>"$work/ppo.err" || fail "ppo under two ranks: $(cat "$work/ppo.err")"
python3 "$here/compare_runs.py" "$work/ppo1" "$work/ppo2" || fail "ppo runs differ"
echo "ok"
