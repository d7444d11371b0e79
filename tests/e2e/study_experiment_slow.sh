#!/usr/bin/env bash
# motionpref-cli study experiment (issue 21), with a tiny budget end to end: 4 then 8 simulated
# labels spent offline, in online rounds and in rounds with margin selection (1 seed, 1 epoch,
# 1 eval replication on a small corpus's test split). Checks the arms' studies and rounds, the
# tables, and the refusals (bad arm, budgets that do not increase, a used output directory).
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"

"$cli" --quiet corpus build --out corpus --clips 240 --seed 5 --threads 1 >/dev/null ||
  fail "corpus build"
out=$("$cli" study experiment --corpus corpus --out bad --arms offline,active 2>&1); code=$?
[[ $code -eq 1 ]] || fail "bad arm exits $code: $out"
echo "$out" | grep -q "unknown arm 'active'" || fail "arm error: $out"
out=$("$cli" study experiment --corpus corpus --out bad --budgets 8,4 2>&1); code=$?
[[ $code -eq 1 ]] || fail "decreasing budgets exit $code: $out"
echo "$out" | grep -q "must increase" || fail "budget error: $out"

echo '{"method": "dpo", "batch_size": 4, "schedule": {"warmup_steps": 0}}' > run.json
"$cli" study experiment --corpus corpus --out exp --budgets 4,8 --seeds 1 --epochs 1 \
  --replications 1 --config run.json >log.txt 2>&1 || fail "experiment: $(tail -3 log.txt)"
[[ -f exp/results.md && -f exp/results.csv ]] || fail "no tables"
# 1 untrained row + 3 arms x 2 budgets, each with R@1, R@3, FID.
[[ $(grep -c '^untrained,0,' exp/results.csv) -eq 3 ]] || fail "csv: $(cat exp/results.csv)"
for arm in offline online online_margin; do
  for budget in 4 8; do
    grep -q "^$arm,$budget,R_precision_top_1," exp/results.csv || fail "csv $arm $budget"
    grep -q "^| $arm | $budget |" exp/results.md || fail "md $arm $budget"
    [[ -f exp/$arm/seed-1/budget-$budget/metrics.json ]] || fail "metrics $arm $budget"
  done
done
# Online arms went through two rounds (the second's pairs sampled from round 1's adapter); the
# offline study stayed at the base model; the margin arm's pairs record their rule.
"$cli" study rounds exp/online/seed-1/study.sqlite | grep -q "round 2" ||
  fail "online rounds: $("$cli" study rounds exp/online/seed-1/study.sqlite)"
"$cli" study rounds exp/offline/seed-1/study.sqlite | grep -q "^round 0 (base model): 8 labels" ||
  fail "offline rounds: $("$cli" study rounds exp/offline/seed-1/study.sqlite)"
"$cli" study selection exp/online_margin/seed-1/study.sqlite | grep -q "rule        margin" ||
  fail "margin rule"
out=$("$cli" study experiment --corpus corpus --out exp 2>&1); code=$?
[[ $code -eq 1 ]] || fail "used out exits $code: $out"
echo "$out" | grep -q "not empty" || fail "used out: $out"
echo "ok"
