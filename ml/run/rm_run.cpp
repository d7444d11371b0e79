// The reward-model run (method "rm", and the first phase of "rlhf"): the Bradley-Terry loss with
// margins by degree and unsure pairs at label 0.5 (paper §1.5), NEFTune noise on the embeddings,
// accuracy per degree on the held-out pairs. The reward model is written as an adapter plus
// reward_head.safetensors (best/ and reward_model/).

#include <torch/torch.h>

#include "ml/core/distributed.h"
#include "ml/core/error.h"
#include "ml/models/bundle.h"
#include "ml/run/run_config.h"
#include "ml/run/run_context.h"
#include "ml/run/step_loop.h"
#include "ml/train/checkpoint.h"
#include "ml/train/dpo_trainer.h"
#include "ml/train/guarded_step.h"
#include "ml/train/reward_loss.h"
#include "ml/train/reward_model.h"
#include "ml/train/schedule.h"

namespace fs = std::filesystem;

namespace mp {
namespace {

const TrainerIdentity kRmIdentity{.method = "rm", .version = 1};

struct RmForward {
    at::Tensor loss;
    at::Tensor chosen;
    at::Tensor rejected;
};

class RmTrainer {
public:
    RmTrainer(RunContext &context, RewardModel model, std::int64_t totalSteps)
        : m_context(context), m_model(std::move(model)), m_params(m_model->trainableParameters())
    {
        m_optimizer = makeOptimizer(m_params, context.config.optimizer);
        m_scheduler = std::make_unique<LrScheduler>(*m_optimizer, context.config.schedule,
                                                    context.config.warmupSteps, totalSteps);
    }

    std::vector<PreferencePair> usable(const std::vector<PreferencePair> &pairs) const
    {
        if (m_context.config.rm.useUnsure)
            return pairs;
        std::vector<PreferencePair> out;
        for (const auto &pair : pairs)
            if (pair.degree != PreferenceDegree::Unsure)
                out.push_back(pair);
        return out;
    }

    RmForward forward(const std::vector<PreferencePair> &pairs, bool training)
    {
        const auto batch =
            makePreferenceBatches(m_context, pairs, static_cast<std::int64_t>(pairs.size()))
                .front();
        const double alpha = training ? m_context.config.rm.neftuneAlpha : 0.0;
        // Chosen and rejected through one forward: [2B].
        const auto labels = concatenatedLabels(batch.chosenLabels, batch.rejectedLabels);
        const auto scores = m_model->score(batch.promptIds.repeat({2, 1}),
                                           batch.promptMask.repeat({2, 1}), labels, alpha);
        const auto b = static_cast<std::int64_t>(pairs.size());
        std::vector<PreferenceDegree> degrees;
        for (const auto &pair : pairs)
            degrees.push_back(pair.degree);
        RmForward out{.chosen = scores.slice(0, 0, b), .rejected = scores.slice(0, b)};
        const auto margin = rewardMargins(degrees, m_context.config.rm.margin).to(scores.device());
        const auto label = rewardLabels(degrees).to(scores.device());
        out.loss = rewardLosses(out.chosen, out.rejected, margin, label).mean();
        return out;
    }

    // One optimizer step; a data-parallel rank takes its shard of each micro-batch's usable
    // pairs, with the loss scaled by the shard's share (StepShards).
    MetricMap step(const std::vector<std::vector<PreferencePair>> &micro)
    {
        m_model->train();
        m_optimizer->zero_grad();
        Distributed &distributed = *m_context.distributed;
        MetricAverager averager;
        bool finite = true;
        for (const auto &pairsIn : micro) {
            const auto all = usable(pairsIn);
            const auto [begin, end] = distributed.shard(all.size());
            if (begin == end)
                continue;
            const double share = static_cast<double>(end - begin) / static_cast<double>(all.size());
            const std::vector<PreferencePair> pairs(all.begin() +
                                                        static_cast<std::ptrdiff_t>(begin),
                                                    all.begin() + static_cast<std::ptrdiff_t>(end));
            auto f = forward(pairs, true);
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
            ((f.loss * share) / static_cast<double>(micro.size())).backward();
        }
        finite = reduceStep(&distributed, finite, m_params, averager);
        MetricMap metrics = averager.mean();
        if (finishOptimizerStep(metrics, finite, m_params, m_context.config.maxGradNorm,
                                *m_optimizer, *m_scheduler))
            ++m_step;
        return metrics;
    }

    MetricMap evaluate()
    {
        const auto pairs = usable(m_context.data.eval);
        if (pairs.empty())
            return {};
        torch::NoGradGuard noGrad;
        m_model->eval();
        std::vector<at::Tensor> chosen, rejected, losses;
        std::vector<PreferenceDegree> degrees;
        const std::size_t chunk =
            static_cast<std::size_t>(std::max<std::int64_t>(1, m_context.config.batchSize));
        for (std::size_t begin = 0; begin < pairs.size(); begin += chunk) {
            const std::vector<PreferencePair> slice(
                pairs.begin() + static_cast<std::ptrdiff_t>(begin),
                pairs.begin() + static_cast<std::ptrdiff_t>(std::min(pairs.size(), begin + chunk)));
            auto f = forward(slice, false);
            chosen.push_back(f.chosen.cpu());
            rejected.push_back(f.rejected.cpu());
            losses.push_back(f.loss.cpu() * static_cast<double>(slice.size()));
            for (const auto &pair : slice)
                degrees.push_back(pair.degree);
        }
        const auto c = torch::cat(chosen), r = torch::cat(rejected);
        MetricMap metrics = rewardAccuracyByDegree(c, r, degrees);
        metrics["loss"] =
            torch::stack(losses).sum().item<double>() / static_cast<double>(pairs.size());
        metrics["rewards/chosen"] = c.mean().item<double>();
        metrics["rewards/rejected"] = r.mean().item<double>();
        metrics["rewards/margins"] = (c - r).mean().item<double>();
        MetricMap out;
        mergeMetrics(out, metrics, "eval_");
        return out;
    }

    void saveCheckpoint(const fs::path &directory)
    {
        saveTrainingCheckpoint(
            directory, kRmIdentity,
            [&](torch::serialize::OutputArchive &archive) {
                writeTensorList(archive, m_params, "param.");
            },
            *m_optimizer, *m_scheduler, TrainerState{.step = m_step});
    }

    void loadCheckpoint(const fs::path &directory)
    {
        m_step = loadTrainingCheckpoint(
                     directory, kRmIdentity,
                     [&](torch::serialize::InputArchive &archive) {
                         readTensorList(archive, m_params, "param.");
                     },
                     *m_optimizer, *m_scheduler)
                     .step;
    }

    std::int64_t globalStep() const { return m_step; }
    RewardModel &model() { return m_model; }

private:
    RunContext &m_context;
    RewardModel m_model;
    std::vector<at::Tensor> m_params;
    std::unique_ptr<torch::optim::Optimizer> m_optimizer;
    std::unique_ptr<LrScheduler> m_scheduler;
    std::int64_t m_step = 0;
};

} // namespace

RunOutcome trainRewardModel(RunContext &context, const fs::path &finalDirectory)
{
    const RunConfig &config = context.config;
    const StepPlan plan(static_cast<std::int64_t>(context.data.train.size()), config.batchSize,
                        config.gradAccum, config.epochs);
    RewardModel model(context.bundle.t5());
    model->to(context.device);
    RmTrainer trainer(context, model, plan.totalSteps);
    if (context.options.resume)
        if (const auto checkpoint = latestCheckpoint(context.options.runDir))
            trainer.loadCheckpoint(*checkpoint);
    if (trainer.globalStep() >= plan.totalSteps && fs::exists(finalDirectory))
        return RunOutcome::Finished; // a resumed rlhf run whose RM phase is complete

    StepLoopHooks hooks{
        .stage = "rm",
        .startStep = trainer.globalStep(),
        .step =
            [&](const std::vector<std::vector<PreferencePair>> &micro) {
                return trainer.step(micro);
            },
        .evaluate = [&]() { return trainer.evaluate(); },
        .saveCheckpoint = [&](const fs::path &directory) { trainer.saveCheckpoint(directory); },
        .saveModel = [&](const fs::path &directory) { model->save(directory, context.lora); },
        .finalDirectory = finalDirectory.filename().string(),
        .rankRandomStreams = true,
    };
    return runStepLoop(context, plan, hooks);
}

RunOutcome runRewardModel(RunContext &context)
{
    return trainRewardModel(context, context.options.runDir / "reward_model");
}

} // namespace mp
