#include "ml/core/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <exception>

#include <omp.h>

namespace mp {

void parallelFor(std::int64_t begin, std::int64_t end, std::int64_t grain,
                 const std::function<void(std::int64_t, std::int64_t)> &body)
{
    if (begin >= end)
        return;
    grain = std::max<std::int64_t>(grain, 1);
    const std::int64_t range = end - begin;
    // LibTorch's at::set_num_threads is omp_set_num_threads on its thread, so this is its count.
    const std::int64_t threads =
        std::min<std::int64_t>(omp_get_max_threads(), (range + grain - 1) / grain);
    if (threads <= 1 || omp_in_parallel()) {
        body(begin, end);
        return;
    }
    std::exception_ptr failure;
    std::atomic_flag failed = ATOMIC_FLAG_INIT;
#pragma omp parallel num_threads(static_cast <int>(threads))
    {
        const std::int64_t count = omp_get_num_threads();
        const std::int64_t chunk = (range + count - 1) / count;
        const std::int64_t first = begin + omp_get_thread_num() * chunk;
        if (first < end) {
            try {
                body(first, std::min(end, first + chunk));
            } catch (...) {
                if (!failed.test_and_set())
                    failure = std::current_exception();
            }
        }
    }
    if (failure)
        std::rethrow_exception(failure);
}

} // namespace mp
