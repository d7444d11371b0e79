// mp::parallelFor (ml/core/parallel_for.h): every index once, chunks no smaller than the grain,
// really on LibTorch's threads (at::parallel_for in the project's sources ran on one), serial when
// nested or within one grain, and a chunk's exception reaches the caller.

#include "ml/core/parallel_for.h"

#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

// LibTorch's thread count for one test, restored after it.
class ThreadCount {
public:
    explicit ThreadCount(int threads) : m_before(at::get_num_threads())
    {
        at::set_num_threads(threads);
    }
    ~ThreadCount() { at::set_num_threads(m_before); }

private:
    int m_before;
};

struct Chunks {
    std::mutex mutex;
    std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
    std::set<std::thread::id> threads;
    void add(std::int64_t begin, std::int64_t end)
    {
        std::lock_guard lock(mutex);
        ranges.emplace_back(begin, end);
        threads.insert(std::this_thread::get_id());
    }
};

TEST(ParallelFor, CoversTheRangeOnceInChunksOfAtLeastTheGrain)
{
    ThreadCount two(2);
    for (const auto [begin, end, grain] : std::vector<std::array<std::int64_t, 3>>{
             {0, 1000, 16}, {5, 6, 1}, {3, 103, 40}, {0, 7, 100}, {10, 10, 1}}) {
        Chunks chunks;
        std::vector<int> hits(static_cast<std::size_t>(end), 0);
        mp::parallelFor(begin, end, grain, [&](std::int64_t first, std::int64_t last) {
            chunks.add(first, last);
            for (std::int64_t i = first; i < last; ++i)
                ++hits[static_cast<std::size_t>(i)];
        });
        for (std::int64_t i = 0; i < end; ++i)
            EXPECT_EQ(hits[static_cast<std::size_t>(i)], i >= begin ? 1 : 0) << i;
        EXPECT_LE(chunks.ranges.size(), 2u);
        if (chunks.ranges.size() == 2)
            for (const auto &[first, last] : chunks.ranges)
                EXPECT_GE(last - first, std::min(grain, end - begin) / 2) << first;
    }
}

TEST(ParallelFor, UsesLibTorchsThreads)
{
    ThreadCount two(2);
    Chunks chunks;
    // Each chunk waits for the other, so two chunks on one thread would never finish: a serial
    // loop fails by the deadline instead of hanging.
    std::atomic<int> arrived{0};
    mp::parallelFor(0, 2, 1, [&](std::int64_t first, std::int64_t last) {
        chunks.add(first, last);
        ++arrived;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (arrived.load() < 2 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::yield();
    });
    EXPECT_EQ(chunks.threads.size(), 2u);
    EXPECT_EQ(arrived.load(), 2);
}

TEST(ParallelFor, SerialWithOneThreadAndWhenNested)
{
    {
        ThreadCount one(1);
        Chunks chunks;
        mp::parallelFor(0, 100, 1,
                        [&](std::int64_t first, std::int64_t last) { chunks.add(first, last); });
        EXPECT_EQ(chunks.ranges.size(), 1u);
    }
    ThreadCount two(2);
    Chunks inner;
    mp::parallelFor(0, 2, 1, [&](std::int64_t, std::int64_t) {
        mp::parallelFor(0, 100, 1,
                        [&](std::int64_t first, std::int64_t last) { inner.add(first, last); });
    });
    // Each outer chunk ran its inner loop whole, on its own thread.
    EXPECT_EQ(inner.ranges.size(), 2u);
    for (const auto &[first, last] : inner.ranges)
        EXPECT_EQ(last - first, 100);
}

TEST(ParallelFor, RethrowsAChunksException)
{
    ThreadCount two(2);
    EXPECT_THROW(mp::parallelFor(0, 100, 1,
                                 [](std::int64_t first, std::int64_t) {
                                     if (first > 0)
                                         throw std::runtime_error("second chunk");
                                 }),
                 std::runtime_error);
}

} // namespace
