#include "ml/simulate/text_motion_judge.h"

#include <algorithm>

#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/eval/evaluation.h"
#include "ml/eval/text_preprocess.h"
#include "ml/motion/features.h"

namespace mp {

TextMotionJudge::TextMotionJudge(const std::filesystem::path &evaluatorDir)
    : m_evaluator(loadEvaluator(evaluatorDir))
{
    if (!m_evaluator.mean.defined() || !m_evaluator.std.defined() ||
        m_evaluator.mean.numel() != kFeatureDim || m_evaluator.std.numel() != kFeatureDim)
        throw InputError(evaluatorDir.string() +
                         ": the evaluator has no 263-value mean/std (meta.mean, meta.std); a "
                         "judge needs the statistics it was trained with");
    m_evaluator.model->to(torch::kCPU);
    m_evaluator.model->eval();
}

at::Tensor TextMotionJudge::embedTexts(const std::vector<std::string> &captions)
{
    std::vector<EncodedText> encoded;
    encoded.reserve(captions.size());
    for (const auto &caption : captions)
        encoded.push_back(encodeText(tagCaption(caption), m_evaluator.vocabulary));
    return m_evaluator.model->encodeText(makeTextBatch(encoded));
}

// One motion at a time: the packed GRU reads only each motion's own frames, so batching would
// change nothing but the padding, and a pair is two motions.
at::Tensor TextMotionJudge::embedMotions(const std::vector<at::Tensor> &features)
{
    const auto mean = m_evaluator.mean.to(torch::kCPU, torch::kFloat32).view({kFeatureDim});
    const auto std = m_evaluator.std.to(torch::kCPU, torch::kFloat32).view({kFeatureDim});
    const std::int64_t unit = m_evaluator.model->config().unitLength;
    // The protocol's cut (T2M's max_motion_length): the evaluator never saw longer motions.
    const std::int64_t maxFrames = EvaluationOptions{}.maxMotionFrames;
    std::vector<at::Tensor> out;
    out.reserve(features.size());
    for (const auto &motion : features) {
        if (!motion.defined() || motion.dim() != 2 || motion.size(1) != kFeatureDim)
            throw InputError("text-motion judge: a motion needs (T, 263) features");
        const std::int64_t frames =
            std::max<std::int64_t>(std::min(motion.size(0), maxFrames) / unit, 1) * unit;
        // Zero-padded past the motion's end (a motion shorter than one unit), as the protocol.
        auto buffer = torch::zeros({1, frames + unit, kFeatureDim});
        const auto n = std::min(frames, motion.size(0));
        if (n > 0)
            buffer[0].slice(0, 0, n).copy_((motion.slice(0, 0, n).to(torch::kFloat32) - mean) /
                                           std);
        out.push_back(
            m_evaluator.model->encodeMotion(buffer, torch::tensor({frames}, torch::kLong)));
    }
    return torch::cat(out);
}

std::vector<double> TextMotionJudge::distances(const std::vector<std::string> &captions,
                                               const std::vector<at::Tensor> &features)
{
    if (captions.size() != features.size())
        throw std::invalid_argument("TextMotionJudge::distances: one caption per motion");
    if (captions.empty())
        return {};
    torch::NoGradGuard noGrad;
    const auto d = torch::pairwise_distance(embedTexts(captions), embedMotions(features))
                       .to(torch::kDouble)
                       .contiguous();
    return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

double TextMotionJudge::mismatchedDistance(const std::vector<std::string> &captions,
                                           const std::vector<at::Tensor> &features)
{
    if (captions.size() != features.size() || captions.size() < 2)
        throw std::invalid_argument("TextMotionJudge::mismatchedDistance: two or more pairs");
    torch::NoGradGuard noGrad;
    const auto all = torch::cdist(embedTexts(captions), embedMotions(features));
    const auto n = static_cast<double>(captions.size());
    return (all.sum() - all.diagonal().sum()).item<double>() / (n * (n - 1.0));
}

} // namespace mp
