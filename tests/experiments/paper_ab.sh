#!/usr/bin/env bash
# The README's blind A/B win rate per temperature (README: "The paper's tables on the embedded
# default", the paper's Figure 3), on the runs of paper_tables.sh: the untrained default (A)
# against each fine-tuned model (B), rated by the simulated labeler (`compare ab`), the same
# trials for every B. Also the default against itself (the null: no model difference) and the
# DPO runs rated by a labeler with another noise seed and with three times the noise.
# Usage: paper_ab.sh WORK_DIR [EXPERIMENT_DIR]   (WORK_DIR of paper_tables.sh: corpus/ and exp/;
#        sessions and tables go to WORK_DIR/ab; about 4 min per comparison on one thread)
set -eu
cli=${MP_CLI:-$(cd "$(dirname "$0")/../.." && pwd)/build/app/motionpref-cli}
here=$(cd "$(dirname "$0")" && pwd)
work=$(cd "$1" && pwd)
exp=${2:-$work/exp}
export OMP_NUM_THREADS=1
mkdir -p "$work/ab"
cd "$work/ab"
common=(--corpus "$work/corpus" --split test --prompts 150 --temperatures 0.5,0.7,1.0,1.3,1.6
        --seed 1)
# NAME, then the options that make model B and the labeler.
compare() {
  local name=$1; shift
  [[ -f $name.json ]] && return 0 # resumable: a finished comparison is not redone
  "$cli" --quiet compare ab "${common[@]}" "$@" --out "$name.json" --format csv >"$name.csv.tmp"
  mv "$name.csv.tmp" "$name.csv"
}
compare self
compare dpo_s1 --b-adapter "$exp/runs/c01_dpo_s1/train/best"
compare dpo_s2 --b-adapter "$exp/runs/c01_dpo_s2/train/best"
compare rlhf_s1 --b-adapter "$exp/runs/c10_rlhf_s1/train/best"
compare rlhf_s2 --b-adapter "$exp/runs/c10_rlhf_s2/train/best"
compare full-ft_s1 --b "$exp/runs/c09_full-ft_s1/train/best"
compare dpo_s1_labeler7 --b-adapter "$exp/runs/c01_dpo_s1/train/best" --labeler-seed 7
compare dpo_s1_noise015 --b-adapter "$exp/runs/c01_dpo_s1/train/best" --noise 0.15
compare dpo_s2_noise015 --b-adapter "$exp/runs/c01_dpo_s2/train/best" --noise 0.15
python3 "$here/paper_ab.py" .
