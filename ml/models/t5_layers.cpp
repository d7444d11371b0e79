#include "ml/models/t5_layers.h"

#include "ml/models/fused_attention.h"
#include "ml/models/gated_gelu.h"
#include "ml/models/rms_norm.h"
#include "ml/models/t5_config.h"
#include "ml/models/t5_single_query.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace mp {

at::Tensor t5RelativePositionBucket(const at::Tensor &relativePosition, bool bidirectional,
                                    std::int64_t numBuckets, std::int64_t maxDistance)
{
    auto buckets = torch::zeros_like(relativePosition);
    auto distance = relativePosition;
    if (bidirectional) {
        numBuckets /= 2;
        buckets = buckets + (relativePosition > 0).to(torch::kLong) * numBuckets;
        distance = relativePosition.abs();
    } else {
        // Only past keys (relative position <= 0) get distinct buckets.
        distance = -torch::min(relativePosition, torch::zeros_like(relativePosition));
    }
    const std::int64_t maxExact = numBuckets / 2;
    const auto isSmall = distance < maxExact;
    // Logarithmic buckets from maxExact up to maxDistance, computed in float as HF does.
    auto large = maxExact + (torch::log(distance.to(torch::kFloat) / static_cast<float>(maxExact)) /
                             std::log(static_cast<double>(maxDistance) / maxExact) *
                             static_cast<double>(numBuckets - maxExact))
                                .to(torch::kLong);
    large = torch::clamp_max(large, numBuckets - 1);
    return buckets + torch::where(isSmall, distance, large);
}

namespace {

// cached (B, H, T, d) followed by fresh (B, H, q, d). Without gradient the positions go into a
// buffer with room to grow (cached is a view of it after the first append), so each decoding step
// copies its own keys only, where torch::cat would copy the whole cache every step.
at::Tensor appendToCache(const at::Tensor &cached, const at::Tensor &fresh, at::Tensor &buffer)
{
    if (at::GradMode::is_enabled())
        return torch::cat({cached, fresh}, 2);
    const auto length = cached.size(2);
    const auto total = length + fresh.size(2);
    const bool inBuffer = buffer.defined() && cached.data_ptr() == buffer.data_ptr() &&
                          cached.sizes() == buffer.narrow(2, 0, length).sizes() &&
                          cached.strides() == buffer.strides() && buffer.size(2) >= total;
    if (!inBuffer) {
        auto sizes = cached.sizes().vec();
        sizes[2] = std::max<std::int64_t>(2 * total, 64);
        buffer = torch::empty(sizes, cached.options());
        buffer.narrow(2, 0, length).copy_(cached);
    }
    buffer.narrow(2, length, fresh.size(2)).copy_(fresh);
    return buffer.narrow(2, 0, total);
}

// (B, len, H * d) -> (B, H, len, d), a view.
at::Tensor splitHeads(const at::Tensor &x, std::int64_t numHeads)
{
    return x.view({x.size(0), x.size(1), numHeads, x.size(2) / numHeads}).transpose(1, 2);
}

// (B, H, len, d) -> (B, len, H * d) when that is a view (x is splitHeads of contiguous rows),
// else undefined.
at::Tensor headViewRows(const at::Tensor &x)
{
    if (x.dim() != 4)
        return {};
    const auto rows = x.transpose(1, 2);
    if (!rows.is_contiguous())
        return {};
    return rows.view({x.size(0), x.size(2), x.size(1) * x.size(3)});
}

// softmax(Q K^T + bias) V with LibTorch's operations: query (B, H, q, d), key and value (B, H, k,
// d) -> (B, q, H * d). T5 folds the 1/sqrt(d_kv) scaling into its initialisation, so scores are
// unscaled. Dropout on the probabilities when dropoutRate > 0.
at::Tensor attentionContext(const at::Tensor &query, const at::Tensor &key, const at::Tensor &value,
                            const at::Tensor &bias, double dropoutRate)
{
    auto scores = torch::matmul(query, key.transpose(-1, -2));
    if (bias.defined())
        scores = scores + bias;
    auto weights = torch::softmax(scores.to(torch::kFloat), -1).to(scores.scalar_type());
    if (dropoutRate > 0.0)
        weights = torch::dropout(weights, dropoutRate, true);
    return torch::matmul(weights, value)
        .transpose(1, 2)
        .reshape({query.size(0), query.size(2), query.size(1) * query.size(3)});
}

} // namespace

T5LayerNormImpl::T5LayerNormImpl(std::int64_t dim, double eps) : m_eps(eps)
{
    weight = register_parameter("weight", torch::ones({dim}));
}

at::Tensor T5LayerNormImpl::forward(const at::Tensor &x)
{
    return rmsNorm(x, weight, m_eps);
}

T5AttentionImpl::T5AttentionImpl(const T5Config &config, bool hasRelativeBias, bool isDecoder)
    : m_numHeads(config.numHeads), m_dKv(config.dKv),
      m_numBuckets(config.relativeAttentionNumBuckets),
      m_maxDistance(config.relativeAttentionMaxDistance), m_isDecoder(isDecoder),
      m_dropout(config.dropoutRate)
{
    const auto inner = config.innerDim();
    q = register_module("q", LoraLinear(config.dModel, inner));
    k = register_module("k", LoraLinear(config.dModel, inner));
    v = register_module("v", LoraLinear(config.dModel, inner));
    o = register_module("o", LoraLinear(inner, config.dModel));
    if (hasRelativeBias)
        relative_attention_bias = register_module("relative_attention_bias",
                                                  torch::nn::Embedding(m_numBuckets, m_numHeads));
}

at::Tensor T5AttentionImpl::computeBias(std::int64_t qLen, std::int64_t kLen,
                                        std::int64_t queryOffset)
{
    const auto device = relative_attention_bias->weight.device();
    const auto opts = torch::TensorOptions().dtype(torch::kLong).device(device);
    const auto context = torch::arange(queryOffset, queryOffset + qLen, opts).unsqueeze(1);
    const auto memory = torch::arange(kLen, opts).unsqueeze(0);
    const auto buckets =
        t5RelativePositionBucket(memory - context, !m_isDecoder, m_numBuckets, m_maxDistance);
    // (q, k, H) -> (1, H, q, k)
    return relative_attention_bias->forward(buckets).permute({2, 0, 1}).unsqueeze(0);
}

void T5AttentionImpl::cacheCrossKeyValue(const at::Tensor &source, T5AttentionCache &cache,
                                         const at::Tensor &rowIndex)
{
    const auto heads = [&](const at::Tensor &x) {
        const auto split = splitHeads(x, m_numHeads);
        // Contiguous once here: a head-transposed view would be copied by every later step's
        // batched product.
        return (rowIndex.defined() ? split.index_select(0, rowIndex) : split).contiguous();
    };
    cache.key = heads(k->forward(source));
    cache.value = heads(v->forward(source));
}

at::Tensor T5AttentionImpl::forward(const at::Tensor &hidden, const at::Tensor &keyValueSource,
                                    const at::Tensor &bias, T5AttentionCache *cache)
{
    const auto batch = hidden.size(0);
    const auto qLen = hidden.size(1);
    const bool dropout = m_dropout > 0.0 && is_training();
    const bool cross = keyValueSource.defined();
    // Keys and values of earlier positions (or the cross-attention's) already held.
    const bool cached = cache && cache->key.defined();
    const auto projectedQuery = q->forward(hidden);
    if (!cached && !dropout) {
        // Training, scoring, the encoder and a cache's first fill: every head's product in one
        // operation on the projections' own (batch, length, heads x d_kv) layout.
        const auto &source = cross ? keyValueSource : hidden;
        const auto projectedKey = k->forward(source);
        const auto projectedValue = v->forward(source);
        if (cache && cross) {
            // Later steps read the cache as (B, H, len, d_kv), contiguous.
            cache->key = splitHeads(projectedKey, m_numHeads).contiguous();
            cache->value = splitHeads(projectedValue, m_numHeads).contiguous();
        } else if (cache) {
            // Head views: the first later step copies them into its growing buffer (or cat), so
            // a pass that is never continued copies nothing.
            cache->key = splitHeads(projectedKey, m_numHeads);
            cache->value = splitHeads(projectedValue, m_numHeads);
        }
        if (canFuseAttention(projectedQuery, projectedKey, projectedValue, bias, m_numHeads))
            return o->forward(
                fusedAttention(projectedQuery, projectedKey, projectedValue, bias, m_numHeads));
        return o->forward(attentionContext(splitHeads(projectedQuery, m_numHeads),
                                           splitHeads(projectedKey, m_numHeads),
                                           splitHeads(projectedValue, m_numHeads), bias, 0.0));
    }
    if (cross && cached && !dropout && qLen > 1) {
        // Cached keys and values that are head views of (B, S, H x d_kv) rows (the shared
        // prompts' of T5Policy) go to the fused operation as those rows, without a copy.
        const auto keyRows = headViewRows(cache->key);
        const auto valueRows = headViewRows(cache->value);
        if (keyRows.defined() && valueRows.defined() &&
            canFuseAttention(projectedQuery, keyRows, valueRows, bias, m_numHeads))
            return o->forward(fusedAttention(projectedQuery, keyRows, valueRows, bias, m_numHeads));
    }
    const auto heads = [&](const at::Tensor &x) { return splitHeads(x, m_numHeads); };
    const auto query = heads(projectedQuery);
    at::Tensor key;
    at::Tensor value;
    if (cross && cache) {
        if (!cache->key.defined())
            cacheCrossKeyValue(keyValueSource, *cache);
        key = cache->key;
        value = cache->value;
    } else {
        const auto &source = cross ? keyValueSource : hidden;
        key = heads(k->forward(source));
        value = heads(v->forward(source));
        if (cache && cache->key.defined()) {
            key = appendToCache(cache->key, key, cache->keyBuffer);
            value = appendToCache(cache->value, value, cache->valueBuffer);
        } else if (cache) {
            // Contiguous once here: a head-transposed view would be copied by every later
            // step's batched product.
            key = key.contiguous();
            value = value.contiguous();
        }
        if (cache) {
            cache->key = key;
            cache->value = value;
        }
    }
    if (!dropout && canUseSingleQueryAttention(query, key, value, bias)) {
        const auto attended = singleQueryAttention(query, key, value, bias);
        return o->forward(attended.transpose(1, 2).reshape({batch, qLen, m_numHeads * m_dKv}));
    }
    return o->forward(attentionContext(query, key, value, bias, dropout ? m_dropout : 0.0));
}

T5DenseActDenseImpl::T5DenseActDenseImpl(const T5Config &config)
    : m_activation(config.activation()), m_dropout(config.dropoutRate)
{
    if (config.isGated()) {
        wi_0 = register_module("wi_0", LoraLinear(config.dModel, config.dFf));
        wi_1 = register_module("wi_1", LoraLinear(config.dModel, config.dFf));
    } else {
        wi = register_module("wi", LoraLinear(config.dModel, config.dFf));
    }
    wo = register_module("wo", LoraLinear(config.dFf, config.dModel));
}

void T5DenseActDenseImpl::activate(at::Tensor &h) const
{
    if (m_activation == "relu")
        at::relu_(h);
    else if (m_activation == "gelu_new")
        at::gelu_(h, "tanh");
    else if (m_activation == "gelu")
        at::gelu_(h);
    else
        at::silu_(h);
}

void T5DenseActDenseImpl::activateGated(at::Tensor &gate, const at::Tensor &linear) const
{
    if (m_activation == "gelu_new" && canFuseGatedGelu(gate, linear)) {
        gatedGeluTanhRaw(gate.data_ptr<float>(), linear.data_ptr<float>(), gate.data_ptr<float>(),
                         gate.numel());
        return;
    }
    activate(gate);
    gate.mul_(linear);
}

at::Tensor T5DenseActDenseImpl::forward(const at::Tensor &x)
{
    auto act = [&](const at::Tensor &h) {
        if (m_activation == "relu")
            return torch::relu(h);
        if (m_activation == "gelu_new")
            return torch::gelu(h, "tanh");
        if (m_activation == "gelu")
            return torch::gelu(h);
        return torch::silu(h);
    };
    at::Tensor h;
    if (!wi.is_empty())
        h = act(wi->forward(x));
    else if (m_activation == "gelu_new")
        h = gatedGeluTanh(wi_0->forward(x), wi_1->forward(x)); // one pass, forward and backward
    else
        h = act(wi_0->forward(x)) * wi_1->forward(x);
    if (m_dropout > 0.0 && is_training())
        h = torch::dropout(h, m_dropout, true);
    // HF casts to wo's dtype here (keeps fp32 wo under mixed precision).
    if (h.scalar_type() != wo->weight.scalar_type())
        h = h.to(wo->weight.scalar_type());
    return wo->forward(h);
}

} // namespace mp
