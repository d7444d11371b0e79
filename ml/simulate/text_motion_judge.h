#pragma once
// A text-motion judge for the simulated labeler: how far a motion lies from its caption in the
// joint embedding of a T2M-style evaluator (ml/eval/evaluator.h). Give it an evaluator trained
// apart from the one that reports the metrics (another seed, or another architecture), or the
// labels would be the metric itself.

#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/eval/evaluator.h"

namespace mp {

// The descriptor feature the judge fills in (ml/simulate/simulated_labeler.h).
inline constexpr const char *kTextMatchFeature = "text_match_distance";

class TextMotionJudge {
public:
    // An evaluator directory (evaluator_config.json, evaluator_vocab.txt, evaluator.safetensors
    // with its mean/std). InputError naming the directory when the statistics are missing.
    explicit TextMotionJudge(const std::filesystem::path &evaluatorDir);

    // Euclidean distance between each caption's and its motion's embeddings (lower = a better
    // match). features: (T, 263) denormalised HumanML3D features; motions are cut to 196
    // frames and floored to the evaluator's unit, as the evaluation protocol does.
    std::vector<double> distances(const std::vector<std::string> &captions,
                                  const std::vector<at::Tensor> &features);

    // The mean distance between each motion and the captions of the other motions: what a
    // motion that ignores its caption scores. Needs at least two motions.
    double mismatchedDistance(const std::vector<std::string> &captions,
                              const std::vector<at::Tensor> &features);

private:
    at::Tensor embedTexts(const std::vector<std::string> &captions);
    at::Tensor embedMotions(const std::vector<at::Tensor> &features);

    LoadedEvaluator m_evaluator;
};

} // namespace mp
