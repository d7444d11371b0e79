#include "ml/core/error.h"
#include "ml/data/safetensors.h"
#include "ml/models/vqvae.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <filesystem>

namespace fs = std::filesystem;

namespace {

mp::VqVaeConfig smallVqVaeConfig()
{
    return {.inputDim = 263, .numCodes = 16, .codeDim = 8, .width = 12};
}

TEST(VqVae, ParameterNamesMatchMotionGptCheckpointKeys)
{
    mp::VqVae model(smallVqVaeConfig());
    const auto params = model->named_parameters();
    const auto buffers = model->named_buffers();
    // Encoder: conv, relu, 2 x [down conv, Resnet1D], conv.
    for (const char *name :
         {"encoder.model.0.weight", "encoder.model.2.0.weight",
          "encoder.model.2.1.model.0.conv1.weight", "encoder.model.2.1.model.2.conv2.bias",
          "encoder.model.3.1.model.1.conv1.weight", "encoder.model.4.weight",
          // Decoder: conv, relu, 2 x [Resnet1D, upsample, conv], conv, relu, conv.
          "decoder.model.0.weight", "decoder.model.2.0.model.0.conv1.weight",
          "decoder.model.2.2.weight", "decoder.model.3.2.bias", "decoder.model.4.weight",
          "decoder.model.6.weight", "decoder.model.6.bias"})
        EXPECT_TRUE(params.contains(name)) << name;
    EXPECT_TRUE(buffers.contains("quantizer.codebook"));
    EXPECT_FALSE(params.contains("quantizer.codebook"));
    EXPECT_EQ(params["encoder.model.0.weight"].sizes(), torch::IntArrayRef({12, 263, 3}));
    EXPECT_EQ(params["encoder.model.2.0.weight"].sizes(), torch::IntArrayRef({12, 12, 4}));
    EXPECT_EQ(params["decoder.model.6.weight"].sizes(), torch::IntArrayRef({263, 12, 3}));
    EXPECT_EQ(buffers["quantizer.codebook"].sizes(), torch::IntArrayRef({16, 8}));
    // Dilations 9, 3, 1 (reversed growth 3^d) in both encoder and decoder.
    auto *first = model->encoder->model[2]->as<torch::nn::SequentialImpl>();
    ASSERT_NE(first, nullptr);
    auto *resnet = (*first)[1]->as<mp::Resnet1DImpl>();
    ASSERT_NE(resnet, nullptr);
    EXPECT_EQ(resnet->model[0]->as<mp::ResConv1DBlockImpl>()->conv1->options.dilation()->at(0), 9);
    EXPECT_EQ(resnet->model[2]->as<mp::ResConv1DBlockImpl>()->conv1->options.dilation()->at(0), 1);
}

TEST(VqVae, ShapesFollowTheFourTimesDownsampling)
{
    torch::manual_seed(0);
    mp::VqVae model(smallVqVaeConfig());
    model->eval();
    torch::NoGradGuard noGrad;
    const auto features = torch::randn({2, 64, 263});
    const auto codes = model->encode(features);
    EXPECT_EQ(codes.sizes(), torch::IntArrayRef({2, 16}));
    EXPECT_EQ(codes.scalar_type(), torch::kLong);
    EXPECT_EQ(model->decode(codes[0]).sizes(), torch::IntArrayRef({1, 64, 263}));
    EXPECT_EQ(model->decode(codes).sizes(), torch::IntArrayRef({2, 64, 263}));
    const auto out = model->forward(features);
    EXPECT_EQ(out.reconstruction.sizes(), features.sizes());
    EXPECT_TRUE(torch::equal(out.codes, codes));
    EXPECT_THROW(model->encode(torch::zeros({1, 2, 263})), mp::InputError);
    EXPECT_THROW(model->encode(torch::zeros({1, 8, 100})), mp::InputError);
    EXPECT_THROW(model->decode(torch::tensor({3, 16})), mp::InputError);
}

TEST(VqVae, CodebookVectorsRoundTrip)
{
    torch::manual_seed(1);
    mp::QuantizeEmaReset quantizer(16, 8);
    quantizer->setCodebook(torch::randn({16, 8}));
    const auto codes = torch::tensor({5, 0, 15, 7, 7});
    const auto vectors = quantizer->dequantize(codes);
    EXPECT_TRUE(torch::equal(quantizer->quantize(vectors), codes));
    // Slightly perturbed vectors still map to their code.
    EXPECT_TRUE(torch::equal(quantizer->quantize(vectors + 1e-3), codes));
    // Through the decoder side: codes -> vectors -> nearest -> same codes.
    mp::VqVae model(smallVqVaeConfig());
    model->quantizer->setCodebook(quantizer->codebook);
    EXPECT_TRUE(
        torch::equal(model->quantizer->quantize(model->quantizer->dequantize(codes)), codes));
}

TEST(VqVae, EmaUpdateOnAHandMadeBatch)
{
    mp::QuantizeEmaReset quantizer(2, 2, 0.5);
    quantizer->train();
    quantizer->setCodebook(torch::tensor({{0.0f, 0.0f}, {2.0f, 2.0f}}));
    // Rows [1,0], [0,1] -> code 0; [3,3] -> code 1. Layout (N=1, C=2, T=3).
    const auto x = torch::tensor({{1.0f, 0.0f, 3.0f}, {0.0f, 1.0f, 3.0f}}).unsqueeze(0);
    const auto out = quantizer->forward(x);
    EXPECT_TRUE(torch::equal(out.codes, torch::tensor({{0, 0, 1}})));
    // Commitment against the codes before the update: (1 + 1 + 2) / 6.
    EXPECT_NEAR(out.commitLoss.item<float>(), 4.0f / 6.0f, 1e-6);
    // Perplexity of usage (2/3, 1/3).
    EXPECT_NEAR(out.perplexity.item<float>(), 1.8898815748, 1e-5);
    // sum: c0 = 0.5*[0,0] + 0.5*[1,1], count 0.5 + 0.5*2 = 1.5; c1 = 0.5*[2,2] + 0.5*[3,3], 1.0.
    EXPECT_TRUE(torch::allclose(quantizer->codeCount(), torch::tensor({1.5f, 1.0f})));
    EXPECT_TRUE(torch::allclose(quantizer->codebook,
                                torch::tensor({{1.0f / 3, 1.0f / 3}, {2.5f, 2.5f}}), 1e-6, 1e-6));
    // The quantised output equals the chosen codes but carries the input's gradient.
    EXPECT_TRUE(torch::allclose(
        out.quantized, torch::tensor({{0.0f, 0.0f, 2.0f}, {0.0f, 0.0f, 2.0f}}).unsqueeze(0)));

    // Next batch uses only code 0: code 1's count drops to 0.5 < 1, so it is reset to a
    // (noisy) copy of a batch row.
    const auto y = torch::tensor({{0.0f}, {0.1f}}).unsqueeze(0);
    quantizer->forward(y);
    EXPECT_TRUE(torch::allclose(quantizer->codeCount(), torch::tensor({1.25f, 0.5f})));
    EXPECT_TRUE(torch::allclose(quantizer->codebook[0], torch::tensor({0.2f, 0.24f}), 1e-6, 1e-6));
    EXPECT_TRUE(torch::allclose(quantizer->codebook[1], torch::tensor({0.0f, 0.1f}), 0, 0.05));
}

TEST(VqVae, FirstTrainingBatchInitialisesTheCodebook)
{
    torch::manual_seed(2);
    mp::QuantizeEmaReset quantizer(4, 3);
    quantizer->train();
    EXPECT_FALSE(quantizer->initialized());
    const auto x = torch::randn({1, 3, 2});
    quantizer->forward(x);
    EXPECT_TRUE(quantizer->initialized());
    // Two rows tiled to four codes (plus noise of std 0.01/sqrt(3)), then EMA-updated.
    EXPECT_LT((quantizer->codebook - quantizer->codebook.mean(0)).abs().max().item<float>(), 100);
    EXPECT_FALSE(torch::equal(quantizer->codebook, torch::zeros({4, 3})));
}

TEST(VqVae, LossesWeightFeatureVelocityCommit)
{
    const auto target = torch::zeros({1, 4, 263});
    auto pred = torch::zeros({1, 4, 263});
    pred.narrow(-1, 4, 63).fill_(0.5f); // smooth L1 of 0.5 = 0.5*0.25 = 0.125
    const auto losses = mp::vqvaeLosses(pred, target, torch::tensor(2.0f));
    EXPECT_NEAR(losses.velocity.item<float>(), 0.125f, 1e-6);
    EXPECT_NEAR(losses.feature.item<float>(), 0.125f * 63 / 263, 1e-6);
    EXPECT_NEAR(losses.total.item<float>(), 0.125f * 63 / 263 + 0.5f * 0.125f + 0.02f * 2.0f, 1e-6);
    // Gradients reach the encoder through the straight-through estimator.
    torch::manual_seed(3);
    mp::VqVae model(smallVqVaeConfig());
    model->train();
    const auto features = torch::randn({2, 16, 263});
    auto out = model->forward(features);
    auto l = mp::vqvaeLosses(out.reconstruction, features, out.commitLoss);
    l.total.backward();
    EXPECT_GT(model->encoder->model[0]
                  ->as<torch::nn::Conv1dImpl>()
                  ->weight.grad()
                  .abs()
                  .sum()
                  .item<float>(),
              0.0f);
}

TEST(VqVae, SaveLoadAndMotionGptPrefix)
{
    torch::manual_seed(4);
    const auto dir = fs::temp_directory_path() / ("mp_vqvae_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    mp::VqVae a(smallVqVaeConfig());
    a->quantizer->setCodebook(torch::randn({16, 8}));
    a->eval();
    a->saveWeights(dir / "vqvae.safetensors");
    mp::VqVae b(smallVqVaeConfig());
    b->eval();
    b->loadWeights(dir / "vqvae.safetensors");
    torch::NoGradGuard noGrad;
    const auto features = torch::randn({1, 32, 263});
    EXPECT_TRUE(torch::equal(a->encode(features), b->encode(features)));
    EXPECT_TRUE(torch::equal(a->decode(a->encode(features)), b->decode(a->encode(features))));

    // A MotionGPT-style file: "vae."-prefixed keys next to the language model's.
    mp::TensorMap checkpoint;
    for (const auto &item : a->named_parameters())
        checkpoint["vae." + item.key()] = item.value();
    checkpoint["vae.quantizer.codebook"] = a->quantizer->codebook;
    checkpoint["lm.language_model.shared.weight"] = torch::zeros({2, 2});
    mp::writeSafetensors(dir / "motiongpt.safetensors", checkpoint);
    mp::VqVae c(smallVqVaeConfig());
    c->eval();
    c->loadWeights(dir / "motiongpt.safetensors", "vae.");
    EXPECT_TRUE(torch::equal(a->encode(features), c->encode(features)));

    auto wider = smallVqVaeConfig();
    wider.width = 16;
    mp::VqVae d(wider);
    try {
        d->loadWeights(dir / "vqvae.safetensors");
        FAIL() << "expected InputError";
    } catch (const mp::InputError &e) {
        EXPECT_NE(std::string(e.what()).find("vqvae.safetensors"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("model.0."), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("expected shape (16"), std::string::npos) << e.what();
    }
    fs::remove_all(dir);
}

TEST(VqVae, ConfigJson)
{
    const auto c = mp::VqVaeConfig::fromJson(
        nlohmann::json::parse(R"({"num_codes": 256, "code_dim": 64, "width": 128})"), "c.json");
    EXPECT_EQ(c.numCodes, 256);
    EXPECT_EQ(c.downsampling(), 4);
    EXPECT_EQ(mp::VqVaeConfig::fromJson(c.toJson(), "c").codeDim, 64);
    EXPECT_THROW(mp::VqVaeConfig::fromJson(nlohmann::json::parse(R"({"width": -1})"), "c"),
                 mp::InputError);
}

} // namespace
