#!/usr/bin/env bash
# Makes tests/reference/.venv with the pinned originals (requirements.txt): the Python stack the
# C++ is checked against. Only the reference scripts and the benchmarks need it; the product and
# its tests never run Python. Idempotent: a venv whose pins match is kept.
#
# Optional older TRL releases, each in a venv of its own (their transformers/numpy pins clash with
# the main one): `setup.sh trl08` adds .venv-trl08 (requirements-trl08.txt: TRL 0.8.6, the
# paper's release: kto_pair, the PPOTrainer math, and with PEFT its PPOTrainer.step for
# bench_ppo.py), `setup.sh trl011` adds .venv-trl011 (requirements-trl011.txt: TRL 0.11.4, a
# dpo_loss with robust, bco_pair's shift, sppo_hard, nca_pair, and rpo_alpha).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}

make_venv() {
  local venv=$1 requirements=$2
  local stamp="$venv/.requirements"
  if [[ -f "$stamp" ]] && cmp -s "$stamp" "$requirements"; then
    echo "reference venv: up to date ($venv)"
    return
  fi
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -r "$requirements"
  cp "$requirements" "$stamp"
  echo "reference venv: ready ($venv)"
}

make_venv "${MP_REFERENCE_VENV:-$here/.venv}" "$here/requirements.txt"
for extra in "$@"; do
  case $extra in
    trl08 | trl011) make_venv "$here/.venv-$extra" "$here/requirements-$extra.txt" ;;
    *) echo "setup.sh: unknown extra venv '$extra' (expected trl08 or trl011)" >&2; exit 2 ;;
  esac
done
