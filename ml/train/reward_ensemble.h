#pragma once
// A small ensemble of reward models for the ensemble pair rule (issue 21, pair_selection.h).
// Each member is the RLHF reward model of reward_model.h (the T5 with its own LoRA adapter and
// scalar head) on its own copy of the bundle's base T5.
//
// Where it lives: an online round of a study trains it beside the round's adapter, on the same
// labels (`study next-round` with the ensemble rule: ROUND_DIR/ensemble next to ROUND_DIR/run),
// so the pairs of round k are chosen by the ensemble of the labels round k's policy learned from
// and stay reproducible from the round's folder. The folder holds ensemble.json
//   {"members": ["member-1", ...], "seeds": [...], "labels": N, "pairs": "PATH"}
// and one `rm` run directory per member (its best/, else reward_model/, is the member). The
// members differ by seed: the head's and the adapters' initialisation, the order of the pairs
// and the run's held-out 10% (each trains on a different 90% of the labels, a subsampling
// akin to bagging).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <c10/core/Device.h>

#include "ml/train/reward_model.h"

namespace mp {

class ModelBundle;

inline constexpr int kMinEnsembleMembers = 2;
inline constexpr int kMaxEnsembleMembers = 8;

struct RewardEnsembleManifest {
    std::vector<std::filesystem::path> members; // relative to the ensemble folder
    std::vector<std::int64_t> seeds;
    std::int64_t labels = 0; // pairs the members were trained on (before the eval split)
    std::string pairs;       // the pairs file
};

inline constexpr const char *kEnsembleManifest = "ensemble.json";
// InputError naming DIR/ensemble.json and the problem.
RewardEnsembleManifest readRewardEnsembleManifest(const std::filesystem::path &directory);
void writeRewardEnsembleManifest(const std::filesystem::path &directory,
                                 const RewardEnsembleManifest &manifest);

class RewardEnsemble {
public:
    // Loads every member of DIR (ensemble.json) onto a copy of bundleDir's T5 on device.
    RewardEnsemble(const std::filesystem::path &directory, const std::filesystem::path &bundleDir,
                   const c10::Device &device);
    ~RewardEnsemble();
    RewardEnsemble(const RewardEnsemble &) = delete;
    RewardEnsemble &operator=(const RewardEnsemble &) = delete;

    // [member][candidate]: each member's score of each candidate's VQ codes (teacher-forced as
    // the reward model trains: SOM codes EOM </s>) for prompt.
    std::vector<std::vector<double>> rewards(const std::string &prompt,
                                             const std::vector<std::vector<std::int64_t>> &codes);

    std::size_t size() const { return m_members.size(); }
    const std::filesystem::path &directory() const { return m_directory; }

private:
    struct Member {
        std::unique_ptr<ModelBundle> bundle;
        RewardModel model{nullptr};
    };
    std::filesystem::path m_directory;
    std::vector<Member> m_members;
};

} // namespace mp
