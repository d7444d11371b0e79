#include "ml/core/error.h"
#include "ml/data/safetensors.h"
#include "ml/models/lora.h"
#include "ml/models/lora_linear.h"
#include "ml/models/t5.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

mp::T5Config tinyLoraConfig()
{
    mp::T5Config c;
    c.vocabSize = 30;
    c.dModel = 8;
    c.dKv = 4;
    c.dFf = 16;
    c.numLayers = 2;
    c.numDecoderLayers = 3;
    c.numHeads = 2;
    c.relativeAttentionNumBuckets = 8;
    c.relativeAttentionMaxDistance = 16;
    c.feedForwardProj = "gated-gelu";
    c.tieWordEmbeddings = false;
    return c;
}

// Gives every lora_B a non-zero value so the adapter changes the output.
void perturbAdapters(torch::nn::Module &model)
{
    torch::NoGradGuard noGrad;
    for (const auto &[name, layer] : mp::loraLayers(model))
        layer->lora_B->weight.normal_(0.0, 0.5);
}

TEST(Lora, SpecTestVector)
{
    // W = I2, A = [[0.5, -0.5]], B = [[1], [2]], r = 1, alpha = 2, x = [2, 1] -> y = [3, 3].
    mp::LoraLinear layer(2, 2);
    torch::NoGradGuard noGrad;
    layer->weight.copy_(torch::eye(2));
    layer->addAdapter({.rank = 1, .alpha = 2.0});
    EXPECT_DOUBLE_EQ(layer->scaling(), 2.0);
    layer->lora_A->weight.copy_(torch::tensor({{0.5f, -0.5f}}));
    layer->lora_B->weight.copy_(torch::tensor({{1.0f}, {2.0f}}));
    const auto x = torch::tensor({{2.0f, 1.0f}});
    EXPECT_TRUE(torch::allclose(layer->forward(x), torch::tensor({{3.0f, 3.0f}}), 0, 1e-6));

    layer->merge();
    EXPECT_TRUE(torch::allclose(layer->weight, torch::tensor({{2.0f, -1.0f}, {2.0f, -1.0f}})));
    EXPECT_TRUE(torch::allclose(layer->forward(x), torch::tensor({{3.0f, 3.0f}}), 0, 1e-6));

    // Disabling a merged adapter unmerges first: base output.
    layer->setAdapterEnabled(false);
    EXPECT_FALSE(layer->merged());
    EXPECT_TRUE(torch::allclose(layer->forward(x), x));
    layer->setAdapterEnabled(true);
    layer->unmerge(); // no-op: not merged
    EXPECT_TRUE(torch::allclose(layer->weight, torch::eye(2)));
}

TEST(Lora, InitKeepsOutputAndUsesPeftScales)
{
    mp::LoraLinear layer(768, 4);
    layer->addAdapter({.rank = 8, .alpha = 16.0});
    EXPECT_DOUBLE_EQ(layer->scaling(), 2.0);
    EXPECT_TRUE(torch::equal(layer->lora_B->weight, torch::zeros({4, 8})));
    const float bound = 1.0f / std::sqrt(768.0f); // kaiming_uniform(a=sqrt(5)) = U(+-1/sqrt(in))
    EXPECT_LE(layer->lora_A->weight.abs().max().item<float>(), bound + 1e-7f);
    EXPECT_GT(layer->lora_A->weight.abs().max().item<float>(), 0.9f * bound);
    mp::LoraLinear rs(16, 4);
    rs->addAdapter({.rank = 4, .alpha = 8.0, .useRsLora = true});
    EXPECT_DOUBLE_EQ(rs->scaling(), 4.0);
}

TEST(Lora, TargetsQAndVOfT5AndFreezesTheBase)
{
    mp::T5Model model(tinyLoraConfig());
    const auto count = mp::applyLora(*model, mp::LoraConfig{});
    // 2 encoder blocks x (q, v) + 3 decoder blocks x (self q, v + cross q, v).
    EXPECT_EQ(count, 2u * 2u + 3u * 4u);
    for (const auto &item : model->named_parameters()) {
        const bool adapter = item.key().find(".lora_") != std::string::npos;
        EXPECT_EQ(item.value().requires_grad(), adapter) << item.key();
    }
    EXPECT_EQ(mp::loraParameters(*model).size(), 2 * count);
    EXPECT_THROW(mp::applyLora(*model, mp::LoraConfig{.targetModules = {"nothing"}}),
                 mp::InputError);
}

TEST(Lora, DisabledEqualsBaseModelExactly)
{
    torch::manual_seed(11);
    mp::T5Model model(tinyLoraConfig());
    model->eval();
    torch::NoGradGuard noGrad;
    const auto ids = torch::randint(2, 30, {2, 6});
    const auto dec = torch::randint(2, 30, {2, 5});
    const auto base = model->forward(ids, {}, dec);
    mp::applyLora(*model, mp::LoraConfig{.rank = 4, .alpha = 8.0, .dropout = 0.1});
    perturbAdapters(*model);
    const auto adapted = model->forward(ids, {}, dec);
    EXPECT_FALSE(torch::allclose(adapted, base, 1e-4, 1e-4));
    {
        mp::LoraDisabledScope reference(*model);
        EXPECT_TRUE(torch::equal(model->forward(ids, {}, dec), base));
    }
    EXPECT_TRUE(torch::equal(model->forward(ids, {}, dec), adapted));

    mp::mergeLora(*model);
    EXPECT_TRUE(torch::allclose(model->forward(ids, {}, dec), adapted, 1e-5, 1e-5));
    mp::unmergeLora(*model);
    EXPECT_TRUE(torch::allclose(model->forward(ids, {}, dec), adapted, 1e-5, 1e-5));
    mp::mergeAndUnloadLora(*model);
    EXPECT_TRUE(mp::loraLayers(*model).empty());
    EXPECT_TRUE(torch::allclose(model->forward(ids, {}, dec), adapted, 1e-5, 1e-5));
}

TEST(Lora, SaveLoadWithPeftNames)
{
    torch::manual_seed(12);
    const auto dir = fs::temp_directory_path() / ("mp_lora_" + std::to_string(::getpid()));
    mp::T5Model model(tinyLoraConfig());
    model->eval();
    const mp::LoraConfig config{.rank = 2, .alpha = 4.0, .dropout = 0.05};
    mp::applyLora(*model, config);
    perturbAdapters(*model);
    mp::saveLoraAdapter(*model, config, dir);

    mp::SafetensorsReader reader(dir / "adapter_model.safetensors");
    EXPECT_TRUE(
        reader.contains("base_model.model.encoder.block.0.layer.0.SelfAttention.q.lora_A.weight"));
    EXPECT_TRUE(reader.contains(
        "base_model.model.decoder.block.2.layer.1.EncDecAttention.v.lora_B.weight"));
    EXPECT_EQ(reader.names().size(), 32u);
    EXPECT_EQ(reader.entry("base_model.model.encoder.block.0.layer.0.SelfAttention.q.lora_A.weight")
                  .shape,
              (std::vector<std::int64_t>{2, 8}));
    std::ifstream in(dir / "adapter_config.json");
    const auto json = nlohmann::json::parse(in);
    EXPECT_EQ(json["peft_type"], "LORA");
    EXPECT_EQ(json["task_type"], "SEQ_2_SEQ_LM");
    EXPECT_EQ(json["r"], 2);
    EXPECT_EQ(json["lora_alpha"], 4.0);
    EXPECT_EQ(json["target_modules"], nlohmann::json({"q", "v"}));

    // The base model file holds no adapter tensors.
    model->saveWeights(dir / "model.safetensors");
    for (const auto &name : mp::SafetensorsReader(dir / "model.safetensors").names())
        EXPECT_EQ(name.find("lora"), std::string::npos) << name;

    mp::T5Model other(tinyLoraConfig());
    other->eval();
    other->loadWeights(dir / "model.safetensors");
    const auto loaded = mp::loadLoraAdapter(*other, dir);
    EXPECT_EQ(loaded.rank, 2);
    EXPECT_DOUBLE_EQ(loaded.dropout, 0.05);
    torch::NoGradGuard noGrad;
    const auto ids = torch::randint(2, 30, {1, 4});
    const auto dec = torch::randint(2, 30, {1, 3});
    EXPECT_TRUE(torch::equal(model->forward(ids, {}, dec), other->forward(ids, {}, dec)));

    // An adapter for another rank fails with the tensor named.
    auto bad = tinyLoraConfig();
    bad.dModel = 12;
    mp::T5Model wrong(bad);
    try {
        mp::loadLoraAdapter(*wrong, dir);
        FAIL() << "expected InputError";
    } catch (const mp::InputError &e) {
        EXPECT_NE(std::string(e.what()).find("lora_A.weight"), std::string::npos) << e.what();
    }
    fs::remove(dir / "adapter_config.json");
    EXPECT_THROW(mp::loadLoraAdapter(*other, dir), mp::InputError);
    fs::remove_all(dir);
}

TEST(Lora, ConfigRejectsUnsupportedPeftOptions)
{
    EXPECT_THROW(mp::LoraConfig::fromJson(nlohmann::json::parse(R"({"peft_type":"IA3"})"), "c"),
                 mp::InputError);
    EXPECT_THROW(mp::LoraConfig::fromJson(nlohmann::json::parse(R"({"r":0})"), "c"),
                 mp::InputError);
    EXPECT_THROW(mp::LoraConfig::fromJson(nlohmann::json::parse(R"({"bias":"all"})"), "c"),
                 mp::InputError);
    const auto c = mp::LoraConfig::fromJson(
        nlohmann::json::parse(R"({"r":16,"lora_alpha":32,"target_modules":["q","k","v","o"]})"),
        "c");
    EXPECT_EQ(c.targetModules.size(), 4u);
}

TEST(Lora, FewRowInferenceMatchesTheGradientPath)
{
    // Without gradients a few rows take W @ x^T (another BLAS kernel); the values must agree with
    // torch::linear's, with and without an adapter and a bias, for 1 to 20 rows.
    torch::manual_seed(5);
    mp::LoraLinear layer(256, 1024, /*withBias=*/true);
    for (const bool adapter : {false, true}) {
        if (adapter) {
            layer->addAdapter({.rank = 4, .alpha = 8.0});
            torch::NoGradGuard noGrad;
            layer->lora_B->weight.normal_(0.0, 0.1);
        }
        for (const std::int64_t rows : {1, 2, 3, 16, 20}) {
            const auto x = torch::randn({rows, 1, 256});
            const auto expected = layer->forward(x).detach();
            torch::NoGradGuard noGrad;
            const auto fast = layer->forward(x);
            EXPECT_EQ(fast.sizes(), expected.sizes());
            EXPECT_TRUE(torch::allclose(fast, expected, 1e-5, 1e-4))
                << rows << " rows: " << (fast - expected).abs().max().item<float>();
        }
    }
}

} // namespace
