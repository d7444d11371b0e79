#include "ml/train/checkpoint.h"

#include <fstream>
#include <mutex>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/core/json_read.h"
#include "ml/train/schedule.h"

namespace fs = std::filesystem;

namespace mp {

namespace {
std::string firstLine(const std::string &text)
{
    return text.substr(0, text.find('\n'));
}
} // namespace

void saveTrainingCheckpoint(const fs::path &directory, const TrainerIdentity &identity,
                            const std::function<void(torch::serialize::OutputArchive &)> &saveModel,
                            torch::optim::Optimizer &optimizer, const LrScheduler &scheduler,
                            const TrainerState &trainerState)
{
    const nlohmann::json state = {{"version", identity.version},
                                  {"method", identity.method},
                                  {"step", trainerState.step},
                                  {"scheduler_step", scheduler.stepCount()},
                                  {"extra", trainerState.extra}};
    const fs::path temporary = directory.string() + ".tmp";
    fs::remove_all(temporary);
    fs::create_directories(temporary);
    {
        torch::serialize::OutputArchive archive;
        saveModel(archive);
        archive.save_to((temporary / "model.pt").string());
    }
    torch::save(optimizer, (temporary / "optimizer.pt").string());
    {
        auto generator = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(generator.mutex());
        torch::save(generator.get_state(), (temporary / "rng.pt").string());
    }
    {
        std::ofstream out(temporary / "trainer_state.json", std::ios::binary);
        out << state.dump(2) << "\n";
        if (!out.flush())
            throw std::runtime_error((temporary / "trainer_state.json").string() +
                                     ": cannot write");
    }
    const fs::path old = directory.string() + ".old";
    fs::remove_all(old);
    if (fs::exists(directory))
        fs::rename(directory, old);
    fs::rename(temporary, directory);
    fs::remove_all(old);
}

void writeTensorList(torch::serialize::OutputArchive &archive,
                     const std::vector<at::Tensor> &tensors, const std::string &prefix)
{
    for (std::size_t i = 0; i < tensors.size(); ++i)
        archive.write(prefix + std::to_string(i), tensors[i]);
}

void readTensorList(torch::serialize::InputArchive &archive, std::vector<at::Tensor> &tensors,
                    const std::string &prefix)
{
    torch::NoGradGuard noGrad;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        at::Tensor saved;
        const std::string key = prefix + std::to_string(i);
        if (!archive.try_read(key, saved))
            throw InputError("model.pt: tensor " + key + " is missing");
        if (!saved.sizes().equals(tensors[i].sizes()))
            throw InputError("model.pt: tensor " + key + " has the wrong shape");
        tensors[i].copy_(saved);
    }
}

TrainerState
loadTrainingCheckpoint(const fs::path &directory, const TrainerIdentity &identity,
                       const std::function<void(torch::serialize::InputArchive &)> &loadModel,
                       torch::optim::Optimizer &optimizer, LrScheduler &scheduler,
                       const std::function<void(const nlohmann::json &extra)> &restoreExtra)
{
    for (const char *name : {"model.pt", "optimizer.pt", "rng.pt", "trainer_state.json"})
        if (!fs::is_regular_file(directory / name))
            throw InputError((directory / name).string() + ": missing from the checkpoint");
    const fs::path statePath = directory / "trainer_state.json";
    TrainerState result;
    std::int64_t schedulerStep = 0;
    nlohmann::json extra;
    try {
        std::ifstream in(statePath, std::ios::binary);
        const nlohmann::json state = parseJsonLimited(statePath.string(), in);
        // DPO checkpoints of version 1 wrote no method and kept their fields at the top level.
        const auto method = state.value("method", std::string("dpo"));
        if (method != identity.method)
            throw InputError(statePath.string() + ": a '" + method + "' checkpoint, this run is '" +
                             identity.method + "'");
        const int version = state.at("version").get<int>();
        if (version != identity.version)
            throw InputError(statePath.string() + ": unsupported checkpoint version " +
                             std::to_string(version) + " (this build reads " +
                             std::to_string(identity.version) + ")");
        result.step = state.at("step").get<std::int64_t>();
        schedulerStep = state.at("scheduler_step").get<std::int64_t>();
        extra = state.contains("extra") ? state.at("extra") : state;
        result.extra = extra;
    } catch (const nlohmann::json::exception &e) {
        throw InputError(statePath.string() + ": " + e.what());
    }
    // Each file is read on its own, so that an error names it. A damaged archive can fail in
    // the zip reader (c10::Error) or in TorchScript's unpickler (other std::exceptions, with a
    // source excerpt over several lines): the first line says what it is.
    const auto loading = [](const fs::path &file, const auto &load) {
        try {
            load(file.string());
        } catch (const InputError &) {
            throw;
        } catch (const c10::Error &e) {
            throw InputError(file.string() + ": cannot load the checkpoint: " +
                             firstLine(e.what_without_backtrace()));
        } catch (const std::exception &e) {
            throw InputError(file.string() + ": cannot load the checkpoint: " +
                             firstLine(e.what()));
        }
    };
    loading(directory / "model.pt", [&](const std::string &file) {
        torch::serialize::InputArchive archive;
        archive.load_from(file);
        loadModel(archive);
    });
    loading(directory / "optimizer.pt",
            [&](const std::string &file) { torch::load(optimizer, file); });
    loading(directory / "rng.pt", [&](const std::string &file) {
        at::Tensor rngState;
        torch::load(rngState, file);
        auto generator = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(generator.mutex());
        generator.set_state(rngState);
    });
    // Restoring the optimizer's saved groups brought back their saved lrs; re-apply the step's.
    scheduler.setStepCount(schedulerStep);
    if (restoreExtra) {
        try {
            restoreExtra(extra);
        } catch (const nlohmann::json::exception &e) {
            throw InputError(statePath.string() + ": " + e.what());
        }
    }
    return result;
}

} // namespace mp
