#!/usr/bin/env bash
# The cross-check evaluator through the CLI: eval train-cross-evaluator trains a tiny one in
# seconds on a small corpus; eval --cross-check reports its x_* metrics next to the standard
# ones, which stay exactly what they are without it (same draws); --cross-check default uses the
# embedded default's, whose ground-truth xR@1 on this unseen corpus is far above chance; bad
# input exits 1 with one line naming the directory.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
cd "$work" || fail "cd"

"$cli" --quiet corpus build --out corpus --clips 320 --seed 8 --threads 1 >/dev/null \
  || fail "corpus build"

"$cli" --quiet eval train-cross-evaluator --dataset corpus --out xtiny --epochs 1 --dim 16 \
  --hidden 24 --batch 32 --validation 0.2 >train.log 2>&1 || fail "train-cross-evaluator: $(cat train.log)"
grep -q '^ground truth on the test split: R@1 0\.[0-9]* | R@2' train.log \
  || fail "train summary: $(cat train.log)"
for f in cross_evaluator.json cross_evaluator.safetensors spiece.model; do
  [[ -s xtiny/$f ]] || fail "cross evaluator lacks $f"
done
grep -q '"best_epoch": 1' xtiny/cross_evaluator.json || fail "best epoch not recorded"

common=(--dataset corpus --replications 2 --mm-texts 0 --gen-batch 64)
"$cli" --quiet eval "${common[@]}" --cross-check xtiny --out tiny.json >tiny.out 2>&1 \
  || fail "eval --cross-check xtiny: $(cat tiny.out)"
grep -q '^cross-check: xR@1 0\.[0-9]*±[0-9.]* | xR@2 .* | xFID .* | xMM-Dist ' tiny.out \
  || fail "no cross-check row: $(cat tiny.out)"
grep -q '^cross-check ground truth: xR@1 ' tiny.out || fail "no cross-check ground truth row"
"$cli" --quiet eval "${common[@]}" --cross-check default --out default.json >default.out 2>&1 \
  || fail "eval --cross-check default: $(cat default.out)"

python3 - tiny.json default.json <<'PY' || fail "metrics.json check"
import json, sys
tiny, default = (json.load(open(p)) for p in sys.argv[1:3])
for m in (tiny, default):
    for key in ("x_R_precision_top_1", "x_R_precision_top_2", "x_R_precision_top_3",
                "x_Matching_score", "x_FID", "gt_x_R_precision_top_1", "gt_x_Matching_score",
                "gt_x_FID"):
        assert len(m[key]["values"]) == 2, key
# The standard metrics do not depend on which cross evaluator ran beside them: same draws.
for key in ("R_precision_top_1", "FID", "Matching_score", "Diversity", "gt_FID"):
    assert tiny[key]["values"] == default[key]["values"], key
# The embedded default's ground-truth ranking on this corpus it never saw (chance 1/32, 3/32).
gt1 = default["gt_x_R_precision_top_1"]["mean"]
gt3 = default["gt_x_R_precision_top_3"]["mean"]
assert gt1 > 0.8 and gt3 > 0.95, (gt1, gt3)
print("embedded cross evaluator: gt xR@1 %.3f xR@3 %.3f; generated xR@1 %.3f xFID %.3f"
      % (gt1, gt3, default["x_R_precision_top_1"]["mean"], default["x_FID"]["mean"]))
PY

# A directory without a cross evaluator: exit 1, one line naming it.
"$cli" --quiet eval "${common[@]}" --cross-check "$work/nothing" --out bad.json >bad.out 2>&1
rc=$?
[[ $rc -eq 1 ]] || fail "a missing cross evaluator exited $rc: $(cat bad.out)"
[[ $(wc -l <bad.out) -eq 1 ]] && grep -q "$work/nothing: no cross evaluator here" bad.out \
  || fail "missing cross evaluator message: $(cat bad.out)"
[[ ! -e bad.json ]] || fail "metrics written despite the error"
echo "cross_check_cli: OK"
