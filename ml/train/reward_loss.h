#pragma once
// The reward model's Bradley-Terry loss with per-pair margins and soft labels (paper §1.5, TRL
// RewardTrainer §3), its evaluation accuracy, and NEFTune embedding noise (§4.9).

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/train/metrics.h"
#include "ml/train/preference_degree.h"

namespace at {
class Generator;
}

namespace mp {

// Per pair: -[y·logσ(r_c - r_r - m) + (1-y)·logσ(m + r_r - r_c)]. Scores [B] or [B,1]; margin and
// label [B] or undefined (0 and 1). The margin is per pair (the intended form), not TRL's [B,B]
// broadcast.
at::Tensor rewardLosses(const at::Tensor &chosenScores, const at::Tensor &rejectedScores,
                        const at::Tensor &margin = {}, const at::Tensor &label = {});

// Margins and labels of a batch from the degrees of its pairs.
at::Tensor rewardMargins(const std::vector<PreferenceDegree> &degrees, MarginScale scale);
at::Tensor rewardLabels(const std::vector<PreferenceDegree> &degrees);

// softmax([r_c, r_r])[0] = σ(r_c - r_r) per pair.
at::Tensor rewardChosenProbability(const at::Tensor &chosenScores,
                                   const at::Tensor &rejectedScores);
// TRL's compute_accuracy: argmax == chosen, so a tie counts as correct.
double rewardAccuracy(const at::Tensor &chosenScores, const at::Tensor &rejectedScores);

// "accuracy" over all pairs except unsure (the paper's main subset) and "accuracy/<degree>" for
// each degree present; also "ties" (count of exact ties, which TRL warns about).
MetricMap rewardAccuracyByDegree(const at::Tensor &chosenScores, const at::Tensor &rejectedScores,
                                 const std::vector<PreferenceDegree> &degrees);

// NEFTune's bound α/√(L·d) for a padded length L and embedding width d.
double neftuneBound(double alpha, std::int64_t length, std::int64_t dim);
// embeddings [B,L,d] + U(-bound, bound), bound from L = size(1) and d = size(2). Training only:
// the caller applies it when the model is in training mode.
at::Tensor addNeftuneNoise(const at::Tensor &embeddings, double alpha, at::Generator *generator);

} // namespace mp
