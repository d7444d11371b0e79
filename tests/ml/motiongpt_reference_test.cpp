// The MotionGPT import held against MotionGPT's own code (tests/reference/motiongpt.py, from
// OpenMotionLab/MotionGPT's checkout): a Lightning-style checkpoint written by torch.save, with
// MotionGPT's VQVae and MLM (tiny widths, seeded), OmegaConf hyper_parameters, an AdamW state and
// callbacks, imported end to end with no Python step. The imported VQ-VAE must give VQVae.encode's
// codes exactly and VQVae.decode's features within 1e-4; every weight must arrive unchanged;
// the bundle must prompt as MotionGPT's text-to-motion path does.

#include "ml/core/error.h"
#include "ml/data/safetensors.h"
#include "ml/models/bundle.h"
#include "ml/models/motiongpt_import.h"
#include "ml/models/state_dict.h"

#include "temp_dir.h"

#include "golden_files.h"

#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <memory>

namespace fs = std::filesystem;

namespace {

fs::path motionGptGoldenDir()
{
    return mp::test::goldenDir("motiongpt");
}

class MotionGptReference : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        s_dir = std::make_unique<mp::test::TempDir>("mp_mgpt_ref");
        std::ifstream in(motionGptGoldenDir() / "reference.json");
        s_reference = nlohmann::json::parse(in);
        s_result = mp::importMotionGpt({.checkpoint = motionGptGoldenDir() / "motiongpt_tiny.ckpt",
                                        .t5Directory = motionGptGoldenDir() / "flan-t5",
                                        .metaDirectory = motionGptGoldenDir() / "meta",
                                        .out = *s_dir / "bundle"});
        s_bundle = std::make_unique<mp::ModelBundle>(s_result.bundle);
    }
    static void TearDownTestSuite()
    {
        s_bundle.reset();
        s_dir.reset();
    }

    static std::unique_ptr<mp::test::TempDir> s_dir;
    static nlohmann::json s_reference;
    static mp::MotionGptImportResult s_result;
    static std::unique_ptr<mp::ModelBundle> s_bundle;
};
std::unique_ptr<mp::test::TempDir> MotionGptReference::s_dir;
nlohmann::json MotionGptReference::s_reference;
mp::MotionGptImportResult MotionGptReference::s_result;
std::unique_ptr<mp::ModelBundle> MotionGptReference::s_bundle;

TEST_F(MotionGptReference, InfersTheArchitectureMotionGptWasBuiltWith)
{
    const auto &c = s_bundle->config();
    const auto &vq = s_reference["vq"];
    EXPECT_EQ(c.vqvae.inputDim, vq["nfeats"].get<std::int64_t>());
    EXPECT_EQ(c.vqvae.numCodes, vq["code_num"].get<std::int64_t>());
    EXPECT_EQ(c.vqvae.codeDim, vq["code_dim"].get<std::int64_t>());
    EXPECT_EQ(c.vqvae.width, vq["width"].get<std::int64_t>());
    EXPECT_EQ(c.vqvae.depth, vq["depth"].get<std::int64_t>());
    EXPECT_EQ(c.vqvae.downT, vq["down_t"].get<std::int64_t>());
    EXPECT_EQ(c.vqvae.strideT, vq["stride_t"].get<std::int64_t>());
    EXPECT_EQ(c.vqvae.dilationGrowthRate, vq["dilation_growth_rate"].get<std::int64_t>());
    EXPECT_EQ(c.t5.vocabSize, s_reference["vocab_size"].get<std::int64_t>());
    // <motion_id_0> where MotionGPT's tokenizer put it.
    EXPECT_EQ(c.tokens.motionId(0), s_reference["motion_id_0"].get<std::int64_t>());
    EXPECT_FALSE(c.t5.tieWordEmbeddings);
}

TEST_F(MotionGptReference, EveryWeightArrivesUnchanged)
{
    const auto &sums = s_reference["state_sums"];
    int compared = 0;
    const auto check = [&](const mp::TensorMap &tensors, const std::string &prefix) {
        for (const auto &[name, tensor] : tensors) {
            SCOPED_TRACE(prefix + name);
            ASSERT_TRUE(sums.contains(prefix + name));
            const auto &want = sums[prefix + name];
            const auto t = tensor.to(at::kDouble);
            EXPECT_NEAR(t.sum().item<double>(), want[0].get<double>(), 1e-6);
            EXPECT_NEAR(t.square().sum().item<double>(), want[1].get<double>(),
                        1e-9 * want[1].get<double>() + 1e-9);
            ++compared;
        }
    };
    check(mp::moduleStateDict(*s_bundle->t5()), "lm.language_model.");
    check(mp::moduleStateDict(*s_bundle->vqvae()), "vae.");
    EXPECT_GE(compared, 60);
}

TEST_F(MotionGptReference, VqVaeCodesAndFeaturesEqualMotionGpts)
{
    const auto io = mp::readSafetensors(motionGptGoldenDir() / "vq_io.safetensors");
    auto &vqvae = s_bundle->vqvae();
    vqvae->eval();
    at::NoGradGuard noGrad;
    double worst = 0.0;
    for (const auto &length : s_reference["lengths"]) {
        const auto n = std::to_string(length.get<int>());
        SCOPED_TRACE(n);
        const auto codes = vqvae->encode(io.at("features_" + n));
        EXPECT_TRUE(at::equal(codes, io.at("codes_" + n))) << codes << io.at("codes_" + n);
        const auto decoded = vqvae->decode(io.at("codes_" + n));
        ASSERT_EQ(decoded.sizes(), io.at("decoded_" + n).sizes());
        const auto diff = (decoded - io.at("decoded_" + n)).abs().max().item<double>();
        EXPECT_LT(diff, 1e-4);
        worst = std::max(worst, diff);
    }
    std::printf("largest |decoded - MotionGPT| %.3g\n", worst);
}

TEST_F(MotionGptReference, PromptsAsMotionGptsTextToMotionPath)
{
    const auto &c = s_bundle->config();
    for (const auto &item : s_reference["t2m_prompts"]) {
        const auto caption = item["caption"].get<std::string>();
        EXPECT_EQ(c.prompt(caption), item["input"].get<std::string>());
        EXPECT_EQ(
            s_bundle->encodePrompt(caption),
            s_bundle->tokenizer().encodeText(item["input"].get<std::string>(), c.maxPromptTokens));
    }
    // The wording is stored in the bundle as data, with its source.
    std::ifstream in(s_result.bundle / "config.json");
    const auto config = nlohmann::json::parse(in);
    EXPECT_EQ(config["prompt"]["template"], "Generate motion: <Caption_Placeholder>");
    EXPECT_NE(config["prompt"]["source"].get<std::string>().find("OpenMotionLab/MotionGPT"),
              std::string::npos);
}

TEST_F(MotionGptReference, ReportsWhatItDidNotUseInOneLine)
{
    const auto &line = s_result.notUsed;
    std::printf("motiongpt_tiny.ckpt: %s\n", line.c_str());
    EXPECT_EQ(line.find('\n'), std::string::npos);
    for (const char *part : {"optimizer_states", "callbacks", "hyper_parameters",
                             "hyper_parameters/cfg (omegaconf.dictconfig.DictConfig)",
                             "hyper_parameters/codes (omegaconf.listconfig.ListConfig)"})
        EXPECT_NE(line.find(part), std::string::npos) << part << " in: " << line;
    EXPECT_EQ(line.find("state_dict,"), std::string::npos) << line;
    const auto samples =
        s_bundle->generate("a person walks forward", s_bundle->defaultOptions({1}));
    EXPECT_EQ(samples.size(), 1u);
}

} // namespace

namespace {

// The prompt template is data: filled at every placeholder (Python's str.replace), round-tripped
// through config.json, refused when the placeholder is missing; no template: the bare caption.
TEST(BundlePrompt, TemplateFilledRoundTrippedAndChecked)
{
    mp::BundleConfig config;
    config.t5.vocabSize = config.tokens.vocabSize();
    EXPECT_EQ(config.prompt("a person runs"), "a person runs");
    config.promptTemplate = "<C> (again: <C>)";
    config.promptPlaceholder = "<C>";
    config.promptSource = "test";
    EXPECT_EQ(config.prompt("a <C> b"), "a <C> b (again: a <C> b)");
    const auto back = mp::BundleConfig::fromJson(config.toJson(), "config.json");
    EXPECT_EQ(back.promptTemplate, config.promptTemplate);
    EXPECT_EQ(back.promptPlaceholder, "<C>");
    EXPECT_EQ(back.promptSource, "test");
    auto json = config.toJson();
    json["prompt"]["placeholder"] = "<X>";
    try {
        mp::BundleConfig::fromJson(json, "config.json");
        ADD_FAILURE() << "a template without its placeholder was accepted";
    } catch (const mp::InputError &e) {
        EXPECT_NE(std::string(e.what()).find("placeholder '<X>'"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(mp::BundleConfig().toJson().contains("prompt"));
}

} // namespace
