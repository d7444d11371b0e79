// The DPO-family run (sigmoid, hinge, IPO, KTO-pair, ...) of `motionpref-cli train`: the T5 with
// LoRA as the policy, the same model with its adapter disabled as the reference (or reference
// log-probs computed once), on the shared step loop.

#include <algorithm>
#include <cmath>
#include <map>

#include <torch/torch.h>

#include "ml/core/distributed.h"
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
    // Data-parallel ranks compute their shard of the pairs and exchange the values.
    void fill(RunContext &context, PolicyModel &policy, const std::vector<PreferencePair> &pairs,
              const LogProbOptions &logProbs)
    {
        const auto [first, last] = context.distributed->shard(pairs.size());
        std::vector<at::Tensor> values{
            torch::zeros({static_cast<std::int64_t>(pairs.size()), 2}, torch::kDouble)};
        const std::size_t chunk = 64;
        for (std::size_t begin = first; begin < last; begin += chunk) {
            const std::size_t end = std::min(last, begin + chunk);
            const std::vector<PreferencePair> slice(
                pairs.begin() + static_cast<std::ptrdiff_t>(begin),
                pairs.begin() + static_cast<std::ptrdiff_t>(end));
            const auto batch =
                makePreferenceBatches(context, slice, static_cast<std::int64_t>(chunk)).front();
            const auto ref = referenceLogProbs(policy, batch, logProbs);
            values[0].slice(0, static_cast<std::int64_t>(begin), static_cast<std::int64_t>(end)) =
                torch::stack({ref.chosen, ref.rejected}, 1).to(torch::kCPU, torch::kDouble);
        }
        context.distributed->allReduceSum(values);
        const auto all = values[0].contiguous();
        const double *row = all.data_ptr<double>();
        for (std::size_t i = 0; i < pairs.size(); ++i)
            m_logps[pairs[i].pairId] = {row[2 * i], row[2 * i + 1]};
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
    Distributed &distributed = *context.distributed;
    if (distributed.active() && config.dpo.loss == DpoLossType::BcoPair)
        throw InputError("config: dpo.loss bco_pair keeps running moments of each batch's "
                         "rewards, which data-parallel ranks would each see only a shard of; run "
                         "it as one process");
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
    // Each rank evaluates its share of the held-out batches; the means are reduced.
    const auto allEvalBatches = batchesOf(context.data.eval);
    const auto [evalBegin, evalEnd] = distributed.shard(allEvalBatches.size());
    const std::vector<PreferenceBatch> evalBatches(
        allEvalBatches.begin() + static_cast<std::ptrdiff_t>(evalBegin),
        allEvalBatches.begin() + static_cast<std::ptrdiff_t>(evalEnd));

    StepLoopHooks hooks{
        .stage = "dpo",
        .startStep = trainer.globalStep(),
        .step =
            [&](const std::vector<std::vector<PreferencePair>> &pairs) {
                // This rank's shard of every micro-batch (the whole of it in a plain run).
                StepShards shards{.distributed = &distributed,
                                  .numMicro = static_cast<std::int64_t>(pairs.size())};
                std::vector<PreferenceBatch> micro;
                for (const auto &batchPairs : pairs) {
                    const auto [begin, end] = distributed.shard(batchPairs.size());
                    if (begin == end)
                        continue;
                    micro.push_back(
                        batchesOf(std::vector<PreferencePair>(
                                      batchPairs.begin() + static_cast<std::ptrdiff_t>(begin),
                                      batchPairs.begin() + static_cast<std::ptrdiff_t>(end)))
                            .front());
                    shards.shares.push_back(static_cast<double>(end - begin) /
                                            static_cast<double>(batchPairs.size()));
                }
                return trainer.step(micro, shards);
            },
        .evaluate =
            [&]() {
                return allEvalBatches.empty() ? MetricMap{}
                                              : trainer.evaluate(evalBatches, &distributed);
            },
        .saveCheckpoint = [&](const fs::path &directory) { trainer.saveCheckpoint(directory); },
        .saveModel =
            [&](const fs::path &directory) {
                saveLoraAdapter(*context.bundle.t5(), context.lora, directory);
            },
        .policyMotionMetrics = true,
        .rankRandomStreams = true,
    };
    return runStepLoop(context, plan, hooks);
}

} // namespace mp
