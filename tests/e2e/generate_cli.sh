#!/usr/bin/env bash
# corpus build -> train-base (a toy bundle, seconds) -> generate to .npy, .bvh and .fbx: the files
# read back with motion info, the same seed gives the same bytes, and bad input (prompts, options,
# damaged or foreign model directories) exits 1 with one line naming the problem.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# On a machine shared with other jobs, OpenMP's spinning workers make small models many times
# slower: one thread, and sleeping waits; neither changes a result.
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE

"$cli" --quiet corpus build --out "$work/corpus" --clips 40 --seed 5 --threads 1 >/dev/null \
  || fail "corpus build"
start=$SECONDS
"$cli" --quiet train-base --arch tiny --corpus "$work/corpus" --out "$work/bundle" --text-vocab 200 \
  --vqvae-steps 20 --vqvae-batch 8 --t5-steps 60 --t5-batch 16 --t5-lr 0.003 --t5-warmup 10 \
  >"$work/train.log" 2>&1 || fail "train-base: $(cat "$work/train.log")"
echo "train-base (tiny): $((SECONDS - start)) s"
for f in config.json model.safetensors vqvae.safetensors spiece.model meta.safetensors; do
  [[ -s "$work/bundle/$f" ]] || fail "bundle lacks $f"
done
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert c["t5"]["d_model"]==64 and c["vqvae"]["num_codes"]==128, c' \
  "$work/bundle/config.json" || fail "bundle config"

gen() { "$cli" --quiet generate --model "$work/bundle" --prompt "a person walks forward" "$@"; }
expect_error() { # expect_error WORD ARGS...: exit 1, one stderr line containing WORD
  local word=$1; shift
  local err code
  err=$("$cli" --quiet "$@" 2>&1 >/dev/null); code=$?
  [[ $code -eq 1 ]] || fail "$* exits $code: $err"
  [[ $(wc -l <<<"$err") -eq 1 ]] || fail "$*: more than one line: $err"
  grep -qF -- "$word" <<<"$err" || fail "$*: message lacks '$word': $err"
}

# Two samples per format, seeds 7 and 8; the summary line gives codes and frames.
gen --seed 7 --samples 2 --out "$work/a.npy" >"$work/a.log" || fail "generate .npy"
gen --seed 7 --samples 2 --npy joints --out "$work/j.npy" >/dev/null || fail "generate joints"
gen --seed 7 --samples 2 --out "$work/a.bvh" >/dev/null || fail "generate .bvh"
gen --seed 7 --samples 2 --out "$work/a.fbx" >/dev/null || fail "generate .fbx"
for i in 1 2; do
  line=$(grep "a_$i.npy: seed $((6 + i)), " "$work/a.log") || fail "summary: $(cat "$work/a.log")"
  codes=$(sed -E 's/.* ([0-9]+) codes, .*/\1/' <<<"$line")
  frames=$(sed -E 's/.* ([0-9]+) frames.*/\1/' <<<"$line")
  [[ $frames -eq $((4 * codes)) ]] || fail "frames != 4 x codes: $line"
  [[ $codes -le 49 ]] || fail "more than 49 codes: $line"
  for f in "a_$i.npy" "j_$i.npy" "a_$i.bvh"; do
    info=$("$cli" motion info "$work/$f") || fail "motion info $f"
    grep -q "^frames *$frames\$" <<<"$info" || fail "$f: expected $frames frames: $info"
  done
  grep -q '^kind *features (T,263)' <<<"$("$cli" motion info "$work/a_$i.npy")" || fail "features kind"
  grep -q '^kind *joints (T,22,3)' <<<"$("$cli" motion info "$work/j_$i.npy")" || fail "joints kind"
  [[ $(head -c 18 "$work/a_$i.fbx") == "Kaydara FBX Binary" ]] || fail "a_$i.fbx is not binary FBX"
  # The joints .npy and the BVH (joint rotations by IK) hold the same motion, to a millimetre.
  "$cli" motion info --json "$work/j_$i.npy" >"$work/j.json" && "$cli" motion info --json "$work/a_$i.bvh" >"$work/b.json" \
    || fail "motion info --json"
  python3 - "$work/j.json" "$work/b.json" <<'PY' || fail "joints .npy and .bvh differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for key in ("root_path_m", "height_m"):
    assert abs(a[key] - b[key]) < 1e-3, (key, a[key], b[key])
for key in ("bounds_min_m", "bounds_max_m"):
    assert all(abs(x - y) < 5e-3 for x, y in zip(a[key], b[key])), (key, a[key], b[key])
PY
done

# The same seed again: the same bytes (FBX: Assimp stamps the creation time in its header, so
# only bytes within the first KiB may differ).
mkdir "$work/again"
gen --seed 8 --out "$work/again/b.npy" >/dev/null && gen --seed 8 --out "$work/again/b.bvh" >/dev/null \
  && gen --seed 8 --out "$work/again/b.fbx" >/dev/null || fail "generate seed 8 alone"
cmp -s "$work/a_2.npy" "$work/again/b.npy" || fail "seed 8 .npy differs between a batch of 2 and alone"
cmp -s "$work/a_2.bvh" "$work/again/b.bvh" || fail "seed 8 .bvh differs"
cmp -l "$work/a_2.fbx" "$work/again/b.fbx" | awk '$1 > 1024 { bad = 1 } END { exit bad }' \
  || fail "seed 8 .fbx differs beyond the header"
[[ $(stat -c %s "$work/a_2.fbx") -eq $(stat -c %s "$work/again/b.fbx") ]] || fail "fbx sizes differ"
# Greedy decoding ignores the seed.
gen --greedy --seed 1 --samples 2 --out "$work/g.npy" >/dev/null || fail "greedy"
cmp -s "$work/g_1.npy" "$work/g_2.npy" || fail "greedy samples differ"

# --print-tokens: one JSON line (keys sorted) with the prompt's encoder ids (ending in </s>) and,
# per sample, its generated ids and codes; the codes are the ones the .npy summary counted, and
# the motion file written next to it is the one the plain run wrote. No python in CI: grep/sed.
tokens=$(gen --seed 7 --samples 2 --print-tokens) || fail "generate --print-tokens"
[[ $(wc -l <<<"$tokens") -eq 1 ]] || fail "--print-tokens: not one line: $tokens"
ids='\[[0-9]+(,[0-9]+)*\]'
sample="\\{\"codes\":\\[[0-9,]*\\],\"seed\":[78],\"tokens\":$ids\\}"
grep -qE "^\\{\"decoder_start_id\":0,\"prompt\":\"a person walks forward\",\"prompt_ids\":\\[([0-9]+,)*1\\],\"samples\":\\[$sample,$sample\\]\\}\$" \
  <<<"$tokens" || fail "--print-tokens line: $tokens"
codes=$(sed -E 's/.*"samples":\[\{"codes":\[([0-9,]*)\].*/\1/' <<<"$tokens" | tr ',' '\n' | grep -c .)
grep -q "a_1.npy: seed 7, $codes codes," "$work/a.log" || fail "--print-tokens: $codes codes for seed 7: $(cat "$work/a.log")"
single=$(gen --seed 8 --print-tokens --out "$work/p.npy") || fail "generate --print-tokens --out"
[[ $(wc -l <<<"$single") -eq 1 && $single == '{"decoder_start_id"'* ]] || fail "--print-tokens --out stdout: $single"
cmp -s "$work/p.npy" "$work/again/b.npy" || fail "--print-tokens --out wrote other bytes"

# The VQ-VAE's reconstruction error on the test split.
"$cli" --quiet eval vqvae --model "$work/bundle" --dataset "$work/corpus" --out "$work/vq.json" \
  >"$work/vq.txt" || fail "eval vqvae: $(cat "$work/vq.txt")"
grep -q '^MPJPE  .* mm (world frame' "$work/vq.txt" || fail "eval vqvae output: $(cat "$work/vq.txt")"
python3 - "$work/vq.json" "$(wc -l <"$work/corpus/test.txt")" <<'PY' || fail "vq.json: $(cat "$work/vq.json")"
import json, math, sys
r = json.load(open(sys.argv[1]))
assert 1 <= r["clips"] <= int(sys.argv[2]) and r["frames"] % 4 == 0, r
assert 0 < r["root_relative_mpjpe_mm"] and 0 < r["mpjpe_mm"] <= r["worst_clip_mpjpe_mm"], r
assert 0 < r["codes_used"] <= 1 and 1 <= r["perplexity"] <= 128, r
PY

# import motiongpt: the toy bundle laid out as MotionGPT's release (one state_dict with vae.* and
# lm.language_model.* names, a flan-t5-style directory, assets/meta .npy files) comes back as a
# bundle that generates the same bytes.
mkdir -p "$work/mgpt/flan-t5" "$work/mgpt/meta"
python3 - "$work/bundle" "$work/mgpt" <<'PY' || fail "MotionGPT layout"
import json, struct, sys
bundle, out = sys.argv[1:]
def read(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    return header, data[8 + n:]
tensors = {}
for file, prefix in (("model.safetensors", "lm.language_model."), ("vqvae.safetensors", "vae.")):
    header, blob = read(f"{bundle}/{file}")
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        tensors[prefix + name] = (entry["dtype"], entry["shape"], blob[begin:end])
header, blob, offset = {}, b"", 0
for name, (dtype, shape, data) in sorted(tensors.items()):
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
    blob += data
    offset += len(data)
text = json.dumps(header)
text += " " * ((8 - len(text) % 8) % 8)
open(f"{out}/motiongpt.safetensors", "wb").write(struct.pack("<Q", len(text)) + text.encode() + blob)
config = json.load(open(f"{bundle}/config.json"))
json.dump(config["t5"], open(f"{out}/flan-t5/config.json", "w"))
open(f"{out}/flan-t5/spiece.model", "wb").write(open(f"{bundle}/spiece.model", "rb").read())
meta, blob = read(f"{bundle}/meta.safetensors")
for name in ("mean", "std"):
    begin, end = meta[name]["data_offsets"]
    head = "{'descr': '<f4', 'fortran_order': False, 'shape': (263,), }"
    head += " " * ((64 - (10 + len(head) + 1) % 64) % 64) + "\n"
    open(f"{out}/meta/{name}.npy", "wb").write(
        b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode() + blob[begin:end])
PY
"$cli" --quiet import motiongpt --checkpoint "$work/mgpt/motiongpt.safetensors" --t5 "$work/mgpt/flan-t5" \
  --meta "$work/mgpt/meta" --out "$work/imported" >"$work/import.log" || fail "import: $(cat "$work/import.log")"
grep -q 'VQ-VAE 128 codes' "$work/import.log" || fail "import summary: $(cat "$work/import.log")"
"$cli" --quiet generate --model "$work/imported" --prompt "a person walks forward" --seed 8 \
  --out "$work/imported.npy" >/dev/null || fail "generate with the imported bundle"
# The imported bundle prompts as MotionGPT's text-to-motion path does ("Generate motion: ..."):
# the toy bundle given that prompt writes the same bytes.
"$cli" --quiet generate --model "$work/bundle" --prompt "Generate motion: a person walks forward" \
  --seed 8 --out "$work/templated.npy" >/dev/null || fail "generate with MotionGPT's prompt"
cmp -s "$work/imported.npy" "$work/templated.npy" || fail "the imported bundle generates other bytes"
echo 'not a zip' >"$work/mgpt/motiongpt_s3_h3d.tar"
expect_error "not a PyTorch checkpoint" import motiongpt --checkpoint "$work/mgpt/motiongpt_s3_h3d.tar" \
  --t5 "$work/mgpt/flan-t5" --meta "$work/mgpt/meta" --out "$work/imported2"
expect_error "mean.npy: missing" import motiongpt --checkpoint "$work/mgpt/motiongpt.safetensors" \
  --t5 "$work/mgpt/flan-t5" --meta "$work/mgpt/flan-t5" --out "$work/imported2"
# A Lightning checkpoint written by torch.save (tests/reference/motiongpt.py runs MotionGPT's own
# VQVae and MLM) imports with no Python step; one line names what of it was not used.
golden="$MP_SOURCE_DIR/tests/reference/golden/motiongpt"
"$cli" --quiet import motiongpt --checkpoint "$golden/motiongpt_tiny.ckpt" --t5 "$golden/flan-t5" \
  --meta "$golden/meta" --out "$work/imported_ckpt" >"$work/import_ckpt.log" \
  || fail "import torch.save checkpoint: $(cat "$work/import_ckpt.log")"
grep -q 'motiongpt_tiny.ckpt: not used: .*optimizer_states.*; objects not built: hyper_parameters/cfg (omegaconf.dictconfig.DictConfig)' \
  "$work/import_ckpt.log" || fail "import: what was not used: $(cat "$work/import_ckpt.log")"

# Any prompt text is accepted: long, unknown words, other scripts.
long=$(printf 'a person walks forward and turns %.0s' $(seq 320))
[[ ${#long} -ge 10000 ]] || fail "long prompt is ${#long} characters"
"$cli" --quiet generate --model "$work/bundle" --prompt "$long" --out "$work/long.npy" >/dev/null \
  || fail "10,000-character prompt"
"$cli" --quiet generate --model "$work/bundle" --prompt "zyxxy qwertz ☃ 日本" --out "$work/odd.npy" \
  >/dev/null || fail "unknown words"

# Errors: exit 1, one line on stderr that names the problem.
expect_error "prompt is empty" generate --model "$work/bundle" --prompt "   " --out "$work/e.npy"
expect_error "top-p" generate --model "$work/bundle" --prompt "walk" --top-p 0 --out "$work/e.npy"
expect_error "--temperature" generate --model "$work/bundle" --prompt "walk" --temperature -1 --out "$work/e.npy"
expect_error "max motion tokens" generate --model "$work/bundle" --prompt "walk" --max-tokens 100000 --out "$work/e.npy"
expect_error "--samples" generate --model "$work/bundle" --prompt "walk" --samples 0 --out "$work/e.npy"
expect_error ".txt" generate --model "$work/bundle" --prompt "walk" --out "$work/e.txt"
expect_error "nowhere" generate --model "$work/bundle" --prompt "walk" --out "$work/nowhere/e.npy"
expect_error "nothing-here" generate --model "$work/nothing-here" --prompt "walk" --out "$work/e.npy"

broken() { rm -rf "$work/broken"; cp -r "$work/bundle" "$work/broken"; }
broken; rm "$work/broken/vqvae.safetensors"
expect_error "vqvae.safetensors: missing" generate --model "$work/broken" --prompt "walk" --out "$work/e.npy"
broken; truncate -s 5000 "$work/broken/model.safetensors"
expect_error "model.safetensors" generate --model "$work/broken" --prompt "walk" --out "$work/e.npy"
broken; head -c 100 "$work/bundle/spiece.model" >"$work/broken/spiece.model"
expect_error "spiece.model" generate --model "$work/broken" --prompt "walk" --out "$work/e.npy"
broken; python3 - "$work/broken/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["t5"]["d_ff"] = "wide"; json.dump(c, open(sys.argv[1], "w"))
PY
expect_error "d_ff" generate --model "$work/broken" --prompt "walk" --out "$work/e.npy"
broken; python3 - "$work/broken/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["vqvae"]["width"] = 32; json.dump(c, open(sys.argv[1], "w"))
PY
expect_error "vqvae.safetensors: tensor" generate --model "$work/broken" --prompt "walk" --out "$work/e.npy"
# A Hugging Face T5 directory and a MotionGPT checkpoint folder are named as such.
mkdir "$work/flan-t5-base" "$work/MotionGPT-base"
echo '{"model_type": "t5", "architectures": ["T5ForConditionalGeneration"]}' >"$work/flan-t5-base/config.json"
echo 'not a real checkpoint' >"$work/MotionGPT-base/motiongpt_s3_h3d.tar"
expect_error "Hugging Face" generate --model "$work/flan-t5-base" --prompt "walk" --out "$work/e.npy"
expect_error "motiongpt_s3_h3d.tar is a PyTorch checkpoint" generate --model "$work/MotionGPT-base" \
  --prompt "walk" --out "$work/e.npy"
[[ ! -e "$work/e.npy" ]] || fail "a failed generate left an output file"
expect_error "nowhere" eval vqvae --model "$work/bundle" --dataset "$work/nowhere"
expect_error "--arch" train-base --arch huge --corpus "$work/corpus" --out "$work/x"
echo "generate_cli: ok"
