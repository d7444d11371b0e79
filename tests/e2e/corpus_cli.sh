#!/usr/bin/env bash
# corpus build + stats through the CLI: a small corpus in the HumanML3D layout, its figures, and
# the same bytes from the same seed whatever the number of threads.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$cli" --quiet corpus build --out "$work/a" --clips 50 --seed 11 --threads 2 >"$work/build.log" \
  || fail "corpus build: $(cat "$work/build.log")"
# Progress into a file (not a terminal): plain lines, no carriage returns or escape sequences.
"$cli" corpus build --out "$work/p" --clips 20 --seed 11 >/dev/null 2>"$work/progress.log" \
  || fail "corpus build with progress: $(cat "$work/progress.log")"
grep -q '^corpus 20/20 ' "$work/progress.log" || fail "no final progress line: $(cat "$work/progress.log")"
if grep -q $'[\r\033]' "$work/progress.log"; then fail "progress wrote \\r or escapes into a file"; fi
grep -q 'wrote 50 clips' "$work/build.log" || fail "build summary: $(cat "$work/build.log")"
for f in train.txt val.txt test.txt all.txt Mean.npy Std.npy manifest.json; do
  [[ -s "$work/a/$f" ]] || fail "missing $f"
done
[[ $(ls "$work/a/new_joints" | wc -l) -eq 50 ]] || fail "new_joints count"
[[ $(ls "$work/a/new_joint_vecs" | wc -l) -eq 50 ]] || fail "new_joint_vecs count"
[[ $(ls "$work/a/texts" | wc -l) -eq 50 ]] || fail "texts count"
[[ $(cat "$work/a/train.txt" "$work/a/val.txt" "$work/a/test.txt" | sort | uniq | wc -l) -eq 50 ]] \
  || fail "splits do not partition the clips"
line=$(head -n 1 "$work/a/texts/000000.txt")
[[ "$line" =~ ^[a-z].*#[a-z]+/[A-Z]+.*#0\.0#0\.0$ ]] || fail "text line form: $line"
[[ $(wc -l < "$work/a/texts/000000.txt") -ge 3 ]] || fail "fewer than 3 captions"

"$cli" --quiet corpus build --out "$work/b" --clips 50 --seed 11 --threads 1 >/dev/null \
  || fail "second build"
diff -r "$work/a" "$work/b" >/dev/null || fail "same seed, different bytes"

"$cli" --quiet corpus stats "$work/a" >"$work/stats.txt" || fail "corpus stats"
grep -q '^clips  *50$' "$work/stats.txt" || fail "stats clips: $(cat "$work/stats.txt")"
grep -q 'foot skating ratio' "$work/stats.txt" || fail "stats skating"
grep -q '^  walk ' "$work/stats.txt" || fail "stats action counts"

out=$("$cli" corpus stats "$work/nowhere" 2>&1); code=$?
[[ $code -eq 1 ]] || fail "stats on a missing dir exits $code"
echo "$out" | grep -q 'nowhere' || fail "error does not name the directory: $out"
out=$("$cli" corpus build --out "$work/c" --clips 0 2>&1); code=$?
[[ $code -eq 1 ]] || fail "--clips 0 exits $code"
echo "corpus_cli: ok"
