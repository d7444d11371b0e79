// motionpref-cli train: one preference-training run (DPO family, reward model, PPO/RLHF) as a
// background job. SIGTERM or SIGINT stop it at the next step boundary with a checkpoint.

#include "app/cli/context.h"
#include "app/cli/local_launch.h"
#include "app/cli/progress_bar.h"
#include "ml/core/distributed.h"
#include "ml/core/error.h"
#include "ml/run/run_config.h"
#include "ml/run/train_run.h"

#include <atomic>
#include <chrono>
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
    options.ranks = rankEnvironmentFromEnv();
    const long long timeoutS = args.intValue("dist-timeout");
    if (timeoutS < 1)
        throw InputError("--dist-timeout: must be at least 1 second, got " +
                         std::to_string(timeoutS));
    options.distributed.timeout = std::chrono::seconds(timeoutS);
    const long long nproc = args.intValue("nproc");
    if (nproc < 1 || nproc > 1024)
        throw InputError("--nproc: must be in [1, 1024], got " + std::to_string(nproc));
    // A run has one configuration, RUN_DIR/config.json: a resume reads it unless --config names
    // one, which must then equal it.
    const auto configPath = options.resume ? args.optional("config") : args.required("config");
    const std::string configFile =
        configPath ? *configPath : (options.runDir / "config.json").string();
    const RunConfig config = loadRunConfig(configFile);
    if (config.data.pairs.empty() && config.data.source == DataSource::Labeled)
        throw InputError(configFile +
                         ": data.pairs (the preference pairs file) is required to train");
    options.stopRequested = &stopRequested;
    std::signal(SIGTERM, requestStop);
    std::signal(SIGINT, requestStop);
    // --nproc N outside a torchrun/Slurm job: this process only starts and waits for the ranks.
    if (nproc > 1 && options.ranks.worldSize == 1)
        return launchLocalRanks({.numProcesses = static_cast<int>(nproc),
                                 .timeout = options.distributed.timeout,
                                 .stopRequested = &stopRequested});
    // Rank 0 alone reports progress and prints the outcome.
    const bool writer = options.ranks.rank == 0;
    if (writer)
        options.progress = makeProgressBar(context, "train");

    const RunOutcome outcome = runTraining(config, options);
    if (!writer)
        return outcome == RunOutcome::Failed ? 1 : 0;
    switch (outcome) {
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
        "own config.json.\n"
        "Data parallel (PyTorch c10d: Gloo on the CPU, NCCL on GPUs): started by torchrun or\n"
        "srun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT, or SLURM_PROCID,\n"
        "SLURM_NTASKS, SLURM_LOCALID), each process is one rank and takes its shard of every\n"
        "batch; gradients are all-reduced, so the run equals one process with the whole\n"
        "batch. Rank 0 alone writes RUN_DIR, which every rank must see. --nproc N starts N\n"
        "ranks on this machine. A run resumes with any number of ranks.",
    .options = {{"config", "RUN_JSON",
                 "run configuration (every key has a default); with --resume, optional", ""},
                {"out", "RUN_DIR", "run directory", ""},
                {"resume", "", "continue the run in RUN_DIR from its newest checkpoint", ""},
                {"nproc", "N", "start N data-parallel ranks on this machine", "1"},
                {"dist-timeout", "SECONDS",
                 "how long a rank waits for the others in one collective before failing", "600"}},
    .run = runTrain,
}};

} // namespace
} // namespace mp::cli
