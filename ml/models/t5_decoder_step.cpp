#include "ml/models/t5_decoder_step.h"

#include "ml/models/few_rows_product.h"
#include "ml/models/rms_norm.h"
#include "ml/models/t5.h"
#include "ml/models/t5_single_query.h"
#include "ml/models/weight_int8_decoder.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

namespace mp {

namespace {

bool isFloatCpu(const at::Tensor &t)
{
    return t.defined() && t.device().is_cpu() && t.scalar_type() == at::kFloat;
}

bool adapterActive(const LoraLinearImpl &linear)
{
    return linear.hasAdapter() && linear.adapterEnabled() && !linear.merged();
}

bool linearFits(const LoraLinear &linear)
{
    if (linear.is_empty())
        return true;
    const auto &w = linear->weight;
    if (!isFloatCpu(w) || w.dim() != 2 || w.stride(1) != 1)
        return false;
    if (linear->bias.defined() && (!isFloatCpu(linear->bias) || !linear->bias.is_contiguous()))
        return false;
    if (adapterActive(*linear)) {
        const auto &a = linear->lora_A->weight;
        const auto &b = linear->lora_B->weight;
        if (!isFloatCpu(a) || !isFloatCpu(b) || !a.is_contiguous() || !b.is_contiguous())
            return false;
    }
    return true;
}

bool normFits(const T5LayerNorm &norm)
{
    return isFloatCpu(norm->weight) && norm->weight.is_contiguous();
}

bool attentionFits(const T5Attention &attention)
{
    return linearFits(attention->q) && linearFits(attention->k) && linearFits(attention->v) &&
           linearFits(attention->o);
}

// y (rows, out) = x (rows, in) W^T + bias, plus scaling * B (A x) for an active unmerged adapter,
// as LoraLinearImpl::forward computes it. x and y contiguous. int8: W's int8 copy, read instead
// of W (any row count); the adapter's delta stays float32.
void project(LoraLinearImpl &linear, const at::Tensor &x, at::Tensor &y,
             const Int8Rows *int8 = nullptr)
{
    const auto rows = x.size(0);
    const auto in = linear.inFeatures();
    const auto out = linear.outFeatures();
    if (int8) {
        int8RowsProduct(x.data_ptr<float>(), in, rows, *int8,
                        linear.bias.defined() ? linear.bias.data_ptr<float>() : nullptr,
                        y.data_ptr<float>(), out);
    } else if (rows <= kFewRowsProductMaxRows) {
        fewRowsProduct(x.data_ptr<float>(), in, rows, linear.weight.data_ptr<float>(),
                       linear.weight.stride(0), out, in,
                       linear.bias.defined() ? linear.bias.data_ptr<float>() : nullptr,
                       y.data_ptr<float>(), out);
    } else {
        // A GEMM's packing pays for itself at many rows.
        at::mm_out(y, x, linear.weight.t());
        if (linear.bias.defined())
            y.add_(linear.bias);
    }
    if (!adapterActive(linear))
        return;
    const auto &a = linear.lora_A->weight;
    const auto &b = linear.lora_B->weight;
    const auto rank = a.size(0);
    std::vector<float> down(static_cast<std::size_t>(rows * rank));
    std::vector<float> up(static_cast<std::size_t>(rows * out));
    fewRowsProduct(x.data_ptr<float>(), in, rows, a.data_ptr<float>(), in, rank, in, nullptr,
                   down.data(), rank);
    fewRowsProduct(down.data(), rank, rows, b.data_ptr<float>(), rank, out, rank, nullptr,
                   up.data(), out);
    const auto scaling = static_cast<float>(linear.scaling());
    float *yData = y.data_ptr<float>();
    for (std::size_t i = 0; i < up.size(); ++i)
        yData[i] += up[i] * scaling;
}

// T5LayerNormImpl::forward on rows of d floats: weight * (x * rsqrt(mean(x^2) + eps)).
void rmsNorm(const at::Tensor &x, const T5LayerNormImpl &norm, at::Tensor &out)
{
    rmsNormRows(x.data_ptr<float>(), norm.weight.data_ptr<float>(), out.data_ptr<float>(),
                x.size(0), x.size(1), norm.eps());
}

void addInPlace(at::Tensor &hidden, const at::Tensor &update)
{
    float *h = hidden.data_ptr<float>();
    const float *u = update.data_ptr<float>();
    const auto n = hidden.numel();
    for (std::int64_t i = 0; i < n; ++i)
        h[i] += u[i];
}

// The step's keys or values, fresh (B, H * d), written at position `past` of the cache's buffer
// (B, H, capacity, d), which grows as appendToCache's does; tensor becomes the buffer's first
// past + 1 positions.
void appendStep(const at::Tensor &fresh, at::Tensor &tensor, at::Tensor &buffer, std::int64_t heads,
                std::int64_t dKv, std::int64_t past)
{
    const auto batch = fresh.size(0);
    const bool inBuffer = tensor.defined() && buffer.defined() &&
                          tensor.data_ptr() == buffer.data_ptr() &&
                          tensor.size(0) == buffer.size(0) &&
                          tensor.strides() == buffer.strides() && buffer.size(2) >= past + 1;
    if (!inBuffer) {
        auto grown = torch::empty({batch, heads, std::max<std::int64_t>(2 * (past + 1), 64), dKv},
                                  fresh.options());
        if (past > 0)
            grown.narrow(2, 0, past).copy_(tensor);
        buffer = grown;
    }
    float *dst = buffer.data_ptr<float>();
    const float *src = fresh.data_ptr<float>();
    for (std::int64_t b = 0; b < batch; ++b)
        for (std::int64_t h = 0; h < heads; ++h)
            std::memcpy(dst + b * buffer.stride(0) + h * buffer.stride(1) + past * buffer.stride(2),
                        src + (b * heads + h) * dKv, static_cast<std::size_t>(dKv) * sizeof(float));
    tensor = buffer.narrow(2, 0, past + 1);
}

SingleQueryView rowsView(const at::Tensor &rows, std::int64_t dKv)
{
    return {rows.data_ptr<float>(), rows.stride(0), dKv, 0};
}

SingleQueryView cacheView(const at::Tensor &cached)
{
    return {cached.data_ptr<float>(), cached.stride(0), cached.stride(1), cached.stride(2)};
}

} // namespace

bool canUseFastDecoderStep(T5StackImpl &stack, const at::Tensor &embeds, const at::Tensor &mask,
                           const at::Tensor &encoderHidden)
{
    if (at::GradMode::is_enabled() || stack.is_training() || mask.defined() ||
        !isFloatCpu(embeds) || embeds.dim() != 3 || embeds.size(1) != 1 ||
        !isFloatCpu(encoderHidden) || encoderHidden.dim() != 3 ||
        encoderHidden.size(0) != embeds.size(0) || stack.blocks.empty() ||
        !stack.blocks.front()->selfAttention->SelfAttention->hasRelativeBias() ||
        !normFits(stack.final_layer_norm))
        return false;
    for (const auto &block : stack.blocks) {
        if (block->crossAttention.is_empty() || !normFits(block->selfAttention->layer_norm) ||
            !normFits(block->crossAttention->layer_norm) ||
            !normFits(block->feedForward->layer_norm) ||
            !attentionFits(block->selfAttention->SelfAttention) ||
            !attentionFits(block->crossAttention->EncDecAttention))
            return false;
        const auto &ff = block->feedForward->DenseReluDense;
        if (!linearFits(ff->wi) || !linearFits(ff->wi_0) || !linearFits(ff->wi_1) ||
            !linearFits(ff->wo))
            return false;
    }
    return true;
}

at::Tensor fastDecoderStep(T5StackImpl &stack, const at::Tensor &embeds,
                           const at::Tensor &encoderHidden, const at::Tensor &encoderMask,
                           T5Cache &cache, const Int8DecoderWeights *int8)
{
    // Each product reads the weight's int8 copy where there is one.
    const auto project = [int8](LoraLinearImpl &linear, const at::Tensor &x, at::Tensor &y) {
        mp::project(linear, x, y, int8 ? int8->find(linear) : nullptr);
    };
    const auto batch = embeds.size(0);
    const auto d = embeds.size(2);
    auto &first = *stack.blocks.front()->selfAttention->SelfAttention;
    const auto heads = first.numHeads();
    const auto dKv = first.dKv();
    const auto inner = heads * dKv;
    const auto past = cache.length;
    const auto kLen = past + 1;
    if (cache.layers.size() != stack.blocks.size())
        cache.layers.resize(stack.blocks.size());

    // The bias of a query at position p against key k depends on k - p only: a table for
    // queries at L - 1 against keys 0..L-1 holds every step's bias up to L positions.
    if (!cache.selfBiasTable.defined() || cache.selfBiasTable.size(1) < kLen) {
        const auto length = std::max<std::int64_t>(64, 2 * kLen);
        cache.selfBiasTable =
            first.computeBias(1, length, length - 1).to(at::kFloat).reshape({heads, length});
        cache.selfBiasTable = cache.selfBiasTable.contiguous();
    }
    const auto tableLength = cache.selfBiasTable.size(1);
    const SingleQueryView selfBias{cache.selfBiasTable.data_ptr<float>() + (tableLength - kLen), 0,
                                   tableLength, 1};

    // The encoder mask as an additive bias (0 or the lowest float, as additiveMask).
    const auto encoderLength = encoderHidden.size(1);
    std::vector<float> crossBiasData;
    SingleQueryView crossBias;
    if (encoderMask.defined()) {
        if (encoderMask.dim() != 2 || encoderMask.size(0) != batch ||
            encoderMask.size(1) != encoderLength)
            throw std::invalid_argument("T5 decoder step: the encoder mask is not (batch, " +
                                        std::to_string(encoderLength) + ")");
        const auto allowed = encoderMask.to(at::kBool).contiguous();
        const bool *a = allowed.data_ptr<bool>();
        crossBiasData.resize(static_cast<std::size_t>(batch * encoderLength));
        for (std::size_t i = 0; i < crossBiasData.size(); ++i)
            crossBiasData[i] = a[i] ? 0.0f : std::numeric_limits<float>::lowest();
        crossBias = {crossBiasData.data(), encoderLength, 0, 1};
    }

    const auto options = embeds.options();
    auto hidden = embeds.reshape({batch, d}).clone();
    auto normed = torch::empty({batch, d}, options);
    auto update = torch::empty({batch, d}, options);
    auto query = torch::empty({batch, inner}, options);
    auto key = torch::empty({batch, inner}, options);
    auto value = torch::empty({batch, inner}, options);
    auto attended = torch::empty({batch, inner}, options);
    at::Tensor gate;
    at::Tensor linear;

    for (std::size_t i = 0; i < stack.blocks.size(); ++i) {
        auto &block = *stack.blocks[i];
        auto &layerCache = cache.layers[i];

        auto &selfAttention = *block.selfAttention->SelfAttention;
        rmsNorm(hidden, *block.selfAttention->layer_norm, normed);
        project(*selfAttention.q, normed, query);
        project(*selfAttention.k, normed, key);
        project(*selfAttention.v, normed, value);
        auto &self = layerCache.self;
        if (past > 0 && (!self.key.defined() || self.key.size(2) != past || !self.value.defined() ||
                         self.value.size(2) != past))
            throw std::logic_error("T5 decoder step: the cache does not hold " +
                                   std::to_string(past) + " positions");
        appendStep(key, self.key, self.keyBuffer, heads, dKv, past);
        appendStep(value, self.value, self.valueBuffer, heads, dKv, past);
        singleQueryAttentionRaw(rowsView(query, dKv), cacheView(self.key), cacheView(self.value),
                                selfBias, attended.data_ptr<float>(), inner, dKv, batch, heads,
                                kLen, dKv);
        project(*selfAttention.o, attended, update);
        addInPlace(hidden, update);

        auto &crossAttention = *block.crossAttention->EncDecAttention;
        rmsNorm(hidden, *block.crossAttention->layer_norm, normed);
        project(*crossAttention.q, normed, query);
        auto &cross = layerCache.cross;
        if (!cross.key.defined()) // once per generation, as T5AttentionImpl::forward does
            crossAttention.cacheCrossKeyValue(encoderHidden, cross);
        singleQueryAttentionRaw(rowsView(query, dKv), cacheView(cross.key), cacheView(cross.value),
                                crossBias, attended.data_ptr<float>(), inner, dKv, batch, heads,
                                cross.key.size(2), dKv);
        project(*crossAttention.o, attended, update);
        addInPlace(hidden, update);

        auto &ff = *block.feedForward->DenseReluDense;
        rmsNorm(hidden, *block.feedForward->layer_norm, normed);
        const bool gated = !ff.wi_0.is_empty();
        auto &in = gated ? *ff.wi_0 : *ff.wi;
        if (!linear.defined() || linear.size(1) != in.outFeatures())
            linear = torch::empty({batch, in.outFeatures()}, options);
        project(in, normed, linear);
        if (gated) {
            if (!gate.defined())
                gate = torch::empty({batch, ff.wi_1->outFeatures()}, options);
            project(*ff.wi_1, normed, gate);
            ff.activateGated(linear, gate); // linear = act(wi_0 x) * wi_1 x
        } else {
            ff.activate(linear);
        }
        project(*ff.wo, linear, update);
        addInPlace(hidden, update);
    }
    cache.length = kLen;
    auto out = torch::empty({batch, 1, d}, options);
    auto outRows = out.view({batch, d});
    rmsNorm(hidden, *stack.final_layer_norm, outRows);
    return out;
}

at::Tensor fastHeadInt8(T5ModelImpl &model, const at::Tensor &hidden,
                        const Int8DecoderWeights &int8)
{
    if (model.lm_head.is_empty())
        return int8Linear(hidden, int8.head(), at::Tensor());
    auto &head = *model.lm_head;
    const auto rows = hidden.reshape({-1, head.inFeatures()}).contiguous();
    auto out = torch::empty({rows.size(0), head.outFeatures()}, rows.options());
    project(head, rows, out, &int8.head());
    auto sizes = hidden.sizes().vec();
    sizes.back() = head.outFeatures();
    return out.view(sizes);
}

} // namespace mp
