// The DPO-family run (sigmoid, hinge, IPO, KTO-pair, ...) of `motionpref-cli train`: the T5 with
// LoRA as the policy and the same model with its adapter disabled as the reference, or (full
// fine-tuning) the whole T5 as the policy and a frozen copy of it as the reference; reference
// log-probs computed as needed or once, on the shared step loop.

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include <torch/torch.h>

#include "ml/core/distributed.h"
#include "ml/core/error.h"
#include "ml/models/bundle.h"
#include "ml/run/events.h"
#include "ml/run/run_config.h"
#include "ml/run/run_context.h"
#include "ml/run/run_monitor.h"
#include "ml/run/semi_online.h"
#include "ml/run/step_loop.h"
#include "ml/train/dpo_trainer.h"
#include "ml/train/t5_policy.h"

namespace fs = std::filesystem;

namespace mp {
namespace {

// Reference log-probs of every pair, computed once with the reference (frozen, so they never
// change).
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

// data.source semi_online: the captions' split into training and held-out ones, the held-out
// pairs built once from the starting policy (so evaluations compare like with like), and the
// training pairs rebuilt from the current policy at each epoch's start. Once per epoch rather
// than every N steps: sampling K candidates for every caption costs about as much as an epoch of
// steps, and a refresh at epoch boundaries keeps the step plan's batches and lets a resumed run
// read the epoch's pairs back (semi_online/epoch-NNN.jsonl) instead of sampling other ones.
class SemiOnlineData {
public:
    explicit SemiOnlineData(RunContext &context)
        : m_context(context),
          m_source(context.bundle, {.corpus = context.config.data.corpus,
                                    .split = context.config.data.corpusSplit,
                                    .candidates = context.config.data.candidates,
                                    .prompts = context.config.data.prompts,
                                    .poseWeight = context.config.data.poseWeight,
                                    .seed = static_cast<std::uint64_t>(context.config.seed)}),
          m_directory(context.options.runDir / "semi_online")
    {
        if (context.distributed->active())
            throw InputError("config: data.source semi_online samples its pairs in one process; "
                             "run it without data-parallel ranks");
        std::vector<PreferencePair> slots(m_source.size());
        for (std::size_t i = 0; i < slots.size(); ++i)
            slots[i].pairId = static_cast<std::int64_t>(i) + 1;
        auto split = splitPreferencePairs(slots, context.config.data.evalFraction,
                                          static_cast<std::uint64_t>(context.config.seed));
        if (split.trainIds.empty()) {
            if (split.evalIds.size() < 2)
                throw InputError(context.config.data.corpus + ": split '" +
                                 context.config.data.corpusSplit + "' gives " +
                                 std::to_string(slots.size()) +
                                 " caption(s), too few for a training split");
            split.trainIds.push_back(split.evalIds.back());
            split.evalIds.pop_back();
        }
        for (const auto id : split.trainIds)
            m_train.push_back(static_cast<std::size_t>(id - 1));
        for (const auto id : split.evalIds)
            m_eval.push_back(static_cast<std::size_t>(id - 1));
        if (context.writer()) {
            fs::create_directories(m_directory);
            writePairIdList(split.trainIds, context.options.runDir / "train_ids.txt");
            writePairIdList(split.evalIds, context.options.runDir / "eval_ids.txt");
        }
        // Placeholders until the first refresh: the plan counts the training captions.
        context.data.train.assign(m_train.size(), PreferencePair{});
        if (!m_eval.empty())
            context.data.eval = pairsOf(m_directory / "eval.jsonl", m_eval, 0, "held-out", 0);
    }

    // The pairs of the epoch that step starts (or, on a resume, is inside of).
    void refresh(std::int64_t epoch, std::int64_t step)
    {
        auto pairs =
            pairsOf(m_directory / epochFile(epoch), m_train, static_cast<std::uint64_t>(epoch) + 1,
                    "epoch " + std::to_string(epoch + 1), step);
        // A caption whose candidates were all empty has no pair: the plan's count is kept by
        // repeating the first pairs.
        const std::size_t built = pairs.size();
        for (std::size_t i = 0; pairs.size() < m_train.size() && built > 0; ++i)
            pairs.push_back(pairs[i % built]);
        if (pairs.empty())
            throw InputError("semi-online pairs: the policy gave no motion codes for any caption "
                             "of epoch " +
                             std::to_string(epoch + 1));
        m_context.data.train = std::move(pairs);
    }

private:
    static std::string epochFile(std::int64_t epoch)
    {
        char name[32];
        std::snprintf(name, sizeof name, "epoch-%03lld.jsonl", static_cast<long long>(epoch + 1));
        return name;
    }

    std::vector<PreferencePair> pairsOf(const fs::path &file,
                                        const std::vector<std::size_t> &indices,
                                        std::uint64_t refresh, const std::string &what,
                                        std::int64_t step)
    {
        if (m_context.options.resume && fs::exists(file)) {
            auto pairs = readPreferencePairs(file);
            m_context.events.write(
                {.type = EventType::Warning,
                 .step = step,
                 .text = {{"message", "semi-online pairs of " + what + " read back from " +
                                          file.string() + " (" + std::to_string(pairs.size()) +
                                          " pairs)"}}});
            return pairs;
        }
        const auto built = m_source.build(indices, refresh);
        std::vector<PreferencePair> pairs;
        for (const auto &item : built.pairs)
            pairs.push_back(item.pair);
        if (m_context.writer())
            writePreferencePairs(pairs, file);
        const std::int64_t k = m_context.config.data.candidates;
        m_context.events.write(
            {.type = EventType::Warning,
             .step = step,
             .metrics = {{"semi_online/pairs", static_cast<double>(pairs.size())},
                         {"semi_online/candidate_score_mean", built.meanCandidateScore},
                         {"semi_online/rejected_score_mean", built.meanRejectedScore},
                         {"semi_online/empty_candidates", static_cast<double>(built.degenerate)}},
             .text = {{"message",
                       "semi-online pairs of " + what + ": " + std::to_string(pairs.size()) +
                           " built from " + std::to_string(indices.size()) + " captions × " +
                           std::to_string(k) +
                           " policy samples (chosen: the caption's clip; rejected: the "
                           "lowest-scored sample, mean score " +
                           std::to_string(built.meanRejectedScore) + " of " +
                           std::to_string(built.meanCandidateScore) + " over all samples)"}}});
        return pairs;
    }

    RunContext &m_context;
    SemiOnlineSource m_source;
    fs::path m_directory;
    std::vector<std::size_t> m_train;
    std::vector<std::size_t> m_eval;
};

} // namespace

RunOutcome runDpo(RunContext &context)
{
    const RunConfig &config = context.config;
    const fs::path &runDir = context.options.runDir;
    T5Policy policy(context.bundle.t5(), {.disableDropout = config.dpo.disableDropout,
                                          .fullFineTuning = !config.lora.enabled});
    std::unique_ptr<SemiOnlineData> semiOnline;
    if (config.data.source == DataSource::SemiOnline)
        semiOnline = std::make_unique<SemiOnlineData>(context);
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
        if (!semiOnline) // its training pairs are filled at each refresh
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

    const std::int64_t startStep = trainer.globalStep();
    StepLoopHooks hooks{
        .stage = "dpo",
        .startStep = startStep,
        .beforeStep =
            [&](std::int64_t step) {
                if (!semiOnline || (step % plan.stepsPerEpoch != 0 && step != startStep))
                    return;
                semiOnline->refresh(plan.epochOf(step), step);
                if (config.dpo.precomputeRefLogps)
                    references.fill(context, policy, context.data.train, logProbs);
            },
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
                if (config.lora.enabled)
                    saveLoraAdapter(*context.bundle.t5(), context.lora, directory);
                else
                    saveFineTunedBundle(context, directory);
            },
        .finalDirectory = finalModelDirectory(config),
        .policyMotionMetrics = true,
        .rankRandomStreams = true,
    };
    return runStepLoop(context, plan, hooks);
}

} // namespace mp
