#!/usr/bin/env bash
# The app against the Python stack (transformers + PEFT + TRL) on identical work, side by side:
# same weights (the same safetensors files), same inputs (one inputs.safetensors), same thread
# count, same decoding (sampling, top-k 50, KV cache, the same number of decoder steps). Prints one
# table: case, app ms, Python ms, ratio, spread, and each side's GFLOP/s as a fraction of its own
# fp32 GEMM measured in the same run. Timing never fails anything. The DPO step runs twice on each
# side: with the reference's forward in the step (TRL's default; identical work) and with the
# reference's log-probs computed once beforehand (TRL's precompute_ref_log_probs, the app's
# dpo.precompute_ref_logps): the second does less work and is labelled so. The size "t2m" is the
# T2M evaluator (Guo et al., real size) embedding --t2m-count motions and captions: the app's
# case t2m_embed against T2M's own code (tests/reference/bench_t2m.py), on the same files. The
# reward-model step (rm_step) runs the app's RewardTrainer::step against
# tests/reference/bench_rlhf.py's composition of TRL RewardTrainer's step. pair_int8 and
# batch_int8 (only when asked for in --cases) run the pair and the batch with each side's int8:
# the app's weight-only int8 decoding steps (GenerateOptions::int8Weights) against PyTorch's
# quantize_dynamic on the same transformers model (int8 weights and activations: not identical
# work); compare both with the float32 rows. The PPO step after generation (ppo_step) runs the
# app's PpoTrainer::step against TRL 0.8.6's PPOTrainer.step
# (tests/reference/bench_ppo.py, under $MP_REFERENCE_PYTHON_TRL08, default
# tests/reference/.venv-trl08 from `tests/reference/setup.sh trl08`): not the same work by design
# (the ppo run's default critic is a separate T5, TRL's value head shares the policy's body),
# labelled so; ppo_step_value_head runs the app's step with its other critic, a value head on the
# policy's decoder states (ppo.critic "value_head"): TRL's own work, set against the same Python
# step. At the flan size it runs only when --cases names it (minutes per step).
#
#   tests/bench/compare.sh [--quick] [--threads N] [--sizes default,flan,t2m] [--rounds R]
#                          [--reps N] [--dpo-reps N] [--t2m-count N] [--out FILE]
#                          [--cases gemm,pair,batch,pair_int8,batch_int8,dpo,rm_step,ppo_step,
#                                   t2m_embed]
#
# Builds nothing: it expects build/tests/bench_side_by_side (cmake --build build --target
# bench_side_by_side) and the reference venv tests/reference/.venv (tests/reference/setup.sh).
# Model files go to $MP_BENCH_DIR (default /tmp/mp_bench): the flan-t5-base-sized random T5 is
# about 1 GB and is made once. App and Python runs alternate (A, B, A, B ...) for --rounds rounds
# per size and thread count, so a load that comes and goes hits both; medians are over all
# repetitions of all rounds. --quick: the default size, 1 thread, 1 round, 1 repetition, 5 decoder
# steps, and t2m with 64 motions (a check that everything runs, not a measurement). --cases runs
# only the groups with a listed case (gemm/pair/batch, dpo/dpo_cached, rm_step,
# ppo_step/ppo_step_value_head, t2m_embed; default all).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${MP_BUILD_DIR:-$root/build}
python=${MP_REFERENCE_PYTHON:-$root/tests/reference/.venv/bin/python}
python_trl08=${MP_REFERENCE_PYTHON_TRL08:-$root/tests/reference/.venv-trl08/bin/python}
work=${MP_BENCH_DIR:-/tmp/mp_bench}
threads="1 2"
sizes="default flan t2m"
t2m_count=1000
rounds=2
reps=3
dpo_reps=""
tokens=51
out=""
quick=""
cases=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) sizes="default t2m"; threads=1; rounds=1; reps=1; dpo_reps=1; tokens=5; t2m_count=64
      quick=--quick ;;
    --threads) threads=$2; shift ;;
    --sizes) sizes=${2//,/ }; shift ;;
    --rounds) rounds=$2; shift ;;
    --reps) reps=$2; shift ;;
    --dpo-reps) dpo_reps=$2; shift ;;
    --t2m-count) t2m_count=$2; shift ;;
    --out) out=$2; shift ;;
    --cases) cases=$2; shift ;;
    *) sed -n '2,38p' "$0"; exit 2 ;;
  esac
  shift
done
app=$build/tests/bench_side_by_side
want() { # want CASE...: is any of them asked for (all are by default)?
  local c
  for c; do [[ -z $cases || ,$cases, == *,$c,* ]] && return 0; done
  return 1
}
[[ -x $app ]] || { echo "missing $app: cmake --build build --target bench_side_by_side" >&2; exit 2; }
[[ -x $python ]] || { echo "missing $python: run tests/reference/setup.sh" >&2; exit 2; }
if want ppo_step ppo_step_value_head && [[ ! -x $python_trl08 ]]; then
  echo "missing $python_trl08 (TRL 0.8.6 for ppo_step): run tests/reference/setup.sh trl08," \
    "or leave ppo_step out with --cases" >&2
  exit 2
fi
results=${out:-$(mktemp /tmp/mp_bench_results.XXXXXX.jsonl)}
: > "$results"

tag() { # adds the size and round to each JSON line
  sed -u "s/^{/{\"size\": \"$1\", \"round\": $2, /" | grep '^{' | tee -a "$results"
}

echo "load before: $(uptime)" >&2
for size in $sizes; do
  dir=$work/$size
  if [[ $size == t2m ]]; then # the T2M evaluator's embedding: its own files, no T5
    want t2m_embed || continue
    [[ -f $dir/inputs.safetensors ]] || "$python" "$root/tests/reference/bench_t2m.py" prep --out "$dir"
    for t in $threads; do
      for ((r = 1; r <= rounds; r++)); do
        echo "[t2m, $t thread(s), round $r] app" >&2
        "$app" --cases t2m_embed --t2m-dir "$dir" --t2m-count "$t2m_count" --reps "$reps" \
          --threads "$t" | tag "t2m-$t2m_count" "$r"
        echo "[t2m, $t thread(s), round $r] python" >&2
        "$python" "$root/tests/reference/bench_t2m.py" run --dir "$dir" --count "$t2m_count" \
          --reps "$reps" --threads "$t" 2>/dev/null | tag "t2m-$t2m_count" "$r"
      done
    done
    continue
  fi
  [[ -f $dir/inputs.safetensors ]] || "$python" "$root/tests/reference/bench_t5.py" prep --size "$size" --out "$dir"
  [[ -f $dir/rm_head.safetensors ]] || "$python" "$root/tests/reference/bench_rlhf.py" prep --dir "$dir"
  ppo=""
  if want ppo_step ppo_step_value_head && { [[ $size != flan ]] || [[ ,$cases, == *,ppo_step* ]]; }
  then ppo=1; fi
  [[ -z $ppo || -f $dir/ppo_inputs.safetensors ]] \
    || "$python_trl08" "$root/tests/reference/bench_ppo.py" prep --dir "$dir"
  # A flan-size DPO step takes a minute or more: one repetition per round unless asked, and no
  # warm-up step (its first-call costs are far below a second of a minute-long step).
  sreps=$reps
  dreps=${dpo_reps:-$([[ $size == flan ]] && echo 1 || echo "$reps")}
  dwarm=$([[ $size == flan ]] && echo 0 || echo 1)
  for t in $threads; do
    for ((r = 1; r <= rounds; r++)); do
      if want gemm pair batch; then
      echo "[$size, $t thread(s), round $r] app" >&2
      "$app" --dir "$dir" --cases gemm,pair,batch --reps "$sreps" --threads "$t" --tokens "$tokens" | tag "$size" "$r"
      echo "[$size, $t thread(s), round $r] python" >&2
      "$python" "$root/tests/reference/bench_t5.py" run --dir "$dir" --cases gemm,pair,batch \
        --reps "$sreps" --threads "$t" --tokens "$tokens" 2>/dev/null | tag "$size" "$r"
      fi
      if [[ -n $cases ]] && want pair_int8 batch_int8; then # int8: only when named
      int8=$(tr , '\n' <<<"$cases" | grep -E '^(pair|batch)_int8$' | paste -sd,)
      echo "[$size, $t thread(s), round $r] app $int8" >&2
      "$app" --dir "$dir" --cases "$int8" --reps "$sreps" --threads "$t" --tokens "$tokens" | tag "$size" "$r"
      echo "[$size, $t thread(s), round $r] python $int8" >&2
      "$python" "$root/tests/reference/bench_t5.py" run --dir "$dir" --cases "$int8" \
        --reps "$sreps" --threads "$t" --tokens "$tokens" 2>/dev/null | tag "$size" "$r"
      fi
      if want dpo dpo_cached; then
      echo "[$size, $t thread(s), round $r] app dpo" >&2
      "$app" --dir "$dir" --cases dpo,dpo_cached --reps "$dreps" --warmup "$dwarm" --threads "$t" | tag "$size" "$r"
      echo "[$size, $t thread(s), round $r] python dpo" >&2
      "$python" "$root/tests/reference/bench_t5.py" run --dir "$dir" --cases dpo,dpo_cached \
        --reps "$dreps" --warmup "$dwarm" --threads "$t" 2>/dev/null | tag "$size" "$r"
      fi
      if want rm_step; then # a training step: as many repetitions and warm-ups as DPO's
      echo "[$size, $t thread(s), round $r] app rm_step" >&2
      "$app" --dir "$dir" --cases rm_step --reps "$dreps" --warmup "$dwarm" --threads "$t" | tag "$size" "$r"
      echo "[$size, $t thread(s), round $r] python rm_step" >&2
      "$python" "$root/tests/reference/bench_rlhf.py" run --dir "$dir" --cases rm_step \
        --reps "$dreps" --warmup "$dwarm" --threads "$t" 2>/dev/null | tag "$size" "$r"
      fi
      if [[ -n $ppo ]]; then # PPO's step after generation: TRL 0.8.6 on the Python side
      echo "[$size, $t thread(s), round $r] app ppo_step" >&2
      "$app" --dir "$dir" --cases ppo_step,ppo_step_value_head --reps "$dreps" --warmup "$dwarm" \
        --threads "$t" | tag "$size" "$r"
      echo "[$size, $t thread(s), round $r] python ppo_step" >&2
      "$python_trl08" "$root/tests/reference/bench_ppo.py" run --dir "$dir" --cases ppo_step \
        --reps "$dreps" --warmup "$dwarm" --threads "$t" 2>/dev/null | tag "$size" "$r"
      fi
    done
  done
done
echo "load after: $(uptime)" >&2
"$python" "$root/tests/reference/bench_table.py" "$results" --work "$work" $quick
echo "(raw results: $results)"
