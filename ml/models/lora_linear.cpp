#include "ml/models/lora_linear.h"

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

namespace mp {

LoraLinearImpl::LoraLinearImpl(std::int64_t inFeatures, std::int64_t outFeatures, bool withBias)
    : m_in(inFeatures), m_out(outFeatures)
{
    weight = register_parameter("weight", torch::empty({outFeatures, inFeatures}));
    if (withBias)
        bias = register_parameter("bias", torch::empty({outFeatures}));
    reset_parameters();
}

void LoraLinearImpl::reset_parameters()
{
    torch::NoGradGuard noGrad;
    torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
    if (bias.defined()) {
        const double bound = m_in > 0 ? 1.0 / std::sqrt(static_cast<double>(m_in)) : 0.0;
        bias.uniform_(-bound, bound);
    }
}

at::Tensor LoraLinearImpl::forward(const at::Tensor &input)
{
    auto result = torch::linear(input, weight, bias);
    if (!hasAdapter() || !m_enabled || m_merged)
        return result;
    auto x = input;
    if (m_options.dropout > 0.0)
        x = torch::dropout(x, m_options.dropout, is_training());
    return result + lora_B->forward(lora_A->forward(x)) * m_scaling;
}

void LoraLinearImpl::addAdapter(const LoraAdapterOptions &options)
{
    if (options.rank <= 0)
        throw std::invalid_argument("LoRA rank must be positive, got " +
                                    std::to_string(options.rank));
    if (hasAdapter())
        removeAdapter();
    m_options = options;
    m_scaling = options.useRsLora ? options.alpha / std::sqrt(static_cast<double>(options.rank))
                                  : options.alpha / static_cast<double>(options.rank);
    const auto dtype = weight.scalar_type();
    const auto device = weight.device();
    lora_A = register_module(
        "lora_A", torch::nn::Linear(torch::nn::LinearOptions(m_in, options.rank).bias(false)));
    lora_B = register_module(
        "lora_B", torch::nn::Linear(torch::nn::LinearOptions(options.rank, m_out).bias(false)));
    {
        torch::NoGradGuard noGrad;
        if (options.gaussianInit)
            lora_A->weight.normal_(0.0, 1.0 / static_cast<double>(options.rank));
        else
            torch::nn::init::kaiming_uniform_(lora_A->weight, std::sqrt(5.0));
        lora_B->weight.zero_();
    }
    lora_A->to(device, dtype);
    lora_B->to(device, dtype);
    m_enabled = true;
    m_merged = false;
}

void LoraLinearImpl::removeAdapter(bool keepMerged)
{
    if (!hasAdapter())
        return;
    if (m_merged && !keepMerged)
        unmerge();
    m_merged = false;
    unregister_module("lora_A");
    unregister_module("lora_B");
    lora_A = nullptr;
    lora_B = nullptr;
}

void LoraLinearImpl::setAdapterEnabled(bool enabled)
{
    if (!enabled && m_merged)
        unmerge();
    m_enabled = enabled;
}

at::Tensor LoraLinearImpl::deltaWeight() const
{
    if (!hasAdapter())
        return torch::zeros_like(weight);
    return torch::matmul(lora_B->weight, lora_A->weight) * m_scaling;
}

void LoraLinearImpl::merge()
{
    if (!hasAdapter() || m_merged)
        return;
    torch::NoGradGuard noGrad;
    weight.add_(deltaWeight().to(weight.scalar_type()));
    m_merged = true;
    m_enabled = true;
}

void LoraLinearImpl::unmerge()
{
    if (!hasAdapter() || !m_merged)
        return;
    torch::NoGradGuard noGrad;
    weight.sub_(deltaWeight().to(weight.scalar_type()));
    m_merged = false;
}

} // namespace mp
