#pragma once
// Training of the motion VQ-VAE as MotionGPT/T2M-GPT do it: random windows of normalised
// feature clips, AdamW (betas 0.9/0.99) with a linear warm-up, loss = smooth L1 reconstruction +
// 0.5 joint-position ("velocity") + 0.02 commitment, EMA codebook with dead-code reset.
// Resumable: a checkpoint directory holds model, EMA state, optimizer, step and sampler RNG.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/core/progress.h"
#include "ml/models/vqvae.h"

namespace torch::optim {
class AdamW;
}

namespace mp {

class LrScheduler;

struct VqVaeTrainOptions {
    std::int64_t windowFrames = 64;
    std::int64_t batchSize = 32;
    std::int64_t steps = 2000;
    std::int64_t warmupSteps = 200;
    double learningRate = 2e-4;
    double weightDecay = 0.0;
    VqVaeLossWeights lossWeights;
    std::uint64_t seed = 1234;
};

struct VqVaeStepStats {
    std::int64_t step = 0;
    double loss = 0.0;
    double feature = 0.0;
    double velocity = 0.0;
    double commit = 0.0;
    double perplexity = 0.0;
};

class VqVaeTrainer {
public:
    // clips: normalised features, each (T, inputDim); clips shorter than a window are skipped.
    VqVaeTrainer(VqVae model, std::vector<at::Tensor> clips, const VqVaeTrainOptions &options);
    ~VqVaeTrainer();

    VqVaeStepStats step();
    std::int64_t stepsDone() const { return m_step; }
    std::int64_t usableClips() const { return static_cast<std::int64_t>(m_clips.size()); }

    void saveCheckpoint(const std::filesystem::path &directory) const;
    // Restores a checkpoint written by saveCheckpoint for the same architecture.
    void loadCheckpoint(const std::filesystem::path &directory);

    // Mean reconstruction error of whole clips (normalised space, L1 per feature), eval mode.
    double evaluate(const std::vector<at::Tensor> &clips);

private:
    at::Tensor sampleBatch();

    VqVae m_model;
    std::vector<at::Tensor> m_clips;
    VqVaeTrainOptions m_options;
    std::unique_ptr<torch::optim::AdamW> m_optimizer;
    std::unique_ptr<LrScheduler> m_scheduler;
    std::mt19937_64 m_rng;
    std::int64_t m_step = 0;
};

} // namespace mp
