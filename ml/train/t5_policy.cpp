#include "ml/train/t5_policy.h"

#include <stdexcept>
#include <string>

#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/models/lora.h"
#include "ml/models/lora_linear.h"
#include "ml/train/checkpoint.h"

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
    writeTensorList(archive, trainableParameters(), "adapter.");
}

void T5Policy::loadState(torch::serialize::InputArchive &archive)
{
    auto params = trainableParameters();
    readTensorList(archive, params, "adapter.");
}

} // namespace mp
