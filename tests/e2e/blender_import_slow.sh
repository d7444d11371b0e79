#!/usr/bin/env bash
# Blender imports what motion convert writes: the BVH and the binary FBX (Assimp 5.2's output
# repaired), each as one armature with the 22 SMPL bones at 20 fps whose pose-bone heads match
# the app's joints (1 mm), for a figure facing +Z, away and sideways. Needs Blender (Debian's
# blender package, ~190 MB); without it the test says so and passes.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }
if ! command -v blender >/dev/null; then
  echo "blender_import_slow: SKIPPED (blender is not installed)"
  exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/check.py" <<'PY'
# Run inside Blender: import a BVH or FBX written by motionpref-cli and compare the pose-bone
# heads with the app's own joint positions (a float32 .npy (T, 22, 3), SMPL order, Y up, metres).
import sys, struct, bpy, builtins
args = sys.argv[sys.argv.index("--") + 1:]
path, npy_path, kind = args[0], args[1], args[2]
names = ["pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
         "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
         "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
         "left_wrist", "right_wrist"]
data = open(npy_path, "rb").read()
n = struct.unpack("<H", data[8:10])[0]
body = data[10 + n:]
values = struct.unpack("<%df" % (len(body) // 4), body)
frames = len(values) // 66
bpy.ops.wm.read_factory_settings(use_empty=True)
if kind == "bvh":
    import io_anim_bvh.import_bvh as m
    m.open = lambda f, mode="r", *a, **k: builtins.open(f, mode.replace("U", ""), *a, **k)
    bpy.ops.import_anim.bvh(filepath=path, update_scene_fps=True, update_scene_duration=True)
else:
    bpy.ops.import_scene.fbx(filepath=path)
arms = [o for o in bpy.data.objects if o.type == "ARMATURE"]
assert len(arms) == 1, [o.type for o in bpy.data.objects]
arm = arms[0]
bones = {b.name: b for b in arm.pose.bones}
missing = [x for x in names if x not in bones]
assert not missing, ("missing bones", missing, list(bones))
scene = bpy.context.scene
action = arm.animation_data.action
start = int(action.frame_range[0])
worst = 0.0
for f in range(frames):
    scene.frame_set(start + f)
    for j, name in enumerate(names):
        head = arm.matrix_world @ bones[name].head
        x, y, z = values[(f * 22 + j) * 3: (f * 22 + j) * 3 + 3]
        # Blender is Z up: app (x, y, z) -> (x, -z, y).
        d = max(abs(head.x - x), abs(head.y + z), abs(head.z - y))
        worst = max(worst, d)
print("BLENDER_CHECK", kind, "armature", arm.name, "bones", len(arm.data.bones), "fps", scene.render.fps,
      "frames", action.frame_range[:], "max error m %.2e" % worst)
assert worst < 1e-3, worst
PY
for yaw in 0 180 90; do
  python3 "$(dirname "$0")/walk_npy.py" "$dir/walk$yaw.npy" $yaw
  "$cli" motion convert "$dir/walk$yaw.npy" "$dir/walk$yaw.bvh" -q || fail "npy -> bvh"
  "$cli" motion convert "$dir/walk$yaw.npy" "$dir/walk$yaw.fbx" -q || fail "npy -> fbx"
  "$cli" motion convert "$dir/walk$yaw.bvh" "$dir/back$yaw.npy" -q || fail "bvh -> npy"
  for kind in bvh fbx; do
    # Debian's Blender 3.4 BVH add-on opens files with mode 'rU', which Python 3.11 rejects;
    # check.py patches that. --python-exit-code makes a Python failure fail the run.
    out=$(blender -b --factory-startup --python-exit-code 3 --python "$dir/check.py" -- \
          "$dir/walk$yaw.$kind" "$dir/back$yaw.npy" $kind 2>&1) || fail "blender $kind yaw $yaw: $(echo "$out" | tail -5)"
    echo "$out" | grep -q "BLENDER_CHECK $kind .*bones 22 fps 20 frames (1.0, 30.0)" ||
      fail "blender $kind yaw $yaw: $(echo "$out" | grep BLENDER_CHECK)"
    echo "yaw $yaw: $(echo "$out" | grep BLENDER_CHECK)"
  done
done
echo "blender_import_slow: ok"
