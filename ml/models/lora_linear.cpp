#include "ml/models/lora_linear.h"

#include "ml/models/few_rows_product.h"

#include <torch/torch.h>

#include <algorithm>
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

namespace {

// Inference on a few rows (one decoder step of a pair): OpenBLAS's GEMM packs the whole weight on
// every call, which for more outputs than inputs costs several times the product itself
// (256 -> 1024 on 2 rows: 82 us, against 12 us for W @ x^T, which takes another kernel). Bounds:
// at 1 row both are a GEMV; past 16 rows or below 128 inputs linear is as fast; a weight above
// 4M values (flan-t5's 32k-token head) is slower that way. Large weights and four rows or more
// take fewRowsLinear (ml/models/few_rows_product.h) first; this covers the small ones at 2-3 rows.
constexpr std::int64_t kFewRowsMax = 16;
constexpr std::int64_t kFewRowsMinInputs = 128;
constexpr std::int64_t kFewRowsMaxWeight = std::int64_t(1) << 22;

bool useFewRowsProduct(const at::Tensor &input, const at::Tensor &weight)
{
    if (at::GradMode::is_enabled() || !input.device().is_cpu() ||
        input.scalar_type() != at::kFloat || weight.scalar_type() != at::kFloat)
        return false;
    const auto rows = input.numel() / std::max<std::int64_t>(1, input.size(-1));
    return rows >= 2 && rows <= kFewRowsMax && weight.size(0) > weight.size(1) &&
           weight.size(1) >= kFewRowsMinInputs && weight.numel() <= kFewRowsMaxWeight;
}

} // namespace

at::Tensor LoraLinearImpl::forward(const at::Tensor &input)
{
    const bool adapted = hasAdapter() && m_enabled && !m_merged;
    at::Tensor result;
    // An adapted layer without bias takes the product linear would on its folded rows, as a
    // tensor of its own that LoRA's product accumulates into in place below.
    bool ownRows = false;
    if (canUseFewRowsLinear(input, weight, bias)) {
        result = fewRowsLinear(input, weight, bias);
    } else if (useFewRowsProduct(input, weight)) {
        auto sizes = input.sizes().vec();
        sizes.back() = m_out;
        const auto rows = input.reshape({-1, m_in});
        result = torch::matmul(weight, rows.t().contiguous()).t().reshape(sizes);
        if (bias.defined())
            result = result + bias;
    } else if (adapted && !bias.defined() && input.dim() >= 2) {
        result = at::mm(input.reshape({-1, m_in}), weight.t());
        ownRows = true;
    } else {
        result = torch::linear(input, weight, bias);
    }
    if (!adapted)
        return result;
    auto x = input;
    if (m_options.dropout > 0.0)
        x = torch::dropout(x, m_options.dropout, is_training());
    // PEFT's result + lora_B(lora_A(x)) * scaling, with lora_B's product accumulated into result
    // by the GEMM itself (beta 1, alpha scaling): no separate scaled tensor and sum, and one pass
    // less backward too. In place when result is the rows' own product (mm saves its inputs, not
    // its output, for the backward), else into a copy.
    const auto down = lora_A->forward(x);
    const auto rows = down.reshape({-1, down.size(-1)});
    if (ownRows) {
        result.addmm_(rows, lora_B->weight.t(), 1.0, m_scaling);
        auto sizes = input.sizes().vec();
        sizes.back() = m_out;
        return result.view(sizes);
    }
    return at::addmm(result.reshape({-1, m_out}), rows, lora_B->weight.t(), 1.0, m_scaling)
        .view(result.sizes());
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
