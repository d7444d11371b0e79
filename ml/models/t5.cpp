#include "ml/models/t5.h"

#include "ml/core/error.h"
#include "ml/models/few_rows_product.h"
#include "ml/models/state_dict.h"
#include "ml/models/t5_decoder_step.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace mp {

namespace {

at::Tensor dropoutIf(const at::Tensor &x, double p, bool training)
{
    return p > 0.0 && training ? torch::dropout(x, p, true) : x;
}

// hidden + dropout(out), a sublayer's residual. Without dropout the sum goes into out, the
// sublayer's own fresh output (its projection saves inputs, not outputs, for the backward), while
// it is still in cache, where a new tensor would be one more array to write; the same float sums.
at::Tensor addResidual(const at::Tensor &hidden, at::Tensor out, double p, bool training)
{
    if (p > 0.0 && training)
        return hidden + torch::dropout(out, p, true);
    if (!out.is_contiguous() || out.sizes() != hidden.sizes() ||
        out.scalar_type() != hidden.scalar_type())
        return hidden + out;
    return out.add_(hidden);
}

// 1 = attend, 0 = masked -> 0 / most negative float, as HF does (finfo.min, not -inf, so a
// fully masked row stays finite).
at::Tensor additiveMask(const at::Tensor &allowed, at::ScalarType dtype)
{
    const double lowest = dtype == torch::kHalf ? -65504.0
                          : dtype == torch::kBFloat16
                              ? -3.38953139e38
                              : static_cast<double>(std::numeric_limits<float>::lowest());
    return torch::zeros(allowed.sizes(), allowed.options().dtype(dtype))
        .masked_fill(allowed.logical_not(), lowest);
}

} // namespace

T5LayerSelfAttentionImpl::T5LayerSelfAttentionImpl(const T5Config &config, bool hasRelativeBias,
                                                   bool isDecoder)
    : m_dropout(config.dropoutRate)
{
    SelfAttention =
        register_module("SelfAttention", T5Attention(config, hasRelativeBias, isDecoder));
    layer_norm = register_module("layer_norm", T5LayerNorm(config.dModel, config.layerNormEpsilon));
}

at::Tensor T5LayerSelfAttentionImpl::forward(const at::Tensor &hidden, const at::Tensor &bias,
                                             T5AttentionCache *cache)
{
    const auto out = SelfAttention->forward(layer_norm->forward(hidden), {}, bias, cache);
    return addResidual(hidden, out, m_dropout, is_training());
}

T5LayerCrossAttentionImpl::T5LayerCrossAttentionImpl(const T5Config &config)
    : m_dropout(config.dropoutRate)
{
    // HF builds the cross-attention without relative bias: only the encoder mask applies.
    EncDecAttention = register_module("EncDecAttention", T5Attention(config, false, true));
    layer_norm = register_module("layer_norm", T5LayerNorm(config.dModel, config.layerNormEpsilon));
}

at::Tensor T5LayerCrossAttentionImpl::forward(const at::Tensor &hidden,
                                              const at::Tensor &encoderHidden,
                                              const at::Tensor &bias, T5AttentionCache *cache)
{
    const auto out =
        EncDecAttention->forward(layer_norm->forward(hidden), encoderHidden, bias, cache);
    return addResidual(hidden, out, m_dropout, is_training());
}

T5LayerFFImpl::T5LayerFFImpl(const T5Config &config) : m_dropout(config.dropoutRate)
{
    DenseReluDense = register_module("DenseReluDense", T5DenseActDense(config));
    layer_norm = register_module("layer_norm", T5LayerNorm(config.dModel, config.layerNormEpsilon));
}

at::Tensor T5LayerFFImpl::forward(const at::Tensor &hidden)
{
    const auto out = DenseReluDense->forward(layer_norm->forward(hidden));
    return addResidual(hidden, out, m_dropout, is_training());
}

T5BlockImpl::T5BlockImpl(const T5Config &config, bool hasRelativeBias, bool isDecoder)
{
    layer = register_module("layer", torch::nn::ModuleList());
    selfAttention = T5LayerSelfAttention(config, hasRelativeBias, isDecoder);
    layer->push_back(selfAttention);
    if (isDecoder) {
        crossAttention = T5LayerCrossAttention(config);
        layer->push_back(crossAttention);
    }
    feedForward = T5LayerFF(config);
    layer->push_back(feedForward);
}

at::Tensor T5BlockImpl::forward(const at::Tensor &hidden, const at::Tensor &selfBias,
                                const at::Tensor &encoderHidden, const at::Tensor &crossBias,
                                T5LayerCache *cache)
{
    auto h = selfAttention->forward(hidden, selfBias, cache ? &cache->self : nullptr);
    if (!crossAttention.is_empty())
        h = crossAttention->forward(h, encoderHidden, crossBias, cache ? &cache->cross : nullptr);
    return feedForward->forward(h);
}

T5StackImpl::T5StackImpl(const T5Config &config, bool isDecoder)
    : m_isDecoder(isDecoder), m_dropout(config.dropoutRate)
{
    block = register_module("block", torch::nn::ModuleList());
    const auto numLayers = isDecoder ? config.numDecoderLayers : config.numLayers;
    for (std::int64_t i = 0; i < numLayers; ++i) {
        // Only the first block owns the relative position table; the others reuse its bias.
        blocks.push_back(T5Block(config, i == 0, isDecoder));
        block->push_back(blocks.back());
    }
    final_layer_norm =
        register_module("final_layer_norm", T5LayerNorm(config.dModel, config.layerNormEpsilon));
}

at::Tensor T5StackImpl::forward(const at::Tensor &embeds, const at::Tensor &mask,
                                const at::Tensor &encoderHidden, const at::Tensor &encoderMask,
                                T5Cache *cache)
{
    if (m_isDecoder && cache && !is_training() &&
        canUseFastDecoderStep(*this, embeds, mask, encoderHidden))
        return fastDecoderStep(*this, embeds, encoderHidden, encoderMask, *cache);
    const auto batch = embeds.size(0);
    const auto qLen = embeds.size(1);
    const auto past = cache ? cache->length : 0;
    const auto kLen = past + qLen;
    const auto dtype = embeds.scalar_type();
    const auto device = embeds.device();

    auto selfBias = blocks.front()->selfAttention->SelfAttention->computeBias(qLen, kLen, past);
    selfBias = selfBias.to(dtype);
    at::Tensor allowed; // (B or 1, 1, q, k)
    // One new query position (a cached decoding step) sees every key: no causal mask needed.
    if (m_isDecoder && qLen > 1) {
        const auto opts = torch::TensorOptions().dtype(torch::kLong).device(device);
        const auto queryPos = torch::arange(past, kLen, opts).unsqueeze(1);
        const auto keyPos = torch::arange(kLen, opts).unsqueeze(0);
        allowed = (keyPos <= queryPos).view({1, 1, qLen, kLen});
    }
    if (mask.defined()) {
        if (mask.size(1) != kLen)
            throw std::invalid_argument("T5 stack: mask covers " + std::to_string(mask.size(1)) +
                                        " positions, expected " + std::to_string(kLen));
        const auto padding = mask.to(torch::kBool).view({batch, 1, 1, kLen});
        allowed = allowed.defined() ? allowed.logical_and(padding) : padding;
    }
    if (allowed.defined())
        selfBias = selfBias + additiveMask(allowed, dtype);

    at::Tensor crossBias;
    if (m_isDecoder && encoderMask.defined())
        crossBias = additiveMask(encoderMask.to(torch::kBool).view({batch, 1, 1, -1}), dtype);

    if (cache && cache->layers.size() != blocks.size())
        cache->layers.resize(blocks.size());
    auto hidden = dropoutIf(embeds, m_dropout, is_training());
    for (std::size_t i = 0; i < blocks.size(); ++i)
        hidden = blocks[i]->forward(hidden, selfBias, encoderHidden, crossBias,
                                    cache ? &cache->layers[i] : nullptr);
    if (cache)
        cache->length = kLen;
    return dropoutIf(final_layer_norm->forward(hidden), m_dropout, is_training());
}

T5ModelImpl::T5ModelImpl(const T5Config &config) : m_config(config)
{
    config.validate("T5 config");
    shared = register_module("shared", torch::nn::Embedding(config.vocabSize, config.dModel));
    encoder = register_module("encoder", T5Stack(config, false));
    decoder = register_module("decoder", T5Stack(config, true));
    if (!config.tieWordEmbeddings)
        lm_head = register_module("lm_head", LoraLinear(config.dModel, config.vocabSize));
    initWeights();
}

void T5ModelImpl::initWeights()
{
    // HF's T5PreTrainedModel._init_weights (factor 1): attention has no 1/sqrt(d) scaling, so
    // the query initialisation carries it.
    torch::NoGradGuard noGrad;
    const auto &c = m_config;
    auto normal = [](const at::Tensor &w, double fanIn) { w.normal_(0.0, std::pow(fanIn, -0.5)); };
    shared->weight.normal_(0.0, 1.0);
    if (!lm_head.is_empty())
        normal(lm_head->weight, static_cast<double>(c.dModel));
    for (const auto &item : named_modules("", /*include_self=*/false)) {
        if (auto *attention = item.value()->as<T5AttentionImpl>()) {
            normal(attention->q->weight, static_cast<double>(c.dModel * c.dKv));
            normal(attention->k->weight, static_cast<double>(c.dModel));
            normal(attention->v->weight, static_cast<double>(c.dModel));
            normal(attention->o->weight, static_cast<double>(c.innerDim()));
            if (attention->hasRelativeBias())
                normal(attention->relative_attention_bias->weight, static_cast<double>(c.dModel));
        } else if (auto *ff = item.value()->as<T5DenseActDenseImpl>()) {
            for (auto *w : {&ff->wi, &ff->wi_0, &ff->wi_1})
                if (!w->is_empty())
                    normal((*w)->weight, static_cast<double>(c.dModel));
            normal(ff->wo->weight, static_cast<double>(c.dFf));
        }
    }
}

at::Tensor T5ModelImpl::encode(const at::Tensor &inputIds, const at::Tensor &attentionMask)
{
    return encoder->forward(shared->forward(inputIds), attentionMask);
}

at::Tensor T5ModelImpl::encodePairedPrompts(const at::Tensor &inputIds,
                                            const at::Tensor &attentionMask)
{
    const auto repeatsFirstHalf = [](const at::Tensor &rows) {
        const auto n = rows.size(0);
        return n >= 2 && n % 2 == 0 && torch::equal(rows.slice(0, 0, n / 2), rows.slice(0, n / 2));
    };
    const bool deterministic = !is_training() || m_config.dropoutRate == 0.0;
    if (!deterministic || !repeatsFirstHalf(inputIds) ||
        (attentionMask.defined() && !repeatsFirstHalf(attentionMask)))
        return encode(inputIds, attentionMask);
    const auto half = inputIds.size(0) / 2;
    const auto mask = attentionMask.defined() ? attentionMask.slice(0, 0, half) : attentionMask;
    return encode(inputIds.slice(0, 0, half), mask).repeat({2, 1, 1});
}

void T5ModelImpl::fillCrossAttentionCache(const at::Tensor &encoderHidden,
                                          const at::Tensor &rowIndex, T5Cache &cache)
{
    auto &blocks = decoder->blocks;
    cache.layers.resize(blocks.size());
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        auto &attention = *blocks[i]->crossAttention->EncDecAttention;
        attention.cacheCrossKeyValue(encoderHidden, cache.layers[i].cross, rowIndex);
    }
}

at::Tensor T5ModelImpl::decode(const at::Tensor &decoderIds, const at::Tensor &encoderHidden,
                               const at::Tensor &encoderMask, T5Cache *cache,
                               const at::Tensor &decoderMask)
{
    return head(decodeHidden(decoderIds, encoderHidden, encoderMask, cache, decoderMask));
}

at::Tensor T5ModelImpl::decodeHidden(const at::Tensor &decoderIds, const at::Tensor &encoderHidden,
                                     const at::Tensor &encoderMask, T5Cache *cache,
                                     const at::Tensor &decoderMask)
{
    auto hidden = decoder->forward(shared->forward(decoderIds), decoderMask, encoderHidden,
                                   encoderMask, cache);
    // T5 v1.0 rescales by d_model^-0.5 before its tied head (Mesh TensorFlow's convention, kept
    // by HF); v1.1 / flan-t5 do not.
    if (m_config.scalesDecoderOutput())
        hidden = hidden * std::pow(static_cast<double>(m_config.dModel), -0.5);
    return hidden;
}

at::Tensor T5ModelImpl::head(const at::Tensor &hidden)
{
    if (lm_head.is_empty()) {
        // The tied head over a few rows (a decoding step) without OpenBLAS packing the whole
        // embedding (32615x768 for MotionGPT's vocabulary) on every call.
        if (canUseFewRowsLinear(hidden, shared->weight, at::Tensor()))
            return fewRowsLinear(hidden, shared->weight, at::Tensor());
        return torch::matmul(hidden, shared->weight.t());
    }
    return lm_head->forward(hidden);
}

at::Tensor T5ModelImpl::forward(const at::Tensor &inputIds, const at::Tensor &attentionMask,
                                const at::Tensor &decoderIds)
{
    const auto encoded = encode(inputIds, attentionMask);
    return decode(decoderIds, encoded, attentionMask);
}

at::Tensor T5ModelImpl::shiftRight(const at::Tensor &labels) const
{
    auto shifted = torch::full_like(labels, m_config.decoderStartTokenId);
    const auto length = labels.size(-1);
    if (length > 1)
        shifted.narrow(-1, 1, length - 1).copy_(labels.narrow(-1, 0, length - 1));
    return shifted.masked_fill(shifted == -100, m_config.padTokenId);
}

bool T5ModelImpl::untieForCheckpoint(const TensorMap &tensors, const std::string &prefix)
{
    if (!m_config.tieWordEmbeddings)
        return false;
    const auto head = tensors.find(prefix + "lm_head.weight");
    const auto embedding = tensors.find(prefix + "shared.weight");
    if (head == tensors.end() || embedding == tensors.end() ||
        head->second.sizes() != embedding->second.sizes() ||
        torch::equal(head->second, embedding->second))
        return false;
    const bool scale = m_config.scalesDecoderOutput();
    m_config.tieWordEmbeddings = false;
    m_config.scaleDecoderOutputs = scale;
    lm_head = register_module("lm_head", LoraLinear(m_config.dModel, m_config.vocabSize));
    lm_head->to(shared->weight.device(), shared->weight.scalar_type());
    lm_head->weight.set_requires_grad(shared->weight.requires_grad());
    return true;
}

void T5ModelImpl::loadWeights(const std::filesystem::path &file)
{
    const auto tensors = readSafetensors(file);
    untieForCheckpoint(tensors);
    LoadStateOptions options;
    options.ignored = {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"};
    if (m_config.tieWordEmbeddings)
        options.ignored.push_back("lm_head.weight");
    loadStateDict(*this, tensors, file.filename().string(), options);
}

void T5ModelImpl::saveWeights(const std::filesystem::path &file) const
{
    writeSafetensors(file, moduleStateDict(*this), {{"format", "pt"}});
}

} // namespace mp
