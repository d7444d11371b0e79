#!/usr/bin/env bash
# Makes tests/reference/.venv with the pinned originals (requirements.txt): the Python stack the
# C++ is checked against. Only the reference scripts and the benchmarks need it; the product and
# its tests never run Python. Idempotent: a venv whose pins match is kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${MP_REFERENCE_VENV:-$here/.venv}
python=${PYTHON:-python3}
stamp="$venv/.requirements"
if [[ -f "$stamp" ]] && cmp -s "$stamp" "$here/requirements.txt"; then
  echo "reference venv: up to date ($venv)"
  exit 0
fi
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -r "$here/requirements.txt"
cp "$here/requirements.txt" "$stamp"
echo "reference venv: ready ($venv)"
