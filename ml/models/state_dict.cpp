#include "ml/models/state_dict.h"

#include "ml/core/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <set>

namespace mp {

namespace {

bool isAdapterName(const std::string &name)
{
    return name.find("lora_A.") != std::string::npos || name.find("lora_B.") != std::string::npos;
}

} // namespace

std::string shapeString(const at::Tensor &tensor)
{
    std::string text = "(";
    for (std::int64_t i = 0; i < tensor.dim(); ++i)
        text += (i ? "," : "") + std::to_string(tensor.size(i));
    return text + ")";
}

TensorMap moduleStateDict(const torch::nn::Module &module, bool includeAdapters)
{
    TensorMap result;
    for (const auto &item : module.named_parameters(true))
        if (includeAdapters || !isAdapterName(item.key()))
            result[item.key()] = item.value();
    for (const auto &item : module.named_buffers(true))
        if (includeAdapters || !isAdapterName(item.key()))
            result[item.key()] = item.value();
    return result;
}

void loadStateDict(torch::nn::Module &module, const TensorMap &tensors, const std::string &source,
                   const LoadStateOptions &options)
{
    torch::NoGradGuard noGrad;
    std::set<std::string> used;
    auto target = moduleStateDict(module, options.includeAdapters);
    for (auto &[name, destination] : target) {
        const auto key = options.prefix + name;
        const auto it = tensors.find(key);
        if (it == tensors.end())
            throw InputError(source + ": missing tensor '" + key + "'");
        const auto &value = it->second;
        if (value.sizes() != destination.sizes())
            throw InputError(source + ": tensor '" + key + "': expected shape " +
                             shapeString(destination) + ", got " + shapeString(value));
        if (!value.is_floating_point() && destination.is_floating_point())
            throw InputError(source + ": tensor '" + key + "': expected floating point data, got " +
                             c10::toString(value.scalar_type()));
        // NaN weights would only surface later as a sampling failure far from the file.
        if (value.is_floating_point() && !torch::isfinite(value).all().item<bool>())
            throw InputError(source + ": tensor '" + key + "' has NaN or infinite values");
        destination.copy_(value.to(destination.device(), destination.scalar_type()));
        used.insert(key);
    }
    if (options.allowUnexpected)
        return;
    std::vector<std::string> unexpected;
    for (const auto &[name, value] : tensors) {
        if (name.rfind(options.prefix, 0) != 0 || used.count(name))
            continue;
        const auto bare = name.substr(options.prefix.size());
        if (std::find(options.ignored.begin(), options.ignored.end(), bare) !=
            options.ignored.end())
            continue;
        if (!options.includeAdapters && isAdapterName(bare))
            continue;
        unexpected.push_back(name);
    }
    if (unexpected.empty())
        return;
    std::string list;
    for (std::size_t i = 0; i < unexpected.size() && i < 5; ++i)
        list += (i ? ", '" : "'") + unexpected[i] + "'";
    if (unexpected.size() > 5)
        list += " and " + std::to_string(unexpected.size() - 5) + " more";
    throw InputError(source + ": unexpected tensors " + list +
                     " (the file does not match this architecture)");
}

} // namespace mp
