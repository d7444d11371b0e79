#include "ml/core/error.h"
#include "ml/data/safetensors.h"
#include "ml/models/bundle.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

mp::BundleConfig tinyBundleConfig()
{
    mp::BundleConfig c;
    c.tokens = {.textVocabSize = 100, .numMotionCodes = 16};
    c.t5.vocabSize = c.tokens.vocabSize();
    c.t5.dModel = 16;
    c.t5.dKv = 4;
    c.t5.dFf = 32;
    c.t5.numLayers = 1;
    c.t5.numDecoderLayers = 2;
    c.t5.numHeads = 2;
    c.t5.relativeAttentionNumBuckets = 8;
    c.t5.relativeAttentionMaxDistance = 20;
    c.t5.feedForwardProj = "gated-gelu";
    c.t5.tieWordEmbeddings = false;
    c.vqvae = {.inputDim = 263, .numCodes = 16, .codeDim = 8, .width = 12};
    c.maxMotionTokens = 10;
    return c;
}

class Bundle : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        torch::manual_seed(0);
        s_dir = fs::temp_directory_path() / ("mp_bundle_" + std::to_string(::getpid()));
        fs::create_directories(s_dir / "src");
        std::vector<std::string> sentences;
        for (const char *verb : {"walks", "runs", "jumps", "waves", "kicks"})
            for (const char *way : {"forward", "backward", "left", "right", "slowly", "twice"})
                sentences.push_back(std::string("a person ") + verb + " " + way);
        mp::trainSentencePiece(sentences, s_dir / "src" / "spiece.model", {.vocabSize = 40});
        const auto config = tinyBundleConfig();
        mp::VqVae vqvae(config.vqvae);
        vqvae->quantizer->setCodebook(torch::randn({16, 8}));
        mp::ModelBundle bundle(config, mp::T5Model(config.t5), vqvae,
                               s_dir / "src" / "spiece.model", torch::linspace(-1, 1, 263),
                               torch::full({263}, 2.0));
        bundle.save(s_dir / "bundle");
    }
    static void TearDownTestSuite() { fs::remove_all(s_dir); }

    // A copy of the good bundle to break.
    fs::path copyBundle(const std::string &name)
    {
        const auto target = s_dir / name;
        fs::remove_all(target);
        fs::copy(s_dir / "bundle", target);
        return target;
    }
    static std::string loadError(const fs::path &dir)
    {
        try {
            mp::ModelBundle bundle(dir);
        } catch (const mp::InputError &e) {
            return e.what();
        }
        return "";
    }

    static fs::path s_dir;
};
fs::path Bundle::s_dir;

TEST_F(Bundle, LoadsAndGeneratesAPairOfDenormalisedMotions)
{
    mp::ModelBundle bundle(s_dir / "bundle");
    EXPECT_EQ(bundle.config().tokens.somId(), 116);
    auto options = bundle.defaultOptions({11, 12});
    const auto samples = bundle.generate("a person walks forward", options);
    ASSERT_EQ(samples.size(), 2u);
    for (const auto &s : samples) {
        EXPECT_LE(s.tokens.size(), 12u);
        const auto frames = s.degenerate ? 4 : static_cast<std::int64_t>(4 * s.codes.size());
        EXPECT_EQ(s.features.sizes(), torch::IntArrayRef({frames, 263}));
        EXPECT_EQ(s.joints.sizes(), torch::IntArrayRef({frames, 22, 3}));
        EXPECT_TRUE(torch::isfinite(s.joints).all().item<bool>());
        for (auto code : s.codes) {
            EXPECT_GE(code, 0);
            EXPECT_LT(code, 16);
        }
    }
    EXPECT_EQ(samples[0].seed, 11u);
    // The same seed again gives the same sample.
    options.seeds = {12};
    const auto again = bundle.generate("a person walks forward", options);
    EXPECT_EQ(again[0].tokens, samples[1].tokens);
    EXPECT_TRUE(torch::equal(again[0].features, samples[1].features));
}

TEST_F(Bundle, DecodingFollowsMotionGptRules)
{
    mp::ModelBundle bundle(s_dir / "bundle");
    // <= 1 code: the zero motion in normalised space, i.e. the mean pose.
    const auto zero = bundle.decodeCodes({7});
    EXPECT_EQ(zero.sizes(), torch::IntArrayRef({4, 263}));
    EXPECT_TRUE(torch::allclose(zero[0], bundle.mean()));
    const auto motion = bundle.decodeCodes({1, 2, 3});
    EXPECT_EQ(motion.sizes(), torch::IntArrayRef({12, 263}));
    // denormalize(normalize(x)) == x
    const auto x = torch::randn({5, 263});
    EXPECT_TRUE(torch::allclose(bundle.denormalize(bundle.normalize(x)), x, 1e-5, 1e-5));
}

TEST_F(Bundle, BadPromptsAreClearErrorsOrTruncated)
{
    mp::ModelBundle bundle(s_dir / "bundle");
    EXPECT_THROW(bundle.encodePrompt(""), mp::InputError);
    EXPECT_THROW(bundle.encodePrompt("  \n\t"), mp::InputError);
    std::string longPrompt;
    while (longPrompt.size() < 10000)
        longPrompt += "a person walks forward ";
    const auto ids = bundle.encodePrompt(longPrompt + " qqq unknownword");
    EXPECT_EQ(static_cast<std::int64_t>(ids.size()), bundle.config().maxPromptTokens);
    EXPECT_NO_THROW(bundle.generate("zzz qqq unknownword", bundle.defaultOptions({1})));
}

TEST_F(Bundle, MissingFilesAreNamed)
{
    for (const char *name : {"config.json", "model.safetensors", "vqvae.safetensors",
                             "spiece.model", "meta.safetensors"}) {
        const auto dir = copyBundle("missing");
        fs::remove(dir / name);
        EXPECT_NE(loadError(dir).find(name), std::string::npos) << name << ": " << loadError(dir);
    }
    EXPECT_NE(loadError(s_dir / "nowhere").find("nowhere"), std::string::npos);
}

TEST_F(Bundle, MismatchedShapesNameFileAndTensor)
{
    // A config that promises a wider feed-forward than the weights have.
    auto dir = copyBundle("wide");
    auto config = tinyBundleConfig();
    config.t5.dFf = 48;
    std::ofstream(dir / "config.json") << config.toJson().dump();
    auto message = loadError(dir);
    EXPECT_NE(message.find("model.safetensors"), std::string::npos) << message;
    EXPECT_NE(message.find("DenseReluDense"), std::string::npos) << message;

    // Normalisation of the wrong size.
    dir = copyBundle("meta");
    mp::writeSafetensors(dir / "meta.safetensors",
                         {{"mean", torch::zeros({22})}, {"std", torch::ones({22})}});
    message = loadError(dir);
    EXPECT_NE(message.find("meta.safetensors"), std::string::npos) << message;
    EXPECT_NE(message.find("'mean'"), std::string::npos) << message;

    // A zero std.
    mp::writeSafetensors(dir / "meta.safetensors",
                         {{"mean", torch::zeros({263})}, {"std", torch::zeros({263})}});
    EXPECT_NE(loadError(dir).find("'std'"), std::string::npos);

    // Token layout and codebook disagree.
    dir = copyBundle("codes");
    auto json = config.toJson();
    config = tinyBundleConfig();
    json = config.toJson();
    json["vqvae"]["num_codes"] = 32;
    std::ofstream(dir / "config.json") << json.dump();
    EXPECT_NE(loadError(dir).find("num_codes"), std::string::npos) << loadError(dir);

    // A vocabulary too small for the motion tokens.
    json = config.toJson();
    json["t5"]["vocab_size"] = 110;
    std::ofstream(dir / "config.json") << json.dump();
    EXPECT_NE(loadError(dir).find("vocab_size"), std::string::npos) << loadError(dir);
}

} // namespace
