#pragma once
// Name-for-name transfer between a torch::nn::Module and a map of tensors (a safetensors file or
// a checkpoint's state dict), with errors that name the source and the tensor.

#include <string>
#include <vector>

#include "ml/data/safetensors.h"

namespace torch::nn {
class Module;
}

namespace mp {

// Parameters and buffers under their dotted names. LoRA adapter tensors (".lora_A.",
// ".lora_B.") are left out unless includeAdapters: they live in the adapter's own file.
TensorMap moduleStateDict(const torch::nn::Module &module, bool includeAdapters = false);

struct LoadStateOptions {
    std::string prefix;               // e.g. "vae." for a tensor "vae.encoder.model.0.weight"
    std::vector<std::string> ignored; // source names (without prefix) that may be present, unused
    bool allowUnexpected = false;     // other names with the prefix are an error unless this
    bool includeAdapters = false;
};

// Copies every parameter and buffer from `tensors` (converted to the module's dtype and device).
// Throws InputError "SOURCE: missing tensor 'x'", "SOURCE: tensor 'x': expected shape (..),
// got (..)", "SOURCE: tensor 'x' has NaN or infinite values", "SOURCE: unexpected tensors 'a',
// 'b'".
void loadStateDict(torch::nn::Module &module, const TensorMap &tensors, const std::string &source,
                   const LoadStateOptions &options = {});

std::string shapeString(const at::Tensor &tensor);

} // namespace mp
