// motionpref-cli train: one preference-training run (DPO family, reward model, PPO/RLHF) as a
// background job. SIGTERM or SIGINT stop it at the next step boundary with a checkpoint.

#include "app/cli/command.h"
#include "app/cli/progress_bar.h"
#include "ml/core/error.h"
#include "ml/run/run_config.h"
#include "ml/run/train_run.h"

#include <atomic>
#include <csignal>
#include <iostream>

namespace mp::cli {
namespace {

std::atomic<bool> stopRequested{false};

extern "C" void requestStop(int)
{
    stopRequested.store(true); // lock-free atomic store: async-signal-safe
}

int runTrain(const ParsedArgs &args, const Context &context)
{
    TrainRunOptions options;
    options.runDir = args.required("out");
    options.resume = args.flag("resume");
    // A run has one configuration, RUN_DIR/config.json: a resume reads it unless --config names
    // one, which must then equal it.
    const auto configPath = options.resume ? args.optional("config") : args.required("config");
    const RunConfig config =
        loadRunConfig(configPath ? *configPath : (options.runDir / "config.json").string());
    options.stopRequested = &stopRequested;
    options.progress = makeProgressBar(context, "train");
    std::signal(SIGTERM, requestStop);
    std::signal(SIGINT, requestStop);

    switch (runTraining(config, options)) {
    case RunOutcome::Finished:
        // adapter/ (DPO, PPO, RLHF) or reward_model/ (RM), and best/ beside it.
        std::cout << options.runDir.string() << "\n";
        return 0;
    case RunOutcome::Stopped:
        std::cerr << "stopped; continue with: motionpref-cli train --out "
                  << options.runDir.string() << " --resume\n";
        return 0;
    case RunOutcome::Failed:
        std::cerr << "training failed: see " << (options.runDir / "events.jsonl").string()
                  << " (the last good checkpoint is kept)\n";
        return 1;
    }
    return 1;
}

const CommandRegistration trainCommand{{
    .path = "train",
    .summary = "run a preference-training job (DPO, IPO, KTO, hinge; reward model; PPO/RLHF)",
    .description =
        "Trains a LoRA adapter on preference pairs (the JSONL of `study split`) as the\n"
        "config says, writing RUN_DIR/config.json, events.jsonl, checkpoints/, best/ and\n"
        "adapter/. SIGTERM stops at the next step with a checkpoint; --resume continues a\n"
        "stopped or killed run exactly where its last checkpoint left it, from the run's\n"
        "own config.json.",
    .options = {{"config", "RUN_JSON",
                 "run configuration (every key has a default); with --resume, optional", ""},
                {"out", "RUN_DIR", "run directory", ""},
                {"resume", "", "continue the run in RUN_DIR from its newest checkpoint", ""}},
    .run = runTrain,
}};

} // namespace
} // namespace mp::cli
