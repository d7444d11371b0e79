#pragma once
// Deterministic random numbers for the corpus. Every clip gets its own generator seeded from
// (corpus seed, clip index), so a clip's content never depends on which thread built it or on how
// many clips came before. The distributions are written here rather than taken from <random>:
// the standard leaves their algorithms to the library, and the corpus must be the same bytes
// wherever it is built.

#include <cstdint>
#include <random>
#include <vector>

namespace mp::corpus {

class ClipRng {
public:
    ClipRng(std::uint64_t seed, std::uint64_t stream);

    std::uint64_t next() { return m_engine(); }
    double uniform();                     // [0, 1)
    double uniform(double lo, double hi); // [lo, hi)
    int integer(int lo, int hi);          // [lo, hi], both included
    bool chance(double probability);
    double normal(double mean, double stddev); // Box-Muller, one value per call
    // Index drawn with the given non-negative weights (at least one positive).
    std::size_t weighted(const std::vector<double> &weights);
    template <typename T> const T &pick(const std::vector<T> &items)
    {
        return items[static_cast<std::size_t>(integer(0, static_cast<int>(items.size()) - 1))];
    }

private:
    std::mt19937_64 m_engine;
};

// SplitMix64 finaliser: spreads nearby seeds (clip 0, 1, 2...) over unrelated engine states.
std::uint64_t mixSeed(std::uint64_t value);

} // namespace mp::corpus
