#!/usr/bin/env bash
# The real HumanML3D path on real clips (issue 25): motion convert turns each clip's 263-d
# features into joints equal to HumanML3D's released new_joints, and eval runs on the clips with
# the tiny T2M evaluator fixture. AMASS's licence keeps the motions out of the repository, so
# this reads the copy MP_HUMANML3D_DIR names (a HumanML3D/ directory, or the six public clips
# tests/reference/humanml3d_real.py assembles) and is skipped without it.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
golden=${MP_SOURCE_DIR:?MP_SOURCE_DIR must name the source tree}/tests/reference/golden/t2m_evaluator
fail() { echo "FAIL: $*"; exit 1; }
root=${MP_HUMANML3D_DIR:-}
if [[ -z "$root" ]]; then
  echo "humanml3d_real: SKIPPED (MP_HUMANML3D_DIR is not set)"
  exit 0
fi
[[ -d "$root/new_joint_vecs" && -d "$root/new_joints" ]] || fail "$root lacks new_joint_vecs/ or new_joints/"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE

# The first clips of train.txt and test.txt (a full copy has some 29,000).
mapfile -t clips < <( (head -6 "$root/train.txt"; head -2 "$root/test.txt") | tr -d '\r')
[[ ${#clips[@]} -gt 0 ]] || fail "no clip in $root/train.txt or test.txt"

# new_joints is recover_from_ric of the float32 features (motion_representation.ipynb), frame for
# frame: within 2e-6 of the clip's largest coordinate (float32 rounding, as
# tests/ml/humanml3d_real_test.cpp explains).
for clip in "${clips[@]}"; do
  "$cli" --quiet motion convert "$root/new_joint_vecs/$clip.npy" "$work/$clip.npy" --npy joints \
    >"$work/convert.log" 2>&1 || fail "motion convert $clip: $(cat "$work/convert.log")"
done
python3 - "$root/new_joints" "$work" "${clips[@]}" <<'PY' || fail "converted joints differ from new_joints"
import ast, struct, sys
def load(path):
    data = open(path, "rb").read()
    assert data[:6] == b"\x93NUMPY", path
    n = struct.unpack("<H", data[8:10])[0] if data[6] == 1 else struct.unpack("<I", data[8:12])[0]
    start = 10 if data[6] == 1 else 12
    header = ast.literal_eval(data[start:start + n].decode("latin1"))
    assert header["descr"] == "<f4" and not header["fortran_order"], (path, header)
    body = data[start + n:]
    return header["shape"], struct.unpack("<%df" % (len(body) // 4), body)
worst = 0.0
for clip in sys.argv[3:]:
    shape, released = load("%s/%s.npy" % (sys.argv[1], clip))
    ours_shape, ours = load("%s/%s.npy" % (sys.argv[2], clip))
    assert tuple(shape) == tuple(ours_shape), (clip, shape, ours_shape)
    scale = max(1.0, max(abs(v) for v in released))
    diff = max(abs(a - b) for a, b in zip(ours, released)) / scale
    assert diff <= 2e-6, (clip, diff)
    worst = max(worst, diff)
print("motion convert vs new_joints: max relative |diff| %.3g over %d clips" % (worst, len(sys.argv) - 3))
PY

# eval on those clips as a test split, with the tiny random T2M evaluator: it must run and give
# finite metrics; the numbers mean nothing with random evaluator weights. T2M's R-precision
# needs groups of 32 motions, so the split holds six copies of each clip (named NAMEcK).
mkdir -p "$work/h3d/new_joint_vecs" "$work/h3d/texts"
for clip in "${clips[@]}"; do
  [[ -f "$root/texts/$clip.txt" ]] || fail "$root/texts/$clip.txt is missing"
  for k in 1 2 3 4 5 6; do
    cp "$root/new_joint_vecs/$clip.npy" "$work/h3d/new_joint_vecs/${clip}c$k.npy" || fail "copy $clip"
    cp "$root/texts/$clip.txt" "$work/h3d/texts/${clip}c$k.txt" || fail "copy $clip"
    echo "${clip}c$k" >>"$work/h3d/test.txt"
  done
done
"$cli" --quiet import evaluator --checkpoint "$golden/checkpoint/finest.tar" \
  --glove "$golden/glove" --meta "$golden/meta" --out "$work/evaluator" >"$work/import.log" 2>&1 \
  || fail "import evaluator: $(cat "$work/import.log")"
"$cli" --quiet eval --evaluator "$work/evaluator" --dataset "$work/h3d" --replications 2 \
  --mm-texts 0 --gen-batch 32 --out "$work/metrics.json" >"$work/eval.log" 2>&1 \
  || fail "eval: $(cat "$work/eval.log")"
python3 - "$work/metrics.json" <<'PY' || fail "metrics.json: $(cat "$work/metrics.json")"
import json, math, sys
m = json.load(open(sys.argv[1]))
for k in ("R_precision_top_1", "R_precision_top_3", "FID", "Matching_score", "Diversity",
          "gt_R_precision_top_3", "gt_Matching_score"):
    assert len(m[k]["values"]) == 2, k
    assert all(math.isfinite(v) for v in m[k]["values"]), (k, m[k])
print("eval (random evaluator, numbers meaningless): R@3 %.3f, FID %.3f, gt R@3 %.3f"
      % (m["R_precision_top_3"]["mean"], m["FID"]["mean"],
         m["gt_R_precision_top_3"]["mean"]))
PY
echo "humanml3d_real: OK"
