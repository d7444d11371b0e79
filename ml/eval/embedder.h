#pragma once
// Evaluator embeddings in batches, fed as T2M feeds its evaluator: captions through the
// evaluator's word/POS encoding, motions (already normalised) in zero buffers whose padding
// gives what T2M's 196-frame buffers give. Shared by the evaluation protocol (evaluation.h) and
// `eval embed` (clip_embeddings.h).

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace mp {

class TextMotionEvaluatorImpl;
class WordVocabulary;
struct EvalCaption;

class EvaluatorEmbedder {
public:
    // maxMotionFrames: T2M's max_motion_length (196), the buffer length a motion is padded to.
    EvaluatorEmbedder(TextMotionEvaluatorImpl &evaluator, const WordVocabulary &vocabulary,
                      int batchSize, int maxMotionFrames);

    // (N, coemb) on the CPU; captions without tokens are tagged with tagCaption.
    at::Tensor texts(const std::vector<const EvalCaption *> &captions);
    // motions: normalised (T_i, 263); lengths in frames (multiples of the unit). (N, coemb).
    at::Tensor motions(const std::vector<at::Tensor> &motions,
                       const std::vector<std::int64_t> &lengths);

private:
    std::size_t batchSize() const;

    TextMotionEvaluatorImpl &m_evaluator;
    const WordVocabulary &m_vocabulary;
    int m_batchSize;
    int m_maxMotionFrames;
};

} // namespace mp
