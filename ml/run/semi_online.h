#pragma once
// Semi-online DPO pairs (SoPo's idea): for each caption of a corpus split, the chosen motion is
// the caption's own clip (its VQ codes, encoded with the bundle's VQ-VAE, since the policy's
// targets are motion tokens) and the rejected one is, among K samples of the current policy for
// that caption, the one the simulated labeler's noise-free match score (the kinematic measures
// and the pose error against the clip, ml/simulate/corpus_intents.h; no text-motion judge) puts
// lowest. Samples are drawn under no_grad with the policy in eval mode; the reference stays the
// base model (the adapter disabled), as in any DPO run.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ml/simulate/corpus_intents.h"
#include "ml/train/preference_data.h"

namespace mp {

class ModelBundle;

struct SemiOnlineOptions {
    std::filesystem::path corpus;
    std::string split = "train";
    std::int64_t candidates = 4; // K, 2 to 8
    std::int64_t prompts = 0;    // 0: one per clip of the split
    double poseWeight = 15.0;
    std::uint64_t seed = 1;
    std::int64_t maxMotionTokens = 0; // 0: the bundle's default
};

// One built pair with what it was chosen from.
struct SemiOnlinePair {
    PreferencePair pair; // chosen: the clip's codes; rejected: candidateCodes[rejectedIndex]
    std::vector<std::vector<std::int64_t>> candidateCodes;
    std::vector<double> candidateScores; // the labeler's match score, in [-3, 0]
    std::size_t rejectedIndex = 0;
    double clipScore = 0.0; // the clip's own score against its caption's intent
};

struct SemiOnlineRefresh {
    std::vector<SemiOnlinePair> pairs;
    double meanCandidateScore = 0.0;
    double meanRejectedScore = 0.0;
    std::int64_t degenerate = 0; // candidates with at most one code (a mean-pose motion)
};

class SemiOnlineSource {
public:
    // Draws the captions (drawCorpusPrompts, seeded) and encodes their clips. InputError naming
    // the corpus for a directory that is not one, and the bundle for features it cannot measure
    // (joints need HumanML3D's 263-d features).
    SemiOnlineSource(ModelBundle &bundle, const SemiOnlineOptions &options);

    std::size_t size() const { return m_prompts.size(); }
    const CorpusPrompt &prompt(std::size_t index) const { return m_prompts[index]; }
    // The clip's VQ codes (the chosen side of every pair of this caption).
    const std::vector<std::int64_t> &clipCodes(std::size_t index) const
    {
        return m_clipCodes[index];
    }

    // Pairs of the given captions (pair id = caption index + 1) from the bundle's T5 as it is now
    // (the policy: base + adapter). Sample seeds depend on (seed, refresh, caption index,
    // candidate), so a refresh is reproducible.
    SemiOnlineRefresh build(const std::vector<std::size_t> &indices, std::uint64_t refresh) const;

private:
    ModelBundle &m_bundle;
    SemiOnlineOptions m_options;
    std::vector<CorpusPrompt> m_prompts;
    std::vector<std::vector<std::int64_t>> m_clipCodes;
    std::vector<double> m_clipScores;
};

} // namespace mp
