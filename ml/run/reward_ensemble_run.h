#pragma once
// Training a reward-model ensemble (ml/train/reward_ensemble.h) for the ensemble pair rule: one
// `rm` run per member on the same pairs file, each with its own seed, in DIR/member-N; DIR's
// ensemble.json is written last, so a folder without it is an ensemble that did not finish.

#include <cstdint>
#include <filesystem>

#include "ml/core/progress.h"
#include "ml/train/reward_ensemble.h"

namespace mp {

struct RunConfig;

// rmConfig: method rm (data.pairs is set here); member m (1-based) trains with seed
// rmConfig.seed + m - 1. labels: the pair count, recorded in the manifest. InputError for a
// config that is not rm, a member count outside 2..8, a folder that already holds an ensemble,
// or a member run that does not finish.
RewardEnsembleManifest trainRewardEnsemble(const RunConfig &rmConfig,
                                           const std::filesystem::path &pairs, std::int64_t labels,
                                           const std::filesystem::path &directory, int members,
                                           const ProgressFn &progress = {});

} // namespace mp
