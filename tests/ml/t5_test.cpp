#include "ml/core/error.h"
#include "ml/data/safetensors.h"
#include "ml/models/t5.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

mp::T5Config tinyConfig(bool gated, bool tied)
{
    mp::T5Config c;
    c.vocabSize = 40;
    c.dModel = 16;
    c.dKv = 4;
    c.dFf = 24;
    c.numLayers = 2;
    c.numDecoderLayers = 3;
    c.numHeads = 3; // inner dim 12 != d_model on purpose
    c.relativeAttentionNumBuckets = 8;
    c.relativeAttentionMaxDistance = 16;
    c.feedForwardProj = gated ? "gated-gelu" : "relu";
    c.tieWordEmbeddings = tied;
    return c;
}

fs::path t5TempDir(const std::string &name)
{
    const auto dir = fs::temp_directory_path() / ("mp_t5_" + std::to_string(::getpid()) + name);
    fs::create_directories(dir);
    return dir;
}

TEST(T5, RelativePositionBucketsMatchHandComputedValues)
{
    const auto rel = torch::tensor({0, -1, 1, -7, 7, 8, -8, -12, 20, -20, -50, 100, -200, 500});
    const auto bi = mp::t5RelativePositionBucket(rel, true, 32, 128);
    const auto expectedBi = torch::tensor({0, 1, 17, 7, 23, 24, 8, 9, 26, 10, 13, 31, 15, 31});
    EXPECT_TRUE(torch::equal(bi, expectedBi)) << bi;

    const auto relCausal = torch::tensor({0, -1, 3, -15, -16, -20, -40, -100, -127, -300});
    const auto causal = mp::t5RelativePositionBucket(relCausal, false, 32, 128);
    const auto expectedCausal = torch::tensor({0, 1, 0, 15, 16, 17, 23, 30, 31, 31});
    EXPECT_TRUE(torch::equal(causal, expectedCausal)) << causal;
}

TEST(T5, ParameterNamesFollowHuggingFace)
{
    mp::T5Model model(tinyConfig(true, false));
    const auto params = model->named_parameters();
    for (const char *name :
         {"shared.weight", "encoder.block.0.layer.0.SelfAttention.q.weight",
          "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
          "encoder.block.1.layer.1.DenseReluDense.wi_0.weight",
          "encoder.block.1.layer.1.DenseReluDense.wi_1.weight",
          "encoder.block.1.layer.1.DenseReluDense.wo.weight",
          "encoder.block.0.layer.0.layer_norm.weight", "encoder.final_layer_norm.weight",
          "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
          "decoder.block.2.layer.1.EncDecAttention.k.weight",
          "decoder.block.2.layer.2.DenseReluDense.wo.weight", "decoder.final_layer_norm.weight",
          "lm_head.weight"})
        EXPECT_TRUE(params.contains(name)) << name;
    EXPECT_FALSE(
        params.contains("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"));
    EXPECT_FALSE(
        params.contains("decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"));
    EXPECT_EQ(params["encoder.block.0.layer.0.SelfAttention.q.weight"].sizes(),
              torch::IntArrayRef({12, 16}));
    EXPECT_EQ(
        params["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"].sizes(),
        torch::IntArrayRef({8, 3}));

    mp::T5Model relu(tinyConfig(false, true));
    const auto reluParams = relu->named_parameters();
    EXPECT_TRUE(reluParams.contains("encoder.block.0.layer.1.DenseReluDense.wi.weight"));
    EXPECT_FALSE(reluParams.contains("lm_head.weight"));
}

TEST(T5, RmsNormHasNoMeanSubtraction)
{
    mp::T5LayerNorm norm(4, 0.0);
    const auto y = norm->forward(torch::tensor({{1.0f, 1.0f, 1.0f, 1.0f}}));
    // A constant vector is unchanged by RMS norm (a mean-subtracting norm would zero it).
    EXPECT_TRUE(torch::allclose(y, torch::ones({1, 4})));
    const auto z = norm->forward(torch::tensor({{3.0f, 4.0f, 0.0f, 0.0f}}));
    EXPECT_NEAR(z[0][0].item<float>(), 3.0f / 2.5f, 1e-6);
}

class T5Cached : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(T5Cached, IncrementalDecodingEqualsFullForward)
{
    torch::manual_seed(3);
    const auto [gated, tied] = GetParam();
    mp::T5Model model(tinyConfig(gated, tied));
    model->eval();
    torch::NoGradGuard noGrad;
    const auto input = torch::randint(2, 40, {2, 7});
    auto mask = torch::ones({2, 7}, torch::kLong);
    mask[1].narrow(0, 5, 2).zero_();                        // second prompt is shorter
    const auto decoderIds = torch::randint(2, 40, {2, 20}); // beyond max_exact buckets
    const auto full = model->forward(input, mask, decoderIds);
    ASSERT_EQ(full.sizes(), torch::IntArrayRef({2, 20, 40}));

    const auto encoded = model->encode(input, mask);
    mp::T5Cache cache;
    std::vector<at::Tensor> steps;
    for (int t = 0; t < 20; ++t)
        steps.push_back(model->decode(decoderIds.narrow(1, t, 1), encoded, mask, &cache));
    const auto incremental = torch::cat(steps, 1);
    EXPECT_EQ(cache.length, 20);
    EXPECT_TRUE(torch::allclose(incremental, full, 1e-5, 1e-5))
        << (incremental - full).abs().max().item<float>();

    // Several positions at once after a cached prefix agree too.
    mp::T5Cache chunked;
    const auto a = model->decode(decoderIds.narrow(1, 0, 6), encoded, mask, &chunked);
    const auto b = model->decode(decoderIds.narrow(1, 6, 14), encoded, mask, &chunked);
    EXPECT_TRUE(torch::allclose(torch::cat({a, b}, 1), full, 1e-5, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(Variants, T5Cached,
                         ::testing::Values(std::make_tuple(false, true),
                                           std::make_tuple(true, false),
                                           std::make_tuple(true, true)));

TEST(T5, PaddingDoesNotChangeRealPositions)
{
    torch::manual_seed(5);
    mp::T5Model model(tinyConfig(true, false));
    model->eval();
    torch::NoGradGuard noGrad;
    const auto ids = torch::randint(2, 40, {1, 5});
    const auto padded = torch::cat({ids, torch::zeros({1, 3}, torch::kLong)}, 1);
    auto mask = torch::ones({1, 8}, torch::kLong);
    mask.narrow(1, 5, 3).zero_();
    const auto dec = torch::randint(2, 40, {1, 4});
    const auto plain = model->forward(ids, {}, dec);
    const auto masked = model->forward(padded, mask, dec);
    EXPECT_TRUE(torch::allclose(plain, masked, 1e-5, 1e-5));
}

TEST(T5, ShiftRightPrependsStartAndReplacesIgnoreIndex)
{
    mp::T5Model model(tinyConfig(false, true));
    const auto labels = torch::tensor({{5, 6, 1, -100}});
    EXPECT_TRUE(torch::equal(model->shiftRight(labels), torch::tensor({{0, 5, 6, 1}})));
}

TEST(T5, SaveLoadGivesTheSameOutputs)
{
    torch::manual_seed(7);
    const auto dir = t5TempDir("saveload");
    const auto config = tinyConfig(true, false);
    mp::T5Model a(config);
    a->eval();
    a->saveWeights(dir / "model.safetensors");
    {
        std::ofstream(dir / "config.json") << config.toJson().dump(2);
    }
    const auto loadedConfig = mp::T5Config::load(dir / "config.json");
    EXPECT_EQ(loadedConfig.numDecoderLayers, 3);
    EXPECT_EQ(loadedConfig.feedForwardProj, "gated-gelu");
    mp::T5Model b(loadedConfig);
    b->eval();
    b->loadWeights(dir / "model.safetensors");
    torch::NoGradGuard noGrad;
    const auto ids = torch::randint(2, 40, {2, 6});
    const auto dec = torch::randint(2, 40, {2, 5});
    EXPECT_TRUE(torch::equal(a->forward(ids, {}, dec), b->forward(ids, {}, dec)));
    // HF writes no lm_head for tied models and may add embed_tokens copies: both are fine.
    mp::SafetensorsReader reader(dir / "model.safetensors");
    EXPECT_TRUE(reader.contains("lm_head.weight"));
    EXPECT_FALSE(reader.contains("encoder.embed_tokens.weight"));
    fs::remove_all(dir);
}

TEST(T5, MismatchedShapesNameFileAndTensor)
{
    const auto dir = t5TempDir("mismatch");
    mp::T5Model a(tinyConfig(true, false));
    a->saveWeights(dir / "model.safetensors");
    auto other = tinyConfig(true, false);
    other.dFf = 32;
    mp::T5Model b(other);
    try {
        b->loadWeights(dir / "model.safetensors");
        FAIL() << "expected InputError";
    } catch (const mp::InputError &e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("model.safetensors"), std::string::npos) << message;
        EXPECT_NE(message.find("DenseReluDense"), std::string::npos) << message;
        EXPECT_NE(message.find("(32,16)"), std::string::npos) << message;
    }
    auto relu = tinyConfig(false, false);
    mp::T5Model c(relu);
    EXPECT_THROW(c->loadWeights(dir / "model.safetensors"), mp::InputError);
    fs::remove_all(dir);
}

TEST(T5, ConfigReadsHuggingFaceKeysAndRejectsBadValues)
{
    const auto json = nlohmann::json::parse(R"({"d_model": 768, "d_kv": 64, "d_ff": 2048,
        "num_layers": 12, "num_heads": 12, "feed_forward_proj": "gated-gelu",
        "tie_word_embeddings": false, "vocab_size": 32128, "layer_norm_epsilon": 1e-06})");
    const auto c = mp::T5Config::fromJson(json, "config.json");
    EXPECT_EQ(c.numDecoderLayers, 12); // defaults to num_layers
    EXPECT_TRUE(c.isGated());
    EXPECT_EQ(c.activation(), "gelu_new");
    EXPECT_FALSE(c.tieWordEmbeddings);
    EXPECT_THROW(mp::T5Config::fromJson(nlohmann::json::parse(R"({"d_model": "big"})"), "c.json"),
                 mp::InputError);
    EXPECT_THROW(
        mp::T5Config::fromJson(nlohmann::json::parse(R"({"feed_forward_proj": "tanh"})"), "c.json"),
        mp::InputError);
    EXPECT_THROW(mp::T5Config::fromJson(nlohmann::json::parse(R"({"num_heads": 0})"), "c.json"),
                 mp::InputError);
}

} // namespace
