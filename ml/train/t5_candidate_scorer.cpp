// T5CandidateScorer (pair_selection.h): implicit rewards and prompt embeddings from a bundle.
#include "ml/train/pair_selection.h"

#include <cmath>
#include <optional>

#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/models/bundle.h"
#include "ml/models/lora.h"
#include "ml/train/logprobs.h"
#include "ml/train/preference_data.h"
#include "ml/train/reward_ensemble.h"

namespace mp {

T5CandidateScorer::T5CandidateScorer(ModelBundle &bundle, double beta, RewardEnsemble *ensemble)
    : m_bundle(bundle), m_beta(beta), m_ensemble(ensemble)
{
    if (!(beta > 0.0) || !std::isfinite(beta))
        throw InputError("the selection's beta must be a positive number (got " +
                         std::to_string(beta) + ")");
}

std::vector<double>
T5CandidateScorer::implicitRewards(const std::string &prompt,
                                   const std::vector<std::vector<std::int64_t>> &codes)
{
    if (codes.empty())
        return {};
    torch::NoGradGuard noGrad;
    T5Model &model = m_bundle.t5();
    model->eval();
    const auto k = static_cast<std::int64_t>(codes.size());
    const std::vector<std::int64_t> ids = m_bundle.encodePrompt(prompt);
    const auto device = m_bundle.device();
    const at::Tensor encoderIds =
        torch::tensor(ids, torch::kLong).unsqueeze(0).repeat({k, 1}).to(device);
    const at::Tensor encoderMask = torch::ones_like(encoderIds);
    std::vector<std::vector<std::int64_t>> rows;
    for (const auto &sample : codes)
        rows.push_back(motionLabels(m_bundle.tokenizer(), sample,
                                    static_cast<std::int64_t>(sample.size()) + 3));
    const at::Tensor labels = padRows(rows, kIgnoreLabel).to(device);
    const at::Tensor decoderIds = model->shiftRight(labels);
    const at::Tensor encoded =
        model->encode(encoderIds.slice(0, 0, 1), encoderMask.slice(0, 0, 1)).repeat({k, 1, 1});
    const auto logps = [&] {
        return sequenceLogProbs(model->decode(decoderIds, encoded, encoderMask), labels)
            .to(torch::kCPU, torch::kDouble);
    };
    const at::Tensor policy = logps();
    at::Tensor reference;
    if (loraLayers(*model).empty()) {
        reference = policy; // no adapter: the policy is the reference
    } else {
        const LoraDisabledScope base(*model);
        // The encoder carries adapters too: the reference encodes the prompt without them.
        const at::Tensor baseEncoded =
            model->encode(encoderIds.slice(0, 0, 1), encoderMask.slice(0, 0, 1)).repeat({k, 1, 1});
        reference = sequenceLogProbs(model->decode(decoderIds, baseEncoded, encoderMask), labels)
                        .to(torch::kCPU, torch::kDouble);
    }
    const at::Tensor rewards = (policy - reference) * m_beta;
    return std::vector<double>(rewards.data_ptr<double>(), rewards.data_ptr<double>() + k);
}

std::vector<float> T5CandidateScorer::promptEmbedding(const std::string &prompt)
{
    torch::NoGradGuard noGrad;
    T5Model &model = m_bundle.t5();
    model->eval();
    const std::vector<std::int64_t> ids = m_bundle.encodePrompt(prompt);
    const at::Tensor encoderIds =
        torch::tensor(ids, torch::kLong).unsqueeze(0).to(m_bundle.device());
    // The base model's states, so that the embedding of a prompt does not move between rounds.
    std::optional<LoraDisabledScope> base;
    if (!loraLayers(*model).empty())
        base.emplace(*model);
    const at::Tensor mean = model->encode(encoderIds, torch::ones_like(encoderIds))
                                .mean(1)
                                .squeeze(0)
                                .to(torch::kCPU, torch::kFloat)
                                .contiguous();
    return std::vector<float>(mean.data_ptr<float>(), mean.data_ptr<float>() + mean.numel());
}

std::vector<std::vector<double>>
T5CandidateScorer::memberRewards(const std::string &prompt,
                                 const std::vector<std::vector<std::int64_t>> &codes)
{
    if (!m_ensemble)
        throw InputError("the ensemble rule needs a reward-model ensemble and none was loaded");
    return m_ensemble->rewards(prompt, codes);
}

} // namespace mp
