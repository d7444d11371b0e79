#pragma once
// The DPO training step on any PolicyModel (TRL DPOTrainer's concatenated forward, reference =
// the policy with its adapter disabled or precomputed log-probs), evaluation, and checkpoints
// that hold model, optimizer, scheduler, RNG state and step together, so a resumed run continues
// exactly as the uninterrupted one would.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/train/dpo_loss.h"
#include "ml/train/guarded_step.h"
#include "ml/train/logprobs.h"
#include "ml/train/metrics.h"
#include "ml/train/running_moments.h"
#include "ml/train/schedule.h"

namespace mp {

class Distributed;
class PolicyModel;

// One (micro-)batch of preference pairs. Labels are -100 padded; chosen and rejected may differ
// in length.
struct PreferenceBatch {
    at::Tensor promptIds;      // [B,S] int64
    at::Tensor promptMask;     // [B,S] 1/0
    at::Tensor chosenLabels;   // [B,Tc] int64
    at::Tensor rejectedLabels; // [B,Tr] int64
    at::Tensor labelSmoothing; // [B] per-example ε (paper's per-degree smoothing), optional
    at::Tensor refChosenLogps; // [B] precomputed reference log-probs, optional (both or neither)
    at::Tensor refRejectedLogps;
};

// Chosen and rejected labels padded to a common length with -100 and stacked: [2B,T].
at::Tensor concatenatedLabels(const at::Tensor &chosen, const at::Tensor &rejected);

struct PairLogProbs {
    at::Tensor chosen;   // [B]
    at::Tensor rejected; // [B]
    double chosenLogitsMean = 0.0;
    double rejectedLogitsMean = 0.0;
    // Mean negative log-prob over every scored chosen token of the batch (TRL's nll_loss: a
    // token-weighted cross-entropy, whatever `average` says).
    at::Tensor chosenNll;
};

// One concatenated forward of the policy as it is now (adapter state untouched).
PairLogProbs pairLogProbs(PolicyModel &policy, const PreferenceBatch &batch,
                          const LogProbOptions &options);
// The reference's log-probs: the policy with its adapter disabled, without gradient.
PairLogProbs referenceLogProbs(PolicyModel &policy, const PreferenceBatch &batch,
                               const LogProbOptions &options);

struct DpoTrainerOptions {
    DpoLossOptions loss;
    LabelAlignment alignment = LabelAlignment::EncoderDecoder;
    OptimizerSettings optimizer{.kind = OptimizerKind::AdamW, .lr = 1e-3};
    ScheduleKind schedule = ScheduleKind::Cosine;
    std::int64_t warmupSteps = 0;
    std::int64_t totalSteps = 1; // optimizer steps of the whole run, for the schedule
    std::optional<double> maxGradNorm = 1.0;
    // RPO (Pang et al. 2024; TRL rpo_alpha): loss + α·(chosen NLL), which keeps the chosen
    // motions likely while the preference loss pushes the pair apart. 0: off.
    double rpoAlpha = 0.0;
};

class DpoTrainer {
public:
    DpoTrainer(PolicyModel &policy, DpoTrainerOptions options);
    ~DpoTrainer();

    // One optimizer step over the micro-batches (gradient accumulation over all of them, each
    // loss divided by their count). Returns the averaged metrics plus "loss", "grad_norm" and
    // "learning_rate" (the rate this step used). A non-finite loss or gradient skips the update
    // (the weights stay as they were) and is reported as it is, for the divergence guard.
    // On a data-parallel rank, microBatches are its shards (possibly none) and `shards` says
    // their shares; gradients and metrics are reduced over the ranks before the update.
    MetricMap step(const std::vector<PreferenceBatch> &microBatches, const StepShards &shards = {});

    // Metrics averaged over the batches, prefixed "eval_" (eval_loss, eval_rewards/...). With
    // `distributed`, each rank passes its share of the batches and every rank gets the mean over
    // all of them.
    MetricMap evaluate(const std::vector<PreferenceBatch> &batches,
                       Distributed *distributed = nullptr);

    std::int64_t globalStep() const { return m_step; }
    double currentLr() const;

    // Writes model.pt, optimizer.pt, rng.pt and trainer_state.json into `directory` (created;
    // replaced atomically via a sibling temporary directory).
    void saveCheckpoint(const std::filesystem::path &directory);
    // Restores all of it; InputError naming the file when something is missing or wrong.
    void loadCheckpoint(const std::filesystem::path &directory);

private:
    struct Forward {
        at::Tensor loss;
        MetricMap metrics;
    };
    Forward forward(const PreferenceBatch &batch);

    PolicyModel &m_policy;
    DpoTrainerOptions m_options;
    std::vector<at::Tensor> m_params;
    std::unique_ptr<torch::optim::Optimizer> m_optimizer;
    std::unique_ptr<LrScheduler> m_scheduler;
    RunningMoments m_bcoMoments;
    std::int64_t m_step = 0;
};

} // namespace mp
