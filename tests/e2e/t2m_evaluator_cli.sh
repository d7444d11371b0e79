#!/usr/bin/env bash
# The T2M evaluator end to end on the committed tiny fixture (tests/reference/t2m_evaluator.py):
# import evaluator reads finest.tar, the GloVe pickles and the evaluator's mean/std; eval embed
# gives T2M's co-embeddings (1e-4) for each whole clip; eval runs the protocol with it on the
# tiny HumanML3D split (without the dataset's Mean/Std); bad input exits 1 naming the file.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
golden=${MP_SOURCE_DIR:?MP_SOURCE_DIR must name the source tree}/tests/reference/golden/t2m_evaluator
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE

"$cli" --quiet import evaluator --checkpoint "$golden/checkpoint/finest.tar" \
  --glove "$golden/glove" --meta "$golden/meta" --out "$work/evaluator" >"$work/import.log" 2>&1 \
  || fail "import evaluator: $(cat "$work/import.log")"
grep -q "epoch 11" "$work/import.log" || fail "import summary: $(cat "$work/import.log")"
for f in evaluator_config.json evaluator_vocab.txt evaluator.safetensors; do
  [[ -s "$work/evaluator/$f" ]] || fail "evaluator lacks $f"
done

"$cli" --quiet eval embed --evaluator "$work/evaluator" --dataset "$golden/humanml3d" \
  --out "$work/embed.safetensors" >"$work/embed.log" 2>&1 || fail "eval embed: $(cat "$work/embed.log")"
python3 - "$work/embed.safetensors" "$golden" <<'PY' || fail "eval embed differs from T2M"
import json, struct, sys
def load(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__" or e["dtype"] != "F32":
            continue
        b, f = e["data_offsets"]
        values = struct.unpack("<%df" % ((f - b) // 4), body[b:f])
        width = e["shape"][-1]
        out[name] = [values[i:i + width] for i in range(0, len(values), width)]
    return out, header.get("__metadata__", {})
ours, meta = load(sys.argv[1])
ids = json.loads(meta["clip_ids"])
golden, _ = load(sys.argv[2] + "/embeddings.safetensors")
names = json.load(open(sys.argv[2] + "/embeddings.json"))["names"]
assert len(ids) == 33, len(ids)
worst = 0.0
for row, name in enumerate(names):
    k = ids.index(name)
    for key in ("text_embedding", "motion_embedding"):
        worst = max(worst, max(abs(a - b) for a, b in zip(ours[key][k], golden[key][row])))
print("eval embed vs T2M: max |diff| %.3g over %d clips" % (worst, len(names)))
assert worst < 1e-4, worst
PY

# The evaluator's mean/std normalise the motions: the dataset's Mean.npy/Std.npy are not needed.
cp -r "$golden/humanml3d" "$work/h3d" && rm "$work/h3d/Mean.npy" "$work/h3d/Std.npy"
"$cli" --quiet eval --evaluator "$work/evaluator" --dataset "$work/h3d" --replications 2 \
  --mm-texts 0 --gen-batch 33 --out "$work/metrics.json" >"$work/eval.log" 2>&1 \
  || fail "eval: $(cat "$work/eval.log")"
python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
for k in ("R_precision_top_1", "FID", "Matching_score", "Diversity", "gt_R_precision_top_3"):
    assert len(m[k]["values"]) == 2, k
assert 0 <= m["gt_R_precision_top_3"]["mean"] <= 1
' "$work/metrics.json" || fail "metrics.json: $(cat "$work/metrics.json")"

err=$("$cli" --quiet import evaluator --checkpoint "$golden/glove/our_vab_words.pkl" \
  --glove "$golden/glove" --meta "$golden/meta" --out "$work/bad" 2>&1 >/dev/null)
[[ $? -eq 1 && "$err" == *our_vab_words.pkl* ]] || fail "a pickle as checkpoint: '$err'"
err=$("$cli" --quiet import evaluator --checkpoint "$golden/checkpoint/finest.tar" \
  --glove "$golden/meta" --meta "$golden/meta" --out "$work/bad" 2>&1 >/dev/null)
[[ $? -eq 1 && "$err" == *our_vab_data.npy* ]] || fail "no GloVe files: '$err'"
echo "t2m_evaluator_cli: OK"
