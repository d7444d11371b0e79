#include "ml/train/t5_policy.h"

#include <stdexcept>
#include <string>

#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/models/lora.h"
#include "ml/models/lora_linear.h"

namespace mp {

T5Policy::T5Policy(T5Model model, T5PolicyOptions options)
    : m_model(std::move(model)), m_options(options)
{
    if (loraLayers(*m_model).empty())
        throw std::invalid_argument("T5Policy: the model has no LoRA adapters");
}

at::Tensor T5Policy::forward(const at::Tensor &encoderIds, const at::Tensor &encoderMask,
                             const at::Tensor &labels)
{
    if (m_options.disableDropout)
        m_model->eval(); // T5 has no batch statistics: eval() only switches dropout off
    return m_model->forward(encoderIds, encoderMask, m_model->shiftRight(labels));
}

void T5Policy::setAdapterEnabled(bool enabled)
{
    setLoraEnabled(*m_model, enabled);
    m_enabled = enabled;
}

std::vector<at::Tensor> T5Policy::trainableParameters()
{
    return loraParameters(*m_model);
}

torch::nn::Module &T5Policy::module()
{
    return *m_model;
}

void T5Policy::saveState(torch::serialize::OutputArchive &archive)
{
    const auto params = trainableParameters();
    for (size_t i = 0; i < params.size(); ++i)
        archive.write("adapter." + std::to_string(i), params[i]);
}

void T5Policy::loadState(torch::serialize::InputArchive &archive)
{
    torch::NoGradGuard noGrad;
    auto params = trainableParameters();
    for (size_t i = 0; i < params.size(); ++i) {
        at::Tensor saved;
        const std::string key = "adapter." + std::to_string(i);
        if (!archive.try_read(key, saved))
            throw InputError("model.pt: adapter tensor " + key + " is missing");
        if (!saved.sizes().equals(params[i].sizes()))
            throw InputError("model.pt: adapter tensor " + key + " has the wrong shape");
        params[i].copy_(saved);
    }
}

} // namespace mp
