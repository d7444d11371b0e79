#include "ml/models/weight_int8_decoder.h"

#include "ml/models/t5.h"
#include "ml/models/t5_decoder_step.h"

#include <torch/torch.h>

#include <cmath>
#include <mutex>

namespace mp {

namespace {

// The decoder's linear layers that a cached step reads (cross-attention k and v are computed
// once per generation from the encoder's output, in float32, and left out).
std::vector<LoraLinear> stepLinears(T5ModelImpl &model)
{
    std::vector<LoraLinear> linears;
    for (const auto &block : model.decoder->blocks) {
        const auto &self = block->selfAttention->SelfAttention;
        linears.insert(linears.end(), {self->q, self->k, self->v, self->o});
        if (!block->crossAttention.is_empty()) {
            const auto &cross = block->crossAttention->EncDecAttention;
            linears.insert(linears.end(), {cross->q, cross->o});
        }
        const auto &ff = block->feedForward->DenseReluDense;
        for (const auto &linear : {ff->wi, ff->wi_0, ff->wi_1, ff->wo})
            if (!linear.is_empty())
                linears.push_back(linear);
    }
    return linears;
}

const at::Tensor &headWeight(T5ModelImpl &model)
{
    return model.lm_head.is_empty() ? model.shared->weight : model.lm_head->weight;
}

bool floatCpu(const at::Tensor &t)
{
    return t.defined() && t.dim() == 2 && t.device().is_cpu() && t.scalar_type() == at::kFloat;
}

} // namespace

Int8DecoderWeights::Source::Source(const at::Tensor &weight)
    : tensor(weight.getIntrusivePtr()), storage(weight.storage().getWeakStorageImpl()),
      storageOffset(weight.storage_offset()), version(weight._version())
{
}

bool Int8DecoderWeights::Source::is(const at::Tensor &weight) const
{
    return weight.unsafeGetTensorImpl() == tensor._unsafe_get_target() &&
           weight.storage().unsafeGetStorageImpl() == storage._unsafe_get_target() &&
           weight.storage_offset() == storageOffset && weight._version() == version;
}

Int8DecoderWeights::Int8DecoderWeights(T5ModelImpl &model)
{
    if (!canUseInt8Decoding(model))
        throw std::invalid_argument("int8 decoding: the decoder's weights are not float32 on the "
                                    "CPU");
    torch::NoGradGuard noGrad;
    for (const auto &linear : stepLinears(model)) {
        m_linears.emplace(linear.get(), quantizeRows(linear->weight));
        m_sources.emplace_back(linear->weight);
    }
    const auto &head = headWeight(model);
    m_head = quantizeRows(head);
    m_sources.emplace_back(head);
}

const Int8Rows *Int8DecoderWeights::find(const LoraLinearImpl &linear) const
{
    const auto it = m_linears.find(&linear);
    return it == m_linears.end() ? nullptr : &it->second;
}

bool Int8DecoderWeights::current(T5ModelImpl &model) const
{
    const auto linears = stepLinears(model);
    if (linears.size() + 1 != m_sources.size())
        return false;
    for (std::size_t i = 0; i <= linears.size(); ++i) {
        const auto &now = i < linears.size() ? linears[i]->weight : headWeight(model);
        if (i < linears.size() && !find(*linears[i]))
            return false;
        if (!m_sources[i].is(now))
            return false;
    }
    return true;
}

std::int64_t Int8DecoderWeights::bytes() const
{
    std::int64_t total = 0;
    const auto add = [&](const Int8Rows &rows) {
        total += static_cast<std::int64_t>(rows.values.size() + 4 * rows.scales.size());
    };
    for (const auto &[linear, rows] : m_linears)
        add(rows);
    add(m_head);
    return total;
}

bool canUseInt8Decoding(T5ModelImpl &model)
{
    if (!floatCpu(headWeight(model)))
        return false;
    for (const auto &linear : stepLinears(model))
        if (!floatCpu(linear->weight) || linear->weight.stride(1) != 1)
            return false;
    return true;
}

std::shared_ptr<const Int8DecoderWeights>
int8DecoderWeights(const std::shared_ptr<T5ModelImpl> &model)
{
    // One entry per live model; an entry whose model is gone is dropped on the next call. The
    // lock is held while quantising, so threads that ask at once share one copy.
    struct Entry {
        std::weak_ptr<T5ModelImpl> model;
        std::shared_ptr<const Int8DecoderWeights> weights;
    };
    static std::mutex mutex;
    static std::vector<Entry> entries;
    if (!model || !canUseInt8Decoding(*model))
        return nullptr;
    std::lock_guard<std::mutex> lock(mutex);
    std::erase_if(entries, [](const Entry &entry) { return entry.model.expired(); });
    for (auto &entry : entries)
        if (entry.model.lock() == model) {
            if (!entry.weights->current(*model))
                entry.weights = std::make_shared<const Int8DecoderWeights>(*model);
            return entry.weights;
        }
    entries.push_back({model, std::make_shared<const Int8DecoderWeights>(*model)});
    return entries.back().weights;
}

at::Tensor decodeStepInt8(T5ModelImpl &model, const at::Tensor &decoderIds,
                          const at::Tensor &encoderHidden, const at::Tensor &encoderMask,
                          T5Cache &cache, const Int8DecoderWeights &weights)
{
    const auto embeds = model.shared->forward(decoderIds);
    if (decoderIds.dim() != 2 || decoderIds.size(1) != 1 || model.is_training() ||
        !canUseFastDecoderStep(*model.decoder, embeds, {}, encoderHidden))
        return model.decode(decoderIds, encoderHidden, encoderMask, &cache);
    auto hidden =
        fastDecoderStep(*model.decoder, embeds, encoderHidden, encoderMask, cache, &weights);
    // As T5ModelImpl::decodeHidden: T5 v1.0 rescales before its tied head.
    if (model.config().scalesDecoderOutput())
        hidden = hidden * std::pow(static_cast<double>(model.config().dModel), -0.5);
    return fastHeadInt8(model, hidden, weights);
}

} // namespace mp
