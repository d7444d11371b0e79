#!/usr/bin/env bash
# The README's paper tables on the embedded domain (README: "The paper's tables on the embedded
# default"): a 1,000-clip corpus, 500 pairs labelled by the kinematic and pose-error labeler
# (study simulate without a judge, so the labels are not the reporting evaluator), the sweep
# paper_tables.json, and the tables printed from its results.
# Usage: paper_tables.sh WORK_DIR   (about 50 min on one thread of a loaded 2-core machine)
set -eu
cli=${MP_CLI:-$(cd "$(dirname "$0")/../.." && pwd)/build/app/motionpref-cli}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1" && cd "$1"
export OMP_NUM_THREADS=1
[[ -d corpus ]] || "$cli" --quiet corpus build --out corpus --clips 1000 --seed 1 --threads 1
if [[ ! -f s.db ]]; then
  "$cli" --quiet study create s.db
  "$cli" --quiet study simulate s.db --corpus corpus --pairs 500 --seed 1
  "$cli" --quiet study split s.db --out split
fi
cp "$here/paper_tables.json" sweep.json
"$cli" experiment run sweep.json --out exp # resumable: run it again to continue
python3 "$here/paper_tables.py" exp
