#!/usr/bin/env bash
# motionpref-cli compare ab: a blind A/B session rated by the simulated labeler on a small corpus.
# The embedded default against itself with a noiseless labeler is all ties (same seed, same
# motion); with noise the labeler splits them both ways; table, JSON and CSV agree; the session
# file is the Blind A/B tab's format; bad input exits 1 with one line
# naming the option or file. (Sides mapped through aOnLeft, a rater shown screen order only:
# simulated_ab_test.)
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
cd "$work" || fail "cd"

"$cli" --quiet corpus build --out corpus --clips 60 --seed 3 --threads 1 >/dev/null \
  || fail "corpus build"
common=(--corpus corpus --prompts 4 --temperatures 0.8,1.2 --seed 2)

"$cli" --quiet compare ab "${common[@]}" --noise 0 --out self.json >self.out 2>&1 \
  || fail "compare ab: $(cat self.out)"
grep -q '^temperature  trials  B wins   ties  B losses  win rate \[95% Wilson\]' self.out \
  || fail "no table header: $(cat self.out)"
grep -Eq '^0\.80 +4 +0 +4 +0  0\.000 \[0\.000, 0\.490\]' self.out \
  || fail "0.8 row is not 4 ties: $(cat self.out)"
grep -Eq '^all +8 +0 +8 +0 ' self.out || fail "total row: $(cat self.out)"
grep -q 'session written to self.json' self.out || fail "no session line"

"$cli" --quiet compare ab "${common[@]}" --noise 1 --labeler-seed 5 --out noisy.json \
  --format json >noisy.json.out 2>noisy.err || fail "compare ab --format json: $(cat noisy.err)"
"$cli" --quiet compare ab "${common[@]}" --noise 1 --labeler-seed 5 --out noisy2.json \
  --format csv >noisy.csv 2>noisy.err || fail "compare ab --format csv: $(cat noisy.err)"
python3 - self.json noisy.json noisy.json.out noisy.csv <<'PY' || fail "session/JSON/CSV check"
import csv, json, sys
self_session, noisy_session = (json.load(open(p)) for p in sys.argv[1:3])
out = json.load(open(sys.argv[3]))
rows = list(csv.DictReader(open(sys.argv[4])))
for s in (self_session, noisy_session):
    assert s["format"] == "motionpref-ab-session", s["format"]
    assert len(s["trials"]) == 8 and all(t["answer"] in ("left", "right", "tie") for t in s["trials"])
    assert sorted(t["left"] for t in s["trials"]).count("A") == 4  # balanced sides
    assert s["rater"].startswith("the simulated labeler"), s["rater"]
    assert "4 distinct captions (seed 2)" in s["prompt_source"], s["prompt_source"]
assert all(t["answer"] == "tie" for t in self_session["trials"])
# Same trials (seed 2) in both sessions; only the rater's noise differs.
assert [(t["prompt"], t["seed"], t["left"]) for t in self_session["trials"]] == \
       [(t["prompt"], t["seed"], t["left"]) for t in noisy_session["trials"]]
answers = [t["answer"] for t in noisy_session["trials"]]
assert "left" in answers and "right" in answers, answers
total = out["rows"][-1]
assert total["temperature"] == "all" and total["trials"] == 8
wins = sum(1 for t in noisy_session["trials"] if t["preferred"] == "B")
assert total["wins"] == wins, (total, wins)
assert total["win_low"] <= total["win_rate"] <= total["win_high"]
assert out["interval"] == "wilson95"
assert [r["temperature"] for r in rows] == ["0.80", "1.20", "all"], rows
assert int(rows[-1]["wins"]) == total["wins"] and int(rows[-1]["ties"]) == total["ties"]
PY

# Bad input: exit 1, one line naming the problem.
expect_error() { # PATTERN ARGS...
  local pattern=$1; shift
  "$cli" --quiet compare ab "$@" >err.out 2>&1
  local rc=$?
  [[ $rc -eq 1 ]] || fail "exit $rc for $*: $(cat err.out)"
  [[ $(wc -l <err.out) -eq 1 ]] || fail "not one line for $*: $(cat err.out)"
  grep -q -- "$pattern" err.out || fail "'$pattern' not in: $(cat err.out)"
}
expect_error 'self.json: already exists' "${common[@]}" --out self.json
expect_error 'nowhere/manifest.json' --corpus nowhere --out x.json
expect_error '--temperatures: 1 is given twice' --corpus corpus --temperatures 1,1 --out x.json
expect_error '--b-adapter missing' --corpus corpus --b-adapter missing --out x.json
expect_error "--format 'xml'" --corpus corpus --format xml --out x.json
expect_error 'distinct captions' --corpus corpus --prompts 500 --out x.json
expect_error 'folder does not exist' --corpus corpus --out no/dir/x.json
[[ -e x.json ]] && fail "a failed run wrote x.json"
echo "compare_ab_cli: ok"
