#include "ml/data/corpus/rng.h"

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace mp::corpus {

std::uint64_t mixSeed(std::uint64_t value)
{
    value += 0x9E3779B97F4A7C15ull;
    value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ull;
    value = (value ^ (value >> 27)) * 0x94D049BB133111EBull;
    return value ^ (value >> 31);
}

ClipRng::ClipRng(std::uint64_t seed, std::uint64_t stream)
    : m_engine(mixSeed(mixSeed(seed) ^ (stream * 0xD1B54A32D192ED03ull + 1)))
{
}

double ClipRng::uniform()
{
    // The top 53 bits make an exactly representable double in [0, 1).
    return static_cast<double>(m_engine() >> 11) * 0x1.0p-53;
}

double ClipRng::uniform(double lo, double hi)
{
    return lo + (hi - lo) * uniform();
}

int ClipRng::integer(int lo, int hi)
{
    if (hi < lo)
        throw std::runtime_error("ClipRng::integer: empty range");
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    return lo + static_cast<int>(static_cast<std::uint64_t>(uniform() * static_cast<double>(span)));
}

bool ClipRng::chance(double probability)
{
    return uniform() < probability;
}

double ClipRng::normal(double mean, double stddev)
{
    const double u1 = 1.0 - uniform(); // (0, 1]: log stays finite
    const double u2 = uniform();
    return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::size_t ClipRng::weighted(const std::vector<double> &weights)
{
    double total = 0;
    for (double w : weights)
        total += w;
    if (!(total > 0))
        throw std::runtime_error("ClipRng::weighted: no positive weight");
    double target = uniform() * total;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        target -= weights[i];
        if (target < 0)
            return i;
    }
    return weights.size() - 1;
}

} // namespace mp::corpus
