#!/usr/bin/env bash
# motionpref-cli study leaderboard (blind A/B session files, a study) in table, JSON and CSV, the
# closed form of two models at ridge 0, errors; study export --format features decoding codes
# with the embedded default model (issue 22).
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
src=${MP_SOURCE_DIR:?MP_SOURCE_DIR must name the checkout}
fail() { echo "FAIL: $*"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export OMP_NUM_THREADS=1

for m in base lora other; do mkdir -p "$dir/$m"; echo "{\"model\": \"$m\"}" > "$dir/$m/config.json"; done
# A blind A/B session: A = base, B = $1 (+ adapter $2); answers given as B's outcomes w/t/l.
session() { # OUT B_BUNDLE B_ADAPTER OUTCOMES...
  local out=$1 bundle=$2 adapter=$3; shift 3
  local trials="" i=0
  for o in "$@"; do
    local answer=right; [[ $o == l ]] && answer=left; [[ $o == t ]] && answer=tie
    trials+="${trials:+,}{\"prompt\": \"p$i\", \"seed\": $i, \"temperature\": 1.0, \"left\": \"A\", \"right\": \"B\", \"answer\": \"$answer\", \"answered_at\": \"2026-01-01T00:00:00.000Z\"}"
    i=$((i + 1))
  done
  local adapterJson=null; [[ -n $adapter ]] && adapterJson="\"$adapter\""
  echo "{\"format\": \"motionpref-ab-session\", \"version\": 1, \"seed\": 1, \"model_a\": {\"bundle\": \"$dir/base\", \"adapter\": null}, \"model_b\": {\"bundle\": \"$bundle\", \"adapter\": $adapterJson}, \"temperatures\": [1.0], \"trials\": [$trials]}" > "$out"
}
session "$dir/ab1.json" "$dir/base" "$dir/lora" w w w w w l l
session "$dir/ab2.json" "$dir/other" "" w t l l l l

# Two models at ridge 0: 5 of 7 -> log(5/2) = 0.916.
out=$("$cli" study leaderboard - --ab "$dir/ab1.json" --ridge 0 --format json) || fail "json: $out"
python3 - "$out" <<'PY' || fail "closed form: $out"
import json, math, sys
board = json.loads(sys.argv[1])
rows = {m["name"]: m for m in board["models"]}
assert board["anchor"] == "base", board["anchor"]
assert abs(rows["base + lora"]["rating"] - math.log(5 / 2)) < 1e-6, rows
assert rows["base + lora"]["wins"] == 5 and rows["base + lora"]["losses"] == 2
assert rows["base + lora"]["lower"] < rows["base + lora"]["rating"] < rows["base + lora"]["upper"]
PY

table=$("$cli" study leaderboard - --ab "$dir/ab1.json" --ab "$dir/ab2.json") || fail "table: $table"
echo "$table" | head -1 | grep -q '^model  *rating  *95% interval  *Elo  *wins  *ties  *losses  *n$' || fail "header: $table"
echo "$table" | sed -n 2p | grep -q '^base + lora ' || fail "best first: $table"
echo "$table" | sed -n 4p | grep -q '^other ' || fail "worst last: $table"
echo "$table" | grep -q '^anchor base (rating 0); 13 comparisons' || fail "footer: $table"
csv=$("$cli" study leaderboard - --ab "$dir/ab1.json" --ab "$dir/ab2.json" --format csv --replicates 50)
[[ $(echo "$csv" | wc -l) -eq 4 ]] || fail "csv lines: $csv"
echo "$csv" | head -1 | grep -q '^model,bundle,adapter,rating,lower,upper,elo,wins,ties,losses,n$' || fail "csv header: $csv"

err=$("$cli" study leaderboard - --ab "$dir/ab1.json" --anchor nope 2>&1); code=$?
[[ $code -eq 1 ]] && echo "$err" | grep -q "no model named 'nope' (models: base, base + lora)" || fail "anchor: $code $err"
err=$("$cli" study leaderboard - --ab "$dir/base/config.json" 2>&1); code=$?
[[ $code -eq 1 ]] && echo "$err" | grep -q "base/config.json: not a blind A/B session" || fail "bad file: $code $err"
err=$("$cli" study leaderboard - 2>&1); code=$?
[[ $code -eq 1 ]] && echo "$err" | grep -q "no comparison between two different models" || fail "empty: $code $err"

# A study of imported pairs (codes only, no model recorded): its labels do not count.
"$cli" study create "$dir/s.sqlite" >/dev/null || fail "create"
for i in 1 2 3; do
  echo "{\"id\": \"r$i\", \"prompt\": \"a person walks $i\", \"sample_1\": {\"seed\": $i, \"tokens\": [$i, 40, 41, 42]}, \"sample_2\": {\"seed\": $((i + 10)), \"tokens\": [7, 8, 9]}, \"chosen\": [{\"choice\": \"sample_$(( (i % 2) + 1 ))\", \"degree of preference\": \"Better\", \"user\": \"ana\"}]}"
done > "$dir/prefs.jsonl"
"$cli" study import "$dir/s.sqlite" "$dir/prefs.jsonl" >/dev/null || fail "import"
out=$("$cli" study leaderboard "$dir/s.sqlite" --ab "$dir/ab1.json" 2>"$dir/err.txt") || fail "study + ab: $out"
grep -q '^3 labels left out: a sample records no model' "$dir/err.txt" || fail "left out: $(cat "$dir/err.txt")"
echo "$out" | grep -q '7 comparisons' || fail "study + ab count: $out"

# Features for diffusion models: the imported codes decoded by the default model.
err=$("$cli" study export "$dir/s.sqlite" "$dir/feat" --format features 2>&1); code=$?
[[ $code -eq 1 ]] && echo "$err" | grep -q "has only motion codes.*--model DIR" || fail "no model: $code $err"
out=$("$cli" --quiet study export "$dir/s.sqlite" "$dir/feat" --format features --overwrite \
  --model "$src/resources/models/default") || fail "features: $out"
echo "$out" | grep -q "wrote 3 records and 6 motions (6 decoded from codes)" || fail "features: $out"
python3 - "$dir/feat" <<'PY' || fail "feature files"
import ast, json, os, sys
d = sys.argv[1]
def shape(path):  # the .npy header, standard library only
    with open(path, "rb") as f:
        assert f.read(6) == b"\x93NUMPY"
        major = f.read(2)[0]
        size = int.from_bytes(f.read(2 if major == 1 else 4), "little")
        header = ast.literal_eval(f.read(size).decode("latin1"))
    assert header["descr"] == "<f4", header
    return header["shape"]
meta = json.load(open(os.path.join(d, "meta.json")))
assert meta["normalised"] is False and meta["fps"] == 20 and meta["pairs"] == 3, meta
for line in open(os.path.join(d, "pairs.jsonl")):
    r = json.loads(line)
    assert r["prompt"].startswith("a person walks") and r["degree"] == "Better" and r["margin"] == 2
    for side in ("chosen", "rejected"):
        m = r[side]
        t = m["num_frames"]
        assert t > 0 and shape(os.path.join(d, m["features"])) == (t, 263), m
        assert shape(os.path.join(d, m["joints"])) == (t, 22, 3), m
PY
echo "leaderboard_cli: ok"
