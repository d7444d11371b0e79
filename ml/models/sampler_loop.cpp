#include "ml/models/sampler_loop.h"

#include "ml/core/error.h"

#include <torch/torch.h>

#include <algorithm>

namespace mp {

namespace {

// Puts the model back in training mode when generation ends, however it ends.
struct EvalScope {
    explicit EvalScope(T5Model &model) : m_model(model), m_wasTraining(model->is_training())
    {
        m_model->eval();
    }
    ~EvalScope() { m_model->train(m_wasTraining); }
    T5Model &m_model;
    bool m_wasTraining;
};

} // namespace

GeneratedTokens generateTokens(T5Model &model, const std::vector<std::int64_t> &promptIds,
                               const std::vector<std::int64_t> &stopIds,
                               const GenerateOptions &options, const ProgressFn &progress)
{
    if (promptIds.empty())
        throw InputError("generate: the prompt has no tokens");
    if (options.seeds.empty())
        throw InputError("generate: at least one sample (seed) is needed");
    if (options.maxMotionTokens < 1 || options.maxMotionTokens > kMaxMotionTokensLimit)
        throw InputError("generate: max motion tokens must be between 1 and " +
                         std::to_string(kMaxMotionTokensLimit) + ", got " +
                         std::to_string(options.maxMotionTokens));
    try {
        validateSampleOptions(options.sampling);
    } catch (const InputError &) {
        rethrowWithContext("generate");
    }
    const auto vocab = model->config().vocabSize;
    for (auto id : promptIds)
        if (id < 0 || id >= vocab)
            throw InputError("generate: prompt token " + std::to_string(id) +
                             " outside the model's vocabulary of " + std::to_string(vocab));

    EvalScope evalScope(model);
    torch::NoGradGuard noGrad;
    const auto device = model->shared->weight.device();
    const auto batch = static_cast<std::int64_t>(options.seeds.size());
    const auto maxSteps = options.maxMotionTokens + 2;

    // The same prompt for every sample: encode once, then broadcast to the batch.
    const auto prompt = torch::tensor(promptIds, torch::kLong).unsqueeze(0).to(device);
    const auto encoded = model->encode(prompt).expand({batch, -1, -1}).contiguous();

    Sampler sampler(options.sampling, options.seeds);
    const auto stops = torch::tensor(stopIds, torch::kLong).to(device);
    auto finished =
        torch::zeros({batch}, torch::TensorOptions().dtype(torch::kBool).device(device));
    auto sequence = torch::full({batch, 1}, model->config().decoderStartTokenId,
                                torch::TensorOptions().dtype(torch::kLong).device(device));
    T5Cache cache;
    GeneratedTokens result;
    result.sequences.resize(static_cast<std::size_t>(batch));
    const auto pad = model->config().padTokenId;
    for (std::int64_t step = 0; step < maxSteps; ++step) {
        at::Tensor logits;
        if (options.useCache)
            logits = model->decode(sequence.narrow(1, step, 1), encoded, {}, &cache);
        else
            logits = model->decode(sequence, encoded);
        auto next = sampler.sample(logits.select(1, logits.size(1) - 1));
        next = next.masked_fill(finished, pad);
        const auto nextCpu = next.to(torch::kCPU);
        const auto finishedCpu = finished.to(torch::kCPU);
        for (std::int64_t row = 0; row < batch; ++row)
            if (!finishedCpu[row].item<bool>())
                result.sequences[row].push_back(nextCpu[row].item<std::int64_t>());
        finished = finished.logical_or(torch::isin(next, stops));
        sequence = torch::cat({sequence, next.unsqueeze(1)}, 1);
        ++result.decoderSteps;
        reportProgress(progress, step + 1, maxSteps, "sampling");
        if (finished.all().item<bool>())
            break;
    }
    return result;
}

} // namespace mp
