#pragma once
// How often a model ranks the human-chosen motion first on held-out preference pairs: the
// learned-preference metric of the evaluation (the paper asks for one). The score of a motion is
//   with a LoRA adapter: DPO's implicit reward, log π(y|x) - log π_ref(y|x) (the reference being
//                        the same model with the adapter disabled);
//   without one:         the model's log-likelihood log π(y|x) (the baseline's own ranking);
//   a reward model:      its scalar score.
// Per-token mean log-probs are used, so a longer motion is not penalised for its length.

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "ml/train/metrics.h"
#include "ml/train/preference_data.h"

namespace mp {

class ModelBundle;

struct PairScores {
    std::vector<std::pair<double, double>> scores; // (chosen, rejected) per pair
    std::string scorer; // "implicit_reward", "log_likelihood", "reward_model"
};

// The bundle's T5 as it is (adapter loaded or not): implicit reward when it carries LoRA layers,
// else log-likelihood.
PairScores scorePairsWithPolicy(ModelBundle &bundle, const std::vector<PreferencePair> &pairs,
                                std::int64_t batchSize = 32);
// A reward model directory (adapter + reward_head.safetensors) on a fresh copy of the bundle.
PairScores scorePairsWithRewardModel(const std::filesystem::path &bundleDir,
                                     const std::filesystem::path &rewardModelDir,
                                     const std::vector<PreferencePair> &pairs,
                                     std::int64_t batchSize = 32);

// "preference_accuracy" (chosen strictly above rejected, unsure pairs left out) and
// "preference_accuracy/<degree>".
MetricMap preferenceAccuracyByDegree(const PairScores &scores,
                                     const std::vector<PreferencePair> &pairs);

} // namespace mp
