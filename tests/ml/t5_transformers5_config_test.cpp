// How transformers 5 (5.25, the reference venv's) reads a T5 config, which the C++ must follow:
// its T5Config forces "tie_word_embeddings": true for every model and keeps the old meaning of
// the key in "scale_decoder_outputs" (the d_model^-0.5 factor before the head); a checkpoint whose
// lm_head.weight differs from shared.weight is loaded untied (modeling_utils tie_weights). So a
// flan-t5 / untied T5 saved by transformers 5 reads: tie true, scale false, its own lm_head.

#include "ml/core/error.h"
#include "ml/models/t5.h"
#include "temp_dir.h"
#include "tiny_t5.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <fstream>

namespace {

mp::T5Config untiedConfig()
{
    auto c = mp::test::tinyGenerationT5()->config(); // untied, gated-gelu
    c.dropoutRate = 0.0;
    return c;
}

at::Tensor logitsOf(mp::T5Model &model)
{
    torch::NoGradGuard noGrad;
    model->eval();
    const auto ids = torch::tensor({{5, 9, 3, 1}, {7, 1, 0, 0}});
    const auto mask = torch::tensor({{1, 1, 1, 1}, {1, 1, 0, 0}});
    const auto decoderIds = torch::tensor({{0, 4, 6}, {0, 8, 2}});
    return model->forward(ids, mask, decoderIds);
}

TEST(T5Transformers5, ScaleDecoderOutputsKeyDecidesTheScaling)
{
    const auto c = mp::T5Config::fromJson(
        nlohmann::json::parse(R"({"tie_word_embeddings": true, "scale_decoder_outputs": false})"),
        "config.json");
    EXPECT_TRUE(c.tieWordEmbeddings);
    EXPECT_FALSE(c.scalesDecoderOutput());
    EXPECT_EQ(c.toJson().at("scale_decoder_outputs"), false);
    // Configs of transformers 4 carry only the tying, which then implies the scaling.
    EXPECT_TRUE(mp::T5Config::fromJson(nlohmann::json::object(), "c").scalesDecoderOutput());
    EXPECT_FALSE(
        mp::T5Config::fromJson(nlohmann::json::parse(R"({"tie_word_embeddings": false})"), "c")
            .scalesDecoderOutput());
    EXPECT_THROW(mp::T5Config::fromJson(nlohmann::json::parse(R"({"scale_decoder_outputs": 2})"),
                                        "config.json"),
                 mp::InputError);
}

// An untied model as transformers 5 saves it gives the logits of the model it was saved from
// (before: read as tied, scaled by d_model^-0.5 and with lm_head.weight ignored).
TEST(T5Transformers5, UntiedModelSavedWithTiedConfigLoadsUntied)
{
    torch::manual_seed(3);
    mp::T5Model original(untiedConfig());
    mp::test::TempDir dir("mp_t5_hf5");
    original->saveWeights(dir / "model.safetensors");
    auto json = untiedConfig().toJson();
    json["tie_word_embeddings"] = true;
    json["scale_decoder_outputs"] = false;
    std::ofstream(dir / "config.json") << json.dump(2);

    mp::T5Model loaded(mp::T5Config::load(dir / "config.json"));
    loaded->loadWeights(dir / "model.safetensors");
    EXPECT_FALSE(loaded->config().tieWordEmbeddings);
    EXPECT_FALSE(loaded->config().scalesDecoderOutput());
    ASSERT_FALSE(loaded->lm_head.is_empty());
    EXPECT_TRUE(torch::equal(loaded->lm_head->weight, original->lm_head->weight));
    EXPECT_TRUE(torch::allclose(logitsOf(loaded), logitsOf(original), 0.0, 1e-6));
}

TEST(T5Transformers5, HeadEqualToTheEmbeddingStaysTied)
{
    auto c = untiedConfig();
    c.tieWordEmbeddings = true;
    mp::T5Model model(c);
    const auto shared = model->shared->weight.detach().clone();
    EXPECT_FALSE(
        model->untieForCheckpoint({{"shared.weight", shared}, {"lm_head.weight", shared}}));
    EXPECT_TRUE(model->lm_head.is_empty());
    EXPECT_TRUE(model->config().tieWordEmbeddings);
    EXPECT_FALSE(model->untieForCheckpoint({{"shared.weight", shared}}));
    EXPECT_TRUE(model->lm_head.is_empty());
    // A distinct head under a prefix (MotionGPT's lm.language_model.) unties, keeping the
    // configured scaling.
    EXPECT_TRUE(model->untieForCheckpoint(
        {{"lm.shared.weight", shared}, {"lm.lm_head.weight", -shared}}, "lm."));
    EXPECT_FALSE(model->lm_head.is_empty());
    EXPECT_FALSE(model->config().tieWordEmbeddings);
    EXPECT_TRUE(model->config().scalesDecoderOutput());
}

// A tied T5 v1.0 config of transformers 5 ("scale_decoder_outputs": true) keeps both.
TEST(T5Transformers5, TiedScaledModelRoundTrips)
{
    auto c = untiedConfig();
    c.tieWordEmbeddings = true;
    torch::manual_seed(4);
    mp::T5Model original(c);
    mp::test::TempDir dir("mp_t5_hf5_tied");
    original->saveWeights(dir / "model.safetensors");
    std::ofstream(dir / "config.json") << c.toJson().dump(2);
    mp::T5Model loaded(mp::T5Config::load(dir / "config.json"));
    loaded->loadWeights(dir / "model.safetensors");
    EXPECT_TRUE(loaded->config().tieWordEmbeddings);
    EXPECT_TRUE(loaded->config().scalesDecoderOutput());
    EXPECT_TRUE(loaded->lm_head.is_empty());
    EXPECT_TRUE(torch::allclose(logitsOf(loaded), logitsOf(original), 0.0, 1e-6));
}

} // namespace
