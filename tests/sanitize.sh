#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (issue 20).
# Configures build-asan/ (or $MP_ASAN_BUILD) with -DMP_SANITIZE=address,undefined, builds every
# target under nice with $MP_ASAN_JOBS jobs (default 2) and runs ctest there; arguments go to
# ctest (tests/sanitize.sh -L unit, tests/sanitize.sh -R npy). The first error of either
# sanitizer stops its test; leaks are reported except those listed in tests/sanitize.supp
# (inside LibTorch, Qt and fontconfig, each with the reason). Long: a cold build takes hours on a
# shared 2-core machine, so CI does not run it; run it before resolving parser or memory work.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MP_ASAN_BUILD:-$root/build-asan}
jobs=${MP_ASAN_JOBS:-2}

if [[ ! -f $build/CMakeCache.txt ]]; then
    cmake -S "$root" -B "$build" -G Ninja -DMP_SANITIZE=address,undefined
fi
nice -n 15 cmake --build "$build" -j "$jobs"

# halt_on_error: the first report fails the test. detect_odr_violation=0: LibTorch's protobuf
# and sentencepiece's protobuf-lite copy define the same globals (ml/CMakeLists.txt explains the
# link order); that is their build, not ours. Leaks: LSan, filtered by tests/sanitize.supp.
# exitcode=86: a report never passes for the exit 1 that broken-input tests expect of a clear error.
export ASAN_OPTIONS=halt_on_error=1:exitcode=86:detect_leaks=1:detect_odr_violation=0:detect_stack_use_after_return=0
export UBSAN_OPTIONS=halt_on_error=1:exitcode=86:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$root/tests/sanitize.supp:print_suppressions=0
# GUI tests (tests/run-with-display.sh) keep unloaded libraries mapped, so that the leak reports of
# Mesa's driver name it (tests/keep_loaded.c); the sanitizer runtime must come first.
cc -shared -fPIC -O2 -o "$build/keep_loaded.so" "$root/tests/keep_loaded.c"
export MP_TEST_PRELOAD="$(readlink -f "$(c++ -print-file-name=libasan.so)") $build/keep_loaded.so"
cd "$build"
ctest --output-on-failure "$@"
