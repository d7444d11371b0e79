#!/usr/bin/env bash
# Runs a GUI test on the current display, or under a private Xvfb when there is none.
# MP_TEST_PRELOAD (set by tests/sanitize.sh) is preloaded into the test alone, not into Xvfb.
preload=()
if [[ -n "${MP_TEST_PRELOAD:-}" ]]; then
  preload=(env "LD_PRELOAD=$MP_TEST_PRELOAD")
fi
if [[ -n "${DISPLAY:-}" ]]; then
  exec "${preload[@]}" "$@"
fi
exec xvfb-run -a -s "-screen 0 1280x1024x24" "${preload[@]}" "$@"
