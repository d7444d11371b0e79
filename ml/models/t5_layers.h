#pragma once
// T5's building blocks with Hugging Face's numerics and parameter names: RMS layer norm (no mean
// subtraction, no bias), attention without 1/sqrt(d) scaling, relative position buckets, and the
// feed-forward (DenseReluDense: wi or wi_0/wi_1, wo).

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/pimpl.h>

#include "ml/models/lora_linear.h"

namespace mp {

struct T5Config;

// HF's _relative_position_bucket: relativePosition = key position - query position.
at::Tensor t5RelativePositionBucket(const at::Tensor &relativePosition, bool bidirectional,
                                    std::int64_t numBuckets, std::int64_t maxDistance);

class T5LayerNormImpl : public torch::nn::Module {
public:
    T5LayerNormImpl(std::int64_t dim, double eps);
    at::Tensor forward(const at::Tensor &x);
    double eps() const { return m_eps; }
    at::Tensor weight;

private:
    double m_eps;
};
TORCH_MODULE(T5LayerNorm);

// Keys and values of one attention layer for incremental decoding, (B, H, T, d_kv).
struct T5AttentionCache {
    at::Tensor key;
    at::Tensor value;
    // Self-attention without gradient: key/value are views of these, which have room for more
    // positions, so a decoding step copies only its own keys (not the whole cache).
    at::Tensor keyBuffer;
    at::Tensor valueBuffer;
};

class T5AttentionImpl : public torch::nn::Module {
public:
    T5AttentionImpl(const T5Config &config, bool hasRelativeBias, bool isDecoder);

    // hidden (B, q, d_model). keyValueSource: undefined for self-attention, the encoder output
    // for cross-attention. bias: additive (1 or B, H, q, k) = position bias + mask, or undefined.
    // cache: self-attention appends the new keys/values; cross-attention computes them once.
    at::Tensor forward(const at::Tensor &hidden, const at::Tensor &keyValueSource,
                       const at::Tensor &bias, T5AttentionCache *cache = nullptr);

    // Cross-attention: stores the keys and values of source (U, S, d_model) in cache, contiguous
    // (B, H, S, d_kv), computed once and reused by every decoding step. With rowIndex (B) int64,
    // row i gets source row rowIndex[i] (rows sharing one prompt share one computation);
    // without, B = U.
    void cacheCrossKeyValue(const at::Tensor &source, T5AttentionCache &cache,
                            const at::Tensor &rowIndex = {});

    // (1, H, qLen, kLen) bias for queries at positions queryOffset.. against keys 0..kLen-1.
    at::Tensor computeBias(std::int64_t qLen, std::int64_t kLen, std::int64_t queryOffset = 0);
    bool hasRelativeBias() const { return !relative_attention_bias.is_empty(); }
    std::int64_t numHeads() const { return m_numHeads; }
    std::int64_t dKv() const { return m_dKv; }

    LoraLinear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};
    torch::nn::Embedding relative_attention_bias{nullptr};

private:
    std::int64_t m_numHeads;
    std::int64_t m_dKv;
    std::int64_t m_numBuckets;
    std::int64_t m_maxDistance;
    bool m_isDecoder;
    double m_dropout;
};
TORCH_MODULE(T5Attention);

class T5DenseActDenseImpl : public torch::nn::Module {
public:
    explicit T5DenseActDenseImpl(const T5Config &config);
    at::Tensor forward(const at::Tensor &x);
    // In place: h = act(h), the activation of forward.
    void activate(at::Tensor &h) const;
    // In place, gated only: gate = act(gate) * linear, as forward computes it.
    void activateGated(at::Tensor &gate, const at::Tensor &linear) const;

    LoraLinear wi{nullptr};   // plain feed-forward
    LoraLinear wi_0{nullptr}; // gated: act(wi_0 x) * wi_1 x
    LoraLinear wi_1{nullptr};
    LoraLinear wo{nullptr};

private:
    std::string m_activation;
    double m_dropout;
};
TORCH_MODULE(T5DenseActDense);

} // namespace mp
