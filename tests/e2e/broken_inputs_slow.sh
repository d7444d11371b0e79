#!/usr/bin/env bash
# broken_inputs.sh on more files (each checkpoint file, the GloVe pickles, the study through
# every study command) and three mutations of each.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
python3 "$(dirname "$0")/broken_inputs.py" "$cli" "${MP_SOURCE_DIR:?MP_SOURCE_DIR is unset}" --slow
