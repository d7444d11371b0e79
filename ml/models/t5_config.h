#pragma once
// T5's hyper-parameters, read from and written to a Hugging Face config.json (same key names).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace mp {

struct T5Config {
    std::int64_t vocabSize = 32128;
    std::int64_t dModel = 512;
    std::int64_t dKv = 64;
    std::int64_t dFf = 2048;
    std::int64_t numLayers = 6;
    std::int64_t numDecoderLayers = 6;
    std::int64_t numHeads = 8;
    std::int64_t relativeAttentionNumBuckets = 32;
    std::int64_t relativeAttentionMaxDistance = 128;
    double dropoutRate = 0.1;
    double layerNormEpsilon = 1e-6;
    // "relu", "gated-gelu" (gelu_new, as HF maps it), or "[gated-]ACT" with ACT in relu, gelu,
    // gelu_new, silu.
    std::string feedForwardProj = "relu";
    // Tied: the shared embedding is the output head (no lm_head.weight of its own).
    bool tieWordEmbeddings = true;
    // transformers 5 writes "scale_decoder_outputs" (the d_model^-0.5 factor before the head) and
    // "tie_word_embeddings": true for every T5; unset (older configs) it follows the tying.
    std::optional<bool> scaleDecoderOutputs;
    std::int64_t decoderStartTokenId = 0;
    std::int64_t padTokenId = 0;
    std::int64_t eosTokenId = 1;

    bool isGated() const;
    bool scalesDecoderOutput() const { return scaleDecoderOutputs.value_or(tieWordEmbeddings); }
    std::string activation() const; // "relu", "gelu", "gelu_new", "silu"
    std::int64_t innerDim() const { return numHeads * dKv; }
    // Parameters of T5Model with this configuration (as a double: a corrupt config must not
    // overflow), so a loader can compare it with a weights file before allocating anything.
    double numParameters() const;

    // Missing keys take HF's defaults; wrong types or values throw InputError naming `source`.
    static T5Config fromJson(const nlohmann::json &json, const std::string &source);
    static T5Config load(const std::filesystem::path &configJson);
    nlohmann::json toJson() const;
    // Throws InputError (prefixed with `source`) for values the model cannot be built with.
    void validate(const std::string &source) const;
};

} // namespace mp
