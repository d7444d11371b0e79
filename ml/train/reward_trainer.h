#pragma once
// The reward model's training step (paper §1.5, TRL RewardTrainer.compute_loss): chosen and
// rejected through one forward of the RewardModel, the Bradley-Terry loss with per-pair margins
// and soft labels (ml/train/reward_loss.h), NEFTune noise while training, then the guarded
// optimizer step; and the step's checkpoints. The rm run (ml/run/rm_run.cpp) and the side-by-side
// benchmark both train through it.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/train/dpo_trainer.h"
#include "ml/train/guarded_step.h"
#include "ml/train/metrics.h"
#include "ml/train/preference_degree.h"
#include "ml/train/reward_model.h"
#include "ml/train/schedule.h"

namespace mp {

// One (micro-)batch of pairs for the reward model: the tokenised pairs and each pair's degree,
// which sets its margin and its label (0.5 for unsure pairs).
struct RewardBatch {
    PreferenceBatch pairs;
    std::vector<PreferenceDegree> degrees; // one per pair
};

// The defaults are the rm run's (rm_train.sh: AdamW 2e-4, linear decay without warmup; the
// run's gradient clipping at 1.0; margins "big"; NEFTune α 0.1).
struct RewardTrainerOptions {
    MarginScale margin = MarginScale::Big;
    double neftuneAlpha = 0.1; // 0: no noise
    OptimizerSettings optimizer{.kind = OptimizerKind::AdamW, .lr = 2e-4};
    ScheduleKind schedule = ScheduleKind::Linear;
    std::int64_t warmupSteps = 0;
    std::int64_t totalSteps = 1; // optimizer steps of the whole run, for the schedule
    std::optional<double> maxGradNorm = 1.0;
};

struct RewardForward {
    at::Tensor loss;     // mean over the pairs
    at::Tensor chosen;   // [B] scores
    at::Tensor rejected; // [B]
};

class RewardTrainer {
public:
    RewardTrainer(RewardModel model, RewardTrainerOptions options);
    ~RewardTrainer();

    // Chosen and rejected through one forward ([2B] scores). training: NEFTune noise on the
    // embeddings (the model must also be in training mode for it).
    RewardForward forward(const RewardBatch &batch, bool training);

    // One optimizer step over the micro-batches (each loss times its shard's share, divided by
    // the step's micro-batch count). Returns the averaged loss, rewards/chosen, rewards/rejected,
    // rewards/margins and accuracy plus grad_norm and learning_rate. A non-finite loss or
    // gradient skips the update and is reported as it is, for the divergence guard.
    MetricMap step(const std::vector<RewardBatch> &microBatches, const StepShards &shards = {});

    // Model parameters, optimizer, scheduler and step (identity "rm" version 1).
    void saveCheckpoint(const std::filesystem::path &directory);
    void loadCheckpoint(const std::filesystem::path &directory);

    std::int64_t globalStep() const { return m_step; }
    RewardModel &model() { return m_model; }

private:
    RewardModel m_model;
    RewardTrainerOptions m_options;
    std::vector<at::Tensor> m_params;
    std::unique_ptr<torch::optim::Optimizer> m_optimizer;
    std::unique_ptr<LrScheduler> m_scheduler;
    std::int64_t m_step = 0;
};

} // namespace mp
