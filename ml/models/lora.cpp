#include "ml/models/lora.h"
#include "ml/core/error.h"
#include "ml/core/json_read.h"
#include "ml/data/safetensors.h"
#include "ml/models/lora_linear.h"
#include "ml/models/state_dict.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <set>

namespace mp {

namespace {

// PEFT's prefix in adapter files: the PeftModel wraps the model as base_model.model.
const std::string kKeyPrefix = "base_model.model.";

bool matchesTarget(const std::string &name, const std::vector<std::string> &targets)
{
    for (const auto &target : targets) {
        if (name == target)
            return true;
        if (name.size() > target.size() &&
            name.compare(name.size() - target.size() - 1, std::string::npos, "." + target) == 0)
            return true;
    }
    return false;
}

} // namespace

nlohmann::json LoraConfig::toJson() const
{
    return {{"peft_type", "LORA"},
            {"task_type", taskType},
            {"r", rank},
            {"lora_alpha", alpha},
            {"lora_dropout", dropout},
            {"target_modules", targetModules},
            {"bias", "none"},
            {"fan_in_fan_out", false},
            {"init_lora_weights", gaussianInit ? nlohmann::json("gaussian") : nlohmann::json(true)},
            {"use_rslora", useRsLora},
            {"modules_to_save", nullptr},
            {"inference_mode", true},
            {"base_model_name_or_path", baseModel},
            {"rank_pattern", nlohmann::json::object()},
            {"alpha_pattern", nlohmann::json::object()}};
}

LoraConfig LoraConfig::fromJson(const nlohmann::json &json, const std::string &source)
{
    if (!json.is_object())
        throw InputError(source + ": not a JSON object");
    LoraConfig c;
    std::string peftType = "LORA";
    readOptionalKey(json, "peft_type", peftType, source);
    if (peftType != "LORA")
        throw InputError(source + ": peft_type '" + peftType + "' is not LORA");
    readOptionalKey(json, "r", c.rank, source);
    readOptionalKey(json, "lora_alpha", c.alpha, source);
    readOptionalKey(json, "lora_dropout", c.dropout, source);
    readOptionalKey(json, "use_rslora", c.useRsLora, source);
    readOptionalKey(json, "task_type", c.taskType, source);
    readOptionalKey(json, "base_model_name_or_path", c.baseModel, source);
    if (json.contains("target_modules") && json["target_modules"].is_string())
        throw InputError(source + ": a regular-expression target_modules is not supported; "
                                  "list the module names");
    readOptionalKey(json, "target_modules", c.targetModules, source);
    if (json.contains("init_lora_weights") && json["init_lora_weights"].is_string())
        c.gaussianInit = json["init_lora_weights"] == "gaussian";
    std::string bias = "none";
    readOptionalKey(json, "bias", bias, source);
    if (bias != "none")
        throw InputError(source + ": bias '" + bias + "' is not supported (only \"none\")");
    bool fanInFanOut = false;
    readOptionalKey(json, "fan_in_fan_out", fanInFanOut, source);
    if (fanInFanOut)
        throw InputError(source + ": fan_in_fan_out adapters are not supported");
    // PEFT options that change what the adapter computes or which layers carry it: refused by
    // name here rather than later as a tensor the plain layout does not expect.
    for (const char *key : {"use_dora", "lora_bias"}) {
        bool enabled = false;
        readOptionalKey(json, key, enabled, source);
        if (enabled)
            throw InputError(source + ": '" + key + "' adapters are not supported");
    }
    for (const char *key : {"layers_to_transform", "layers_pattern", "exclude_modules",
                            "modules_to_save", "trainable_token_indices", "layer_replication"})
        if (json.contains(key) && !json[key].is_null() && !json[key].empty())
            throw InputError(source + ": '" + key + "' is not supported");
    if (json.contains("rank_pattern") && !json["rank_pattern"].empty())
        throw InputError(source + ": rank_pattern is not supported");
    if (json.contains("alpha_pattern") && !json["alpha_pattern"].empty())
        throw InputError(source + ": alpha_pattern is not supported");
    if (c.rank <= 0)
        throw InputError(source + ": r must be positive, got " + std::to_string(c.rank));
    if (c.dropout < 0.0 || c.dropout >= 1.0)
        throw InputError(source + ": lora_dropout must be in [0, 1)");
    if (c.targetModules.empty())
        throw InputError(source + ": target_modules is empty");
    return c;
}

std::vector<std::pair<std::string, LoraLinearImpl *>>
loraTargets(torch::nn::Module &model, const std::vector<std::string> &targetModules)
{
    std::vector<std::pair<std::string, LoraLinearImpl *>> result;
    for (const auto &item : model.named_modules("", /*include_self=*/false))
        if (auto *layer = item.value()->as<LoraLinearImpl>())
            if (matchesTarget(item.key(), targetModules))
                result.emplace_back(item.key(), layer);
    return result;
}

std::vector<std::pair<std::string, LoraLinearImpl *>> loraLayers(torch::nn::Module &model)
{
    std::vector<std::pair<std::string, LoraLinearImpl *>> result;
    for (const auto &item : model.named_modules("", false))
        if (auto *layer = item.value()->as<LoraLinearImpl>())
            if (layer->hasAdapter())
                result.emplace_back(item.key(), layer);
    return result;
}

std::size_t applyLora(torch::nn::Module &model, const LoraConfig &config)
{
    const auto targets = loraTargets(model, config.targetModules);
    if (targets.empty())
        throw InputError("LoRA: no linear layer matches target_modules");
    for (auto &param : model.parameters())
        param.set_requires_grad(false);
    for (const auto &[name, layer] : targets) {
        layer->addAdapter({.rank = config.rank,
                           .alpha = config.alpha,
                           .dropout = config.dropout,
                           .useRsLora = config.useRsLora,
                           .gaussianInit = config.gaussianInit});
    }
    return targets.size();
}

void removeLora(torch::nn::Module &model)
{
    for (const auto &[name, layer] : loraLayers(model))
        layer->removeAdapter();
    for (auto &param : model.parameters())
        param.set_requires_grad(true);
}

void setLoraEnabled(torch::nn::Module &model, bool enabled)
{
    for (const auto &[name, layer] : loraLayers(model))
        layer->setAdapterEnabled(enabled);
}

void mergeLora(torch::nn::Module &model)
{
    for (const auto &[name, layer] : loraLayers(model))
        layer->merge();
}

void unmergeLora(torch::nn::Module &model)
{
    for (const auto &[name, layer] : loraLayers(model))
        layer->unmerge();
}

void mergeAndUnloadLora(torch::nn::Module &model)
{
    for (const auto &[name, layer] : loraLayers(model)) {
        layer->merge();
        layer->removeAdapter(/*keepMerged=*/true);
    }
    for (auto &param : model.parameters())
        param.set_requires_grad(true);
}

std::vector<at::Tensor> loraParameters(torch::nn::Module &model)
{
    std::vector<at::Tensor> result;
    for (const auto &[name, layer] : loraLayers(model)) {
        result.push_back(layer->lora_A->weight);
        result.push_back(layer->lora_B->weight);
    }
    return result;
}

LoraDisabledScope::LoraDisabledScope(torch::nn::Module &model) : m_model(model)
{
    for (const auto &[name, layer] : loraLayers(model)) {
        m_previous.emplace_back(layer, layer->adapterEnabled());
        layer->setAdapterEnabled(false);
    }
}

LoraDisabledScope::~LoraDisabledScope()
{
    for (const auto &[layer, enabled] : m_previous)
        layer->setAdapterEnabled(enabled);
}

void saveLoraAdapter(torch::nn::Module &model, const LoraConfig &config,
                     const std::filesystem::path &directory)
{
    const auto layers = loraLayers(model);
    if (layers.empty())
        throw std::runtime_error("saveLoraAdapter: the model carries no adapter");
    std::error_code ec;
    std::filesystem::create_directories(directory, ec);
    if (ec)
        throw InputError(directory.string() + ": cannot create: " + ec.message());
    TensorMap tensors;
    for (const auto &[name, layer] : layers) {
        tensors[kKeyPrefix + name + ".lora_A.weight"] = layer->lora_A->weight;
        tensors[kKeyPrefix + name + ".lora_B.weight"] = layer->lora_B->weight;
    }
    writeSafetensors(directory / "adapter_model.safetensors", tensors, {{"format", "pt"}});
    const auto configPath = directory / "adapter_config.json";
    const auto tmp = directory / "adapter_config.json.tmp";
    {
        std::ofstream out(tmp);
        out << config.toJson().dump(2) << "\n";
        if (!out)
            throw InputError(configPath.string() + ": cannot write");
    }
    std::filesystem::rename(tmp, configPath, ec);
    if (ec)
        throw InputError(configPath.string() + ": cannot write: " + ec.message());
}

LoraConfig LoraConfig::read(const std::filesystem::path &directory)
{
    const auto configPath = directory / "adapter_config.json";
    if (std::filesystem::is_directory(configPath))
        throw InputError(configPath.string() + ": a directory, not a file");
    std::ifstream in(configPath);
    if (!in)
        throw InputError(configPath.string() + ": missing (not a LoRA adapter directory)");
    nlohmann::json json;
    try {
        json = parseJsonLimited(configPath.string(), in);
    } catch (const nlohmann::json::exception &e) {
        throw InputError(configPath.string() + ": not valid JSON: " + e.what());
    }
    return fromJson(json, "adapter_config.json");
}

LoraConfig loadLoraAdapter(torch::nn::Module &model, const std::filesystem::path &directory)
{
    const auto weightsPath = directory / "adapter_model.safetensors";
    const auto config = LoraConfig::read(directory);
    if (!std::filesystem::exists(weightsPath))
        throw InputError(weightsPath.string() + ": missing");
    const auto tensors = readSafetensors(weightsPath);
    removeLora(model);
    applyLora(model, config);
    const std::string source = "adapter_model.safetensors";
    std::set<std::string> used;
    torch::NoGradGuard noGrad;
    for (const auto &[name, layer] : loraLayers(model)) {
        for (auto [suffix, param] : {std::pair{".lora_A.weight", layer->lora_A->weight},
                                     std::pair{".lora_B.weight", layer->lora_B->weight}}) {
            const auto key = kKeyPrefix + name + suffix;
            const auto it = tensors.find(key);
            if (it == tensors.end())
                throw InputError(source + ": missing tensor '" + key + "'");
            if (it->second.sizes() != param.sizes())
                throw InputError(source + ": tensor '" + key + "': expected shape " +
                                 shapeString(param) + ", got " + shapeString(it->second));
            param.copy_(it->second.to(param.device(), param.scalar_type()));
            used.insert(key);
        }
    }
    for (const auto &[key, value] : tensors)
        if (!used.count(key))
            throw InputError(source + ": unexpected tensor '" + key +
                             "' (adapter made for another architecture?)");
    return config;
}

} // namespace mp
