#pragma once
// T5 encoder-decoder (T5ForConditionalGeneration) with Hugging Face's module and parameter names,
// so model.safetensors loads and saves name-for-name: shared.weight,
// encoder.block.0.layer.0.SelfAttention.q.weight, decoder.block.N.layer.1.EncDecAttention.k.weight,
// decoder.block.N.layer.2.DenseReluDense.wi_0.weight, encoder.final_layer_norm.weight,
// lm_head.weight (untied models only). Incremental decoding keeps a KV cache per decoder layer.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/pimpl.h>

#include "ml/data/safetensors.h"
#include "ml/models/t5_config.h"
#include "ml/models/t5_layers.h"

namespace mp {

struct T5LayerCache {
    T5AttentionCache self;
    T5AttentionCache cross;
};

// The decoder's state between incremental steps; reset() before a new generation.
struct T5Cache {
    std::vector<T5LayerCache> layers;
    std::int64_t length = 0; // decoder positions already processed
    // The decoder's self-attention bias by relative position (H, L), kept by the fast decoding
    // step (ml/models/t5_decoder_step.h) across steps.
    at::Tensor selfBiasTable;
    void reset()
    {
        layers.clear();
        length = 0;
        selfBiasTable = at::Tensor();
    }
};

class T5LayerSelfAttentionImpl : public torch::nn::Module {
public:
    T5LayerSelfAttentionImpl(const T5Config &config, bool hasRelativeBias, bool isDecoder);
    at::Tensor forward(const at::Tensor &hidden, const at::Tensor &bias, T5AttentionCache *cache);
    T5Attention SelfAttention{nullptr};
    T5LayerNorm layer_norm{nullptr};

private:
    double m_dropout;
};
TORCH_MODULE(T5LayerSelfAttention);

class T5LayerCrossAttentionImpl : public torch::nn::Module {
public:
    explicit T5LayerCrossAttentionImpl(const T5Config &config);
    at::Tensor forward(const at::Tensor &hidden, const at::Tensor &encoderHidden,
                       const at::Tensor &bias, T5AttentionCache *cache);
    T5Attention EncDecAttention{nullptr};
    T5LayerNorm layer_norm{nullptr};

private:
    double m_dropout;
};
TORCH_MODULE(T5LayerCrossAttention);

class T5LayerFFImpl : public torch::nn::Module {
public:
    explicit T5LayerFFImpl(const T5Config &config);
    at::Tensor forward(const at::Tensor &hidden);
    T5DenseActDense DenseReluDense{nullptr};
    T5LayerNorm layer_norm{nullptr};

private:
    double m_dropout;
};
TORCH_MODULE(T5LayerFF);

class T5BlockImpl : public torch::nn::Module {
public:
    T5BlockImpl(const T5Config &config, bool hasRelativeBias, bool isDecoder);
    at::Tensor forward(const at::Tensor &hidden, const at::Tensor &selfBias,
                       const at::Tensor &encoderHidden, const at::Tensor &crossBias,
                       T5LayerCache *cache);
    torch::nn::ModuleList layer;
    T5LayerSelfAttention selfAttention{nullptr};
    T5LayerCrossAttention crossAttention{nullptr}; // decoder only
    T5LayerFF feedForward{nullptr};
};
TORCH_MODULE(T5Block);

class T5StackImpl : public torch::nn::Module {
public:
    T5StackImpl(const T5Config &config, bool isDecoder);
    // embeds (B, q, d_model); mask (B, k) of 1 = attend, optional. For the decoder, k covers the
    // cached positions too. encoderMask (B, k_enc), optional.
    at::Tensor forward(const at::Tensor &embeds, const at::Tensor &mask,
                       const at::Tensor &encoderHidden = {}, const at::Tensor &encoderMask = {},
                       T5Cache *cache = nullptr);
    torch::nn::ModuleList block;
    T5LayerNorm final_layer_norm{nullptr};
    std::vector<T5Block> blocks;

private:
    bool m_isDecoder;
    double m_dropout;
};
TORCH_MODULE(T5Stack);

class T5ModelImpl : public torch::nn::Module {
public:
    explicit T5ModelImpl(const T5Config &config);

    const T5Config &config() const { return m_config; }

    // inputIds (B, S) int64; attentionMask (B, S) of 1/0, optional. Returns (B, S, d_model).
    at::Tensor encode(const at::Tensor &inputIds, const at::Tensor &attentionMask = {});
    // encode() of a batch whose second half may repeat its first (a preference batch's chosen and
    // rejected rows share their prompts): then, unless dropout could tell the halves apart, one
    // encoder pass over the first half, repeated (its gradient sums both halves, as two passes
    // would). Saves half the encoder, forward and backward, of every DPO and reward-model pass.
    at::Tensor encodePairedPrompts(const at::Tensor &inputIds, const at::Tensor &attentionMask);
    // decoderIds (B, q): the whole prefix, or with a cache only the new positions. Returns logits
    // (B, q, vocab). decoderMask (B, cache + q), optional.
    at::Tensor decode(const at::Tensor &decoderIds, const at::Tensor &encoderHidden,
                      const at::Tensor &encoderMask = {}, T5Cache *cache = nullptr,
                      const at::Tensor &decoderMask = {});
    // decode without the head: the decoder's states as the head takes them (B, q, d_model), so a
    // caller can apply head() to the positions it scores only. decode = head(decodeHidden(...)).
    at::Tensor decodeHidden(const at::Tensor &decoderIds, const at::Tensor &encoderHidden,
                            const at::Tensor &encoderMask = {}, T5Cache *cache = nullptr,
                            const at::Tensor &decoderMask = {});
    // Fills cache's cross-attention keys and values for decoding rows whose encoder output is
    // row rowIndex[i] of encoderHidden (U, S, d_model): each distinct prompt's keys are computed
    // once and copied to the rows that share it (the many samples of one caption), where the
    // first decoding step would compute them for every row. rowIndex (B) int64.
    void fillCrossAttentionCache(const at::Tensor &encoderHidden, const at::Tensor &rowIndex,
                                 T5Cache &cache);
    // The LM head, lm_head or the tied shared embedding: (..., d_model) -> (..., vocab).
    at::Tensor head(const at::Tensor &hidden);
    // Teacher-forced logits (B, T, vocab).
    at::Tensor forward(const at::Tensor &inputIds, const at::Tensor &attentionMask,
                       const at::Tensor &decoderIds);
    // HF's _shift_right: prepend decoder_start_token_id, drop the last label, -100 -> pad.
    at::Tensor shiftRight(const at::Tensor &labels) const;

    // model.safetensors, name-for-name (encoder/decoder.embed_tokens.weight, tied copies of
    // shared.weight that HF may write, are accepted and ignored). A tied model unties first when
    // the file's lm_head.weight differs from its shared.weight (untieForCheckpoint).
    void loadWeights(const std::filesystem::path &file);
    // transformers 5 writes "tie_word_embeddings": true for every T5, untied ones included, and
    // unties on load when the checkpoint holds an lm_head.weight unlike shared.weight (flan-t5
    // re-saved by it does): do the same, keeping the output scaling. Keys carry `prefix`.
    // Returns whether the model was untied; config() then says tieWordEmbeddings false.
    bool untieForCheckpoint(const TensorMap &tensors, const std::string &prefix = {});
    void saveWeights(const std::filesystem::path &file) const;
    // HF's initialisation (normal with 1/sqrt(fan-in) scales); the constructor calls it.
    void initWeights();

    torch::nn::Embedding shared{nullptr};
    T5Stack encoder{nullptr};
    T5Stack decoder{nullptr};
    LoraLinear lm_head{nullptr}; // untied models only

private:
    T5Config m_config;
};
TORCH_MODULE(T5Model);

} // namespace mp
