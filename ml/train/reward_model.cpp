#include "ml/train/reward_model.h"

#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/data/safetensors.h"
#include "ml/train/logprobs.h"
#include "ml/train/reward_loss.h"

namespace fs = std::filesystem;

namespace mp {

at::Tensor lastLabelIndex(const at::Tensor &labels)
{
    // Positions 0..T-1 where scored, -1 elsewhere; the row maximum is the last scored one.
    const auto positions = torch::arange(labels.size(1), labels.options().dtype(torch::kLong));
    const auto scored = labels.ne(kIgnoreLabel);
    return torch::where(scored, positions.expand_as(labels), torch::full_like(labels, -1))
        .amax(1)
        .clamp_min(0);
}

fs::path resolveRewardModelDir(const fs::path &path)
{
    for (const fs::path &candidate : {path, path / "best", path / "reward_model"})
        if (fs::exists(candidate / "reward_head.safetensors"))
            return candidate;
    throw InputError(path.string() + ": no reward model here (reward_head.safetensors in it, in "
                                     "best/ or in reward_model/); train one with method \"rm\"");
}

RewardModelImpl::RewardModelImpl(T5Model t5, bool zeroHead) : m_t5(std::move(t5))
{
    register_module("t5", m_t5);
    head = register_module("head", torch::nn::Linear(m_t5->config().dModel, 1));
    if (zeroHead) {
        torch::NoGradGuard noGrad;
        head->weight.zero_();
        head->bias.zero_();
    }
}

at::Tensor RewardModelImpl::hidden(const at::Tensor &promptIds, const at::Tensor &promptMask,
                                   const at::Tensor &labels, double neftuneAlpha,
                                   at::Generator *generator)
{
    at::Tensor decoderEmbeds = m_t5->shared->forward(m_t5->shiftRight(labels));
    if (!is_training() || neftuneAlpha <= 0.0) // chosen and rejected encode each prompt once
        return m_t5->decoder->forward(decoderEmbeds, {},
                                      m_t5->encodePairedPrompts(promptIds, promptMask), promptMask);
    at::Tensor encoderEmbeds = m_t5->shared->forward(promptIds);
    encoderEmbeds = addNeftuneNoise(encoderEmbeds, neftuneAlpha, generator);
    decoderEmbeds = addNeftuneNoise(decoderEmbeds, neftuneAlpha, generator);
    const at::Tensor encoded = m_t5->encoder->forward(encoderEmbeds, promptMask);
    return m_t5->decoder->forward(decoderEmbeds, {}, encoded, promptMask);
}

at::Tensor RewardModelImpl::score(const at::Tensor &promptIds, const at::Tensor &promptMask,
                                  const at::Tensor &labels, double neftuneAlpha,
                                  at::Generator *generator)
{
    const at::Tensor states = hidden(promptIds, promptMask, labels, neftuneAlpha, generator);
    const at::Tensor last = lastLabelIndex(labels).to(states.device());
    const at::Tensor picked =
        states.gather(1, last.view({-1, 1, 1}).expand({states.size(0), 1, states.size(2)}))
            .squeeze(1);
    return head->forward(picked).squeeze(-1);
}

at::Tensor RewardModelImpl::values(const at::Tensor &promptIds, const at::Tensor &promptMask,
                                   const at::Tensor &labels)
{
    return head->forward(hidden(promptIds, promptMask, labels)).squeeze(-1);
}

std::vector<at::Tensor> RewardModelImpl::trainableParameters()
{
    auto params = loraParameters(*m_t5);
    params.push_back(head->weight);
    params.push_back(head->bias);
    return params;
}

void RewardModelImpl::save(const fs::path &directory, const LoraConfig &lora)
{
    saveLoraAdapter(*m_t5, lora, directory);
    writeSafetensors(directory / "reward_head.safetensors",
                     {{"score.weight", head->weight.detach().to(torch::kCPU).contiguous()},
                      {"score.bias", head->bias.detach().to(torch::kCPU).contiguous()}});
}

void RewardModelImpl::load(const fs::path &directory)
{
    const fs::path headFile = directory / "reward_head.safetensors";
    if (!fs::exists(headFile))
        throw InputError(headFile.string() + ": missing; " + directory.string() +
                         " is not a reward model (train one with method \"rm\")");
    loadLoraAdapter(*m_t5, directory);
    const auto tensors = readSafetensors(headFile);
    const auto take = [&](const char *name, at::Tensor &into) {
        const auto it = tensors.find(name);
        if (it == tensors.end())
            throw InputError(headFile.string() + ": tensor " + name + " is missing");
        if (!it->second.sizes().equals(into.sizes()))
            throw InputError(headFile.string() + ": tensor " + name + " has the wrong shape");
        torch::NoGradGuard noGrad;
        into.copy_(it->second.to(into.dtype()));
    };
    take("score.weight", head->weight);
    take("score.bias", head->bias);
}

} // namespace mp
