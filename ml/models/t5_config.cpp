#include "ml/models/t5_config.h"

#include "ml/core/error.h"
#include "ml/core/json_read.h"

#include <nlohmann/json.hpp>

#include <fstream>

namespace mp {

bool T5Config::isGated() const
{
    return feedForwardProj.rfind("gated-", 0) == 0;
}

std::string T5Config::activation() const
{
    const auto act = isGated() ? feedForwardProj.substr(6) : feedForwardProj;
    // HF special-cases "gated-gelu" to the tanh approximation (gelu_new).
    if (feedForwardProj == "gated-gelu")
        return "gelu_new";
    return act;
}

double T5Config::numParameters() const
{
    const double d = static_cast<double>(dModel);
    const double attention = 4.0 * d * static_cast<double>(innerDim());
    const double feedForward = (isGated() ? 3.0 : 2.0) * d * static_cast<double>(dFf);
    const double bias = static_cast<double>(relativeAttentionNumBuckets * numHeads);
    // Encoder block: self-attention, feed-forward, two layer norms; the decoder adds the cross
    // attention and its norm. The first block of each stack holds the relative position bias.
    const double encoder =
        static_cast<double>(numLayers) * (attention + feedForward + 2.0 * d) + bias + d;
    const double decoder =
        static_cast<double>(numDecoderLayers) * (2.0 * attention + feedForward + 3.0 * d) + bias +
        d;
    const double embeddings = static_cast<double>(vocabSize) * d * (tieWordEmbeddings ? 1.0 : 2.0);
    return embeddings + encoder + decoder;
}

T5Config T5Config::fromJson(const nlohmann::json &json, const std::string &source)
{
    if (!json.is_object())
        throw InputError(source + ": T5 config is not a JSON object");
    T5Config c;
    readOptionalKey(json, "vocab_size", c.vocabSize, source);
    readOptionalKey(json, "d_model", c.dModel, source);
    readOptionalKey(json, "d_kv", c.dKv, source);
    readOptionalKey(json, "d_ff", c.dFf, source);
    readOptionalKey(json, "num_layers", c.numLayers, source);
    c.numDecoderLayers = c.numLayers;
    readOptionalKey(json, "num_decoder_layers", c.numDecoderLayers, source);
    readOptionalKey(json, "num_heads", c.numHeads, source);
    readOptionalKey(json, "relative_attention_num_buckets", c.relativeAttentionNumBuckets, source);
    readOptionalKey(json, "relative_attention_max_distance", c.relativeAttentionMaxDistance,
                    source);
    readOptionalKey(json, "dropout_rate", c.dropoutRate, source);
    readOptionalKey(json, "layer_norm_epsilon", c.layerNormEpsilon, source);
    readOptionalKey(json, "feed_forward_proj", c.feedForwardProj, source);
    readOptionalKey(json, "tie_word_embeddings", c.tieWordEmbeddings, source);
    if (json.contains("scale_decoder_outputs") && !json["scale_decoder_outputs"].is_null()) {
        bool scale = false;
        readOptionalKey(json, "scale_decoder_outputs", scale, source);
        c.scaleDecoderOutputs = scale;
    }
    readOptionalKey(json, "decoder_start_token_id", c.decoderStartTokenId, source);
    readOptionalKey(json, "pad_token_id", c.padTokenId, source);
    readOptionalKey(json, "eos_token_id", c.eosTokenId, source);
    c.validate(source);
    return c;
}

T5Config T5Config::load(const std::filesystem::path &configJson)
{
    std::ifstream in(configJson);
    if (!in)
        throw InputError(configJson.string() + ": cannot open");
    nlohmann::json json;
    try {
        json = parseJsonLimited(configJson.string(), in);
    } catch (const nlohmann::json::exception &e) {
        throw InputError(configJson.string() + ": not valid JSON: " + e.what());
    }
    return fromJson(json, configJson.filename().string());
}

nlohmann::json T5Config::toJson() const
{
    return {{"model_type", "t5"},
            {"architectures", {"T5ForConditionalGeneration"}},
            {"vocab_size", vocabSize},
            {"d_model", dModel},
            {"d_kv", dKv},
            {"d_ff", dFf},
            {"num_layers", numLayers},
            {"num_decoder_layers", numDecoderLayers},
            {"num_heads", numHeads},
            {"relative_attention_num_buckets", relativeAttentionNumBuckets},
            {"relative_attention_max_distance", relativeAttentionMaxDistance},
            {"dropout_rate", dropoutRate},
            {"layer_norm_epsilon", layerNormEpsilon},
            {"feed_forward_proj", feedForwardProj},
            {"tie_word_embeddings", tieWordEmbeddings},
            {"scale_decoder_outputs", scalesDecoderOutput()},
            {"is_encoder_decoder", true},
            {"decoder_start_token_id", decoderStartTokenId},
            {"pad_token_id", padTokenId},
            {"eos_token_id", eosTokenId}};
}

void T5Config::validate(const std::string &source) const
{
    auto positive = [&](std::int64_t value, const char *key) {
        if (value <= 0)
            throw InputError(source + ": '" + key + "' must be positive, got " +
                             std::to_string(value));
    };
    positive(vocabSize, "vocab_size");
    positive(dModel, "d_model");
    positive(dKv, "d_kv");
    positive(dFf, "d_ff");
    positive(numLayers, "num_layers");
    positive(numDecoderLayers, "num_decoder_layers");
    positive(numHeads, "num_heads");
    positive(relativeAttentionNumBuckets, "relative_attention_num_buckets");
    positive(relativeAttentionMaxDistance, "relative_attention_max_distance");
    if (relativeAttentionNumBuckets < 4)
        throw InputError(source + ": 'relative_attention_num_buckets' must be at least 4");
    if (dropoutRate < 0.0 || dropoutRate >= 1.0)
        throw InputError(source + ": 'dropout_rate' must be in [0, 1)");
    const auto act = activation();
    if (act != "relu" && act != "gelu" && act != "gelu_new" && act != "silu")
        throw InputError(source + ": unsupported feed_forward_proj '" + feedForwardProj + "'");
    for (auto id : {decoderStartTokenId, padTokenId, eosTokenId})
        if (id < 0 || id >= vocabSize)
            throw InputError(source + ": special token id " + std::to_string(id) +
                             " outside the vocabulary of " + std::to_string(vocabSize));
}

} // namespace mp
