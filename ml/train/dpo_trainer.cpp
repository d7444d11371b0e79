#include "ml/train/dpo_trainer.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/train/checkpoint.h"
#include "ml/train/guarded_step.h"
#include "ml/train/policy_model.h"

namespace mp {

namespace fs = std::filesystem;

namespace {

// Bumped when the checkpoint layout changes.
const TrainerIdentity kIdentity{.method = "dpo", .version = 1};

at::Tensor padLabels(const at::Tensor &labels, std::int64_t length)
{
    const std::int64_t missing = length - labels.size(1);
    if (missing == 0)
        return labels;
    return torch::cat(
        {labels, torch::full({labels.size(0), missing}, kIgnoreLabel, labels.options())}, 1);
}

} // namespace

at::Tensor concatenatedLabels(const at::Tensor &chosen, const at::Tensor &rejected)
{
    if (chosen.dim() != 2 || rejected.dim() != 2 || chosen.size(0) != rejected.size(0))
        throw std::invalid_argument("concatenatedLabels: expected [B,Tc] and [B,Tr]");
    const std::int64_t length = std::max(chosen.size(1), rejected.size(1));
    return torch::cat(
        {padLabels(chosen.to(torch::kLong), length), padLabels(rejected.to(torch::kLong), length)});
}

PairLogProbs pairLogProbs(PolicyModel &policy, const PreferenceBatch &batch,
                          const LogProbOptions &options)
{
    const std::int64_t b = batch.chosenLabels.size(0);
    const at::Tensor labels = concatenatedLabels(batch.chosenLabels, batch.rejectedLabels);
    const ScoredLabels scored = policy.scoreLabels(
        batch.promptIds.repeat({2, 1}), batch.promptMask.repeat({2, 1}), labels, options);
    const TokenLogProbs &tokens = scored.tokens;
    const at::Tensor logps = sequenceLogProbs(tokens, options);
    const at::Tensor chosenNll =
        -tokens.logps.slice(0, 0, b).sum() / tokens.mask.slice(0, 0, b).sum();
    // logitsMean of each half: the plain mean of its logits, padding included (NaN when the
    // options asked for no sums).
    const auto halfMean = [&](std::int64_t begin, std::int64_t end) {
        if (!scored.logitSums.defined())
            return std::numeric_limits<double>::quiet_NaN();
        const double count = static_cast<double>((end - begin) * scored.logitsPerRow);
        return scored.logitSums.slice(0, begin, end).sum().item<double>() / count;
    };
    return {logps.slice(0, 0, b), logps.slice(0, b), halfMean(0, b), halfMean(b, labels.size(0)),
            chosenNll};
}

PairLogProbs referenceLogProbs(PolicyModel &policy, const PreferenceBatch &batch,
                               const LogProbOptions &options)
{
    torch::NoGradGuard noGrad;
    AdapterDisabledScope disabled(policy);
    // The reference's logits/* means are not a metric: no sums, so padding can be skipped.
    LogProbOptions withoutSums = options;
    withoutSums.logitSums = false;
    return pairLogProbs(policy, batch, withoutSums);
}

DpoTrainer::DpoTrainer(PolicyModel &policy, DpoTrainerOptions options)
    : m_policy(policy), m_options(std::move(options)), m_params(policy.trainableParameters())
{
    if (m_params.empty())
        throw std::invalid_argument("DpoTrainer: the policy has no trainable parameters");
    m_optimizer = makeOptimizer(m_params, m_options.optimizer);
    m_scheduler = std::make_unique<LrScheduler>(*m_optimizer, m_options.schedule,
                                                m_options.warmupSteps, m_options.totalSteps);
}

DpoTrainer::~DpoTrainer() = default;

double DpoTrainer::currentLr() const
{
    return m_scheduler->currentLr();
}

DpoTrainer::Forward DpoTrainer::forward(const PreferenceBatch &batch)
{
    const LogProbOptions logProbOptions{.alignment = m_options.alignment,
                                        .average = usesAverageLogProbs(m_options.loss.type)};
    const PairLogProbs policy = pairLogProbs(m_policy, batch, logProbOptions);
    at::Tensor refChosen = batch.refChosenLogps;
    at::Tensor refRejected = batch.refRejectedLogps;
    if (!refChosen.defined() || !refRejected.defined()) {
        const PairLogProbs reference = referenceLogProbs(m_policy, batch, logProbOptions);
        refChosen = reference.chosen;
        refRejected = reference.rejected;
    }
    const DpoLossResult result = dpoLoss(policy.chosen, policy.rejected, refChosen, refRejected,
                                         m_options.loss, batch.labelSmoothing, &m_bcoMoments);
    Forward out;
    out.loss = result.losses.mean();
    out.metrics = dpoMetrics(result, policy.chosen, policy.rejected, policy.chosenLogitsMean,
                             policy.rejectedLogitsMean);
    if (m_options.rpoAlpha > 0) {
        out.loss = out.loss + m_options.rpoAlpha * policy.chosenNll;
        out.metrics["nll_loss"] = policy.chosenNll.detach().to(torch::kDouble).item<double>();
    }
    out.metrics["loss"] = out.loss.detach().to(torch::kDouble).item<double>();
    return out;
}

MetricMap DpoTrainer::step(const std::vector<PreferenceBatch> &microBatches,
                           const StepShards &shards)
{
    if (microBatches.empty() && !shards.distributed)
        throw std::invalid_argument("DpoTrainer::step: no micro-batches");
    m_policy.module().train();
    m_optimizer->zero_grad();
    const double perMicro = 1.0 / static_cast<double>(shards.microCount(microBatches.size()));
    MetricAverager averager;
    bool finite = true;
    for (std::size_t i = 0; i < microBatches.size(); ++i) {
        Forward f = forward(microBatches[i]);
        averager.add(f.metrics, shards.share(i));
        if (!std::isfinite(f.metrics["loss"])) {
            finite = false;
            continue;
        }
        (f.loss * (shards.share(i) * perMicro)).backward();
    }
    finite = reduceStep(shards.distributed, finite, m_params, averager);
    MetricMap metrics = averager.mean();
    if (finishOptimizerStep(metrics, finite, m_params, m_options.maxGradNorm, *m_optimizer,
                            *m_scheduler))
        ++m_step;
    return metrics;
}

MetricMap DpoTrainer::evaluate(const std::vector<PreferenceBatch> &batches,
                               Distributed *distributed)
{
    torch::NoGradGuard noGrad;
    const bool wasTraining = m_policy.module().is_training();
    m_policy.module().eval();
    MetricAverager averager;
    for (const PreferenceBatch &batch : batches)
        averager.add(forward(batch).metrics);
    m_policy.module().train(wasTraining);
    if (distributed)
        averager.allReduce(*distributed);
    MetricMap out;
    mergeMetrics(out, averager.mean(), "eval_");
    return out;
}

void DpoTrainer::saveCheckpoint(const fs::path &directory)
{
    const TrainerState state{.step = m_step,
                             .extra = {{"loss_type", dpoLossTypeName(m_options.loss.type)},
                                       {"bco_moments",
                                        {m_bcoMoments.mean(), m_bcoMoments.var(),
                                         m_bcoMoments.std(), m_bcoMoments.count()}}}};
    saveTrainingCheckpoint(
        directory, kIdentity,
        [&](torch::serialize::OutputArchive &archive) { m_policy.saveState(archive); },
        *m_optimizer, *m_scheduler, state);
}

void DpoTrainer::loadCheckpoint(const fs::path &directory)
{
    const auto restoreExtra = [&](const nlohmann::json &extra) {
        const auto lossType = extra.at("loss_type").get<std::string>();
        if (lossType != dpoLossTypeName(m_options.loss.type))
            throw InputError((directory / "trainer_state.json").string() +
                             ": checkpoint was trained with loss '" + lossType +
                             "', this run uses '" +
                             std::string(dpoLossTypeName(m_options.loss.type)) + "'");
        const auto &moments = extra.at("bco_moments");
        m_bcoMoments.setState(moments.at(0).get<double>(), moments.at(1).get<double>(),
                              moments.at(2).get<double>(), moments.at(3).get<double>());
    };
    m_step = loadTrainingCheckpoint(
                 directory, kIdentity,
                 [&](torch::serialize::InputArchive &archive) { m_policy.loadState(archive); },
                 *m_optimizer, *m_scheduler, restoreExtra)
                 .step;
}

} // namespace mp
