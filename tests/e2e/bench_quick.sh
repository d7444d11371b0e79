#!/usr/bin/env bash
# Every benchmark executable (tests/bench/*.cpp) runs to the end with tiny arguments: a check that
# they still build and run, never a timing (figures come from tests/bench/compare.sh).
set -u
build=${MP_BUILD_DIR:?MP_BUILD_DIR must name the build directory}
source_dir=${MP_SOURCE_DIR:?MP_SOURCE_DIR must name the checkout}
fail() { echo "FAIL: $*"; exit 1; }
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
bundle=$source_dir/resources/models/default
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run() { # run NAME ARGS...: exit 0 within the test's time
  local name=$1; shift
  local exe=$build/tests/$name
  [[ -x $exe ]] || fail "$exe is not built"
  "$exe" "$@" >"$log" 2>&1 || fail "$name $*: $(tail -5 "$log")"
  echo "$name: ok"
}

run bench_sampling 1 1
run bench_pair "$bundle" 1 1
run bench_generate_batch 2 1 1 "$bundle"
run bench_dpo_step "$bundle" 1 2
run bench_metrics 40 1
run bench_attention 1 1
run bench_side_by_side --reps 1 --threads 1 --tokens 5 --warmup 0 --t2m-count 4
for case in gemm pair batch dpo dpo_cached rm_step ppo_step ppo_step_value_head t2m_embed; do
  grep -q "\"case\":\"$case\"" "$log" || fail "bench_side_by_side printed no $case line: $(cat "$log")"
done
