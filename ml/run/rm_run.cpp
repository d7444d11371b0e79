// The reward-model run (method "rm", and the first phase of "rlhf"): the Bradley-Terry loss with
// margins by degree and unsure pairs at label 0.5 (paper §1.5), NEFTune noise on the embeddings,
// accuracy per degree on the held-out pairs. The reward model is written as an adapter plus
// reward_head.safetensors (best/ and reward_model/). The step itself is RewardTrainer's
// (ml/train/reward_trainer.h).

#include <torch/torch.h>

#include "ml/core/distributed.h"
#include "ml/core/error.h"
#include "ml/models/bundle.h"
#include "ml/run/run_config.h"
#include "ml/run/run_context.h"
#include "ml/run/step_loop.h"
#include "ml/train/reward_loss.h"
#include "ml/train/reward_model.h"
#include "ml/train/reward_trainer.h"

namespace fs = std::filesystem;

namespace mp {
namespace {

// The rm run's side of a step: which pairs train (unsure ones only with rm.use_unsure), this
// rank's shard of each micro-batch, tokenised; the step itself is RewardTrainer's.
class RmTrainer {
public:
    RmTrainer(RunContext &context, RewardModel model, std::int64_t totalSteps)
        : m_context(context),
          m_trainer(std::move(model), {.margin = context.config.rm.margin,
                                       .neftuneAlpha = context.config.rm.neftuneAlpha,
                                       .optimizer = context.config.optimizer,
                                       .schedule = context.config.schedule,
                                       .warmupSteps = context.config.warmupSteps,
                                       .totalSteps = totalSteps,
                                       .maxGradNorm = context.config.maxGradNorm})
    {
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

    RewardBatch batch(const std::vector<PreferencePair> &pairs) const
    {
        RewardBatch out{.pairs = makePreferenceBatches(m_context, pairs,
                                                       static_cast<std::int64_t>(pairs.size()))
                                     .front()};
        for (const auto &pair : pairs)
            out.degrees.push_back(pair.degree);
        return out;
    }

    // One optimizer step; a data-parallel rank takes its shard of each micro-batch's usable
    // pairs, with the loss scaled by the shard's share (StepShards).
    MetricMap step(const std::vector<std::vector<PreferencePair>> &micro)
    {
        StepShards shards{.distributed = m_context.distributed,
                          .numMicro = static_cast<std::int64_t>(micro.size())};
        std::vector<RewardBatch> batches;
        for (const auto &pairsIn : micro) {
            const auto all = usable(pairsIn);
            const auto [begin, end] = m_context.distributed->shard(all.size());
            if (begin == end)
                continue;
            shards.shares.push_back(static_cast<double>(end - begin) /
                                    static_cast<double>(all.size()));
            batches.push_back(
                batch(std::vector<PreferencePair>(all.begin() + static_cast<std::ptrdiff_t>(begin),
                                                  all.begin() + static_cast<std::ptrdiff_t>(end))));
        }
        return m_trainer.step(batches, shards);
    }

    MetricMap evaluate()
    {
        const auto pairs = usable(m_context.data.eval);
        if (pairs.empty())
            return {};
        torch::NoGradGuard noGrad;
        m_trainer.model()->eval();
        std::vector<at::Tensor> chosen, rejected, losses;
        std::vector<PreferenceDegree> degrees;
        const std::size_t chunk =
            static_cast<std::size_t>(std::max<std::int64_t>(1, m_context.config.batchSize));
        for (std::size_t begin = 0; begin < pairs.size(); begin += chunk) {
            const std::vector<PreferencePair> slice(
                pairs.begin() + static_cast<std::ptrdiff_t>(begin),
                pairs.begin() + static_cast<std::ptrdiff_t>(std::min(pairs.size(), begin + chunk)));
            auto f = m_trainer.forward(batch(slice), false);
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

    void saveCheckpoint(const fs::path &directory) { m_trainer.saveCheckpoint(directory); }
    void loadCheckpoint(const fs::path &directory) { m_trainer.loadCheckpoint(directory); }
    std::int64_t globalStep() const { return m_trainer.globalStep(); }

private:
    RunContext &m_context;
    RewardTrainer m_trainer;
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
