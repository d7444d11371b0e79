#!/usr/bin/env bash
# Retakes every README screenshot (resources/screenshots/*.png) from a realistic study, in one
# command; not part of ctest (it trains two short runs: about 10 minutes on 2 loaded cores).
#
#   tests/gui/retake_screenshots.sh [BUILD_DIR]       (default: build/)
#
# 1. a procedural corpus (the prompts and the clips the simulated labelers compare against);
# 2. a study: pairs of the embedded default model on corpus captions, labeled by three simulated
#    labelers (maria, kenji, sam);
# 3. a split and two short DPO runs on it (sigmoid and IPO, HumanML3D metrics every epoch);
# 4. a motion of a built-in prompt for the Export panel;
# 5. build/tests/readme_screenshots_test under Xvfb (1400x900 window) writes the PNGs, then
#    pngquant and optipng (when installed) shrink them.
# Everything lives in $MP_DEMO_DIR (default /tmp/demo), so no machine path shows in a picture;
# HOME points there too. The folder is made anew on each run (a folder this script did not make
# is refused).
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
cli=$build/app/motionpref-cli
shots_bin=$build/tests/readme_screenshots_test
demo=${MP_DEMO_DIR:-/tmp/demo}
out=$src/resources/screenshots
for f in "$cli" "$shots_bin"; do
  [[ -x $f ]] || { echo "retake_screenshots: $f is missing (cmake --build $build)" >&2; exit 1; }
done
command -v xvfb-run >/dev/null || { echo "retake_screenshots: xvfb-run is needed" >&2; exit 1; }

if [[ -e $demo && ! -e $demo/.motionpref-demo ]]; then
  echo "retake_screenshots: $demo exists and was not made by this script; set MP_DEMO_DIR" >&2
  exit 1
fi
rm -rf "$demo"
mkdir -p "$demo/home"
touch "$demo/.motionpref-demo"
cd "$demo"
export HOME=$demo/home XDG_CONFIG_HOME=$demo/home/.config XDG_DATA_HOME=$demo/home/.local/share
export OMP_NUM_THREADS=1 # a shared machine: one thread per job keeps OpenMP from stalling
step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }

step "corpus"
"$cli" --quiet corpus build --out corpus --clips 2000 --seed 1

step "study: three simulated labelers"
"$cli" study create lab.mpstudy --name "Pilot study"
"$cli" --quiet study simulate lab.mpstudy --corpus corpus --pairs 80 --seed 11 --labeler maria
"$cli" --quiet study simulate lab.mpstudy --corpus corpus --pairs 60 --seed 12 --labeler kenji \
  --noise 0.1
"$cli" --quiet study simulate lab.mpstudy --corpus corpus --pairs 40 --seed 13 --labeler sam \
  --noise 0.15 --lapse 0.05
"$cli" study split lab.mpstudy --out split

step "two short DPO runs"
for loss in sigmoid ipo; do
  cat >"run-$loss.json" <<EOF
{"method": "dpo", "epochs": 4, "batch_size": 16, "seed": 2222,
 "optimizer": {"type": "adamw", "lr": 5e-4},
 "dpo": {"loss": "$loss", "beta": 0.1, "rpo_alpha": 1},
 "data": {"pairs": "split/all.jsonl", "train_ids": "split/train.txt", "eval_ids": "split/test.txt"},
 "eval": {"motion_metrics": true, "motion_dataset": "corpus", "motion_every_epochs": 1,
          "replications": 2, "motion_max_clips": 96, "log_every_steps": 1,
          "eval_every_steps": 3}}
EOF
  "$cli" --quiet train --config "run-$loss.json" --out "runs/dpo-$loss"
done

step "a motion for the Export panel"
"$cli" --quiet generate --prompt "a person walks forward and waves" --seed 7 --out walk.bvh

step "screenshots"
MP_README_SHOTS=$out MP_DEMO_DIR=$demo MP_CLI=$cli \
  xvfb-run -a -s "-screen 0 1600x1000x24" "$shots_bin"
# 256-colour palettes (pngquant, Debian's pngquant) make them about a third of the size with no
# visible change; optipng then recompresses.
if command -v pngquant >/dev/null; then
  pngquant --quality=85-98 --speed 1 --strip --skip-if-larger --force --ext .png "$out"/*.png \
    || true # --skip-if-larger exits 98/99 for a picture it leaves as it is
fi
if command -v optipng >/dev/null; then
  optipng -quiet -o2 "$out"/*.png
fi
ls -l "$out"
