#pragma once
// The project's parallel loop. LibTorch 1.13's at::parallel_for (OpenMP build, as Debian's) is a
// header template whose `#pragma omp parallel` only counts where the caller is compiled with
// -fopenmp; the project's sources are not, so every at::parallel_for in them ran its whole range
// on one thread at any thread count (found in session 15: the fused kernels never left the main
// thread). This one is compiled with OpenMP (parallel_for.cpp alone) and splits as LibTorch does.

#include <cstdint>
#include <functional>

namespace mp {

// Runs body over [begin, end) in at most LibTorch's intra-op thread count of contiguous chunks,
// none smaller than grain (one chunk per thread, as at::parallel_for); on the calling thread alone
// when the range is within one grain, with one thread, or inside another parallel region
// (LibTorch's ops called from the body therefore run serially). The first exception a chunk throws
// is rethrown after every chunk ended.
void parallelFor(std::int64_t begin, std::int64_t end, std::int64_t grain,
                 const std::function<void(std::int64_t, std::int64_t)> &body);

} // namespace mp
