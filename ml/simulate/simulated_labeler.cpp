#include "ml/simulate/simulated_labeler.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "ml/core/error.h"

namespace mp {

namespace {

// SplitMix64 finaliser: spreads (seed, pair id) into an independent stream per pair.
std::uint64_t mix(std::uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

} // namespace

double matchScore(const PromptIntent &intent, const MotionDescriptor &motion)
{
    double weighted = 0.0;
    double totalWeight = 0.0;
    for (const auto &[name, target] : intent.targets) {
        if (target.weight <= 0.0)
            continue;
        double mismatch = kMaxFeatureMismatch;
        const auto it = motion.features.find(name);
        if (it != motion.features.end() && std::isfinite(it->second)) {
            const double scale = target.scale > 0.0 ? target.scale : 1.0;
            mismatch = std::min(std::abs(it->second - target.value) / scale, kMaxFeatureMismatch);
        }
        weighted += target.weight * mismatch;
        totalWeight += target.weight;
    }
    return totalWeight > 0.0 ? -weighted / totalWeight : 0.0;
}

SimulatedLabeler::SimulatedLabeler(LabelerOptions options, MatchScoreFn score)
    : m_options(options), m_score(std::move(score))
{
    const auto &o = m_options;
    if (o.noiseStd < 0 || o.unsureBelow < 0 || o.slightlyBelow < o.unsureBelow ||
        o.betterBelow < o.slightlyBelow)
        throw InputError("simulated labeler: need noise >= 0 and 0 <= unsure <= slightly <= "
                         "better thresholds");
    if (o.skipProbability < 0 || o.skipProbability > 1 || o.lapseProbability < 0 ||
        o.lapseProbability > 1)
        throw InputError("simulated labeler: probabilities must lie in [0, 1]");
    if (!m_score)
        m_score = matchScore;
}

PreferenceDegree SimulatedLabeler::degreeFor(double absoluteDifference) const
{
    if (absoluteDifference < m_options.unsureBelow)
        return PreferenceDegree::Unsure;
    if (absoluteDifference < m_options.slightlyBelow)
        return PreferenceDegree::SlightlyBetter;
    if (absoluteDifference < m_options.betterBelow)
        return PreferenceDegree::Better;
    return PreferenceDegree::MuchBetter;
}

SimulatedLabel SimulatedLabeler::label(const PromptIntent &intent, const MotionDescriptor &first,
                                       const MotionDescriptor &second, std::uint64_t pairId) const
{
    std::mt19937_64 rng(mix(m_options.seed ^ mix(pairId)));
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::normal_distribution<double> noise(0.0, 1.0);
    // Draw every variate in a fixed order so each option changes only its own effect.
    const double skipDraw = uniform(rng);
    const double lapseDraw = uniform(rng);
    const double lapseChoice = uniform(rng);
    const double noiseFirst = noise(rng) * m_options.noiseStd;
    const double noiseSecond = noise(rng) * m_options.noiseStd;

    SimulatedLabel out;
    out.scoreFirst = m_score(intent, first);
    out.scoreSecond = m_score(intent, second);
    out.noisyDifference = (out.scoreFirst + noiseFirst) - (out.scoreSecond + noiseSecond);
    if (skipDraw < m_options.skipProbability) {
        out.skipped = true;
        return out;
    }
    out.choice = out.noisyDifference >= 0.0 ? 0 : 1;
    out.degree = degreeFor(std::abs(out.noisyDifference));
    if (lapseDraw < m_options.lapseProbability)
        out.choice = lapseChoice < 0.5 ? 0 : 1;
    return out;
}

} // namespace mp
