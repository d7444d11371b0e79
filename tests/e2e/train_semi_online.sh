#!/usr/bin/env bash
# motionpref-cli train with data.source semi_online (issue 21): on a small corpus and the embedded
# default, each epoch's pairs are the caption's clip against the lowest-scored of K policy
# samples; the events say how many pairs each refresh built, the pairs are saved per epoch, the
# saved config keeps the keys, and bad keys give one line naming run.json and the key. Resume:
# train_semi_online_resume_slow.sh.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$cli" --quiet corpus build --out "$dir/corpus" --clips 30 --seed 21 --threads 1 >/dev/null ||
  fail "corpus build"

bad() { # run.json text, expected key
  echo "$1" > "$dir/bad.json"
  out=$("$cli" train --config "$dir/bad.json" --out "$dir/bad-run" 2>&1); code=$?
  [[ $code -eq 1 ]] || fail "bad config exits $code: $out"
  [[ $(echo "$out" | wc -l) -eq 1 ]] || fail "more than one line: $out"
  echo "$out" | grep -q "bad.json: key '$2'" || fail "error does not name $2: $out"
}
bad '{"data": {"source": "semi_online"}}' data.corpus
bad '{"data": {"source": "semi_online", "corpus": "c", "candidates": 9}}' data.candidates
bad '{"data": {"source": "online", "corpus": "c"}}' data.source
bad '{"method": "rm", "data": {"source": "semi_online", "corpus": "c"}}' data.source
bad '{"data": {"source": "semi_online", "corpus": "c", "pairs": "p.jsonl"}}' data.pairs

cat > "$dir/run.json" <<JSON
{"method": "dpo", "epochs": 2, "batch_size": 4, "seed": 3,
 "schedule": {"warmup_steps": 0},
 "data": {"source": "semi_online", "corpus": "$dir/corpus", "candidates": 3, "prompts": 10,
          "eval_fraction": 0.2}}
JSON
"$cli" --quiet train --config "$dir/run.json" --out "$dir/run" >"$dir/train.log" 2>&1 ||
  fail "train: $(tail -5 "$dir/train.log")"
events="$dir/run/events.jsonl"
grep -q '"type":"done"' "$events" || fail "no done event"
# Held-out pairs once, then one refresh per epoch: 8 training captions, 2 held out.
[[ $(grep -c 'semi-online pairs of epoch' "$events") -eq 2 ]] || fail "refreshes: $(grep semi "$events")"
grep 'semi-online pairs of epoch 1' "$events" | grep -q '"semi_online/pairs":8' ||
  fail "epoch 1 pair count: $(grep 'epoch 1' "$events")"
grep -q 'semi-online pairs of held-out: 2 built' "$events" || fail "held-out: $(grep held "$events")"
[[ $(wc -l < "$dir/run/semi_online/epoch-001.jsonl") -eq 8 ]] || fail "epoch-001.jsonl"
[[ $(wc -l < "$dir/run/semi_online/epoch-002.jsonl") -eq 8 ]] || fail "epoch-002.jsonl"
# The epochs' pairs hold the same clips (chosen) and other policy samples (rejected).
python3 - "$dir/run/semi_online" <<'PY' || fail "epoch pairs"
import json, sys
def load(name):
    return {p["pair_id"]: p for p in map(json.loads, open(f"{sys.argv[1]}/{name}"))}
a, b = load("epoch-001.jsonl"), load("epoch-002.jsonl")
assert a.keys() == b.keys(), (a.keys(), b.keys())
assert all(a[k]["chosen"] == b[k]["chosen"] for k in a), "chosen differ"
assert any(a[k]["rejected"] != b[k]["rejected"] for k in a), "rejected all equal"
PY
python3 - "$dir/run/config.json" <<'PY' || fail "saved config: $(cat "$dir/run/config.json")"
import json, sys
data = json.load(open(sys.argv[1]))["data"]
assert data["source"] == "semi_online" and data["candidates"] == 3 and data["prompts"] == 10, data
PY
[[ -f "$dir/run/adapter/adapter_model.safetensors" ]] || fail "no adapter"
echo "ok"
