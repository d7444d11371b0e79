#pragma once
// A simulated labeler: given what a prompt asked for and two motions' measured descriptors, it
// prefers the motion that matches better, with a degree from the size of the difference and
// seeded, configurable noise (a Thurstone model: Gaussian noise on each motion's match score).
// Descriptors are generic named features so any measurement source can feed them (the corpus
// manifest's action/parameters on the intent side, motion measures on the motion side).

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "ml/train/preference_degree.h"

namespace mp {

// Named scalar measurements of one motion, e.g. {"action:walk": 0.93, "speed_mps": 1.4,
// "repetitions": 3, "turn_deg": 88, "side:left": 1}.
struct MotionDescriptor {
    std::map<std::string, double> features;
};

// What the prompt asked for, per feature: the intended value, the difference that counts as one
// unit of mismatch, and the feature's weight.
struct FeatureTarget {
    double value = 0.0;
    double scale = 1.0;
    double weight = 1.0;
};

struct PromptIntent {
    std::string prompt;
    std::map<std::string, FeatureTarget> targets;
};

// Mismatch per feature is capped at this many scale units, and a feature the descriptor lacks
// counts as fully mismatched: one absurd measure must not outweigh all the others.
inline constexpr double kMaxFeatureMismatch = 3.0;

// The default match score, in [-kMaxFeatureMismatch, 0] (0 = exactly as asked):
// -Σ w·min(|f - t|/scale, cap) / Σ w. An intent without targets scores 0.
double matchScore(const PromptIntent &intent, const MotionDescriptor &motion);

using MatchScoreFn = std::function<double(const PromptIntent &, const MotionDescriptor &)>;

struct LabelerOptions {
    double noiseStd = 0.05;        // Gaussian noise on each motion's score, in score units
    double unsureBelow = 0.05;     // |noisy difference| below this: "unsure"
    double slightlyBelow = 0.15;   // below this: "slightly better"
    double betterBelow = 0.4;      // below this: "better"; at or above: "much better"
    double skipProbability = 0.0;  // a pair skipped outright
    double lapseProbability = 0.0; // a careless vote: choice drawn at random, degree kept
    std::uint64_t seed = 1;
};

struct SimulatedLabel {
    bool skipped = false;
    int choice = 0; // 0: the first motion is preferred, 1: the second
    PreferenceDegree degree = PreferenceDegree::Unsure;
    double scoreFirst = 0.0; // noise-free match scores
    double scoreSecond = 0.0;
    double noisyDifference = 0.0; // first minus second, with noise
};

class SimulatedLabeler {
public:
    explicit SimulatedLabeler(LabelerOptions options = {}, MatchScoreFn score = matchScore);

    // Deterministic in (seed, pairId), whatever the order pairs are labelled in.
    SimulatedLabel label(const PromptIntent &intent, const MotionDescriptor &first,
                         const MotionDescriptor &second, std::uint64_t pairId) const;

    // The degree a (noise-free or noisy) score difference maps to.
    PreferenceDegree degreeFor(double absoluteDifference) const;
    const LabelerOptions &options() const { return m_options; }

private:
    LabelerOptions m_options;
    MatchScoreFn m_score;
};

} // namespace mp
