// The DPO-family training loop (sigmoid, hinge, IPO, KTO-pair, ...) of `motionpref-cli train`:
// deterministic batches per step, so a resumed run sees exactly the batches the uninterrupted
// one would have; evaluation on the held-out pairs; best/ by the configured metric.

#include <algorithm>
#include <cmath>
#include <map>

#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/models/bundle.h"
#include "ml/train/dpo_trainer.h"
#include "ml/train/events.h"
#include "ml/train/run_config.h"
#include "ml/train/run_context.h"
#include "ml/train/run_monitor.h"
#include "ml/train/t5_policy.h"

namespace fs = std::filesystem;

namespace mp {
namespace {

std::int64_t ceilDiv(std::int64_t a, std::int64_t b)
{
    return (a + b - 1) / b;
}

// The run's fixed schedule: micro-batches per epoch and optimizer steps per epoch and in all.
struct StepPlan {
    std::int64_t batchSize = 1;
    std::int64_t gradAccum = 1;
    std::int64_t microPerEpoch = 1;
    std::int64_t stepsPerEpoch = 1;
    std::int64_t totalSteps = 1;

    StepPlan(const RunConfig &config, std::int64_t trainPairs)
        : batchSize(std::max<std::int64_t>(1, config.batchSize)),
          gradAccum(std::max<std::int64_t>(1, config.gradAccum))
    {
        microPerEpoch = ceilDiv(trainPairs, batchSize);
        stepsPerEpoch = ceilDiv(microPerEpoch, gradAccum);
        totalSteps = stepsPerEpoch * std::max<std::int64_t>(1, config.epochs);
    }
    std::int64_t epochOf(std::int64_t step) const { return step / stepsPerEpoch; }
    bool endsEpoch(std::int64_t stepsDone) const { return stepsDone % stepsPerEpoch == 0; }
};

// The pairs of optimizer step `step` (0-based): the epoch's seeded order, then the step's
// micro-batches.
std::vector<std::vector<PreferencePair>> stepMicroBatches(const std::vector<PreferencePair> &train,
                                                          const StepPlan &plan, std::int64_t step,
                                                          std::uint64_t seed)
{
    std::vector<std::int64_t> order(train.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = static_cast<std::int64_t>(i);
    shufflePairIds(order, seed + static_cast<std::uint64_t>(plan.epochOf(step)));
    const std::int64_t firstMicro = (step % plan.stepsPerEpoch) * plan.gradAccum;
    const std::int64_t lastMicro = std::min(firstMicro + plan.gradAccum, plan.microPerEpoch);
    std::vector<std::vector<PreferencePair>> micro;
    for (std::int64_t m = firstMicro; m < lastMicro; ++m) {
        std::vector<PreferencePair> batch;
        const auto begin = m * plan.batchSize;
        const auto end = std::min<std::int64_t>(begin + plan.batchSize, order.size());
        for (auto i = begin; i < end; ++i)
            batch.push_back(train[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])]);
        micro.push_back(std::move(batch));
    }
    return micro;
}

// Reference log-probs of every pair, computed once with the adapter disabled (the base is
// frozen, so they never change).
class ReferenceCache {
public:
    void fill(RunContext &context, PolicyModel &policy, const std::vector<PreferencePair> &pairs,
              const LogProbOptions &logProbs)
    {
        const std::int64_t chunk = 64;
        for (std::size_t begin = 0; begin < pairs.size(); begin += chunk) {
            const std::vector<PreferencePair> slice(
                pairs.begin() + static_cast<std::ptrdiff_t>(begin),
                pairs.begin() + static_cast<std::ptrdiff_t>(std::min(
                                    pairs.size(), begin + static_cast<std::size_t>(chunk))));
            const auto batch = makePreferenceBatches(context, slice, chunk).front();
            const auto ref = referenceLogProbs(policy, batch, logProbs);
            const auto chosen = ref.chosen.to(torch::kCPU, torch::kDouble);
            const auto rejected = ref.rejected.to(torch::kCPU, torch::kDouble);
            for (std::size_t i = 0; i < slice.size(); ++i)
                m_logps[slice[i].pairId] = {chosen[static_cast<std::int64_t>(i)].item<double>(),
                                            rejected[static_cast<std::int64_t>(i)].item<double>()};
        }
    }

    void attach(PreferenceBatch &batch, const std::vector<PreferencePair> &pairs,
                const c10::Device &device) const
    {
        std::vector<double> chosen, rejected;
        for (const auto &pair : pairs) {
            const auto &[c, r] = m_logps.at(pair.pairId);
            chosen.push_back(c);
            rejected.push_back(r);
        }
        batch.refChosenLogps = torch::tensor(chosen, torch::kFloat).to(device);
        batch.refRejectedLogps = torch::tensor(rejected, torch::kFloat).to(device);
    }

private:
    std::map<std::int64_t, std::pair<double, double>> m_logps;
};

} // namespace

RunOutcome runDpo(RunContext &context)
{
    const RunConfig &config = context.config;
    const fs::path &runDir = context.options.runDir;
    T5Policy policy(context.bundle.t5(), {.disableDropout = config.dpo.disableDropout});
    const StepPlan plan(config, static_cast<std::int64_t>(context.data.train.size()));

    DpoTrainerOptions trainerOptions{
        .loss = {.type = config.dpo.loss,
                 .beta = config.dpo.beta,
                 .labelSmoothing = config.dpo.labelSmoothingMode == LabelSmoothingMode::Scalar
                                       ? config.dpo.labelSmoothing
                                       : 0.0,
                 .referenceFree = config.dpo.referenceFree},
        .alignment = LabelAlignment::EncoderDecoder,
        .optimizer = config.optimizer,
        .schedule = config.schedule,
        .warmupSteps = config.warmupSteps,
        .totalSteps = plan.totalSteps,
        .maxGradNorm = config.maxGradNorm,
    };
    DpoTrainer trainer(policy, trainerOptions);
    if (context.options.resume)
        if (const auto checkpoint = latestCheckpoint(runDir))
            trainer.loadCheckpoint(*checkpoint);

    const LogProbOptions logProbs{.alignment = LabelAlignment::EncoderDecoder,
                                  .average = usesAverageLogProbs(config.dpo.loss)};
    ReferenceCache references;
    if (config.dpo.precomputeRefLogps) {
        references.fill(context, policy, context.data.train, logProbs);
        references.fill(context, policy, context.data.eval, logProbs);
    }
    const auto batchesOf = [&](const std::vector<PreferencePair> &pairs) {
        auto batches = makePreferenceBatches(context, pairs, plan.batchSize);
        if (config.dpo.precomputeRefLogps)
            for (std::size_t i = 0; i < batches.size(); ++i) {
                const auto begin = i * static_cast<std::size_t>(plan.batchSize);
                const std::vector<PreferencePair> slice(
                    pairs.begin() + static_cast<std::ptrdiff_t>(begin),
                    pairs.begin() +
                        static_cast<std::ptrdiff_t>(std::min(
                            pairs.size(), begin + static_cast<std::size_t>(plan.batchSize))));
                references.attach(batches[i], slice, context.device);
            }
        return batches;
    };
    const auto evalBatches = batchesOf(context.data.eval);

    BestTracker best(runDir, config.eval.bestMetric, config.eval.bestMode == BestMode::Max);
    const auto saveCheckpoint = [&](std::int64_t step) {
        const fs::path directory = checkpointDir(runDir, step);
        trainer.saveCheckpoint(directory);
        pruneCheckpoints(runDir, config.checkpoint.keepLast);
        context.events.write({.type = EventType::Checkpoint,
                              .step = step,
                              .epoch = static_cast<double>(step) / plan.stepsPerEpoch,
                              .text = {{"path", directory.string()}}});
    };
    const auto evaluate = [&](std::int64_t step) {
        if (evalBatches.empty())
            return;
        auto metrics = trainer.evaluate(evalBatches);
        context.events.write({.type = EventType::Eval,
                              .step = step,
                              .epoch = static_cast<double>(step) / plan.stepsPerEpoch,
                              .metrics = metrics});
        if (best.improves(metrics)) {
            saveLoraAdapter(*context.bundle.t5(), context.lora, best.directory());
            best.record(metrics, step);
        }
    };

    MetricAverager logWindow;
    std::int64_t lastCheckpoint = trainer.globalStep();
    for (std::int64_t step = trainer.globalStep(); step < plan.totalSteps; ++step) {
        if (context.stopRequested()) {
            if (step != lastCheckpoint)
                saveCheckpoint(step);
            context.events.write({.type = EventType::Warning,
                                  .step = step,
                                  .epoch = static_cast<double>(step) / plan.stepsPerEpoch,
                                  .text = {{"message", "stopped by request; --resume continues "
                                                       "from step " +
                                                           std::to_string(step)}}});
            return RunOutcome::Stopped;
        }
        std::vector<PreferenceBatch> micro;
        for (const auto &pairs : stepMicroBatches(context.data.train, plan, step,
                                                  static_cast<std::uint64_t>(config.seed)))
            micro.push_back(batchesOf(pairs).front());
        auto metrics = trainer.step(micro);
        const std::int64_t done = step + 1;
        const double epoch = static_cast<double>(done) / plan.stepsPerEpoch;

        // Divergence is checked every step; the step event averages the logging window.
        if (const auto reason = divergenceReason(metrics)) {
            context.monitor.logStep(done, epoch, metrics);
            return RunOutcome::Failed;
        }
        logWindow.add(metrics);
        const bool logNow = done % std::max<std::int64_t>(1, config.eval.logEverySteps) == 0 ||
                            plan.endsEpoch(done) || done == plan.totalSteps;
        if (logNow) {
            if (!context.monitor.logStep(done, epoch, logWindow.mean()))
                return RunOutcome::Failed;
            logWindow.clear();
        }
        const bool evalNow = config.eval.evalEverySteps > 0 ? done % config.eval.evalEverySteps == 0
                                                            : plan.endsEpoch(done);
        if (evalNow)
            evaluate(done);
        const bool checkpointNow = config.checkpoint.everySteps > 0
                                       ? done % config.checkpoint.everySteps == 0
                                       : plan.endsEpoch(done);
        if (checkpointNow || done == plan.totalSteps) {
            saveCheckpoint(done);
            lastCheckpoint = done;
        }
        reportProgress(context.options.progress, done, plan.totalSteps, "dpo");
    }
    saveLoraAdapter(*context.bundle.t5(), context.lora, runDir / "adapter");
    return RunOutcome::Finished;
}

} // namespace mp
