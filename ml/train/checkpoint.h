#pragma once
// A training checkpoint directory shared by the trainers: model.pt (the trained state),
// optimizer.pt, rng.pt (the default CPU generator) and trainer_state.json (step counters and
// whatever else the trainer needs), swapped in whole so a kill never leaves half of one.

#include <filesystem>
#include <functional>

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

} // namespace mp
