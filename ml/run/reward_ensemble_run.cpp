#include "ml/run/reward_ensemble_run.h"

#include "ml/core/error.h"
#include "ml/run/run_config.h"
#include "ml/run/train_run.h"

namespace fs = std::filesystem;

namespace mp {

RewardEnsembleManifest trainRewardEnsemble(const RunConfig &rmConfig, const fs::path &pairs,
                                           std::int64_t labels, const fs::path &directory,
                                           int members, const ProgressFn &progress)
{
    if (rmConfig.method != TrainMethod::Rm)
        throw InputError("a reward-model ensemble trains method rm, not " +
                         std::string(trainMethodName(rmConfig.method)));
    if (members < kMinEnsembleMembers || members > kMaxEnsembleMembers)
        throw InputError("an ensemble has " + std::to_string(kMinEnsembleMembers) + " to " +
                         std::to_string(kMaxEnsembleMembers) + " members (got " +
                         std::to_string(members) + ")");
    if (fs::exists(directory / kEnsembleManifest))
        throw InputError(directory.string() + ": already holds an ensemble; give a new directory");
    fs::create_directories(directory);
    RewardEnsembleManifest manifest;
    manifest.labels = labels;
    manifest.pairs = pairs.string();
    for (int m = 1; m <= members; ++m) {
        RunConfig config = rmConfig;
        config.seed = rmConfig.seed + m - 1;
        config.data.pairs = pairs.string();
        config.data.trainIds.clear();
        config.data.evalIds.clear();
        const fs::path member = "member-" + std::to_string(m);
        TrainRunOptions options;
        options.runDir = directory / member;
        if (progress)
            options.progress = [&, m](std::int64_t done, std::int64_t total, std::string_view) {
                return progress((m - 1) * total + done, members * total, "ensemble");
            };
        if (runTraining(config, options) != RunOutcome::Finished)
            throw InputError("reward-model ensemble member " + std::to_string(m) +
                             " did not finish: see " + (options.runDir / "events.jsonl").string());
        manifest.members.push_back(member);
        manifest.seeds.push_back(config.seed);
    }
    writeRewardEnsembleManifest(directory, manifest);
    return manifest;
}

} // namespace mp
