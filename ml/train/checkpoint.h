#pragma once
// A training checkpoint directory shared by the trainers: model.pt (the trained state),
// optimizer.pt, rng.pt (the default CPU generator) and trainer_state.json (format version,
// method, optimizer step, scheduler step and the method's own fields), swapped in whole so a
// kill never leaves half of one. DPO, the reward model and PPO all save and resume through it.

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include <nlohmann/json.hpp>

namespace torch::optim {
class Optimizer;
}
namespace torch::serialize {
class OutputArchive;
class InputArchive;
} // namespace torch::serialize

namespace mp {

class LrScheduler;

// Which trainer wrote a checkpoint: trainer_state.json's "method" and "version".
struct TrainerIdentity {
    std::string method; // "dpo", "rm", "ppo"
    int version = 1;
};

struct TrainerState {
    std::int64_t step = 0;                           // optimizer steps taken
    nlohmann::json extra = nlohmann::json::object(); // the method's own fields
};

void saveTrainingCheckpoint(const std::filesystem::path &directory, const TrainerIdentity &identity,
                            const std::function<void(torch::serialize::OutputArchive &)> &saveModel,
                            torch::optim::Optimizer &optimizer, const LrScheduler &scheduler,
                            const TrainerState &state);

// Restores model, optimizer, scheduler step and RNG, checks method and version, and hands the
// method's fields to restoreExtra. Every problem (a missing file, trainer_state.json that does
// not parse, lacks a key or holds another method's checkpoint) is an InputError naming the file;
// a JSON error thrown inside restoreExtra becomes one too.
TrainerState
loadTrainingCheckpoint(const std::filesystem::path &directory, const TrainerIdentity &identity,
                       const std::function<void(torch::serialize::InputArchive &)> &loadModel,
                       torch::optim::Optimizer &optimizer, LrScheduler &scheduler,
                       const std::function<void(const nlohmann::json &extra)> &restoreExtra = {});

// A list of trained tensors under PREFIX0, PREFIX1, ... in model.pt. Loading copies into the
// tensors in place; a missing tensor or one of another shape is an InputError naming model.pt.
void writeTensorList(torch::serialize::OutputArchive &archive,
                     const std::vector<at::Tensor> &tensors, const std::string &prefix);
void readTensorList(torch::serialize::InputArchive &archive, std::vector<at::Tensor> &tensors,
                    const std::string &prefix);

} // namespace mp
