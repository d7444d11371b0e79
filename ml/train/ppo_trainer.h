#pragma once
// PPO's step after generation (spec §4, TRL 0.8.6 PPOTrainer.step(queries, responses, scores)):
// the no-grad forwards of a rollout (policy log-probs, the reference's with the policy's adapter
// disabled, the values: a separate critic's, or a value head's on the policy's own decoder states
// as TRL's AutoModelForSeq2SeqLMWithValueHead, or none), then per-token rewards with the KL
// penalty, GAE, ppo_epochs of clipped policy and value updates over shuffled mini-batches, the
// step's stats and the KL controller; and the step's checkpoints. The ppo and rlhf runs
// (ml/run/ppo_run.cpp, which generate, score and exchange the rollouts) and the side-by-side
// benchmark train through it.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/train/metrics.h"
#include "ml/train/ppo_math.h"
#include "ml/train/reward_model.h"
#include "ml/train/running_moments.h"
#include "ml/train/schedule.h"
#include "ml/train/value_head.h"

namespace torch::optim {
class Optimizer;
}

namespace mp {

class Distributed;

// A batch of rollouts, all tensors on the model's device. The caller fills the prompts, the
// responses, the mask and the scores; PpoTrainer::evaluate fills the forwards' results.
struct PpoRollout {
    at::Tensor promptIds, promptMask; // [B,P], right-padded
    at::Tensor labels;                // [B,L] response tokens, -100 padded
    at::Tensor mask;      // [B,L] float: the positions PPO scores (the runs: every response token)
    at::Tensor rawScores; // [B] reward-model scores before the score transforms
    at::Tensor logprobs, refLogprobs, values; // [B,L], from evaluate
};

// The ppo run's settings (ml/run/run_config.h PpoSettings, TRL's PPOConfig names in comments).
struct PpoTrainerOptions {
    OptimizerSettings optimizer{.kind = OptimizerKind::Adam, .lr = 1e-5};
    std::int64_t totalSteps = 1;            // for the (constant) schedule
    std::int64_t miniBatchSize = 8;         // mini_batch_size
    std::int64_t ppoEpochs = 4;             // ppo_epochs
    std::optional<double> maxGradNorm;      // max_grad_norm (none: no clipping)
    bool adaptiveKl = true;                 // adap_kl_ctrl
    double initKlCoef = 0.2;                // init_kl_coef
    double klTarget = 6.0;                  // target
    double klHorizon = 10000.0;             // horizon
    KlPenalty klPenalty = KlPenalty::Kl;    // kl_penalty
    GaeOptions gae;                         // gamma, lam, whiten_rewards
    PpoLossOptions loss;                    // cliprange, cliprange_value, vf_coef, ratio_threshold
    ScoreTransformOptions scoreTransform{}; // use_score_scaling, use_score_norm, score_clip
    // The paper's shared-backbone PPO (ppo.py): a value head on the policy's last decoder states,
    // trained with the adapter (the value loss's gradient reaches the adapter too). Exclusive
    // with a separate critic.
    bool valueHead = false;
    double valueHeadDropout = 0.1; // TRL's summary_dropout_prob
    // The rows' order in each PPO epoch of step s: std::shuffle with mt19937_64(seed * 7919 + s)
    // over the epochs of the step, unless `order` is set, which returns a permutation of
    // [0, rows) for (step, epoch) (the side-by-side benchmark gives TRL's side the same order).
    std::uint64_t shuffleSeed = 0;
    std::function<std::vector<std::int64_t>(std::int64_t step, std::int64_t epoch,
                                            std::int64_t rows)>
        order;
    // Data-parallel ranks run the same mini-batches; their gradients are averaged (the weights
    // stay identical on every rank). Null: one process.
    Distributed *distributed = nullptr;
};

struct PpoStepResult {
    // TRL's step stats (objective/*, ppo/*, tokens/*, env/*) and "loss": ppo/loss/total (the
    // mini-batches' mean), NaN when a loss or gradient was not finite (the divergence guard).
    MetricMap metrics;
    std::vector<std::string> warnings; // e.g. the negative-KL warning, for the run's events
    double firstLoss = 0.0; // the total loss of the step's first mini-batch (initial weights)
};

class PpoTrainer {
public:
    // policy must carry its LoRA adapters (disabled, they give the reference); critic may be
    // null (values from options.valueHead's head, else 0), else its trainable parameters train
    // too. The value head starts from the global generator (LibTorch's Linear initialisation).
    PpoTrainer(T5Model policy, RewardModel critic, PpoTrainerOptions options);
    ~PpoTrainer();

    // The no-grad forwards of the rollout's prompts and responses, in evaluation mode: the
    // policy's per-token log-probs, the reference's, the critic's values (0 without a critic).
    void evaluate(PpoRollout &rollout);

    // The update on an evaluated rollout (on data-parallel ranks: every rank's rows): score
    // transforms, rewards, advantages, the PPO epochs, the step's stats, the KL controller and
    // the schedule. stepIndex seeds the mini-batch order.
    PpoStepResult update(const PpoRollout &rollout, std::int64_t stepIndex);

    // evaluate, then update: TRL's PPOTrainer.step on given responses and scores.
    PpoStepResult step(PpoRollout rollout, std::int64_t stepIndex);

    // Model parameters, optimizer, scheduler, step, KL coefficient and the score moments
    // (identity "ppo" version 1).
    void saveCheckpoint(const std::filesystem::path &directory);
    void loadCheckpoint(const std::filesystem::path &directory);

    std::int64_t globalStep() const { return m_step; }
    double klCoef() const { return m_kl.value(); }
    // The value head (options.valueHead), null otherwise.
    ValueHead &valueHead() { return m_valueHead; }

private:
    // The policy as it is now on labels: per-token log-probs [B,L], logits, and the value
    // head's values [B,L] when there is one (undefined otherwise).
    struct PolicyPass {
        at::Tensor logprobs, logits, values;
    };
    PolicyPass policyPass(const at::Tensor &promptIds, const at::Tensor &promptMask,
                          const at::Tensor &labels);
    // The values [B,L]: the pass's (value head), the separate critic's, or 0.
    at::Tensor values(const PolicyPass &pass, const at::Tensor &promptIds,
                      const at::Tensor &promptMask, const at::Tensor &labels);
    // One clipped update on the rows `index`; false when its loss or gradient is not finite.
    bool miniBatch(const PpoRollout &rollout, const Advantages &advantages, const at::Tensor &index,
                   PpoStatsAccumulator &accumulator, double &loss);
    void averageGradients();

    T5Model m_policy;
    RewardModel m_critic;
    ValueHead m_valueHead{nullptr};
    PpoTrainerOptions m_options;
    KlController m_kl;
    RunningMoments m_scoreMoments;
    // The policy's adapter, then the critic's parameters or the value head's (weight, bias).
    std::vector<at::Tensor> m_params;
    std::unique_ptr<torch::optim::Optimizer> m_optimizer;
    std::unique_ptr<LrScheduler> m_scheduler;
    std::int64_t m_step = 0;
};

} // namespace mp
