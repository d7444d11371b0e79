#!/usr/bin/env bash
# Regenerates every committed golden under tests/reference/golden/ by running each reference
# script in the venv of setup.sh, one after the other. Each line is one script (one topic).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${MP_REFERENCE_PYTHON:-$here/.venv/bin/python}
"$python" "$here/t2m_evaluator.py"
"$python" "$here/checkpoints.py"
"$python" "$here/motiongpt.py"
"$python" "$here/t5_lora.py"
"$python" "$here/losses.py"
"$python" "$here/bradley_terry.py"
# TRL 0.8.6 and 0.11.4 run in venvs of their own: tests/reference/setup.sh trl08 trl011.
"$here/.venv-trl08/bin/python" "$here/losses_trl08.py"
"$here/.venv-trl08/bin/python" "$here/ppo_trl08.py"
"$here/.venv-trl08/bin/python" "$here/ppo_step_trl08.py"
"$here/.venv-trl011/bin/python" "$here/losses_trl011.py"
# humanml3d_real.py writes no golden: AMASS's licence keeps real clips out of the repository. It
# assembles six public HumanML3D clips outside it (default /tmp/mp-humanml3d-real) for the tests
# that MP_HUMANML3D_DIR enables: "$python" "$here/humanml3d_real.py" [--cli build/app/motionpref-cli]
