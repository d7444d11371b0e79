// The DPO-family run (sigmoid, hinge, IPO, KTO-pair, ...) of `motionpref-cli train`: the T5 with
// LoRA as the policy, the same model with its adapter disabled as the reference (or reference
// log-probs computed once), on the shared step loop.

#include <algorithm>
#include <cmath>
#include <map>

#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/models/bundle.h"
#include "ml/run/events.h"
#include "ml/run/run_config.h"
#include "ml/run/run_context.h"
#include "ml/run/run_monitor.h"
#include "ml/run/step_loop.h"
#include "ml/train/dpo_trainer.h"
#include "ml/train/t5_policy.h"

namespace fs = std::filesystem;

namespace mp {
namespace {

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
    const StepPlan plan(static_cast<std::int64_t>(context.data.train.size()), config.batchSize,
                        config.gradAccum, config.epochs);

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
        .rpoAlpha = config.dpo.rpoAlpha,
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

    StepLoopHooks hooks{
        .stage = "dpo",
        .startStep = trainer.globalStep(),
        .step =
            [&](const std::vector<std::vector<PreferencePair>> &pairs) {
                std::vector<PreferenceBatch> micro;
                for (const auto &batchPairs : pairs)
                    micro.push_back(batchesOf(batchPairs).front());
                return trainer.step(micro);
            },
        .evaluate =
            [&]() { return evalBatches.empty() ? MetricMap{} : trainer.evaluate(evalBatches); },
        .saveCheckpoint = [&](const fs::path &directory) { trainer.saveCheckpoint(directory); },
        .saveModel =
            [&](const fs::path &directory) {
                saveLoraAdapter(*context.bundle.t5(), context.lora, directory);
            },
        .policyMotionMetrics = true,
    };
    return runStepLoop(context, plan, hooks);
}

} // namespace mp
