#!/usr/bin/env bash
# motionpref-cli study: create, import (good and bad files), info, export in three forms,
# agreement, split; errors exit 1 and name the file and line.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$cli" study create "$dir/s.sqlite" --name pilot | grep -q 'created study' || fail "create"
out=$("$cli" study create "$dir/s.sqlite" 2>&1); code=$?
[[ $code -eq 1 ]] || fail "create over an existing study exits $code"

# Twelve pairs labeled by two labelers (overlap on all), one skipped by one of them.
for i in $(seq 1 12); do
  if (( i % 3 == 0 )); then a=sample_2; else a=sample_1; fi
  if (( i % 4 == 0 )); then b=sample_2; else b=sample_1; fi
  second="{\"choice\": \"$b\", \"degree of preference\": \"Better\", \"user\": \"bo\"}"
  (( i == 12 )) && second='{"choice": "skipped", "user": "bo"}'
  echo "{\"id\": \"r$i\", \"prompt\": \"prompt $i\", \"sample_1\": {\"seed\": $i, \"tokens\": [$i, 1]}, \"sample_2\": {\"seed\": $((i + 100)), \"tokens\": [2]}, \"chosen\": [{\"choice\": \"$a\", \"degree of preference\": \"Much better\", \"user\": \"ana\"}, $second]}"
done > "$dir/prefs.jsonl"

# A bad file first: per-line errors on stderr, exit 1, nothing stored.
{ head -3 "$dir/prefs.jsonl"
  echo '{"id": "x", "prompt": "p", "sample_1": {"tokens": [1]}, "sample_2": {"tokens": [2]}, "chosen": [{"choice": "sample_1", "degree of preference": "Quite better"}]}'
  echo '{"id": "y", "prompt": "p", "sample_1": {"seed": 1, "features": "data2/features/y.npy"}, "sample_2": {"tokens": [2]}}'
  echo '{broken'
} > "$dir/bad.jsonl"
err=$("$cli" study import "$dir/s.sqlite" "$dir/bad.jsonl" 2>&1 >/dev/null); code=$?
[[ $code -eq 1 ]] || fail "bad import exits $code"
echo "$err" | grep -q "^bad.jsonl:4: chosen\[0\]: unknown degree of preference 'Quite better'" || fail "degree error: $err"
echo "$err" | grep -q "^bad.jsonl:5: sample_1: token file .*data3/tokens/y_token.npy does not exist" || fail "token error: $err"
echo "$err" | grep -q "^bad.jsonl:6: not valid JSON" || fail "json error: $err"
echo "$err" | grep -q "nothing imported" || fail "summary: $err"
"$cli" study info "$dir/s.sqlite" | grep -q '^pairs     0 ' || fail "bad import stored pairs"

"$cli" study import "$dir/s.sqlite" "$dir/prefs.jsonl" | grep -q 'imported 12 pairs, 24 labels' || fail "import"
info=$("$cli" study info "$dir/s.sqlite")
echo "$info" | grep -q '^pairs     12 (12 labeled, 1 skipped)' || fail "info counts: $info"
echo "$info" | grep -q '^labelers  ana, bo' || fail "info labelers: $info"
echo "$info" | grep -q '^name      pilot' || fail "info name: $info"

"$cli" study export "$dir/s.sqlite" "$dir/out.jsonl" --format paper | grep -q 'wrote 12 records' || fail "export paper"
"$cli" study export "$dir/s.sqlite" "$dir/trl.jsonl" --format trl | grep -q 'wrote 11 records' || fail "export trl"
grep -q '"chosen":"<motion_id_512><motion_id_1><motion_id_1><motion_id_513>"' "$dir/trl.jsonl" || fail "trl content"
"$cli" study export "$dir/s.sqlite" "$dir/l.csv" --format csv | grep -q 'wrote 24 records' || fail "export csv"
[[ $(wc -l < "$dir/l.csv") -eq 25 ]] || fail "csv lines"
out=$("$cli" study export "$dir/s.sqlite" "$dir/x" --format xml 2>&1); code=$?
[[ $code -eq 1 ]] && echo "$out" | grep -q "xml" || fail "bad format: $code $out"

# ana and bo: categories agree except where i%3==0 xor i%4==0 (3, 4, 6, 8, 9); 12 is skipped.
agreement=$("$cli" study agreement "$dir/s.sqlite")
echo "$agreement" | grep -q 'pairs labeled by two or more: 11' || fail "overlap: $agreement"
echo "$agreement" | grep -q "Cohen's kappa ana / bo on 11 pairs" || fail "cohen: $agreement"
"$cli" study agreement "$dir/s.sqlite" --json | grep -q '"overlap_pairs": 11' || fail "agreement json"

out=$("$cli" study split "$dir/s.sqlite" --out "$dir/split")
echo "$out" | grep -q "9 train, 2 test" || fail "split: $out"
[[ $(wc -l < "$dir/split/train.txt") -eq 9 && $(wc -l < "$dir/split/test.jsonl") -eq 2 ]] || fail "split files"
grep -q '"degree":"' "$dir/split/train.jsonl" || fail "train jsonl"
cp "$dir/split/test.txt" "$dir/first_test.txt"
"$cli" study split "$dir/s.sqlite" --out "$dir/split2" --seed 5 >/dev/null || fail "split again"
cmp -s "$dir/first_test.txt" "$dir/split2/test.txt" || fail "a saved split was not reused"
# bo's "Better" is each pair's last label, so no train pair is "Much better" under the default
# rule ('last', the paper's chosen[-1]).
out=$("$cli" study split "$dir/s.sqlite" --out "$dir/split3" --degrees "Much better" --percent 50)
echo "$out" | grep -q "0 train and 2 test pairs with a 'last' label after the subset" || fail "subset: $out"
out=$("$cli" study split "$dir/s.sqlite" --out "$dir/s4" --degrees "Huge" 2>&1); code=$?
[[ $code -eq 1 ]] && echo "$out" | grep -q "Huge" || fail "bad degree: $code $out"
"$cli" study export "$dir/s.sqlite" "$dir/test.jsonl" --split default --part test | grep -q "wrote 2 records" || fail "export split part"

out=$("$cli" study info "$dir/none.sqlite" 2>&1); code=$?
[[ $code -eq 1 ]] && echo "$out" | grep -q "none.sqlite" || fail "missing study: $code $out"
echo "study_cli: ok"
