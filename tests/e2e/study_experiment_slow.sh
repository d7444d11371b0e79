#!/usr/bin/env bash
# motionpref-cli study experiment (issue 21), with a tiny budget end to end: 4 then 8 simulated
# labels spent offline, in online rounds and in rounds with margin and ensemble selection (1 seed,
# 1 epoch, 1 eval replication on a small corpus's test split, a 3-caption labeler A/B per step).
# Checks the arms' studies and rounds, the tables with the labeler's win and loss rates, and the
# refusals (bad arm, budgets that do not increase, a used output directory).
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
  --replications 1 --config run.json --arms offline,online,online_margin,online_ensemble \
  --ab-prompts 3 >log.txt 2>&1 || fail "experiment: $(tail -3 log.txt)"
[[ -f exp/results.md && -f exp/results.csv ]] || fail "no tables"
# 1 untrained row + 4 arms x 2 budgets, each with R@1, R@3, FID, and the labeler's A/B rates.
[[ $(grep -c '^untrained,0,' exp/results.csv) -eq 3 ]] || fail "csv: $(cat exp/results.csv)"
for arm in offline online online_margin online_ensemble; do
  for budget in 4 8; do
    grep -q "^$arm,$budget,R_precision_top_1," exp/results.csv || fail "csv $arm $budget"
    # 3 trials: the win rate is 0, 1/3, 2/3 or 1, with n = 3, and its Wilson interval's ends
    # (wider than 0.5 at n = 3, also at 0 or 3 wins, where a normal interval has no width).
    row=$(grep -E "^$arm,$budget,labeler_win_rate,(0|0\.333333|0\.666667|1),[0-9.e+-]+,3,,," \
      exp/results.csv) || fail "labeler csv $arm $budget: $(grep labeler exp/results.csv)"
    echo "$row" | awk -F, '{ d = $5 - ($10 - $9) / 2
      exit !($9 <= $4 && $4 <= $10 && $10 - $9 > 0.5 && d * d < 1e-8) }' ||
      fail "labeler Wilson interval $arm $budget: $row"
    [[ -f exp/$arm/seed-1/budget-$budget/labeler_ab.json ]] || fail "A/B session $arm $budget"
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
"$cli" study selection exp/online_ensemble/seed-1/study.sqlite | grep -q "rule        ensemble" ||
  fail "ensemble rule"
grep -q '"member-3"' exp/online_ensemble/seed-1/budget-8/ensemble/ensemble.json ||
  fail "round ensemble"
grep -q "labeler wins" exp/results.md || fail "md labeler column: $(head -8 exp/results.md)"
out=$("$cli" study experiment --corpus corpus --out exp 2>&1); code=$?
[[ $code -eq 1 ]] || fail "used out exits $code: $out"
echo "$out" | grep -q "not empty" || fail "used out: $out"
echo "ok"
