#include "ml/eval/embedder.h"

#include "ml/eval/evaluation.h"
#include "ml/eval/evaluator.h"
#include "ml/motion/features.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

namespace mp {
namespace {

// Normalised motions of the given lengths in a zero buffer of padFrames (0: the batch maximum).
std::pair<at::Tensor, at::Tensor> padBatch(const std::vector<at::Tensor> &motions,
                                           const std::vector<std::int64_t> &lengths,
                                           std::int64_t padFrames)
{
    std::int64_t frames = padFrames;
    if (frames <= 0)
        frames = *std::max_element(lengths.begin(), lengths.end());
    auto buffer = torch::zeros({static_cast<std::int64_t>(motions.size()), frames, kFeatureDim});
    for (std::size_t i = 0; i < motions.size(); ++i) {
        const auto n = std::min({lengths[i], motions[i].size(0), frames});
        if (n > 0)
            buffer[static_cast<std::int64_t>(i)].slice(0, 0, n).copy_(motions[i].slice(0, 0, n));
    }
    return {buffer, torch::tensor(lengths, torch::kLong)};
}

} // namespace

EvaluatorEmbedder::EvaluatorEmbedder(TextMotionEvaluatorImpl &evaluator,
                                     const WordVocabulary &vocabulary, int batchSize,
                                     int maxMotionFrames)
    : m_evaluator(evaluator), m_vocabulary(vocabulary), m_batchSize(batchSize),
      m_maxMotionFrames(maxMotionFrames)
{
}

std::size_t EvaluatorEmbedder::batchSize() const
{
    return static_cast<std::size_t>(std::max(1, m_batchSize));
}

at::Tensor EvaluatorEmbedder::texts(const std::vector<const EvalCaption *> &captions)
{
    std::vector<at::Tensor> out;
    for (std::size_t begin = 0; begin < captions.size(); begin += batchSize()) {
        const auto end = std::min(captions.size(), begin + batchSize());
        std::vector<std::vector<TaggedWord>> tagged;
        for (std::size_t i = begin; i < end; ++i) {
            const auto &c = *captions[i];
            tagged.push_back(c.tokens.empty() ? tagCaption(c.text) : c.tokens);
        }
        out.push_back(m_evaluator.encodeCaptions(tagged, m_vocabulary).to(torch::kCPU));
    }
    return torch::cat(out);
}

// Packed (Guo): the GRU reads only each motion's own units, and the conv stack reads at most
// unitLength - 1 frames past a motion's end, so a zero buffer of length + unitLength gives
// exactly what T2M's 196-frame buffer gives. Motions are sorted by length into batches and
// padded tightly. Unpacked (MotionGPT): the padded length changes the result, so batches keep
// the given order and pad to the batch maximum, as MotionGPT's collate does.
at::Tensor EvaluatorEmbedder::motions(const std::vector<at::Tensor> &motions,
                                      const std::vector<std::int64_t> &lengths)
{
    const bool packed = m_evaluator.config().packMotion;
    const std::int64_t unit = m_evaluator.config().unitLength;
    std::vector<std::int64_t> order(motions.size());
    std::iota(order.begin(), order.end(), 0);
    if (packed)
        std::stable_sort(order.begin(), order.end(),
                         [&](auto a, auto b) { return lengths[a] < lengths[b]; });
    auto out =
        torch::empty({static_cast<std::int64_t>(motions.size()), m_evaluator.config().dimCoemb});
    for (std::size_t begin = 0; begin < order.size(); begin += batchSize()) {
        const auto end = std::min(order.size(), begin + batchSize());
        std::vector<at::Tensor> part;
        std::vector<std::int64_t> partLengths;
        for (std::size_t k = begin; k < end; ++k) {
            part.push_back(motions[order[k]]);
            partLengths.push_back(lengths[order[k]]);
        }
        const auto longest = *std::max_element(partLengths.begin(), partLengths.end());
        const std::int64_t pad =
            packed ? std::max<std::int64_t>(
                         longest, std::min<std::int64_t>(longest + unit, m_maxMotionFrames))
                   : longest;
        auto [buffer, lens] = padBatch(part, partLengths, pad);
        const auto embedded = m_evaluator.encodeMotion(buffer, lens).to(torch::kCPU);
        const std::vector<std::int64_t> rowsOut(order.begin() + begin, order.begin() + end);
        out.index_copy_(0, torch::tensor(rowsOut, torch::kLong), embedded.to(torch::kFloat32));
    }
    return out;
}

} // namespace mp
