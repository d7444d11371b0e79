#!/usr/bin/env bash
# Data-parallel training on c10d's Gloo over loopback (issue 24), on the embedded default model:
# two ranks (`train --nproc 2`) reach the parameters of one process with the whole batch after K
# steps (batches of 3 split 2 + 1, so the shares are uneven), with the same logged losses; rank 0
# alone writes the run directory; a run stopped under two ranks resumes under one, and the
# reverse, and ends with the one-process adapter. The reward model and PPO: train_distributed_rl.sh.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*"; exit 1; }
source "$here/lib/stop_run.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1

python3 "$here/make_pairs.py" "$work/pairs.jsonl" 16 || fail "make_pairs"
cat >"$work/run.json" <<EOF
{"method": "dpo", "seed": 7, "epochs": 1, "batch_size": 3,
 "lora": {"r": 4, "alpha": 8, "dropout": 0.0},
 "dpo": {"loss": "sigmoid", "beta": 0.1},
 "data": {"pairs": "$work/pairs.jsonl", "eval_fraction": 0.25},
 "eval": {"log_every_steps": 1}, "checkpoint": {"every_steps": 1, "keep_last": 10}}
EOF
# 12 training pairs in batches of 3: 4 steps.
"$cli" --quiet train --config "$work/run.json" --out "$work/one" >/dev/null 2>"$work/one.err" \
  || fail "one process: $(cat "$work/one.err")"
"$cli" --quiet train --config "$work/run.json" --out "$work/two" --nproc 2 >"$work/two.out" \
  2>"$work/two.err" || fail "two ranks: $(cat "$work/two.err")"
[[ $(cat "$work/two.out") == "$work/two" ]] || fail "stdout is not rank 0's one line: $(cat "$work/two.out")"
grep -q '2 data-parallel ranks (Gloo)' "$work/two/events.jsonl" || fail "no rank count in the start event"
tail -n 1 "$work/two/events.jsonl" | grep -q '"type":"done"' || fail "two ranks did not finish"
# Rank 0 alone writes: one event stream with each step once.
[[ $(grep -c '"type":"step"' "$work/two/events.jsonl") -eq 4 ]] || fail "step events: $(grep -c '"type":"step"' "$work/two/events.jsonl")"

compare() { # compare.py A B: adapters within float tolerance, then the logged step losses
  python3 "$here/compare_runs.py" "$1" "$2" || fail "$1 and $2 differ"
}
compare "$work/one" "$work/two"

# Stopped under two ranks after a checkpoint, resumed under one; and the reverse.
stop_and_check() { # RUN_DIR ARGS...
  stop_after_first_checkpoint adapter "$1" --config "$work/run.json" "${@:2}"
  grep -q 'stopped by request' "$1/events.jsonl" || fail "$1: no stop event"
}
stop_and_check "$work/two-one" --nproc 2
"$cli" --quiet train --out "$work/two-one" --resume >/dev/null 2>"$work/r1.err" \
  || fail "resume under one process: $(cat "$work/r1.err")"
compare "$work/one" "$work/two-one"
stop_and_check "$work/one-two"
"$cli" --quiet train --out "$work/one-two" --resume --nproc 2 >/dev/null 2>"$work/r2.err" \
  || fail "resume under two ranks: $(cat "$work/r2.err")"
compare "$work/one" "$work/one-two"

echo "ok"
