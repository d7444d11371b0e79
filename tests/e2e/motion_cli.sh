#!/usr/bin/env bash
# motion info on .npy features and joints (and the features round trip through motion convert),
# and one-line errors for bad files.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Fixtures written with Python's struct (no NumPy needed): the SMPL-22 rest pose standing on the
# floor, facing +Z, sliding 5 cm per frame along +Z for 40 frames.
python3 - "$work" <<'PY' || fail "fixture generation"
import struct, sys, math
work = sys.argv[1]
parents = [-1,0,0,0,1,2,3,4,5,6,7,8,9,9,9,12,13,14,16,17,18,19]
offsets = [(0,0,0),(0.0686,-0.0911,-0.0055),(-0.0686,-0.0911,-0.0055),(0,0.1089,-0.0267),
  (0.0355,-0.3758,-0.0066),(-0.0355,-0.3758,-0.0066),(0,0.1353,0.0251),(-0.0139,-0.4012,-0.043),
  (0.0139,-0.4012,-0.043),(0,0.0528,0.0014),(0.0261,-0.0518,0.1212),(-0.0261,-0.0518,0.1212),
  (0,0.2126,-0.0437),(0.0802,0.1199,-0.0363),(-0.0802,0.1199,-0.0363),(0,0.0648,0.0569),
  (0.091,0.0297,-0.0112),(-0.091,0.0297,-0.0112),(0.2535,-0.0101,-0.0231),(-0.2535,-0.0101,-0.0231),
  (0.2541,0.0068,-0.0039),(-0.2541,0.0068,-0.0039)]
rest = []
for j, p in enumerate(parents):
    base = (0,0,0) if p < 0 else rest[p]
    rest.append(tuple(base[k] + offsets[j][k] for k in range(3)))
lift = -min(r[1] for r in rest)
def npy(path, shape, values, descr='<f4', fmt='<f', cut=0):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ', '.join(map(str, shape)) + (',' if len(shape) == 1 else ''))
    header += ' ' * ((64 - (10 + len(header) + 1) % 64) % 64) + '\n'
    data = b''.join(struct.pack(fmt, v) for v in values)
    blob = b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode() + data
    open(path, 'wb').write(blob[:len(blob) - cut] if cut else blob)
frames = [[(r[0], r[1] + lift, r[2] + 0.05 * t) for r in rest] for t in range(40)]
flat = [c for f in frames for j in f for c in j]
npy(work + '/slide.npy', (40, 22, 3), flat)
npy(work + '/still.npy', (40, 22, 3), [c for f in [frames[0]] * 40 for j in f for c in j])
npy(work + '/wrong.npy', (40, 21, 3), flat[:40 * 21 * 3])
npy(work + '/short.npy', (40, 22, 3), flat, cut=100)
bad = list(flat); bad[5 * 66 + 4] = float('nan')
npy(work + '/nan.npy', (40, 22, 3), bad)
npy(work + '/u4.npy', (4,), [1, 2, 3, 4], descr='<u4', fmt='<I')
PY

out=$("$cli" motion info "$work/slide.npy") || fail "motion info exit $?"
echo "$out" | grep -q '^kind *joints (T,22,3)' || fail "kind: $out"
echo "$out" | grep -q '^frames *40$' || fail "frames: $out"
echo "$out" | grep -q '^duration *2.00 s' || fail "duration: $out"
echo "$out" | grep -q '^skating *1.0000' || fail "sliding feet skate every frame: $out"
"$cli" motion info "$work/still.npy" | grep -q '^skating *0.0000' || fail "planted feet skate"
"$cli" motion info --fps 30 "$work/slide.npy" | grep -q '^duration *1.33 s' || fail "--fps"

json=$("$cli" motion info --json "$work/slide.npy") || fail "--json exit"
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["frames"]==40 and d["kind"]=="joints" and abs(d["root_path_m"]-1.95)<1e-4, d' <<<"$json" \
  || fail "json: $json"

# joints -> features -> joints: one frame fewer, same positions (the clip is already canonical).
"$cli" --quiet motion convert --npy features "$work/slide.npy" "$work/feats.npy" || fail "convert to features"
"$cli" motion info "$work/feats.npy" | grep -q '^kind *features (T,263)' || fail "features kind"
"$cli" motion info "$work/feats.npy" | grep -q '^frames *39$' || fail "features frames"
"$cli" --quiet motion convert "$work/feats.npy" "$work/back.npy" || fail "convert to joints"
python3 - "$work" <<'PY' || fail "round trip differs"
import struct, sys
def load(path):
    blob = open(path, 'rb').read()
    n = struct.unpack('<H', blob[8:10])[0]
    data = blob[10 + n:]
    return struct.unpack('<%df' % (len(data) // 4), data)
a, b = load(sys.argv[1] + '/slide.npy'), load(sys.argv[1] + '/back.npy')
assert len(b) == 39 * 66, len(b)
err = max(abs(x - y) for x, y in zip(a, b))
assert err < 1e-4, err
PY

# A BVH (written by motion convert) is summarised too, back on SMPL-22.
"$cli" --quiet motion convert "$work/slide.npy" "$work/slide.bvh" || fail "convert to bvh"
out=$("$cli" motion info "$work/slide.bvh") || fail "info on bvh"
echo "$out" | grep -q '^kind *joints (T,22,3)' || fail "bvh kind: $out"
echo "$out" | grep -q '^frames *40$' || fail "bvh frames: $out"
echo "$out" | grep -q '^skating *1.0000' || fail "bvh skating: $out"

# Every bad input: exit 1, one line, naming the file.
expect_error() {  # expect_error PATTERN ARGS...
  local pattern=$1; shift
  local out code
  out=$("$cli" "$@" 2>&1); code=$?
  [[ $code -eq 1 ]] || fail "$* exits $code: $out"
  [[ $(echo "$out" | wc -l) -eq 1 ]] || fail "$* error is not one line: $out"
  echo "$out" | grep -q -- "$pattern" || fail "$* error lacks '$pattern': $out"
}
expect_error "wrong.npy: expected features (T,263) or joints (T,22,3), got (40,21,3)" motion info "$work/wrong.npy"
expect_error "short.npy: truncated" motion info "$work/short.npy"
expect_error "nan.npy: 1 non-finite values (NaN/Inf), first at frame 5" motion info "$work/nan.npy"
expect_error "u4.npy: unsupported dtype '<u4'" motion info "$work/u4.npy"
expect_error "nowhere.npy: cannot open" motion info "$work/nowhere.npy"
expect_error "--fps must be in" motion info --fps 0 "$work/slide.npy"
echo "motion_cli: ok"
