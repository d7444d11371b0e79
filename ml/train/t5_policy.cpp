#include "ml/train/t5_policy.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/models/lora.h"
#include "ml/models/lora_linear.h"
#include "ml/train/checkpoint.h"
#include "ml/train/picked_log_probs.h"

namespace mp {

namespace {

// A copy of `model` on its device, in eval mode, that no gradient reaches.
T5Model frozenCopy(const T5Model &model)
{
    T5Model copy(model->config());
    const auto device = model->parameters().front().device();
    copy->to(device);
    torch::NoGradGuard noGrad;
    const auto from = model->named_parameters();
    for (auto &item : copy->named_parameters()) {
        const auto *source = from.find(item.key());
        if (!source)
            throw std::invalid_argument("T5Policy: the reference copy has a parameter '" +
                                        item.key() + "' the model lacks");
        item.value().copy_(*source);
        item.value().set_requires_grad(false);
    }
    const auto buffers = model->named_buffers();
    for (auto &item : copy->named_buffers())
        if (const auto *source = buffers.find(item.key()))
            item.value().copy_(*source);
    copy->eval();
    return copy;
}

// Log-probs (N, T) of labels from the decoder's states (N, T, d): the head and its log-softmax at
// the scored positions only (a DPO batch's padding is about a quarter of its label positions, and
// the head is the widest product of a step), zero elsewhere.
at::Tensor scoredLogProbs(T5Model &model, const at::Tensor &hidden, const at::Tensor &labels,
                          std::int64_t ignoreIndex)
{
    const auto rows = labels.size(0);
    const auto length = labels.size(1);
    const auto targets = labels.to(torch::kLong).reshape(-1);
    const auto positions = (targets != ignoreIndex).nonzero().squeeze(1);
    const auto flat = hidden.reshape({rows * length, hidden.size(2)});
    const auto logits = model->head(flat.index_select(0, positions)); // (P, V)
    const auto picked = pickedLogProbs(logits, targets.index_select(0, positions));
    return torch::zeros({rows * length}, picked.options())
        .index_copy(0, positions, picked)
        .view({rows, length});
}

std::int64_t vocabularySize(const T5Model &model)
{
    return model->lm_head.is_empty() ? model->shared->weight.size(0)
                                     : model->lm_head->outFeatures();
}

struct LengthBucket {
    std::vector<std::int64_t> rows;
    std::int64_t length = 1; // the longest scored length among the rows
};

// Rows in groups of similar scored length (one past the last scored label), each to be decoded
// only up to its own longest row: the causal decoder's states at a position do not depend on
// the positions after it, so the trimmed padding changes no scored log-prob. Up to four groups
// of equal row counts, as many as each cut at least 5% of the padded positions.
std::vector<LengthBucket> lengthBuckets(const at::Tensor &labels, std::int64_t ignoreIndex)
{
    const auto rows = labels.size(0);
    const auto width = labels.size(1);
    const auto scored = (labels.to(torch::kLong) != ignoreIndex).to(torch::kLong).cpu();
    const auto lastScored =
        (scored * torch::arange(1, width + 1, torch::kLong)).amax(1).clamp_min(1).contiguous();
    const std::int64_t *first = lastScored.data_ptr<std::int64_t>();
    const std::vector<std::int64_t> lengths(first, first + rows);
    std::vector<std::int64_t> order(lengths.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::int64_t a, std::int64_t b) { return lengths[a] < lengths[b]; });
    const auto split = [&](std::int64_t count) {
        std::vector<LengthBucket> buckets;
        for (std::int64_t i = 0; i < count; ++i) {
            LengthBucket bucket;
            for (std::int64_t k = i * rows / count; k < (i + 1) * rows / count; ++k) {
                bucket.rows.push_back(order[k]);
                bucket.length = std::max(bucket.length, lengths[order[k]]);
            }
            if (!bucket.rows.empty())
                buckets.push_back(std::move(bucket));
        }
        return buckets;
    };
    const auto positions = [](const std::vector<LengthBucket> &buckets) {
        std::int64_t total = 0;
        for (const auto &bucket : buckets)
            total += static_cast<std::int64_t>(bucket.rows.size()) * bucket.length;
        return total;
    };
    auto best = split(1);
    for (std::int64_t count = 2; count <= std::min<std::int64_t>(4, rows); ++count) {
        auto candidate = split(count);
        if (positions(candidate) < 0.95 * positions(best))
            best = std::move(candidate);
    }
    return best;
}

// The decoder's cross-attention keys and values of each distinct prompt, per layer, as (U, S,
// H x d_kv) rows: a preference batch's chosen and rejected rows share their prompt but are
// decoded in different length groups, and would each project it again.
struct PromptKeyValues {
    std::vector<at::Tensor> keys;
    std::vector<at::Tensor> values;
    at::Tensor rowPrompt; // (N) int64: the prompt of each row
};

// Shared keys and values when the encoder's rows repeat in halves (encodePairedPrompts' case) and
// nothing random could tell two rows apart (eval mode: no dropout, LoRA's included); else none.
std::optional<PromptKeyValues> sharedPromptKeyValues(T5Model &model, const at::Tensor &encoded)
{
    const auto rows = encoded.size(0);
    if (model->is_training() || rows < 2 || rows % 2 != 0 ||
        !torch::equal(encoded.slice(0, 0, rows / 2), encoded.slice(0, rows / 2)))
        return std::nullopt;
    const auto prompts = encoded.slice(0, 0, rows / 2);
    PromptKeyValues out;
    for (auto &block : model->decoder->blocks) {
        auto &attention = *block->crossAttention->EncDecAttention;
        out.keys.push_back(attention.k->forward(prompts));
        out.values.push_back(attention.v->forward(prompts));
    }
    out.rowPrompt = torch::arange(rows, torch::kLong).remainder(rows / 2).to(encoded.device());
    return out;
}

// A cache whose cross-attention holds rows `index`'s keys and values, as (B, H, S, d_kv) head
// views of their rows (T5Attention's forward hands such views to the fused attention as rows).
void fillSharedCrossAttention(const PromptKeyValues &shared, const at::Tensor &index,
                              std::int64_t numHeads, T5Cache &cache)
{
    const auto prompts = shared.rowPrompt.index_select(0, index);
    const auto heads = [&](const at::Tensor &rows) {
        const auto picked = rows.index_select(0, prompts);
        return picked.view({picked.size(0), picked.size(1), numHeads, -1}).transpose(1, 2);
    };
    cache.layers.resize(shared.keys.size());
    for (std::size_t i = 0; i < shared.keys.size(); ++i) {
        cache.layers[i].cross.key = heads(shared.keys[i]);
        cache.layers[i].cross.value = heads(shared.values[i]);
    }
}

} // namespace

T5Policy::T5Policy(T5Model model, T5PolicyOptions options)
    : m_model(std::move(model)), m_options(options)
{
    const bool hasAdapters = !loraLayers(*m_model).empty();
    if (!m_options.fullFineTuning) {
        if (!hasAdapters)
            throw std::invalid_argument("T5Policy: the model has no LoRA adapters");
        return;
    }
    if (hasAdapters)
        throw std::invalid_argument(
            "T5Policy: full fine-tuning of a model that carries LoRA adapters");
    m_reference = frozenCopy(m_model);
    for (auto &parameter : m_model->parameters())
        parameter.set_requires_grad(true);
}

T5Model &T5Policy::activeModel()
{
    if (m_options.disableDropout)
        m_model->eval(); // T5 has no batch statistics: eval() only switches dropout off
    // Full fine-tuning scores the reference with the frozen copy, in the policy's mode (as the
    // adapter-disabled model of a LoRA run is).
    const bool frozen = m_reference && !m_enabled;
    if (frozen)
        m_reference->train(m_model->is_training());
    return frozen ? m_reference : m_model;
}

at::Tensor T5Policy::decoderStates(T5Model &model, const at::Tensor &encoderIds,
                                   const at::Tensor &encoderMask, const at::Tensor &labels)
{
    return model->decodeHidden(model->shiftRight(labels),
                               model->encodePairedPrompts(encoderIds, encoderMask), encoderMask);
}

T5Policy::GroupedScores T5Policy::scoreByLength(T5Model &model, const at::Tensor &encoderIds,
                                                const at::Tensor &encoderMask,
                                                const at::Tensor &labels, std::int64_t ignoreIndex,
                                                bool stateSums)
{
    const auto encoded = model->encodePairedPrompts(encoderIds, encoderMask);
    const auto shared = sharedPromptKeyValues(model, encoded);
    const auto width = labels.size(1);
    GroupedScores out;
    out.logps = torch::zeros(labels.sizes(), encoded.options());
    if (stateSums)
        out.stateSums = torch::zeros({labels.size(0), encoded.size(2)},
                                     encoded.options().dtype(torch::kDouble));
    for (const auto &bucket : lengthBuckets(labels, ignoreIndex)) {
        const auto index = torch::tensor(bucket.rows, torch::kLong).to(labels.device());
        const auto rowLabels = labels.index_select(0, index);
        const auto bucketLabels = rowLabels.narrow(1, 0, bucket.length);
        const auto rowEncoded = encoded.index_select(0, index);
        const auto mask = encoderMask.defined() ? encoderMask.index_select(0, index) : encoderMask;
        const bool tail = stateSums && bucket.length < width;
        T5Cache cache;
        if (shared)
            fillSharedCrossAttention(*shared, index, model->config().numHeads, cache);
        const auto hidden = model->decodeHidden(model->shiftRight(bucketLabels), rowEncoded, mask,
                                                tail || shared ? &cache : nullptr);
        out.logps.narrow(1, 0, bucket.length)
            .index_copy_(0, index, scoredLogProbs(model, hidden, bucketLabels, ignoreIndex));
        if (!stateSums)
            continue;
        torch::NoGradGuard noGrad;
        auto sums = hidden.detach().to(torch::kDouble).sum(1);
        if (tail) {
            // The causal decoder's later positions from the cache of the earlier ones: the same
            // states as one pass over the whole width, for the logits/* metric only.
            const auto tailIds =
                model->shiftRight(rowLabels).narrow(1, bucket.length, width - bucket.length);
            sums +=
                model->decodeHidden(tailIds, rowEncoded, mask, &cache).to(torch::kDouble).sum(1);
        }
        out.stateSums.index_copy_(0, index, sums);
    }
    return out;
}

at::Tensor T5Policy::forward(const at::Tensor &encoderIds, const at::Tensor &encoderMask,
                             const at::Tensor &labels)
{
    T5Model &model = activeModel();
    return model->head(decoderStates(model, encoderIds, encoderMask, labels));
}

ScoredLabels T5Policy::scoreLabels(const at::Tensor &encoderIds, const at::Tensor &encoderMask,
                                   const at::Tensor &labels, const LogProbOptions &options)
{
    if (options.alignment != LabelAlignment::EncoderDecoder || labels.dim() != 2)
        return PolicyModel::scoreLabels(encoderIds, encoderMask, labels, options);
    T5Model &model = activeModel();
    const auto length = labels.size(1);
    const auto scored = labels.to(torch::kLong) != options.ignoreIndex;
    ScoredLabels out;
    out.logitsPerRow = length * vocabularySize(model);
    auto grouped = scoreByLength(model, encoderIds, encoderMask, labels, options.ignoreIndex,
                                 options.logitSums);
    out.tokens.logps = std::move(grouped.logps);
    out.tokens.mask = scored.to(out.tokens.logps.scalar_type());
    if (!options.logitSums)
        return out;
    // The head is linear: the sum of a row's logits over every position and token is its summed
    // states times the head's summed rows (in float64; a head with an active adapter or a bias
    // takes its own forward of the summed states instead).
    torch::NoGradGuard noGrad;
    const auto &states = grouped.stateSums; // (N, d)
    const auto &head = model->lm_head;
    const bool plain =
        head.is_empty() || (!head->bias.defined() &&
                            (!head->hasAdapter() || !head->adapterEnabled() || head->merged()));
    if (plain) {
        const auto &weight = head.is_empty() ? model->shared->weight : head->weight;
        out.logitSums = states.matmul(weight.sum(0, false, torch::kDouble));
    } else {
        out.logitSums =
            model->head(states.to(out.tokens.logps.scalar_type())).to(torch::kDouble).sum(1);
    }
    return out;
}

void T5Policy::setAdapterEnabled(bool enabled)
{
    if (!m_reference)
        setLoraEnabled(*m_model, enabled);
    m_enabled = enabled;
}

std::vector<at::Tensor> T5Policy::trainableParameters()
{
    return m_reference ? m_model->parameters() : loraParameters(*m_model);
}

torch::nn::Module &T5Policy::module()
{
    return *m_model;
}

// Full fine-tuning's checkpoints name their tensors "weights.N": a LoRA checkpoint ("adapter.N")
// loaded into a full run, or the reverse, is an error naming model.pt, not a silent mix.
void T5Policy::saveState(torch::serialize::OutputArchive &archive)
{
    writeTensorList(archive, trainableParameters(), m_reference ? "weights." : "adapter.");
}

void T5Policy::loadState(torch::serialize::InputArchive &archive)
{
    auto params = trainableParameters();
    readTensorList(archive, params, m_reference ? "weights." : "adapter.");
}

} // namespace mp
