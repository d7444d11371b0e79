// PPO against a reward model (method "ppo"), and RLHF (method "rlhf": the reward model first, in
// RUN/reward_model_run, then PPO against it). Per step, TRL's loop (spec §4): sample a response
// per prompt from the policy, score it with the reward model, per-token KL penalty against the
// reference (the policy with its adapter disabled), GAE with values from a separate critic (the
// reward model's T5 and adapter with a zero-initialised value head; ppo.critic "separate", the
// paper's ppo_sep_critic.py), from a value head on the policy's decoder states ("value_head", its
// ppo.py, TRL's default) or none ("none": values 0), then ppo_epochs of clipped policy and value
// updates over shuffled mini-batches; the KL coefficient adapts. The run generates, scores and
// exchanges the rollouts; the step after generation is PpoTrainer's (ml/train/ppo_trainer.h),
// which the side-by-side benchmark times too.

#include <algorithm>

#include <torch/torch.h>

#include "ml/core/distributed.h"
#include "ml/core/error.h"
#include "ml/models/bundle.h"
#include "ml/models/sampler_loop.h"
#include "ml/run/events.h"
#include "ml/run/run_config.h"
#include "ml/run/run_context.h"
#include "ml/run/run_monitor.h"
#include "ml/run/step_loop.h"
#include "ml/train/checkpoint.h"
#include "ml/train/logprobs.h"
#include "ml/train/ppo_math.h"
#include "ml/train/ppo_trainer.h"
#include "ml/train/preference_data.h"
#include "ml/train/reward_model.h"
#include "ml/train/schedule.h"

namespace fs = std::filesystem;

namespace mp {
namespace {

// The trainer's options from the run's settings.
PpoTrainerOptions trainerOptions(const RunContext &context, std::int64_t totalSteps)
{
    const PpoSettings &settings = context.config.ppo;
    OptimizerSettings optimizer = context.config.optimizer;
    optimizer.kind = settings.optimizer;
    optimizer.lr = settings.learningRate;
    return {.optimizer = optimizer,
            .totalSteps = totalSteps,
            .miniBatchSize = settings.miniBatchSize,
            .ppoEpochs = settings.ppoEpochs,
            .maxGradNorm = settings.maxGradNorm,
            .adaptiveKl = settings.adapKlCtrl,
            .initKlCoef = settings.initKlCoef,
            .klTarget = settings.target,
            .klHorizon = settings.horizon,
            .klPenalty = settings.klPenalty,
            .gae = {.gamma = settings.gamma,
                    .lam = settings.lam,
                    .whitenRewards = settings.whitenRewards},
            .loss = {.cliprange = settings.cliprange,
                     .cliprangeValue = settings.cliprangeValue,
                     .vfCoef = settings.vfCoef,
                     .ratioThreshold = settings.ratioThreshold},
            .scoreTransform = {.useScaling = settings.useScoreScaling,
                               .useNorm = settings.useScoreNorm,
                               .clip = settings.scoreClip},
            .valueHead = settings.critic == PpoCritic::ValueHead,
            .valueHeadDropout = settings.valueHeadDropout,
            .shuffleSeed = static_cast<std::uint64_t>(context.config.seed),
            .distributed = context.distributed};
}

// The run's side of PPO: sampling and scoring the rollouts, exchanging them between ranks, the
// held-out evaluation; the step after generation is PpoTrainer's.
class PpoRun {
public:
    PpoRun(RunContext &context, RewardModel rewardModel, RewardModel critic,
           std::int64_t totalSteps)
        : m_context(context), m_settings(context.config.ppo), m_reward(std::move(rewardModel)),
          m_trainer(context.bundle.t5(), std::move(critic), trainerOptions(context, totalSteps))
    {
        m_reward->eval();
    }

    // One PPO step on the prompts of these pairs (the pairs' motions are not used). Data-parallel
    // ranks each sample, score and evaluate their shard of the prompts (the costly part), then
    // exchange the rollouts; the PPO epochs run on the whole rollout on every rank, their
    // gradients averaged over the ranks, so every rank holds the same weights. (The update does
    // not split by example: its losses are token means over each mini-batch.)
    MetricMap step(const std::vector<PreferencePair> &pairs, std::int64_t stepIndex)
    {
        const auto [first, last] = m_context.distributed->shard(pairs.size());
        const PpoRollout rollout = gather(
            collect(std::vector<PreferencePair>(pairs.begin() + static_cast<std::ptrdiff_t>(first),
                                                pairs.begin() + static_cast<std::ptrdiff_t>(last)),
                    stepIndex, m_settings.temperature, static_cast<std::int64_t>(first)),
            static_cast<std::int64_t>(first), static_cast<std::int64_t>(pairs.size()));
        PpoStepResult result = m_trainer.update(rollout, stepIndex);
        for (const auto &warning : result.warnings)
            m_context.events.write({.type = EventType::Warning,
                                    .step = stepIndex + 1,
                                    .text = {{"message", warning}}});
        return std::move(result.metrics);
    }

    // Mean raw reward-model score and KL of samples for held-out prompts (fixed seeds).
    MetricMap evaluate(const std::vector<PreferencePair> &pairs)
    {
        if (pairs.empty())
            return {};
        // Chunks of the batch size, each seeded by its start; data-parallel ranks take their
        // share of the chunks and sum the (score, KL) rows, zero where another rank wrote.
        const std::size_t chunk =
            static_cast<std::size_t>(std::max<std::int64_t>(1, m_settings.batchSize));
        const std::size_t numChunks = (pairs.size() + chunk - 1) / chunk;
        const auto [firstChunk, lastChunk] = m_context.distributed->shard(numChunks);
        std::vector<at::Tensor> rows{
            torch::zeros({static_cast<std::int64_t>(pairs.size()), 2}, torch::kDouble)};
        for (std::size_t c = firstChunk; c < lastChunk; ++c) {
            const std::size_t begin = c * chunk, end = std::min(pairs.size(), begin + chunk);
            const std::vector<PreferencePair> slice(
                pairs.begin() + static_cast<std::ptrdiff_t>(begin),
                pairs.begin() + static_cast<std::ptrdiff_t>(end));
            const PpoRollout rollout =
                collect(slice, -1 - static_cast<std::int64_t>(begin), m_settings.temperature);
            const auto kl =
                maskedMean(klPenalty(rollout.logprobs, rollout.refLogprobs, KlPenalty::Kl),
                           rollout.mask, 1) *
                rollout.mask.sum(1);
            rows[0].slice(0, static_cast<std::int64_t>(begin), static_cast<std::int64_t>(end)) =
                torch::stack({rollout.rawScores.to(torch::kDouble), kl.to(torch::kDouble)}, 1)
                    .cpu();
        }
        m_context.distributed->allReduceSum(rows);
        const auto mean = rows[0].mean(0);
        return {{"env/reward_mean", mean[0].item<double>()},
                {"objective/kl", mean[1].item<double>()}};
    }

    void saveCheckpoint(const fs::path &directory) { m_trainer.saveCheckpoint(directory); }
    void loadCheckpoint(const fs::path &directory) { m_trainer.loadCheckpoint(directory); }
    std::int64_t globalStep() const { return m_trainer.globalStep(); }

private:
    T5Model &policy() { return m_context.bundle.t5(); }

    // Rows [first, first + local rows) of a [total, ...] tensor whose other rows the other ranks
    // hold: summed over the ranks, each padded to the longest row with `pad`.
    at::Tensor gatherRows(const at::Tensor &local, std::int64_t first, std::int64_t total,
                          double pad)
    {
        Distributed &distributed = *m_context.distributed;
        const auto world = static_cast<std::int64_t>(distributed.worldSize());
        std::vector<at::Tensor> widths{torch::zeros({world}, torch::kLong)};
        if (local.dim() > 1)
            widths[0][distributed.rank()] = local.size(1);
        distributed.allReduceSum(widths);
        std::vector<std::int64_t> shape = local.sizes().vec();
        shape[0] = total;
        if (local.dim() > 1)
            shape[1] = widths[0].max().item<std::int64_t>();
        // (x - pad) is zero in every rank's padding and in the other ranks' rows; + pad after.
        std::vector<at::Tensor> sum{torch::zeros(shape, local.options())};
        if (local.size(0) > 0) {
            at::Tensor rows = sum[0].slice(0, first, first + local.size(0));
            if (local.dim() > 1)
                rows = rows.slice(1, 0, local.size(1));
            rows.copy_(local - pad);
        }
        distributed.allReduceSum(sum);
        return (sum[0] + pad).to(local.dtype());
    }

    // Every rank's rollout rows in one rollout (this rank's are rows first...).
    PpoRollout gather(PpoRollout local, std::int64_t first, std::int64_t total)
    {
        if (!m_context.distributed->active())
            return local;
        const double padId = static_cast<double>(m_context.bundle.tokenizer().padId());
        PpoRollout all;
        all.promptIds = gatherRows(local.promptIds, first, total, padId);
        all.promptMask = gatherRows(local.promptMask, first, total, 0);
        all.labels = gatherRows(local.labels, first, total, kIgnoreLabel);
        all.mask = gatherRows(local.mask, first, total, 0);
        all.rawScores = gatherRows(local.rawScores, first, total, 0);
        all.logprobs = gatherRows(local.logprobs, first, total, 0);
        all.refLogprobs = gatherRows(local.refLogprobs, first, total, 0);
        all.values = gatherRows(local.values, first, total, 0);
        return all;
    }

    // Rollouts of these prompts, scored and evaluated (PpoTrainer::evaluate); prompt i is sampled
    // with the seed of index firstIndex + i of the step, so a shard samples what one process does
    // for the same prompts.
    PpoRollout collect(const std::vector<PreferencePair> &pairs, std::int64_t stepIndex,
                       double temperature, std::int64_t firstIndex = 0)
    {
        const auto &bundle = m_context.bundle;
        const auto &tokenizer = bundle.tokenizer();
        if (pairs.empty()) { // a data-parallel rank whose shard of a short batch is empty
            const auto longs = torch::TensorOptions().dtype(torch::kLong).device(m_context.device);
            const auto floats = longs.dtype(torch::kFloat);
            PpoRollout none;
            none.promptIds = torch::zeros({0, 0}, longs);
            none.promptMask = torch::zeros({0, 0}, longs);
            none.labels = torch::zeros({0, 0}, longs);
            none.mask = torch::zeros({0, 0}, floats);
            none.rawScores = torch::zeros({0}, floats);
            none.logprobs = torch::zeros({0, 0}, floats);
            none.refLogprobs = torch::zeros({0, 0}, floats);
            none.values = torch::zeros({0, 0}, floats);
            return none;
        }
        std::vector<std::vector<std::int64_t>> prompts, masks, responses;
        const std::vector<std::int64_t> stops = {bundle.config().tokens.eomId(), tokenizer.eosId()};
        for (std::size_t i = 0; i < pairs.size(); ++i) {
            auto ids = bundle.encodePrompt(pairs[i].prompt);
            GenerateOptions options;
            options.sampling = {
                .temperature = temperature, .topK = m_settings.topK, .topP = m_settings.topP};
            options.seeds = {static_cast<std::uint64_t>(m_context.config.seed) * 1000003ULL +
                             static_cast<std::uint64_t>(stepIndex * 4096 + firstIndex +
                                                        static_cast<std::int64_t>(i))};
            options.maxMotionTokens = m_settings.maxNewTokens;
            auto generated = generateTokens(policy(), ids, stops, options).sequences.front();
            // The reward model was trained on SOM codes EOM </s>: end every response alike.
            if (generated.empty() || generated.back() != tokenizer.eosId())
                generated.push_back(tokenizer.eosId());
            prompts.push_back(ids);
            masks.emplace_back(ids.size(), 1);
            responses.push_back(std::move(generated));
        }
        PpoRollout rollout;
        const auto device = m_context.device;
        rollout.promptIds = padRows(prompts, tokenizer.padId()).to(device);
        rollout.promptMask = padRows(masks, 0).to(device);
        rollout.labels = padRows(responses, kIgnoreLabel).to(device);
        rollout.mask = rollout.labels.ne(kIgnoreLabel).to(torch::kFloat);
        {
            torch::NoGradGuard noGrad;
            policy()->eval();
            rollout.rawScores =
                m_reward->score(rollout.promptIds, rollout.promptMask, rollout.labels);
        }
        m_trainer.evaluate(rollout);
        return rollout;
    }

    RunContext &m_context;
    const PpoSettings &m_settings;
    RewardModel m_reward;
    PpoTrainer m_trainer;
};

// A reward model (or, zeroHead, a critic) on its own copy of the base T5.
RewardModel loadRewardModel(RunContext &context, const fs::path &directory, bool zeroHead)
{
    ModelBundle copy(context.modelDir, context.device);
    RewardModel model(copy.t5(), false);
    model->load(directory);
    model->to(context.device);
    if (zeroHead) {
        torch::NoGradGuard noGrad;
        model->head->weight.zero_();
        model->head->bias.zero_();
    }
    return model;
}

// The rlhf run's first phase: a reward model in RUN/reward_model_run with its own events.
fs::path rewardModelPhase(RunContext &context)
{
    const fs::path phaseDir = context.options.runDir / "reward_model_run";
    const fs::path finalDir = phaseDir / "reward_model";
    if (context.writer())
        fs::create_directories(phaseDir / "checkpoints");
    ModelBundle rmBundle(context.modelDir, context.device);
    applyLora(*rmBundle.t5(), context.lora);
    TrainRunOptions phaseOptions = context.options;
    phaseOptions.runDir = phaseDir;
    phaseOptions.resume = context.options.resume && fs::exists(phaseDir / "events.jsonl");
    EventWriter events = context.writer() ? EventWriter(phaseDir / "events.jsonl")
                                          : EventWriter::discarding(phaseDir / "events.jsonl");
    RunMonitor monitor(events);
    RunContext phase{.config = context.config,
                     .options = phaseOptions,
                     .events = events,
                     .monitor = monitor,
                     .bundle = rmBundle,
                     .modelDir = context.modelDir,
                     .device = context.device,
                     .data = context.data,
                     .lora = context.lora,
                     .distributed = context.distributed};
    const RunOutcome outcome = trainRewardModel(phase, finalDir);
    if (outcome != RunOutcome::Finished)
        throw InputError(std::string("the reward-model phase ") +
                         (outcome == RunOutcome::Stopped ? "was stopped" : "failed") + "; see " +
                         (phaseDir / "events.jsonl").string());
    context.events.write({.type = EventType::Warning,
                          .text = {{"message", "reward model trained: " + finalDir.string()}}});
    return resolveRewardModelDir(phaseDir);
}

} // namespace

RunOutcome runPpo(RunContext &context)
{
    const RunConfig &config = context.config;
    const PpoSettings &settings = config.ppo;
    fs::path rewardDir;
    if (config.method == TrainMethod::Rlhf)
        rewardDir = rewardModelPhase(context);
    else if (settings.rewardModel.empty())
        throw InputError("config: ppo.reward_model (a reward model or rm run directory) is "
                         "required for method ppo");
    else
        rewardDir = resolveRewardModelDir(settings.rewardModel);

    RewardModel rewardModel = loadRewardModel(context, rewardDir, false);
    RewardModel critic{nullptr};
    if (settings.critic == PpoCritic::Separate)
        critic = loadRewardModel(context, rewardDir, true);
    const StepPlan plan(static_cast<std::int64_t>(context.data.train.size()), settings.batchSize, 1,
                        settings.epochs);
    PpoRun trainer(context, rewardModel, critic, plan.totalSteps);
    if (context.options.resume)
        if (const auto checkpoint = latestCheckpoint(context.options.runDir))
            trainer.loadCheckpoint(*checkpoint);

    StepLoopHooks hooks{
        .stage = "ppo",
        .startStep = trainer.globalStep(),
        .step =
            [&](const std::vector<std::vector<PreferencePair>> &micro) {
                return trainer.step(micro.front(), trainer.globalStep());
            },
        .evaluate = [&]() { return trainer.evaluate(context.data.eval); },
        .saveCheckpoint = [&](const fs::path &directory) { trainer.saveCheckpoint(directory); },
        .saveModel =
            [&](const fs::path &directory) {
                saveLoraAdapter(*context.bundle.t5(), context.lora, directory);
            },
        .bestMetric = config.method == TrainMethod::Rlhf ? "env/reward_mean" : "",
        .policyMotionMetrics = true,
    };
    return runStepLoop(context, plan, hooks);
}

} // namespace mp
