#pragma once
// Supervised training of the T5 text-to-motion model (MotionGPT's text-to-motion task):
// encoder input = caption ids + </s>, labels = SOM codes EOM + </s> padded with -100, decoder
// input = labels shifted right; token cross-entropy; AdamW with linear warm-up. Resumable.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/models/t5.h"

namespace torch::optim {
class AdamW;
}

namespace mp {

class LrScheduler;

struct Seq2SeqExample {
    std::vector<std::int64_t> input;  // with </s>
    std::vector<std::int64_t> labels; // with </s>
};

struct Seq2SeqBatch {
    at::Tensor inputIds;      // (B, S) padded with pad
    at::Tensor attentionMask; // (B, S)
    at::Tensor labels;        // (B, L) padded with -100
    at::Tensor decoderIds;    // (B, L) labels shifted right
};

Seq2SeqBatch collateSeq2Seq(const std::vector<const Seq2SeqExample *> &examples,
                            const T5Model &model);
// Mean cross-entropy over labels != -100, and the share of those predicted exactly (argmax).
std::pair<at::Tensor, double> seq2seqLoss(const at::Tensor &logits, const at::Tensor &labels);

struct T5TrainOptions {
    std::int64_t batchSize = 16;
    std::int64_t steps = 3000;
    std::int64_t warmupSteps = 200;
    double learningRate = 5e-4;
    double weightDecay = 0.0;
    std::uint64_t seed = 1234;
};

struct T5StepStats {
    std::int64_t step = 0;
    double loss = 0.0;
    double accuracy = 0.0;
};

class T5Trainer {
public:
    T5Trainer(T5Model model, std::vector<Seq2SeqExample> examples, const T5TrainOptions &options);
    ~T5Trainer();

    T5StepStats step();
    std::int64_t stepsDone() const { return m_step; }
    // Mean loss and accuracy over examples, eval mode, no gradient.
    T5StepStats evaluate(const std::vector<Seq2SeqExample> &examples);

    void saveCheckpoint(const std::filesystem::path &directory) const;
    void loadCheckpoint(const std::filesystem::path &directory);

private:
    T5Model m_model;
    std::vector<Seq2SeqExample> m_examples;
    T5TrainOptions m_options;
    std::unique_ptr<torch::optim::AdamW> m_optimizer;
    std::unique_ptr<LrScheduler> m_scheduler;
    std::mt19937_64 m_rng;
    std::int64_t m_step = 0;
};

} // namespace mp
