#!/usr/bin/env bash
# Every motionpref-cli command that reads a file, on broken copies of valid files (truncated,
# bits flipped, JSON fields removed or of the wrong kind, a directory in its place, missing):
# exit 1 with one line naming the file, never an internal error, a crash or a hang.
# Two mutations per file and command; broken_inputs_slow.sh runs more, broken_inputs.py --full
# all of them.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
python3 "$(dirname "$0")/broken_inputs.py" "$cli" "${MP_SOURCE_DIR:?MP_SOURCE_DIR is unset}"
