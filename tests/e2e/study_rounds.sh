#!/usr/bin/env bash
# motionpref-cli study selection / rounds / next-round (issue 21): the selection rule is checked
# and stored; next-round trains on the labels stored so far (with the embedded default model),
# records round 1 with its adapter, whose samples (study simulate) carry it, and refuses an
# output directory that holds files. With the ensemble rule, next-round trains the reward-model
# ensemble beside the adapter and the next pairs carry the ensemble's score.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$cli" study create "$dir/s.sqlite" >/dev/null || fail "create"
out=$("$cli" study selection "$dir/s.sqlite" --rule committee 2>&1); code=$?
[[ $code -eq 1 ]] || fail "unknown rule exits $code: $out"
echo "$out" | grep -q "random, margin, ensemble" || fail "rule error: $out"
out=$("$cli" study selection "$dir/s.sqlite" --candidates 9 2>&1); code=$?
[[ $code -eq 1 ]] || fail "9 candidates exit $code: $out"
"$cli" study selection "$dir/s.sqlite" --rule margin --candidates 4 --diversity 0.5 >/dev/null ||
  fail "set selection"
"$cli" study selection "$dir/s.sqlite" | grep -q "candidates  4 per prompt" || fail "K stored"
"$cli" study selection "$dir/s.sqlite" | grep -q "rule        margin" || fail "rule stored"

out=$("$cli" study next-round "$dir/s.sqlite" --out "$dir/r0" 2>&1); code=$?
[[ $code -eq 1 ]] || fail "a round without labels exits $code: $out"
echo "$out" | grep -q "nothing to train a round on" || fail "empty round error: $out"
[[ ! -e "$dir/r0" ]] || fail "a refused round left $dir/r0"

# Six pairs, five preferring a sample and one unsure (not trainable).
for i in $(seq 1 6); do
  if (( i <= 5 )); then c=sample_1; d=Better; else c=unsure; d="Negligibly better/unsure"; fi
  echo "{\"id\": \"r$i\", \"prompt\": \"a person walks $i steps\", \"sample_1\": {\"seed\": $i, \"tokens\": [$i, 7, 9]}, \"sample_2\": {\"seed\": $((i + 100)), \"tokens\": [30, 31]}, \"chosen\": [{\"choice\": \"$c\", \"degree of preference\": \"$d\", \"user\": \"ana\"}]}"
done > "$dir/prefs.jsonl"
"$cli" study import "$dir/s.sqlite" "$dir/prefs.jsonl" >/dev/null || fail "import"
"$cli" study rounds "$dir/s.sqlite" | grep -q "^round 0 (base model): 6 labels" ||
  fail "round 0: $("$cli" study rounds "$dir/s.sqlite")"

out=$("$cli" --quiet study next-round "$dir/s.sqlite" --out "$dir/r1" --epochs 1 2>&1) ||
  fail "next-round: $out"
echo "$out" | grep -q "round 1: training on 5 labeled pairs" || fail "training set: $out"
[[ $(wc -l < "$dir/r1/data/pairs.jsonl") -eq 5 ]] || fail "pairs.jsonl lines"
[[ -f "$dir/r1/run/adapter/adapter_config.json" ]] || fail "no adapter"
rounds=$("$cli" study rounds "$dir/s.sqlite")
echo "$rounds" | grep -q "^round 1 (base model + adapter $dir/r1/run/adapter): 0 labels" ||
  fail "round 1: $rounds"
echo "$rounds" | grep -qE "^ +1 +5 +6 " || fail "round row: $rounds"

# Round 1's pairs (study simulate, margin rule with diversity): sampled from base + the adapter.
"$cli" --quiet corpus build --out "$dir/corpus" --clips 12 --seed 5 --threads 1 >/dev/null ||
  fail "corpus build"
out=$("$cli" --quiet study simulate "$dir/s.sqlite" --corpus "$dir/corpus" --pairs 2 2>&1) ||
  fail "simulate in round 1: $out"
"$cli" study rounds "$dir/s.sqlite" | grep -q "^round 1 .*: 2 labels so far, 8 in the study" ||
  fail "round 1 labels: $("$cli" study rounds "$dir/s.sqlite")"
out=$("$cli" --quiet study export "$dir/s.sqlite" "$dir/export" --format features \
  --model "${MP_SOURCE_DIR:-$(dirname "$0")/../..}/resources/models/default" 2>&1) ||
  fail "export: $out"
[[ $(grep -c '"adapter":"round-1"' "$dir/export/pairs.jsonl") -eq 2 ]] ||
  fail "round 1 samples without the adapter: $(tail -2 "$dir/export/pairs.jsonl")"

# The ensemble rule: round 2's training also trains 2 reward models on the same 7 trainable
# pairs (DIR/ensemble), and round 2's pairs are the ensemble's most disputed, with a score.
"$cli" study selection "$dir/s.sqlite" --rule ensemble --candidates 3 --diversity 0 >/dev/null ||
  fail "set ensemble rule"
out=$("$cli" --quiet study next-round "$dir/s.sqlite" --out "$dir/r2" --epochs 1 --ensemble 2 \
  2>&1) || fail "next-round with an ensemble: $out"
echo "$out" | grep -q "training a reward-model ensemble of 2" || fail "ensemble: $out"
grep -q '"member-2"' "$dir/r2/ensemble/ensemble.json" || fail "ensemble.json"
[[ -f "$dir/r2/ensemble/member-1/reward_model/reward_head.safetensors" ]] || fail "member 1"
out=$("$cli" --quiet study simulate "$dir/s.sqlite" --corpus "$dir/corpus" --pairs 2 2>&1) ||
  fail "simulate with the ensemble rule: $out"
rows=$(sqlite3 "$dir/s.sqlite" "SELECT COUNT(*) FROM pair_selections
  WHERE rule = 'ensemble' AND candidates = 3 AND score >= 0 AND score <= 0.25 AND beta IS NULL")
[[ $rows -eq 2 ]] || fail "ensemble records: $rows"
# A round trained without an ensemble under the ensemble rule cannot choose: the error says so.
mv "$dir/r2/ensemble" "$dir/r2/ensemble.moved"
out=$("$cli" --quiet study simulate "$dir/s.sqlite" --corpus "$dir/corpus" --pairs 1 2>&1); code=$?
[[ $code -eq 1 ]] || fail "no ensemble exits $code: $out"
echo "$out" | grep -q "ensemble.json: missing" || fail "no ensemble error: $out"

out=$("$cli" study next-round "$dir/s.sqlite" --out "$dir/r1" 2>&1); code=$?
[[ $code -eq 1 ]] || fail "a used directory exits $code: $out"
echo "$out" | grep -q "already holds a round" || fail "used directory error: $out"
echo "ok"
