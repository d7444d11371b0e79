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

namespace {

// Whether rows [0, n/2) equal rows [n/2, n): DPO's concatenated batch repeats every prompt, once
// for the chosen and once for the rejected motion.
bool repeatsFirstHalf(const at::Tensor &rows)
{
    const auto n = rows.size(0);
    return n >= 2 && n % 2 == 0 && torch::equal(rows.slice(0, 0, n / 2), rows.slice(0, n / 2));
}

} // namespace

at::Tensor T5Policy::forward(const at::Tensor &encoderIds, const at::Tensor &encoderMask,
                             const at::Tensor &labels)
{
    if (m_options.disableDropout)
        m_model->eval(); // T5 has no batch statistics: eval() only switches dropout off
    const auto decoderIds = m_model->shiftRight(labels);
    // A repeated prompt gives the same encoder states (without dropout): encode each once and
    // feed the copy to both halves (the gradient of the copy sums both halves, as two encoder
    // passes would). Saves half the encoder, forward and backward, of every DPO pass.
    const bool deterministic = !m_model->is_training();
    if (deterministic && repeatsFirstHalf(encoderIds) &&
        (!encoderMask.defined() || repeatsFirstHalf(encoderMask))) {
        const auto half = encoderIds.size(0) / 2;
        const auto mask = encoderMask.defined() ? encoderMask.slice(0, 0, half) : encoderMask;
        const auto encoded = m_model->encode(encoderIds.slice(0, 0, half), mask).repeat({2, 1, 1});
        return m_model->decode(decoderIds, encoded, encoderMask);
    }
    return m_model->forward(encoderIds, encoderMask, decoderIds);
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
