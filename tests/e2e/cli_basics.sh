#!/usr/bin/env bash
# The CLI contract: --version, --help everywhere, exit codes 0/1/2 with one-line errors.
set -u
cli=${MP_CLI:?MP_CLI must name motionpref-cli}
fail() { echo "FAIL: $*"; exit 1; }

"$cli" --version | grep -q '^motionpref-cli ' || fail "--version"
"$cli" --help | grep -q 'commands:' || fail "--help lists commands"

# Every command answers --help with its usage and exit 0.
for command in $("$cli" --help | awk '/^commands:/{on=1;next} on && /^  [a-z]/{print $1"_"$2}' ); do
  words=${command//_/ }
  # The second word is part of the path only for two-word commands; --help is accepted either way.
  "$cli" $words --help >/dev/null 2>&1 || "$cli" ${words%% *} --help >/dev/null || fail "$words --help"
done

out=$("$cli" no-such-command 2>&1); code=$?
[[ $code -eq 1 ]] || fail "unknown command exits $code, expected 1"
[[ $(echo "$out" | wc -l) -eq 1 ]] || fail "unknown command error is not one line: $out"
echo "$out" | grep -q "no-such-command" || fail "error does not name the command: $out"

"$cli" info --device cpu | grep -q 'device    CPU' || fail "info on cpu"
out=$("$cli" info --device tpu 2>&1); code=$?
[[ $code -eq 1 ]] || fail "--device tpu exits $code"
echo "$out" | grep -q 'tpu' || fail "--device error does not name the value"
if ! "$cli" info | grep -qE 'CUDA      LibTorch built with CUDA .*; [1-9][0-9]* GPUs? visible'; then
  # No usable GPU: info still says what it found (this LibTorch's CUDA, the GPUs it sees),
  # then exits 1 naming the problem.
  out=$("$cli" info --device cuda 2>&1); code=$?
  [[ $code -eq 1 ]] || fail "--device cuda without a GPU exits $code"
  echo "$out" | grep -qE '^CUDA      (CPU-only LibTorch|LibTorch built with CUDA)' \
    || fail "info --device cuda does not say what CUDA offers: $out"
  echo "$out" | grep -q 'no CUDA device is usable' || fail "info --device cuda gives no reason: $out"
fi
out=$("$cli" info --bogus 2>&1); code=$?
[[ $code -eq 1 ]] || fail "unknown option exits $code"
# The thread pools sleep while they wait (ml/core/thread_policy): libgomp, which reads its
# environment once as it loads, reports a spin count of 0 (OMP_WAIT_POLICY=PASSIVE; unset, it
# says PASSIVE too but spins 300000 times first); a policy the user set stays.
spins() { env -u OMP_WAIT_POLICY -u OPENBLAS_NUM_THREADS -u GOMP_SPINCOUNT OMP_DISPLAY_ENV=verbose \
  "$@" 2>&1 >/dev/null | sed -n "s/^ *GOMP_SPINCOUNT = '\(.*\)'/\1/p"; }
# libgomp comes with LibTorch, loaded with the command library after the executable started:
# the executable's getenv still answers it.
[[ $(spins "$cli" info --device cpu) == 0 ]] \
  || fail "libgomp spins while waiting: $(spins "$cli" info --device cpu)"
[[ $(spins env OMP_WAIT_POLICY=active "$cli" info --device cpu) != 0 ]] \
  || fail "a user's OMP_WAIT_POLICY=active is not kept"
# The executable loads LibTorch only for a command that needs it (app/cli/command_library.h):
# not for --help, --version or a command's --help.
loads_torch() { LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -q 'file=libtorch_cpu'; }
for words in "--help" "--version" "study --help" "generate --help" "no-such-command"; do
  ! loads_torch "$cli" $words || fail "'motionpref-cli $words' loads LibTorch"
done
loads_torch "$cli" info --device cpu || fail "LD_DEBUG=files does not show LibTorch loading"
copy=$(mktemp -d); trap 'rm -rf "$copy"' EXIT
# The study store's commands that touch no motion or model run without it too.
"$cli" study create "$copy/s.mpstudy" >/dev/null || fail "study create"
for words in "study info" "study checks" "study agreement" "study labelers"; do
  "$cli" $words "$copy/s.mpstudy" >/dev/null || fail "$words"
  ! loads_torch "$cli" $words "$copy/s.mpstudy" || fail "'motionpref-cli $words' loads LibTorch"
done
# Without its command library the executable says where it looked, in one line, and exits 2.
mkdir "$copy/bin" && cp "$cli" "$copy/bin/"
"$copy/bin/motionpref-cli" --help | grep -q 'commands:' || fail "--help needs a command library"
out=$("$copy/bin/motionpref-cli" info 2>&1); code=$?
[[ $code -eq 2 && $(echo "$out" | wc -l) -eq 1 ]] || fail "no command library: exit $code, $out"
echo "$out" | grep -qF "$copy/lib/motionpref/libmotionpref-cli-" \
  || fail "the error does not name the library's path: $out"
# An error that quotes a huge token (nlohmann repeats a 100,000-digit number whole) stays one
# short line that names the file.
python3 -c "print('{\"epochs\": ' + '9' * 100000 + '}')" > "$copy/huge.json"
out=$("$cli" train --config "$copy/huge.json" --out "$copy/huge_run" 2>&1); code=$?
[[ $code -eq 1 && $(echo "$out" | wc -l) -eq 1 && ${#out} -lt 1200 ]] \
  || fail "a huge token: exit $code, ${#out} bytes"
echo "$out" | grep -qF "$copy/huge.json" || fail "a huge token: the file is not named: ${out:0:200}"
echo "$out" | grep -q 'more bytes)$' || fail "a huge token: no mark of the cut: ${out: -100}"
# The GUI executable answers --help and --version without a display (skipped in a headless build).
gui=${MP_BUILD_DIR:-}/app/motionpref
if [[ -n "${MP_BUILD_DIR:-}" && -x "$gui" ]]; then
  env -u DISPLAY -u WAYLAND_DISPLAY "$gui" --help | grep -q 'Usage: .*\[file\]' || fail "motionpref --help"
  env -u DISPLAY -u WAYLAND_DISPLAY "$gui" --version | grep -q 'MotionPref Studio' \
    || fail "motionpref --version"
  [[ $(spins "$gui" --version) == 0 ]] || fail "motionpref: libgomp spins while waiting"
fi
echo "cli_basics: ok"
