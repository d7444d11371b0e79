#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: the CUDA build (packaging/cuda-build.sh) against the CPU,
# on the embedded default model.
#   1. generate: greedy motion tokens on cuda equal the CPU's, prompt by prompt
#   2. DPO: the losses of two steps on cuda within 1e-3 of the CPU's (the first is ln 2 on both,
#      policy = reference; the second comes after one AdamW update)
#   3. an evaluation (corpus test split, 1 replication): both devices' metrics side by side
# with wall times for each. Exits 1 on a mismatch.
# Usage: packaging/gpu-check.sh [CLI]   (default build-cuda/app/motionpref-cli)
# MP_CHECK_DEVICE=cpu runs the same steps with cpu on both sides (a dry run of the script on a
# machine without a GPU).
# Needs python3 (any, no packages) to read the CLI's JSON; the product itself never does.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli=${1:-$root/build-cuda/app/motionpref-cli}
[[ -x "$cli" ]] || { echo "gpu-check: no CLI at $cli (run packaging/cuda-build.sh)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "gpu-check: FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }
seconds() { python3 -c "print(f'{$2 - $1:.2f}')"; }

gpu=${MP_CHECK_DEVICE:-cuda}
"$cli" info --device "$gpu" || fail "no usable CUDA device (see the report above)"

echo "== 1. greedy generation, cpu vs $gpu"
prompts=("a person walks forward" "a person jumps twice" "a person waves with the right hand"
         "someone kicks with the left leg then turns around")
for side in reference checked; do
  device=$([[ $side == reference ]] && echo cpu || echo "$gpu")
  t0=$(now)
  for prompt in "${prompts[@]}"; do
    "$cli" --quiet --device "$device" generate --prompt "$prompt" --greedy --print-tokens
  done >"$work/tokens-$side.jsonl"
  echo "$device: ${#prompts[@]} greedy generations in $(seconds "$t0" "$(now)") s"
done
cmp -s "$work/tokens-reference.jsonl" "$work/tokens-checked.jsonl" \
  || { diff "$work/tokens-reference.jsonl" "$work/tokens-checked.jsonl" | head; fail "greedy tokens differ"; }
echo "greedy tokens: identical"

echo "== 2. two DPO steps, cpu vs $gpu"
# 64 pairs from the model's own samples (16 per prompt, consecutive samples paired), in the
# trainer's JSONL.
for prompt in "${prompts[@]}"; do
  "$cli" --quiet --device cpu generate --prompt "$prompt" --seed 1 --samples 32 --print-tokens
done | python3 -c '
import json, sys
pair_id = 0
for line in sys.stdin:
    g = json.loads(line)
    s = g["samples"]
    for a, b in zip(s[0::2], s[1::2]):
        pair_id += 1
        print(json.dumps({"pair_id": pair_id, "prompt": g["prompt"], "chosen": a["codes"],
                          "rejected": b["codes"], "degree": "better"}))
' >"$work/pairs.jsonl"
echo '{"method": "dpo", "epochs": 2, "batch_size": 64, "seed": 1,
       "dpo": {"loss": "sigmoid", "beta": 0.1},
       "optimizer": {"type": "adamw", "lr": 1e-3}, "schedule": {"type": "constant", "warmup_steps": 0},
       "eval": {"log_every_steps": 1},
       "data": {"pairs": "'"$work/pairs.jsonl"'", "eval_fraction": 0}}' >"$work/run.json"
for side in reference checked; do
  device=$([[ $side == reference ]] && echo cpu || echo "$gpu")
  t0=$(now)
  "$cli" --quiet --device "$device" train --config "$work/run.json" --out "$work/run-$side" \
    >/dev/null || fail "training on $device"
  echo "$device: DPO run (2 steps, batch 64) in $(seconds "$t0" "$(now)") s"
done
python3 - "$work" "$gpu" <<'PY' || fail "DPO loss differs by more than 1e-3"
import json, sys
def losses(d):
    out = []
    for line in open(f"{sys.argv[1]}/run-{d}/events.jsonl"):
        e = json.loads(line)
        if e.get("type") == "step" and e.get("loss") is not None:
            out.append(e["loss"])
    return out
cpu, cuda = losses("reference"), losses("checked")
worst = max(abs(a - b) for a, b in zip(cpu, cuda)) if cpu and len(cpu) == len(cuda) else float("inf")
print(f"DPO step losses: cpu {cpu}, {sys.argv[2]} {cuda}, largest |diff| {worst:.2e}")
sys.exit(0 if worst <= 1e-3 else 1)
PY

echo "== 3. evaluation, cpu vs $gpu"
"$cli" --quiet corpus build --out "$work/corpus" --clips 400 --seed 5 >/dev/null
for side in reference checked; do
  device=$([[ $side == reference ]] && echo cpu || echo "$gpu")
  t0=$(now)
  "$cli" --quiet --device "$device" eval --dataset "$work/corpus" --replications 1 \
    --mm-texts 0 --out "$work/metrics-$side.json" >/dev/null || fail "eval on $device"
  echo "$device: evaluation (1 replication) in $(seconds "$t0" "$(now)") s"
done
python3 - "$work" "$gpu" <<'PY'
import json, sys
m = {d: json.load(open(f"{sys.argv[1]}/metrics-{s}.json"))
     for d, s in (("cpu", "reference"), ("cuda", "checked"))}
def mean(v): return v["mean"] if isinstance(v, dict) else v
metrics = m["cpu"].get("metrics", m["cpu"])
for name in sorted(metrics):
    try:
        a, b = mean(metrics[name]), mean(m["cuda"].get("metrics", m["cuda"])[name])
        print(f"{name:28s} cpu {a:10.4f}  {sys.argv[2]} {b:10.4f}")
    except (TypeError, KeyError):
        pass
PY
echo "gpu-check: ok"
