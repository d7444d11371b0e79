#!/usr/bin/env bash
# motionpref-cli study checks / labelers / split --aggregate --exclude-labelers (issue 22): rates
# are checked and stored, the per-labeler table and JSON hold known values, and the rule and the
# exclusion change which pairs the trainer JSONL gets.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$cli" study create "$dir/s.sqlite" >/dev/null || fail "create"
# Ten pairs: ana prefers sample_1 on all; bo agrees on 1-6 and prefers sample_2 on 7-10 (newest).
for i in $(seq 1 10); do
  if (( i <= 6 )); then b=sample_1; else b=sample_2; fi
  echo "{\"id\": \"r$i\", \"prompt\": \"prompt $i\", \"sample_1\": {\"seed\": $i, \"tokens\": [$i, 1]}, \"sample_2\": {\"seed\": $((i + 100)), \"tokens\": [2]}, \"chosen\": [{\"choice\": \"sample_1\", \"degree of preference\": \"Better\", \"user\": \"ana\"}, {\"choice\": \"$b\", \"degree of preference\": \"Much better\", \"user\": \"bo\"}]}"
done > "$dir/prefs.jsonl"
"$cli" study import "$dir/s.sqlite" "$dir/prefs.jsonl" >/dev/null || fail "import"

out=$("$cli" study checks "$dir/s.sqlite" --gold-rate 0.4 --repeat-rate 0.2 2>&1); code=$?
[[ $code -eq 1 ]] || fail "rates above 0.5 together exit $code: $out"
echo "$out" | grep -q "at most 0.5" || fail "rate error: $out"
"$cli" study checks "$dir/s.sqlite" --gold-rate 0.1 | grep -q "gold pairs    10.0%" || fail "gold rate"
"$cli" study checks "$dir/s.sqlite" | grep -q "repeat pairs  0.0%" || fail "repeat rate kept"

json=$("$cli" study labelers "$dir/s.sqlite" --json) || fail "labelers --json"
python3 - "$json" <<'PY' || fail "labelers json: $json"
import json, sys
report = json.loads(sys.argv[1])
ana, bo = report["labelers"]
assert ana["labeler"] == "ana" and ana["labels"] == 10, ana
assert ana["gold_accuracy"] is None and ana["gold_judged"] == 0, ana
assert ana["left_share"] is not None
# 6 of 10 agree; ana always sample_1: chance agreement 0.6, kappa 0.
assert abs(ana["mean_kappa"]) < 1e-12, ana
assert abs(bo["agreement_by_degree"][3] - 0.6) < 1e-12, bo
PY
"$cli" study labelers "$dir/s.sqlite" | grep -q "^ana " || fail "labelers table"

# last (bo's label is the newest): 6 pairs for sample_1, 4 for sample_2; unanimous keeps 6;
# leaving bo out keeps all 10 for sample_1.
count() { wc -l < "$1/all.jsonl" | tr -d ' '; }
"$cli" study split "$dir/s.sqlite" --out "$dir/last" --name last >/dev/null || fail "split last"
[[ $(count "$dir/last") -eq 10 ]] || fail "last: $(count "$dir/last") pairs"
[[ $(grep -c '"labeler":"bo"' "$dir/last/all.jsonl") -eq 10 ]] || fail "last is bo's"
"$cli" study split "$dir/s.sqlite" --out "$dir/un" --name un --aggregate unanimous >/dev/null || fail "split unanimous"
[[ $(count "$dir/un") -eq 6 ]] || fail "unanimous: $(count "$dir/un") pairs"
grep -q '"labeler":"ana,bo"' "$dir/un/all.jsonl" || fail "unanimous labelers"
"$cli" study split "$dir/s.sqlite" --out "$dir/noBo" --name nobo --exclude-labelers bo >/dev/null || fail "split without bo"
[[ $(grep -c '"labeler":"ana"' "$dir/noBo/all.jsonl") -eq 10 ]] || fail "without bo"
out=$("$cli" study split "$dir/s.sqlite" --out "$dir/x" --aggregate loudest 2>&1); code=$?
[[ $code -eq 1 ]] && echo "$out" | grep -q "expected one of last, majority, mean, unanimous" || fail "bad rule: $out"
echo "ok"
