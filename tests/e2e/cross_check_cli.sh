#!/usr/bin/env bash
# The cross-check evaluator through the CLI: eval train-cross-evaluator trains a tiny one in
# seconds on a small corpus; eval --cross-check reports its x_* metrics next to the standard
# ones, which stay exactly what they are without it (same draws); bad input exits 1 with one
# line naming the directory. (The embedded default's cross evaluator on an unseen corpus:
# eval_cross_evaluator_test.)
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
cd "$work" || fail "cd"

"$cli" --quiet corpus build --out corpus --clips 320 --seed 8 --threads 1 >/dev/null \
  || fail "corpus build"

"$cli" --quiet eval train-cross-evaluator --dataset corpus --out xtiny --epochs 4 --lr 3e-3 --dim 16 \
  --hidden 24 --batch 32 --validation 0.2 >train.log 2>&1 || fail "train-cross-evaluator: $(cat train.log)"
grep -q '^ground truth on the test split: R@1 0\.[0-9]* | R@2' train.log \
  || fail "train summary: $(cat train.log)"
for f in cross_evaluator.json cross_evaluator.safetensors spiece.model; do
  [[ -s xtiny/$f ]] || fail "cross evaluator lacks $f"
done
grep -q '"best_epoch": [1-4],' xtiny/cross_evaluator.json || fail "best epoch not recorded"

common=(--dataset corpus --replications 2 --mm-texts 0 --gen-batch 64)
"$cli" --quiet eval "${common[@]}" --cross-check xtiny --out tiny.json >tiny.out 2>&1 \
  || fail "eval --cross-check xtiny: $(cat tiny.out)"
grep -q '^cross-check: xR@1 0\.[0-9]*±[0-9.]* | xR@2 .* | xFID .* | xMM-Dist ' tiny.out \
  || fail "no cross-check row: $(cat tiny.out)"
grep -q '^cross-check ground truth: xR@1 ' tiny.out || fail "no cross-check ground truth row"
"$cli" --quiet eval "${common[@]}" --out plain.json >plain.out 2>&1 \
  || fail "eval without --cross-check: $(cat plain.out)"
grep -q 'cross-check' plain.out && fail "cross-check row without --cross-check"

python3 - tiny.json plain.json <<'PY' || fail "metrics.json check"
import json, sys
tiny, plain = (json.load(open(p)) for p in sys.argv[1:3])
for key in ("x_R_precision_top_1", "x_R_precision_top_2", "x_R_precision_top_3",
            "x_Matching_score", "x_FID", "gt_x_R_precision_top_1", "gt_x_Matching_score",
            "gt_x_FID"):
    assert len(tiny[key]["values"]) == 2, key
    assert key not in plain, key
# The standard metrics do not change when the cross evaluator runs beside them: same draws.
for key in ("R_precision_top_1", "R_precision_top_3", "FID", "Matching_score", "Diversity",
            "gt_R_precision_top_1", "gt_FID", "Foot_skating_ratio"):
    assert tiny[key]["values"] == plain[key]["values"], key
# Four epochs of a tiny model: real motions rank well above chance (R@3 3/32) in its space
# (measured 0.281).
gt3 = tiny["gt_x_R_precision_top_3"]["mean"]
assert gt3 > 0.18, gt3
print("tiny cross evaluator: gt xR@3 %.3f, generated xR@1 %.3f" % (gt3, tiny["x_R_precision_top_1"]["mean"]))
PY

# A directory without a cross evaluator: exit 1, one line naming it.
"$cli" --quiet eval "${common[@]}" --cross-check "$work/nothing" --out bad.json >bad.out 2>&1
rc=$?
[[ $rc -eq 1 ]] || fail "a missing cross evaluator exited $rc: $(cat bad.out)"
[[ $(wc -l <bad.out) -eq 1 ]] && grep -q "$work/nothing: no cross evaluator here" bad.out \
  || fail "missing cross evaluator message: $(cat bad.out)"
[[ ! -e bad.json ]] || fail "metrics written despite the error"
echo "cross_check_cli: OK"
