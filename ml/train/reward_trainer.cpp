#include "ml/train/reward_trainer.h"

#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

#include "ml/train/checkpoint.h"
#include "ml/train/reward_loss.h"

namespace fs = std::filesystem;

namespace mp {

namespace {
const TrainerIdentity kRmIdentity{.method = "rm", .version = 1};
}

RewardTrainer::RewardTrainer(RewardModel model, RewardTrainerOptions options)
    : m_model(std::move(model)), m_options(std::move(options)),
      m_params(m_model->trainableParameters())
{
    m_optimizer = makeOptimizer(m_params, m_options.optimizer);
    m_scheduler = std::make_unique<LrScheduler>(*m_optimizer, m_options.schedule,
                                                m_options.warmupSteps, m_options.totalSteps);
}

RewardTrainer::~RewardTrainer() = default;

RewardForward RewardTrainer::forward(const RewardBatch &batch, bool training)
{
    const PreferenceBatch &pairs = batch.pairs;
    const auto b = pairs.promptIds.size(0);
    if (static_cast<std::int64_t>(batch.degrees.size()) != b)
        throw std::invalid_argument("RewardTrainer::forward: one degree per pair expected");
    const double alpha = training ? m_options.neftuneAlpha : 0.0;
    // Chosen and rejected through one forward: [2B].
    const auto labels = concatenatedLabels(pairs.chosenLabels, pairs.rejectedLabels);
    const auto scores = m_model->score(pairs.promptIds.repeat({2, 1}),
                                       pairs.promptMask.repeat({2, 1}), labels, alpha);
    RewardForward out{.chosen = scores.slice(0, 0, b), .rejected = scores.slice(0, b)};
    const auto margin = rewardMargins(batch.degrees, m_options.margin).to(scores.device());
    const auto label = rewardLabels(batch.degrees).to(scores.device());
    out.loss = rewardLosses(out.chosen, out.rejected, margin, label).mean();
    return out;
}

MetricMap RewardTrainer::step(const std::vector<RewardBatch> &microBatches,
                              const StepShards &shards)
{
    if (microBatches.empty() && !shards.distributed)
        throw std::invalid_argument("RewardTrainer::step: no micro-batches");
    m_model->train();
    m_optimizer->zero_grad();
    const auto numMicro = static_cast<double>(shards.microCount(microBatches.size()));
    MetricAverager averager;
    bool finite = true;
    for (std::size_t i = 0; i < microBatches.size(); ++i) {
        const double share = shards.share(i);
        auto f = forward(microBatches[i], true);
        const double loss = f.loss.item<double>();
        averager.add({{"loss", loss},
                      {"rewards/chosen", f.chosen.mean().item<double>()},
                      {"rewards/rejected", f.rejected.mean().item<double>()},
                      {"rewards/margins", (f.chosen - f.rejected).mean().item<double>()},
                      {"accuracy", rewardAccuracy(f.chosen.detach(), f.rejected.detach())}},
                     share);
        if (!std::isfinite(loss)) {
            finite = false;
            continue;
        }
        ((f.loss * share) / numMicro).backward();
    }
    finite = reduceStep(shards.distributed, finite, m_params, averager);
    MetricMap metrics = averager.mean();
    if (finishOptimizerStep(metrics, finite, m_params, m_options.maxGradNorm, *m_optimizer,
                            *m_scheduler))
        ++m_step;
    return metrics;
}

void RewardTrainer::saveCheckpoint(const fs::path &directory)
{
    saveTrainingCheckpoint(
        directory, kRmIdentity,
        [&](torch::serialize::OutputArchive &archive) {
            writeTensorList(archive, m_params, "param.");
        },
        *m_optimizer, *m_scheduler, TrainerState{.step = m_step});
}

void RewardTrainer::loadCheckpoint(const fs::path &directory)
{
    m_step = loadTrainingCheckpoint(
                 directory, kRmIdentity,
                 [&](torch::serialize::InputArchive &archive) {
                     readTensorList(archive, m_params, "param.");
                 },
                 *m_optimizer, *m_scheduler)
                 .step;
}

} // namespace mp
