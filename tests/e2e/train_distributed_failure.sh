#!/usr/bin/env bash
# Data-parallel training when a rank goes away (issue 24), two Gloo ranks on the embedded default
# model with --dist-timeout 4: a rank killed mid-run makes rank 0 stop at once with an error that
# names the failed collective (the connection is reset), and the launcher exits 1 naming the
# killed rank; a stalled rank (SIGSTOP) makes rank 0 fail when the timeout passes and the
# launcher kills the stalled one. Neither ever hangs; rank 0 records a failed event.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
launcher=
cleanup() {
  [[ -n "$launcher" ]] && kill -KILL "$launcher" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

export OMP_NUM_THREADS=1

python3 "$here/make_pairs.py" "$work/pairs.jsonl" 16 || fail "make_pairs"
cat >"$work/run.json" <<EOF
{"method": "dpo", "seed": 7, "epochs": 20, "batch_size": 2,
 "lora": {"r": 4, "alpha": 8, "dropout": 0.0},
 "data": {"pairs": "$work/pairs.jsonl", "eval_fraction": 0.25},
 "eval": {"log_every_steps": 1}, "checkpoint": {"every_steps": 0}}
EOF

# RUN_DIR SIGNAL MAX_SECONDS: starts two ranks, sends SIGNAL to rank 1 after the first step
# event, and waits at most MAX_SECONDS for the launcher to exit.
break_rank() {
  local dir=$1 signal=$2 max=$3
  "$cli" --quiet train --config "$work/run.json" --out "$dir" --nproc 2 --dist-timeout 4 \
    >/dev/null 2>"$dir.err" &
  launcher=$!
  for _ in $(seq 1 600); do
    grep -q '"type":"step"' "$dir/events.jsonl" 2>/dev/null && break
    sleep 0.05
  done
  grep -q '"type":"step"' "$dir/events.jsonl" 2>/dev/null || fail "$dir: no step within 30 s"
  local rank1=
  for pid in $(pgrep -P "$launcher"); do
    tr '\0' '\n' <"/proc/$pid/environ" | grep -qx 'RANK=1' && rank1=$pid
  done
  [[ -n "$rank1" ]] || fail "$dir: rank 1's process not found"
  local start=$SECONDS
  kill "-$signal" "$rank1"
  while kill -0 "$launcher" 2>/dev/null; do
    ((SECONDS - start > max)) && fail "$dir: still running $max s after SIG$signal to rank 1"
    sleep 0.2
  done
  wait "$launcher"
  local status=$?
  launcher=
  [[ $status -eq 1 ]] || fail "$dir: launcher exit status $status, expected 1: $(cat "$dir.err")"
  echo "SIG$signal to rank 1: stopped after $((SECONDS - start)) s"
  [[ -d "$dir/adapter" ]] && fail "$dir finished (make the run longer)"
  tail -n 1 "$dir/events.jsonl" | grep -q '"type":"failed".*rank 0 of 2' \
    || fail "$dir: last event is not rank 0's failure: $(tail -n 1 "$dir/events.jsonl")"
}

break_rank "$work/killed" KILL 10
grep -q 'rank 1 was killed by signal 9' "$work/killed.err" \
  || fail "the launcher does not name the killed rank: $(cat "$work/killed.err")"
grep -q 'error: rank 0 of 2: .* failed' "$work/killed.err" \
  || fail "rank 0's error does not name the failed collective: $(cat "$work/killed.err")"

break_rank "$work/stalled" STOP 20
grep -qi 'timed out\|timeout' "$work/stalled.err" \
  || fail "rank 0's error does not say it timed out: $(cat "$work/stalled.err")"
grep -q 'still running .* killing it' "$work/stalled.err" \
  || fail "the launcher did not kill the stalled rank: $(cat "$work/stalled.err")"
echo "ok"
