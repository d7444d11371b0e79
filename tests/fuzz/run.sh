#!/usr/bin/env bash
# Runs one libFuzzer target of a clang build configured with -DMP_FUZZ=ON (tests/fuzz/README.md).
#   tests/fuzz/run.sh NAME [SECONDS]   fuzz NAME (default 600 s), seeded from tests/fuzz/corpus/NAME;
#                                      new inputs go to BUILD/fuzz-work/NAME, crashes to
#                                      BUILD/fuzz-artifacts/NAME/
#   tests/fuzz/run.sh --merge NAME     minimise the work corpus and the committed one with
#                                      -merge=1 into tests/fuzz/corpus/NAME (only the inputs that
#                                      reach new coverage stay), then, to keep the repository
#                                      small, the largest ones past $MP_FUZZ_CORPUS_KB (default
#                                      200) KiB in all are left out (they stay in the work corpus)
# MP_FUZZ_BUILD names the build directory (default build-fuzz). Runs under nice -n 10, with
# -rss_limit_mb=2048 -timeout=10 and a -max_len sized to the format.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${MP_FUZZ_BUILD:-$root/build-fuzz}
merge=0
if [[ ${1:-} == --merge ]]; then
    merge=1
    shift
fi
name=${1:?usage: run.sh [--merge] NAME [SECONDS]}
seconds=${2:-600}
binary=$build/tests/fuzz/fuzz_$name
[[ -x $binary ]] || { echo "$binary: not built (cmake --build $build --target fuzz_$name)" >&2; exit 1; }

case $name in
sentencepiece) max_len=262144 ;;
torch_checkpoint | safetensors) max_len=16384 ;;
bvh | events | study_jsonl) max_len=8192 ;;
*) max_len=4096 ;;
esac

corpus=$root/tests/fuzz/corpus/$name
work=$build/fuzz-work/$name
artifacts=$build/fuzz-artifacts/$name
mkdir -p "$work" "$artifacts" "$corpus"
export MP_SOURCE_DIR=$root
flags=(-max_len=$max_len -rss_limit_mb=2048 -timeout=10)

if ((merge)); then
    fresh=$(mktemp -d)
    nice -n 10 "$binary" -merge=1 "${flags[@]}" "$fresh" "$corpus" "$work" 2>&1 | tail -3
    rm -rf "$corpus"
    mv "$fresh" "$corpus"
    chmod 755 "$corpus"
    budget=$((${MP_FUZZ_CORPUS_KB:-200} * 1024))
    total=0
    while read -r size file; do
        total=$((total + size))
        ((total <= budget)) || rm -f "$corpus/$file"
    done < <(cd "$corpus" && find . -type f -printf '%s %P\n' | sort -n)
    echo "$corpus: $(ls "$corpus" | wc -l) inputs, $(du -sh --apparent-size "$corpus" | cut -f1)"
    exit 0
fi
cd "$artifacts"
exec nice -n 10 "$binary" "${flags[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$work" "$corpus"
