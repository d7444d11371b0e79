#!/usr/bin/env bash
# Data-parallel training speed: the same DPO run (embedded default model, LoRA r 8, a global
# batch of --batch pairs) as one process and as N local ranks (`train --nproc N`, Gloo over
# loopback), alternating, --rounds times each. Reports optimizer steps per second between the
# first and the last step event (start-up, model loading and the rendezvous excluded), per run
# and the median, and the ratio to one process. Each rank gets hardware threads / N intra-op
# threads (as --nproc sets OMP_NUM_THREADS), one process all of them; "1x1" in --ranks is one
# process with one thread (on a loaded machine a 2-thread OpenMP pool waits on descheduled
# threads, so it is the fairer baseline there). Timing never fails anything.
#
#   tests/bench/train_ranks.sh [--ranks 1,1x1,2] [--batch 16] [--steps 8] [--rounds 3]
#
# Expects build/app/motionpref-cli (cmake --build build --target motionpref-cli).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cli=${MP_CLI:-${MP_BUILD_DIR:-$root/build}/app/motionpref-cli}
ranks=1,1x1,2
batch=16
steps=8
rounds=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --ranks) ranks=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "usage: $0 [--ranks 1,1x1,2] [--batch B] [--steps S] [--rounds R]" >&2; exit 2 ;;
  esac
done
[[ -x "$cli" ]] || { echo "train_ranks: no $cli (build motionpref-cli)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 "$root/tests/e2e/make_pairs.py" "$work/pairs.jsonl" $((batch * steps))
cat >"$work/run.json" <<EOF
{"method": "dpo", "seed": 7, "epochs": 1, "batch_size": $batch,
 "lora": {"r": 8, "alpha": 16, "dropout": 0.0},
 "data": {"pairs": "$work/pairs.jsonl", "eval_fraction": 0.0},
 "eval": {"log_every_steps": 1}, "checkpoint": {"every_steps": 0}}
EOF

steps_per_second() { # events.jsonl: (last step time - first step time) / (steps - 1)
  python3 - "$1" <<'EOF'
import json, sys
times = [e["time"] for e in map(json.loads, open(sys.argv[1])) if e["type"] == "step"]
print(f"{(len(times) - 1) / (times[-1] - times[0]):.3f}")
EOF
}

echo "DPO, embedded default model, global batch $batch, $steps steps, $(nproc) hardware threads"
declare -A results
IFS=, read -ra counts <<<"$ranks"
for round in $(seq 1 "$rounds"); do
  for n in "${counts[@]}"; do
    out="$work/run-$n-$round"
    if [[ $n == 1x1 ]]; then
      OMP_NUM_THREADS=1 "$cli" --quiet train --config "$work/run.json" --out "$out" >/dev/null
    else
      "$cli" --quiet train --config "$work/run.json" --out "$out" --nproc "$n" >/dev/null
    fi
    rate=$(steps_per_second "$out/events.jsonl")
    results[$n]="${results[$n]:-} $rate"
    echo "round $round, $n rank(s): $rate steps/s"
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
base=$(echo "${results[${counts[0]}]}" | median)
printf '%-8s %-12s %s\n' ranks "steps/s" "vs ${counts[0]}"
for n in "${counts[@]}"; do
  m=$(echo "${results[$n]}" | median)
  printf '%-8s %-12s %.2fx\n' "$n" "$m" "$(python3 -c "print($m / $base)")"
done
