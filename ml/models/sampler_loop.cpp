#include "ml/models/sampler_loop.h"

#include "ml/core/error.h"
#include "ml/models/eval_mode.h"
#include "ml/models/weight_int8_decoder.h"

#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <utility>

namespace mp {

namespace {

// Right-padded ids (U, S) and their mask (U, S) of 1 = token, 0 = padding.
std::pair<at::Tensor, at::Tensor>
padPrompts(const std::vector<const std::vector<std::int64_t> *> &prompts, std::int64_t pad)
{
    std::size_t longest = 0;
    for (const auto *p : prompts)
        longest = std::max(longest, p->size());
    const auto count = static_cast<std::int64_t>(prompts.size());
    auto ids = torch::full({count, static_cast<std::int64_t>(longest)}, pad, torch::kLong);
    auto mask = torch::zeros({count, static_cast<std::int64_t>(longest)}, torch::kLong);
    auto idsA = ids.accessor<std::int64_t, 2>();
    auto maskA = mask.accessor<std::int64_t, 2>();
    for (std::int64_t u = 0; u < count; ++u)
        for (std::size_t j = 0; j < prompts[u]->size(); ++j) {
            idsA[u][static_cast<std::int64_t>(j)] = (*prompts[u])[j];
            maskA[u][static_cast<std::int64_t>(j)] = 1;
        }
    return {ids, mask};
}

void keepRows(at::Tensor &tensor, const at::Tensor &keep)
{
    if (tensor.defined())
        tensor = tensor.index_select(0, keep);
}

// The kept rows (ascending batch indices) moved to the front in place and the tensor narrowed to
// them; a KV cache that is a view of its buffer narrows the buffer too, so the buffer keeps its
// room to grow. Only rows after the first finished one move, where index_select copied every row
// and the next step then copied the whole cache into a new buffer.
void keepCacheRows(at::Tensor &tensor, at::Tensor &buffer, const std::vector<std::int64_t> &keep)
{
    if (!tensor.defined())
        return;
    for (std::size_t i = 0; i < keep.size(); ++i)
        if (keep[i] != static_cast<std::int64_t>(i))
            tensor.select(0, static_cast<std::int64_t>(i)).copy_(tensor.select(0, keep[i]));
    const auto rows = static_cast<std::int64_t>(keep.size());
    tensor = tensor.narrow(0, 0, rows);
    if (buffer.defined() && buffer.data_ptr() == tensor.data_ptr())
        buffer = buffer.narrow(0, 0, rows);
}

} // namespace

GeneratedTokens generateTokens(T5Model &model, const std::vector<std::int64_t> &promptIds,
                               const std::vector<std::int64_t> &stopIds,
                               const GenerateOptions &options, const ProgressFn &progress)
{
    if (promptIds.empty())
        throw InputError("generate: the prompt has no tokens");
    // The same prompt for every row: the batched loop encodes it once.
    const std::vector<std::vector<std::int64_t>> prompts(
        std::max<std::size_t>(1, options.seeds.size()), promptIds);
    return generateTokensBatch(model, prompts, stopIds, options, progress);
}

GeneratedTokens generateTokensBatch(T5Model &model,
                                    const std::vector<std::vector<std::int64_t>> &prompts,
                                    const std::vector<std::int64_t> &stopIds,
                                    const GenerateOptions &options, const ProgressFn &progress)
{
    if (options.seeds.empty())
        throw InputError("generate: at least one sample (seed) is needed");
    if (prompts.size() != options.seeds.size())
        throw InputError("generate: " + std::to_string(prompts.size()) + " prompts for " +
                         std::to_string(options.seeds.size()) + " seeds");
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
    for (const auto &prompt : prompts) {
        if (prompt.empty())
            throw InputError("generate: the prompt has no tokens");
        for (auto id : prompt)
            if (id < 0 || id >= vocab)
                throw InputError("generate: prompt token " + std::to_string(id) +
                                 " outside the model's vocabulary of " + std::to_string(vocab));
    }

    EvalModeScope evalMode(*model);
    torch::NoGradGuard noGrad;
    const auto device = model->shared->weight.device();
    const auto batch = static_cast<std::int64_t>(prompts.size());
    const auto maxSteps = options.maxMotionTokens + 2;
    const auto pad = model->config().padTokenId;

    // Each distinct prompt is encoded once (many samples of one caption share it), then its
    // output is copied to every row that uses it.
    std::map<std::vector<std::int64_t>, std::int64_t> uniqueIndex;
    std::vector<const std::vector<std::int64_t> *> unique;
    std::vector<std::int64_t> rowPrompt;
    bool ragged = false;
    for (const auto &prompt : prompts) {
        const auto [it, added] =
            uniqueIndex.emplace(prompt, static_cast<std::int64_t>(unique.size()));
        if (added) {
            unique.push_back(&prompt);
            ragged = ragged || prompt.size() != unique.front()->size();
        }
        rowPrompt.push_back(it->second);
    }
    auto [ids, mask] = padPrompts(unique, pad);
    // Equal lengths need no mask (and then run exactly as an unpadded prompt).
    at::Tensor encoderMask = ragged ? mask.to(device) : at::Tensor();
    const auto rowIndex = torch::tensor(rowPrompt, torch::kLong).to(device);
    const auto encodedPrompts = model->encode(ids.to(device), encoderMask);
    auto encoded = encodedPrompts.index_select(0, rowIndex);
    T5Cache cache;
    // Rows that share a prompt share its cross-attention keys; with every prompt distinct the
    // first step computes them as it would, without the copy.
    if (options.useCache && unique.size() < prompts.size())
        model->fillCrossAttentionCache(encodedPrompts, rowIndex, cache);
    keepRows(encoderMask, rowIndex);

    // Made on the model's first int8 request, then reused.
    const auto int8 =
        options.int8Weights && options.useCache ? int8DecoderWeights(model.ptr()) : nullptr;

    Sampler sampler(options.sampling, options.seeds);
    // Rows still generating, as indices into prompts/seeds; row i of the batch tensors is
    // active[i].
    std::vector<std::int64_t> active(static_cast<std::size_t>(batch));
    for (std::int64_t row = 0; row < batch; ++row)
        active[static_cast<std::size_t>(row)] = row;
    auto sequence = torch::full({batch, 1}, model->config().decoderStartTokenId,
                                torch::TensorOptions().dtype(torch::kLong).device(device));
    GeneratedTokens result;
    result.sequences.resize(static_cast<std::size_t>(batch));
    for (std::int64_t step = 0; step < maxSteps; ++step) {
        at::Tensor logits;
        if (options.useCache && int8)
            logits = decodeStepInt8(*model, sequence.narrow(1, step, 1), encoded, encoderMask,
                                    cache, *int8);
        else if (options.useCache)
            logits = model->decode(sequence.narrow(1, step, 1), encoded, encoderMask, &cache);
        else
            logits = model->decode(sequence, encoded, encoderMask);
        result.rowSteps += static_cast<std::int64_t>(active.size());
        const auto next = sampler.sampleRows(logits.select(1, logits.size(1) - 1), active);
        const auto nextCpu = next.to(torch::kCPU).contiguous();
        const auto *tokens = nextCpu.data_ptr<std::int64_t>();
        std::vector<std::int64_t> keep;
        for (std::size_t i = 0; i < active.size(); ++i) {
            result.sequences[static_cast<std::size_t>(active[i])].push_back(tokens[i]);
            if (std::find(stopIds.begin(), stopIds.end(), tokens[i]) == stopIds.end())
                keep.push_back(static_cast<std::int64_t>(i));
        }
        ++result.decoderSteps;
        reportProgress(progress, step + 1, maxSteps, "sampling");
        if (keep.empty())
            break;
        sequence = torch::cat({sequence, next.unsqueeze(1)}, 1);
        if (keep.size() == active.size())
            continue;
        // Drop the finished rows from every batch tensor and the cache.
        const auto keepIndex = torch::tensor(keep, torch::kLong).to(device);
        keepRows(sequence, keepIndex);
        keepRows(encoded, keepIndex);
        keepRows(encoderMask, keepIndex);
        for (auto &layer : cache.layers)
            for (auto *attention : {&layer.self, &layer.cross}) {
                keepCacheRows(attention->key, attention->keyBuffer, keep);
                keepCacheRows(attention->value, attention->valueBuffer, keep);
            }
        std::vector<std::int64_t> stillActive;
        for (auto i : keep)
            stillActive.push_back(active[static_cast<std::size_t>(i)]);
        active = std::move(stillActive);
    }
    return result;
}

} // namespace mp
