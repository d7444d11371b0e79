#include "ml/run/train_run.h"

#include <exception>
#include <memory>
#include <system_error>

#include <torch/torch.h>

#include "ml/core/atomic_write.h"
#include "ml/core/blas_threads.h"
#include "ml/core/device.h"
#include "ml/core/distributed.h"
#include "ml/core/error.h"
#include "ml/core/memory_policy.h"
#include "ml/core/paths.h"
#include "ml/models/bundle.h"
#include "ml/run/events.h"
#include "ml/run/policy_motion_eval.h"
#include "ml/run/run_config.h"
#include "ml/run/run_context.h"
#include "ml/run/run_monitor.h"
#include "ml/train/dpo_trainer.h"

namespace fs = std::filesystem;

namespace mp {
namespace {

RunMonitorOptions monitorOptionsOf(const RunConfig &config)
{
    RunMonitorOptions options;
    options.spike.window = config.monitor.spikeWindow;
    options.spike.minHistory = config.monitor.spikeMinHistory;
    options.spike.threshold = config.monitor.spikeThreshold;
    options.divergence.maxKl = config.monitor.maxKl;
    return options;
}

std::vector<std::int64_t> promptIds(const ModelBundle &bundle, const std::string &prompt,
                                    std::int64_t maxLength)
{
    // encodePrompt rejects blank prompts; the bundle's own limit applies before ours.
    auto ids = bundle.encodePrompt(prompt);
    if (static_cast<std::int64_t>(ids.size()) > maxLength) {
        ids.resize(static_cast<std::size_t>(maxLength));
        ids.back() = bundle.tokenizer().eosId();
    }
    return ids;
}

} // namespace

std::string finalModelDirectory(const RunConfig &config)
{
    return config.lora.enabled ? "adapter" : "model";
}

LoraConfig loraConfigOf(const RunConfig &config)
{
    LoraConfig lora;
    lora.rank = config.lora.r;
    lora.alpha = config.lora.alpha;
    lora.dropout = config.lora.dropout;
    lora.targetModules = config.lora.targets;
    lora.baseModel = config.model;
    return lora;
}

std::vector<PreferenceBatch> makePreferenceBatches(const RunContext &context,
                                                   const std::vector<PreferencePair> &pairs,
                                                   std::int64_t batchSize)
{
    const auto &tokenizer = context.bundle.tokenizer();
    const auto &dpo = context.config.dpo;
    std::vector<PreferenceBatch> batches;
    for (std::size_t begin = 0; begin < pairs.size();
         begin += static_cast<std::size_t>(batchSize)) {
        const std::size_t end = std::min(pairs.size(), begin + static_cast<std::size_t>(batchSize));
        std::vector<std::vector<std::int64_t>> prompts, chosen, rejected, masks;
        std::vector<double> smoothing;
        for (std::size_t i = begin; i < end; ++i) {
            const auto &pair = pairs[i];
            prompts.push_back(promptIds(context.bundle, pair.prompt, dpo.maxPromptLength));
            masks.emplace_back(prompts.back().size(), 1);
            chosen.push_back(motionLabels(tokenizer, pair.chosen, dpo.maxTargetLength));
            rejected.push_back(motionLabels(tokenizer, pair.rejected, dpo.maxTargetLength));
            smoothing.push_back(paperLabelSmoothing(pair.degree));
        }
        PreferenceBatch batch{
            .promptIds = padRows(prompts, tokenizer.padId()).to(context.device),
            .promptMask = padRows(masks, 0).to(context.device),
            .chosenLabels = padRows(chosen, kIgnoreLabel).to(context.device),
            .rejectedLabels = padRows(rejected, kIgnoreLabel).to(context.device),
        };
        if (dpo.labelSmoothingMode == LabelSmoothingMode::PerDegree)
            batch.labelSmoothing = torch::tensor(smoothing, torch::kFloat).to(context.device);
        batches.push_back(std::move(batch));
    }
    return batches;
}

void saveFineTunedBundle(const RunContext &context, const fs::path &directory)
{
    // Built beside and swapped in whole: an evaluation never reads half of a bundle.
    const fs::path temporary = directory.string() + ".tmp";
    const fs::path old = directory.string() + ".old";
    fs::remove_all(temporary);
    context.bundle.save(temporary);
    // The base's evaluator goes with it, so that `eval --model DIR` measures with the evaluator
    // the base would be measured with (hard links where the file system allows).
    const fs::path evaluator = context.modelDir / "evaluator";
    if (fs::exists(evaluator / "evaluator_config.json")) {
        fs::create_directories(temporary / "evaluator");
        for (const auto &entry : fs::directory_iterator(evaluator)) {
            if (!entry.is_regular_file())
                continue;
            const fs::path target = temporary / "evaluator" / entry.path().filename();
            std::error_code ec;
            fs::create_hard_link(entry.path(), target, ec);
            if (ec && !fs::copy_file(entry.path(), target, ec))
                throw InputError(target.string() +
                                 ": cannot copy the base's evaluator: " + ec.message());
        }
    }
    const nlohmann::json origin = {
        {"fine_tuning", "full"},
        {"method", trainMethodName(context.config.method)},
        {"base_model", fs::absolute(context.modelDir).lexically_normal().string()}};
    writeFileAtomically(temporary / "fine_tuning.json", origin.dump(2) + "\n");
    fs::remove_all(old);
    if (fs::exists(directory))
        fs::rename(directory, old);
    fs::rename(temporary, directory);
    fs::remove_all(old);
}

bool RunContext::writer() const
{
    return !distributed || distributed->isWriter();
}

bool RunContext::stopRequested() const
{
    const bool here = options.stopRequested && options.stopRequested->load();
    return distributed ? distributed->anyTrue(here) : here;
}

bool RunContext::stopWithinStage() const
{
    return (!distributed || !distributed->active()) && options.stopRequested &&
           options.stopRequested->load();
}

RunOutcome runTraining(const RunConfig &config, const TrainRunOptions &options)
{
    if (options.runDir.empty())
        throw InputError("train: an output run directory is required");
    keepFreedMemoryForReuse();
    // The step's large products on as many cores as LibTorch uses (OMP_NUM_THREADS, else every
    // core; a local multi-rank launch gives each rank its share).
    useBlasThreads(at::get_num_threads());
    const fs::path modelDir =
        config.model.empty() ? requireDefaultModelDir() : fs::path(config.model);
    c10::Device device = resolveDevice(config.device);
    // One GPU per rank of a node, as torchrun's LOCAL_RANK says.
    if (device.is_cuda() && options.ranks.worldSize > 1)
        device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(options.ranks.localRank));
    // Joined before the run directory is touched: a rank that cannot join writes nothing.
    Distributed distributed(options.ranks, options.distributed, device);
    const bool writer = distributed.isWriter();
    // Loaded before the run directory is touched: a bad dataset or evaluator is an input error.
    std::unique_ptr<PolicyMotionEvaluator> motion;
    if (config.eval.motionMetrics)
        motion = std::make_unique<PolicyMotionEvaluator>(config, modelDir, device);
    torch::manual_seed(static_cast<std::uint64_t>(config.seed));

    // Rank 0 prepares the run directory and writes the id lists; the other ranks then read them.
    if (writer)
        prepareRunDirectory(config, options.runDir, options.resume);
    RunData data;
    if (writer)
        data = loadRunData(config, options.runDir, options.resume);
    distributed.barrier("for rank 0 to prepare the run directory");
    if (!writer)
        data = loadRunData(config, options.runDir, true, false);
    ModelBundle bundle(modelDir, device);
    const LoraConfig lora = loraConfigOf(config);
    if (config.lora.enabled)
        applyLora(*bundle.t5(), lora);
    else if (config.method != TrainMethod::Dpo)
        throw InputError("config: lora.enabled false (full fine-tuning) is supported for method "
                         "dpo only; method '" +
                         std::string(trainMethodName(config.method)) +
                         "' trains LoRA adapters (its reward model and PPO reference are the "
                         "model with its adapter disabled)");
    else if (distributed.active())
        throw InputError("config: lora.enabled false (full fine-tuning) runs as one process; "
                         "data-parallel full fine-tuning is not supported");

    EventWriter events = writer ? EventWriter(options.runDir / "events.jsonl")
                                : EventWriter::discarding(options.runDir / "events.jsonl");
    RunMonitor monitor(events, monitorOptionsOf(config));
    RunContext context{.config = config,
                       .options = options,
                       .events = events,
                       .monitor = monitor,
                       .bundle = bundle,
                       .modelDir = modelDir,
                       .device = device,
                       .data = std::move(data),
                       .lora = lora,
                       .motion = motion.get(),
                       .distributed = &distributed};
    if (options.resume)
        events.write({.type = EventType::Warning,
                      .text = {{"message", describeResumePoint(options.runDir)}}});
    else
        events.write(
            {.type = EventType::Warning,
             .text = {{"message",
                       "started: " + std::string(trainMethodName(config.method)) + " on " +
                           std::to_string(context.data.train.size()) + " pairs (" +
                           std::to_string(context.data.eval.size()) + " held out), " +
                           describeDevice(device) +
                           (distributed.active()
                                ? ", " + std::to_string(distributed.worldSize()) +
                                      " data-parallel ranks (" + distributed.backendName() + ")"
                                : std::string()) +
                           (motion ? "; HumanML3D metrics every " +
                                         std::to_string(config.eval.motionEveryEpochs) +
                                         " epochs on " + std::to_string(motion->numSamples()) +
                                         " motions of " + config.eval.motionSplit
                                   : std::string())}}});
    RunOutcome outcome = RunOutcome::Failed;
    try {
        switch (config.method) {
        case TrainMethod::Dpo:
            outcome = runDpo(context);
            break;
        case TrainMethod::Rm:
            outcome = runRewardModel(context);
            break;
        case TrainMethod::Ppo:
        case TrainMethod::Rlhf:
            outcome = runPpo(context);
            break;
        }
    } catch (const Cancelled &) {
        throw;
    } catch (const std::exception &error) {
        events.write({.type = EventType::Failed, .text = {{"reason", error.what()}}});
        throw;
    }
    if (outcome == RunOutcome::Finished)
        events.write({.type = EventType::Done,
                      .text = {{config.lora.enabled ? "adapter" : "model",
                                (options.runDir / finalModelDirectory(config)).string()},
                               {"best", (options.runDir / "best").string()}}});
    return outcome;
}

} // namespace mp
