#pragma once
// LoRA adapters on a model built from LoraLinear layers, in PEFT's form: adapters on the layers
// whose module name equals a target or ends in ".target" (T5 default: q and v), base weights
// frozen, saved as adapter_config.json + adapter_model.safetensors with PEFT's key names
// (base_model.model.<module path>.lora_A.weight / lora_B.weight) so Python users can load them.

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

namespace torch::nn {
class Module;
}

namespace mp {

class LoraLinearImpl;

struct LoraConfig {
    std::int64_t rank = 8;
    double alpha = 8.0;
    double dropout = 0.0;
    std::vector<std::string> targetModules = {"q", "v"};
    bool useRsLora = false;
    bool gaussianInit = false;
    std::string taskType = "SEQ_2_SEQ_LM";
    std::string baseModel; // base_model_name_or_path, informative

    nlohmann::json toJson() const; // PEFT's adapter_config.json
    static LoraConfig fromJson(const nlohmann::json &json, const std::string &source);
    // DIR/adapter_config.json read and checked; InputError naming the file.
    static LoraConfig read(const std::filesystem::path &directory);
};

// The LoraLinear layers a config targets, by module name, in module order.
std::vector<std::pair<std::string, LoraLinearImpl *>>
loraTargets(torch::nn::Module &model, const std::vector<std::string> &targetModules);
// The layers that carry an adapter now.
std::vector<std::pair<std::string, LoraLinearImpl *>> loraLayers(torch::nn::Module &model);

// Adds fresh adapters (A kaiming-uniform, B zero, so the output is unchanged) and freezes every
// other parameter. Returns the number of adapted layers; throws InputError if none matched.
std::size_t applyLora(torch::nn::Module &model, const LoraConfig &config);
void removeLora(torch::nn::Module &model); // unmerges, drops the adapters, unfreezes

void setLoraEnabled(torch::nn::Module &model, bool enabled);
void mergeLora(torch::nn::Module &model);
void unmergeLora(torch::nn::Module &model);
// PEFT's merge_and_unload: folds the adapters into the base weights and drops them.
void mergeAndUnloadLora(torch::nn::Module &model);
std::vector<at::Tensor> loraParameters(torch::nn::Module &model);

// With the adapters switched off for its lifetime: the DPO reference model is the policy with
// its adapter disabled.
class LoraDisabledScope {
public:
    explicit LoraDisabledScope(torch::nn::Module &model);
    ~LoraDisabledScope();
    LoraDisabledScope(const LoraDisabledScope &) = delete;
    LoraDisabledScope &operator=(const LoraDisabledScope &) = delete;

private:
    torch::nn::Module &m_model;
    std::vector<std::pair<LoraLinearImpl *, bool>> m_previous;
};

void saveLoraAdapter(torch::nn::Module &model, const LoraConfig &config,
                     const std::filesystem::path &directory);
// Reads the config, applies fresh adapters and loads their weights; errors name the file and
// tensor (missing, unexpected, wrong shape).
LoraConfig loadLoraAdapter(torch::nn::Module &model, const std::filesystem::path &directory);

} // namespace mp
