#pragma once
// A linear layer whose parameters are named like torch.nn.Linear's (weight, bias), so a model built
// from it loads Hugging Face checkpoints name-for-name, and which can carry one LoRA adapter
// (PEFT's lora_A / lora_B submodules). T5 builds every projection from it; ml/models/lora.h
// attaches adapters to the ones a LoraConfig targets.

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace mp {

struct LoraAdapterOptions {
    std::int64_t rank = 8;
    double alpha = 8.0;
    double dropout = 0.0;
    bool useRsLora = false;    // scaling alpha/sqrt(r) instead of alpha/r
    bool gaussianInit = false; // A ~ N(0, 1/r) instead of kaiming_uniform(a=sqrt(5))
};

class LoraLinearImpl : public torch::nn::Module {
public:
    LoraLinearImpl(std::int64_t inFeatures, std::int64_t outFeatures, bool withBias = false);

    at::Tensor forward(const at::Tensor &input);
    // torch.nn.Linear's initialisation (kaiming_uniform(a=sqrt(5)), bias U(-1/sqrt(in), ..)).
    void reset_parameters();

    std::int64_t inFeatures() const { return m_in; }
    std::int64_t outFeatures() const { return m_out; }

    // Adds lora_A (Linear(in, r)) and lora_B (Linear(r, out), zero) as PEFT does.
    void addAdapter(const LoraAdapterOptions &options);
    // Drops lora_A/lora_B; a merged adapter is unmerged first unless keepMerged (PEFT's
    // merge_and_unload).
    void removeAdapter(bool keepMerged = false);
    bool hasAdapter() const { return !lora_A.is_empty(); }
    double scaling() const { return m_scaling; }
    const LoraAdapterOptions &adapterOptions() const { return m_options; }

    // Disabled: forward is the base layer only (unmerging first if merged), bit for bit.
    void setAdapterEnabled(bool enabled);
    bool adapterEnabled() const { return m_enabled; }

    // W += scaling * B @ A, and back.
    void merge();
    void unmerge();
    bool merged() const { return m_merged; }
    at::Tensor deltaWeight() const;

    at::Tensor weight;
    at::Tensor bias;
    torch::nn::Linear lora_A{nullptr};
    torch::nn::Linear lora_B{nullptr};

private:
    std::int64_t m_in;
    std::int64_t m_out;
    LoraAdapterOptions m_options;
    double m_scaling = 0.0;
    bool m_enabled = true;
    bool m_merged = false;
};
TORCH_MODULE(LoraLinear);

} // namespace mp
