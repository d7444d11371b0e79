#pragma once
// A training checkpoint directory shared by the trainers: model.pt (the trained state),
// optimizer.pt, rng.pt (the default CPU generator) and trainer_state.json (step counters and
// whatever else the trainer needs), swapped in whole so a kill never leaves half of one.

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

void saveTrainingCheckpoint(const std::filesystem::path &directory,
                            const std::function<void(torch::serialize::OutputArchive &)> &saveModel,
                            torch::optim::Optimizer &optimizer, const nlohmann::json &state);

// Restores model, optimizer and RNG; returns trainer_state.json. InputError naming the file when
// something is missing or unreadable.
nlohmann::json
loadTrainingCheckpoint(const std::filesystem::path &directory,
                       const std::function<void(torch::serialize::InputArchive &)> &loadModel,
                       torch::optim::Optimizer &optimizer);

// A list of trained tensors under PREFIX0, PREFIX1, ... in model.pt. Loading copies into the
// tensors in place; a missing tensor or one of another shape is an InputError naming model.pt.
void writeTensorList(torch::serialize::OutputArchive &archive,
                     const std::vector<at::Tensor> &tensors, const std::string &prefix);
void readTensorList(torch::serialize::InputArchive &archive, std::vector<at::Tensor> &tensors,
                    const std::string &prefix);

} // namespace mp
