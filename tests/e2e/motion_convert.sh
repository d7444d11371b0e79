#!/usr/bin/env bash
# motion convert: .npy joints <-> .bvh, .npy/.bvh -> .fbx/.fbxa, .bvh -> .npy features, and
# one-line errors (exit 1) for bad files and flags.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

python3 "$(dirname "$0")/walk_npy.py" "$dir/walk.npy" 0
[[ -s $dir/walk.npy ]] || fail "could not write the input .npy"

"$cli" motion convert "$dir/walk.npy" "$dir/walk.bvh" --units cm >/dev/null || fail "npy -> bvh"
grep -q '^HIERARCHY' "$dir/walk.bvh" || fail "bvh has no HIERARCHY"
grep -q '^Frames: 30' "$dir/walk.bvh" || fail "bvh frame count"
grep -q '^Frame Time: 0.05' "$dir/walk.bvh" || fail "bvh frame time"
[[ $(grep -c 'End Site' "$dir/walk.bvh") -eq 5 ]] || fail "bvh end sites"

"$cli" motion convert "$dir/walk.bvh" "$dir/back.npy" >/dev/null || fail "bvh -> npy"
python3 - "$dir/walk.npy" "$dir/back.npy" <<'PY' || fail "bvh round trip moved the joints"
import struct, sys
def load(path):
    data = open(path, "rb").read()
    n = struct.unpack("<H", data[8:10])[0]
    body = data[10 + n:]
    return struct.unpack("<%df" % (len(body) // 4), body)
a, b = load(sys.argv[1]), load(sys.argv[2])
assert len(a) == len(b), (len(a), len(b))
worst = max(abs(x - y) for x, y in zip(a, b))
assert worst < 1e-4, worst
PY

"$cli" motion convert "$dir/walk.npy" "$dir/walk.fbx" >/dev/null || fail "npy -> fbx"
head -c 18 "$dir/walk.fbx" | grep -q 'Kaydara FBX Binary' || fail "fbx is not binary FBX"
"$cli" motion convert "$dir/walk.bvh" "$dir/walk.fbxa" --fps 30 >/dev/null || fail "bvh -> fbxa"
head -1 "$dir/walk.fbxa" | grep -q '^; FBX' || fail "fbxa is not ASCII FBX"
out=$("$cli" motion convert "$dir/walk.bvh" "$dir/feats.npy" --npy features) || fail "bvh -> features"
echo "$out" | grep -q '29 frames' || fail "features frame count: $out"
head -c 128 "$dir/feats.npy" | grep -aq "(29, 263)" || fail "features shape"

# Errors: exit 1, one line, naming the culprit.
check_error() { # expected-text command...
  local expected=$1; shift
  local out code
  out=$("$@" 2>&1); code=$?
  [[ $code -eq 1 ]] || fail "'$*' exits $code, expected 1: $out"
  [[ $(echo "$out" | wc -l) -eq 1 ]] || fail "'$*' error is not one line: $out"
  echo "$out" | grep -q -- "$expected" || fail "'$*' error lacks '$expected': $out"
}
check_error "out.mp4" "$cli" motion convert "$dir/walk.npy" "$dir/out.mp4"
check_error "km" "$cli" motion convert "$dir/walk.npy" "$dir/x.bvh" --units km
check_error "fps" "$cli" motion convert "$dir/walk.npy" "$dir/x.bvh" --fps -3
sed 's/^\(Frame Time.*\)$/\1/; 12s/.*/  OFFSET 0 nan 0/' "$dir/walk.bvh" > "$dir/nan.bvh"
check_error "nan.bvh:12:" "$cli" motion convert "$dir/nan.bvh" "$dir/x.npy"
head -c 3000 "$dir/walk.bvh" > "$dir/cut.bvh"
check_error "cut.bvh" "$cli" motion convert "$dir/cut.bvh" "$dir/x.npy"
echo "motion_convert: ok"
