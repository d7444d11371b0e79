#!/usr/bin/env bash
# Full fine-tuning (lora.enabled false) through the CLI on the embedded default: sigmoid DPO
# starts at loss log 2 (the reference is a frozen copy of the base), every T5 weight changes
# while the VQ-VAE is the base's, best/ and model/ are complete bundles that `eval --model`
# measures, a run stopped by SIGTERM and resumed ends with the uninterrupted run's weights, an
# experiment evaluates a full fine-tuning run beside the baseline, and other methods are refused.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }
source "$(dirname "$0")/lib/stop_run.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 # determinism and a fair share of a busy machine
base_model=$(cd "${MP_SOURCE_DIR:-$(dirname "$0")/../..}" && pwd)/resources/models/default
cd "$work" || fail "cd"

"$cli" --quiet corpus build --out corpus --clips 240 --seed 5 --threads 1 >/dev/null \
  || fail "corpus build"
"$cli" --quiet study create s.db >/dev/null || fail "study create"
"$cli" --quiet study simulate s.db --corpus corpus --pairs 16 --seed 2 >/dev/null \
  || fail "simulate"
"$cli" --quiet study split s.db --out split --test-fraction 0.25 >/dev/null || fail "split"

data='"data": {"pairs": "split/all.jsonl", "train_ids": "split/train.txt",
               "eval_ids": "split/test.txt"}'
cat >run.json <<EOF
{"method": "dpo", "seed": 7, "epochs": 2, "batch_size": 4, "lora": {"enabled": false},
 "optimizer": {"type": "adamw", "lr": 1e-4}, "schedule": {"type": "cosine", "warmup_steps": 1},
 "dpo": {"loss": "sigmoid", "beta": 0.1}, "checkpoint": {"every_steps": 1, "keep_last": 2},
 "eval": {"log_every_steps": 1}, $data}
EOF
"$cli" --quiet train --config run.json --out full >/dev/null 2>full.err \
  || fail "train: $(cat full.err)"
for f in best/best.json best/config.json best/model.safetensors best/vqvae.safetensors \
  best/spiece.model best/meta.safetensors best/fine_tuning.json model/model.safetensors \
  model/evaluator/evaluator_config.json checkpoints; do
  [[ -e full/$f ]] || fail "run directory lacks $f"
done
[[ -e full/adapter ]] && fail "a full fine-tuning run wrote adapter/"
grep -q '"fine_tuning": "full"' full/model/fine_tuning.json || fail "fine_tuning.json"
tail -n 1 full/events.jsonl | grep -q '"type":"done".*"model":' || fail "last event: $(tail -n 1 full/events.jsonl)"
# Step 1's loss is log 2: the policy equals its reference before the first update.
python3 - full/events.jsonl <<'EOF' || fail "first step's loss is not log 2"
import json, math, sys
steps = [e for e in map(json.loads, open(sys.argv[1])) if e["type"] == "step"]
assert steps[0]["step"] == 1 and abs(steps[0]["loss"] - math.log(2)) < 1e-5, steps[0]
assert len(steps) == 6, len(steps)
EOF
# Every T5 tensor moved (the base's model.safetensors against the trained one); the VQ-VAE is
# the base's, bit for bit.
python3 - "$base_model" full/model <<'EOF' || fail "weights"
import json, struct, sys
def tensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    return {k: data[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in header.items()}
base, tuned = tensors(sys.argv[1] + "/model.safetensors"), tensors(sys.argv[2] + "/model.safetensors")
assert base.keys() == tuned.keys(), set(base) ^ set(tuned)
same = [k for k in base if base[k] == tuned[k]]
assert not same, "unchanged: %s" % same[:5]
assert open(sys.argv[1] + "/vqvae.safetensors", "rb").read() == open(sys.argv[2] + "/vqvae.safetensors", "rb").read()
EOF

# Stopped by SIGTERM after a checkpoint, then resumed: the weights of the uninterrupted run.
stop_after_first_checkpoint model part --config run.json
"$cli" --quiet train --out part --resume >/dev/null 2>resume.err || fail "resume: $(cat resume.err)"
grep -q 'resumed from' part/events.jsonl || fail "no resume event"
cmp -s full/model/model.safetensors part/model/model.safetensors \
  || fail "resumed run's weights differ from the uninterrupted run's"

# The best checkpoint is a model bundle: eval measures it like any bundle.
"$cli" --quiet eval --model full/best --dataset corpus --replications 1 --mm-texts 0 \
  --out metrics.json >/dev/null 2>eval.err || fail "eval: $(cat eval.err)"
grep -q '"FID"' metrics.json || fail "metrics.json: $(head -c 300 metrics.json)"

# An experiment with a full fine-tuning configuration beside the baseline.
cat >sweep.json <<EOF
{"base": {"method": "dpo", "epochs": 1, "batch_size": 4, "optimizer": {"type": "adamw", "lr": 1e-4},
          $data},
 "variants": [{"name": "full", "set": {"lora.enabled": false}}], "seeds": [3],
 "eval": {"dataset": "corpus", "replications": 2, "max_clips": 32, "mm_texts": 0}}
EOF
"$cli" --quiet experiment run sweep.json --out exp >/dev/null 2>exp.err || fail "experiment: $(cat exp.err)"
[[ -s exp/runs/c01_full_s3/metrics.json && -s exp/runs/c01_full_s3/train/best/model.safetensors ]] \
  || fail "experiment did not evaluate the full run: $(cat exp.err)"
grep -q '^| full | 1 | [+-]' exp/results.md || fail "results.md: $(cat exp/results.md)"

# Methods other than DPO are refused, naming full fine-tuning.
echo "{\"method\": \"rm\", \"lora\": {\"enabled\": false}, $data}" >rm.json
"$cli" --quiet train --config rm.json --out rm >/dev/null 2>rm.err && fail "rm with full fine-tuning accepted"
grep -q 'full fine-tuning) is supported for method dpo only' rm.err || fail "rm refusal: $(cat rm.err)"
echo "full_finetune_cli: ok"
