#!/usr/bin/env bash
# The headless build (ml + motionpref-cli, no Qt) against a CUDA LibTorch: the one inside PyPI's
# `torch` wheel (tests/reference/setup.sh installs it into tests/reference/.venv), compiled with
# this machine's CUDA toolkit (nvcc). The wheel's CUDA major must match the toolkit's (torch
# 2.15.0+cu132 and nvcc 13.0 here).
# Usage: packaging/cuda-build.sh [BUILD_DIR]     (default build-cuda/)
# Then:  BUILD_DIR/app/motionpref-cli info --device cuda
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-cuda}
venv=${MP_REFERENCE_VENV:-$root/tests/reference/.venv}

"$root/tests/reference/setup.sh"
python="$venv/bin/python"
torch_dir=$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
cuda_version=$("$python" -c 'import torch; print(torch.version.cuda or "")')
[[ -n "$cuda_version" ]] || { echo "cuda-build: $torch_dir is a CPU-only torch" >&2; exit 1; }
nvcc=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
[[ -x "$nvcc" ]] || { echo "cuda-build: no nvcc (install the CUDA toolkit)" >&2; exit 1; }
toolkit_major=$("$nvcc" --version | sed -n 's/.*release \([0-9]*\)\..*/\1/p')
if [[ "${cuda_version%%.*}" != "$toolkit_major" ]]; then
  echo "cuda-build: torch was built with CUDA $cuda_version, nvcc is CUDA $toolkit_major" >&2
  exit 1
fi
echo "cuda-build: torch $("$python" -c 'import torch; print(torch.__version__)') (CUDA $cuda_version), nvcc CUDA $toolkit_major"

# CMAKE_LIBRARY_PATH: the wheel's libtorch before Debian's (TorchConfig's own search would
# find /usr/lib's libtorch-dev first). The wheel's own CUDA libraries (nvidia-* packages) sit beside torch; the toolkit gives nvcc
# and the headers. The run-time search path points at both, so the CLI runs without
# LD_LIBRARY_PATH.
nvidia_libs=$(find "$(dirname "$torch_dir")/nvidia" -maxdepth 3 -name lib -type d 2>/dev/null | paste -sd';')
# The project compiles no CUDA code itself; naming the architectures spares Caffe2's CMake
# the GPU detection, which fails on a machine without one (Ampere and Hopper here).
arch_list=${TORCH_CUDA_ARCH_LIST:-"8.0;9.0"}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMP_HEADLESS=ON -DMP_BUILD_TESTS=OFF -DMP_TORCH_CUDA_ARCH_LIST="$arch_list" \
  -DTorch_DIR="$torch_dir/share/cmake/Torch" -DCaffe2_DIR="$torch_dir/share/cmake/Caffe2" \
  -DCMAKE_LIBRARY_PATH="$torch_dir/lib" \
  -DCMAKE_CUDA_COMPILER="$nvcc" -DCUDAToolkit_ROOT="$(dirname "$(dirname "$nvcc")")" \
  -DCMAKE_BUILD_RPATH="$torch_dir/lib;$nvidia_libs"
cmake --build "$build" -j "$(nproc)"
"$build/app/motionpref-cli" info
