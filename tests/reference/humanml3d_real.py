#!/usr/bin/env python3
"""A handful of real HumanML3D clips in HumanML3D's layout, outside the repository (issue 25).

HumanML3D's motions derive from AMASS, whose licence forbids redistribution ("Due to the
distribution policy of AMASS dataset, we are not allowed to distribute the data directly",
HumanML3D's README), so nothing this script writes is committed: it assembles a user's copy in
--out (default $MP_HUMANML3D_DIR, else /tmp/mp-humanml3d-real) for the tests that read
MP_HUMANML3D_DIR (tests/ml/humanml3d_real_test.cpp, tests/e2e/humanml3d_real.sh) and skip
without it.

The clips come from public git mirrors brought with the search tool's `fetch`:
  EricGuo5513/HumanML3D        012314 as released by the authors (new_joint_vecs, new_joints),
                               Mean.npy, Std.npy, the train/val/test split files
  haytham918/HumanML3D-custom  007005, 009548, 011673, M010655, M010968: a user's copy made with
                               HumanML3D's own scripts (its 012314 equals the authors' within
                               2e-5 in the features, 3e-6 m in the joints)
HumanML3D's texts (texts.zip) are absent from both snapshots; each clip gets stand-in captions
written here from its AMASS source name (index.csv), in HumanML3D's
"caption#word/POS ...#start#end" form, one of them a sub-clip.

Then HumanML3D's own recover_from_ric (motion_representation.ipynb, with common/quaternion.py,
run from a checkout of the mirror; not copied here) recovers every features file in float32, as
the notebook did when it wrote new_joints; the result goes to OUT/original_recover/NAME.npy for
the C++ test, and the largest differences are printed: original vs new_joints, and with --cli,
`motionpref-cli motion convert` vs both.
Run: tests/reference/.venv/bin/python tests/reference/humanml3d_real.py [--out DIR] [--cli CLI]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

H3D_GIT = os.environ.get("H3D_GIT", "/work/.mirror/EricGuo5513+HumanML3D/repo")
CUSTOM_GIT = os.environ.get("H3D_CUSTOM_GIT", "/work/.mirror/haytham918+HumanML3D-custom/repo")

# clip -> (mirror, stand-in captions). The AMASS source of each clip is in HumanML3D's index.csv.
CLIPS = {
    # KIT/424/step_stones04, frames 3-203
    "007005": (CUSTOM_GIT, ["a person walks forward stepping from stone to stone#"
                            "a/DET person/NOUN walk/VERB forward/ADV step/VERB from/ADP "
                            "stone/NOUN to/ADP stone/NOUN#0.0#0.0"]),
    # Eyes_Japan_Dataset/hamada/turn-02-look around, frames 110-310
    "009548": (CUSTOM_GIT, ["a person turns and looks around#a/DET person/NOUN turn/VERB "
                            "and/CCONJ look/VERB around/ADV#0.0#0.0"]),
    # Eyes_Japan_Dataset/aita/sitdown_standup-08-long sitting, frames 162-362
    "011673": (CUSTOM_GIT, ["a person sits for a long time#a/DET person/NOUN sit/VERB "
                            "for/ADP a/DET long/ADJ time/NOUN#0.0#0.0"]),
    # Eyes_Japan_Dataset/yamaoka/tennis-15-first service, frames 149-320; the authors' release
    "012314": (H3D_GIT, ["a person serves a tennis ball#a/DET person/NOUN serve/VERB a/DET "
                         "tennis/NOUN ball/NOUN#0.0#0.0",
                         "a person gets ready to serve#a/DET person/NOUN get/VERB ready/ADJ "
                         "to/PART serve/VERB#0.0#2.5"]),
    # mirror of BioMotionLab_NTroje/rub051/0017_lifting_light1, frames 0-129
    "M010655": (CUSTOM_GIT, ["a person lifts something light#a/DET person/NOUN lift/VERB "
                             "something/PRON light/ADJ#0.0#0.0"]),
    # mirror of BMLmovi/Subject_88_F_MoSh/Subject_88_F_14, frames 0-71
    "M010968": (CUSTOM_GIT, ["a person moves briefly#a/DET person/NOUN move/VERB "
                             "briefly/ADV#0.0#0.0"]),
}


def git(git_dir, *args):
    return subprocess.run(["git", "--git-dir", git_dir, *args], check=True,
                          capture_output=True).stdout


def load_npy_bytes(data):
    with tempfile.NamedTemporaryFile(suffix=".npy") as f:
        f.write(data)
        f.flush()
        return np.load(f.name)


def original_recover_from_ric():
    """HumanML3D's recover_from_ric from a checkout of its mirror (the notebook cell that
    defines it, with common.quaternion imported as the notebook's first cell does)."""
    target = tempfile.mkdtemp(prefix="mp_h3d_")
    archive = git(H3D_GIT, "archive", "HEAD", "common", "motion_representation.ipynb")
    subprocess.run(["tar", "-x", "-C", target], input=archive, check=True)
    np.float = float  # common/quaternion.py predates NumPy 1.24, which removed np.float
    sys.path.insert(0, target)
    import common.quaternion as quaternion
    notebook = json.loads(Path(target, "motion_representation.ipynb").read_text())
    cell = next("".join(c["source"]) for c in notebook["cells"]
                if "def recover_from_ric" in "".join(c["source"]))
    scope = {"torch": torch, "np": np, **vars(quaternion)}
    exec(compile(cell, "motion_representation.ipynb", "exec"), scope)
    return scope["recover_from_ric"]


def convert_with_cli(cli, features_path, out_path):
    subprocess.run([cli, "--quiet", "motion", "convert", str(features_path), str(out_path),
                    "--npy", "joints"], check=True)
    return np.load(out_path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.environ.get("MP_HUMANML3D_DIR",
                                                        "/tmp/mp-humanml3d-real"))
    parser.add_argument("--cli", help="motionpref-cli, to compare its motion convert")
    args = parser.parse_args()
    out = Path(args.out)
    for sub in ("new_joint_vecs", "new_joints", "texts", "original_recover"):
        (out / sub).mkdir(parents=True, exist_ok=True)

    for name in ("Mean.npy", "Std.npy"):
        (out / name).write_bytes(git(H3D_GIT, "show", f"HEAD:HumanML3D/{name}"))
    for split in ("train", "val", "test", "all"):
        names = git(H3D_GIT, "show", f"HEAD:HumanML3D/{split}.txt").decode().split()
        kept = [n for n in names if n in CLIPS]
        (out / f"{split}.txt").write_text("".join(n + "\n" for n in kept))
    commits = {}
    for clip, (git_dir, captions) in CLIPS.items():
        commits[git_dir] = git(git_dir, "rev-parse", "HEAD").decode().strip()
        for sub in ("new_joint_vecs", "new_joints"):
            (out / sub / f"{clip}.npy").write_bytes(
                git(git_dir, "show", f"HEAD:HumanML3D/{sub}/{clip}.npy"))
        (out / "texts" / f"{clip}.txt").write_text("".join(c + "\n" for c in captions))
    (out / "SOURCES.json").write_text(json.dumps(
        {"clips": {c: Path(g).parent.name for c, (g, _) in CLIPS.items()},
         "commits": {Path(g).parent.name: c for g, c in commits.items()},
         "texts": "stand-ins written by tests/reference/humanml3d_real.py, not HumanML3D's"},
        indent=1) + "\n")

    recover = original_recover_from_ric()
    worst = {"original vs new_joints": 0.0, "ours vs new_joints": 0.0, "ours vs original": 0.0}
    for clip in CLIPS:
        features = np.load(out / "new_joint_vecs" / f"{clip}.npy")
        released = np.load(out / "new_joints" / f"{clip}.npy")
        with torch.no_grad():
            original = recover(torch.from_numpy(features).unsqueeze(0).float(), 22)
        original = original.squeeze(0).numpy().astype(np.float32)
        np.save(out / "original_recover" / f"{clip}.npy", original)
        diffs = {"original vs new_joints": np.abs(original - released).max()}
        if args.cli:
            with tempfile.TemporaryDirectory() as tmp:
                ours = convert_with_cli(args.cli, out / "new_joint_vecs" / f"{clip}.npy",
                                        Path(tmp) / "joints.npy")
            diffs["ours vs new_joints"] = np.abs(ours - released).max()
            diffs["ours vs original"] = np.abs(ours - original).max()
        print(clip, features.shape, " ".join(f"{k} {v:.3g}" for k, v in diffs.items()))
        for k, v in diffs.items():
            worst[k] = max(worst[k], float(v))
    print("largest |diff| (m):", json.dumps(worst))
    print("wrote", out)


if __name__ == "__main__":
    main()
