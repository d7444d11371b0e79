#include "ml/core/error.h"
#include "ml/data/npy.h"
#include "ml/data/safetensors.h"
#include "ml/models/bundle.h"
#include "ml/models/motiongpt_import.h"
#include "ml/models/state_dict.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

// A miniature of MotionGPT's release: a "flan-t5" directory (HF config.json before the resize,
// spiece.model), assets/meta mean/std, and a checkpoint with vae.* and lm.language_model.* keys
// (plus metrics the importer must skip) as safetensors. The torch.save checkpoint, written by
// Python, is tests/reference/golden/motiongpt (motiongpt_reference_test.cpp).
class MotionGptImport : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        torch::manual_seed(3);
        s_dir = fs::temp_directory_path() / ("mp_mgpt_" + std::to_string(::getpid()));
        fs::create_directories(s_dir / "flan-t5");
        fs::create_directories(s_dir / "meta");
        std::vector<std::string> sentences;
        for (const char *verb : {"walks", "runs", "jumps", "waves", "kicks"})
            for (const char *way : {"forward", "backward", "left", "right", "slowly", "twice"})
                sentences.push_back(std::string("a person ") + verb + " " + way);
        mp::trainSentencePiece(sentences, s_dir / "flan-t5" / "spiece.model", {.vocabSize = 40});

        s_t5Config.dModel = 16;
        s_t5Config.dKv = 4;
        s_t5Config.dFf = 32;
        s_t5Config.numLayers = 1;
        s_t5Config.numDecoderLayers = 2;
        s_t5Config.numHeads = 2;
        s_t5Config.relativeAttentionNumBuckets = 8;
        s_t5Config.relativeAttentionMaxDistance = 20;
        s_t5Config.feedForwardProj = "gated-gelu";
        s_t5Config.tieWordEmbeddings = false;
        s_t5Config.vocabSize = 128; // the HF config predates resize_token_embeddings
        std::ofstream(s_dir / "flan-t5" / "config.json") << s_t5Config.toJson().dump(2);
        s_t5Config.vocabSize = 100 + 16 + 3; // 100 text ids, 16 codes, SOM/EOM/mask

        mp::npy::write(s_dir / "meta" / "mean.npy", torch::linspace(-1, 1, 263, torch::kDouble));
        mp::npy::write(s_dir / "meta" / "std.npy", torch::full({263}, 0.5, torch::kDouble));

        s_vqConfig = {.inputDim = 263, .numCodes = 16, .codeDim = 8, .width = 12};
        mp::T5Model t5(s_t5Config);
        mp::VqVae vqvae(s_vqConfig);
        vqvae->quantizer->setCodebook(torch::randn({16, 8}));
        for (const auto &[name, tensor] : mp::moduleStateDict(*t5))
            s_state["lm.language_model." + name] = tensor.detach().clone();
        s_state["lm.language_model.encoder.embed_tokens.weight"] = t5->shared->weight.detach();
        for (const auto &[name, tensor] : mp::moduleStateDict(*vqvae))
            s_state["vae." + name] = tensor.detach().clone();
        s_state["metrics.fid"] = torch::zeros({1});
        mp::writeSafetensors(s_dir / "motiongpt.safetensors", s_state);
    }
    static void TearDownTestSuite() { fs::remove_all(s_dir); }

    static mp::MotionGptImportOptions options(const std::string &checkpoint, const std::string &out)
    {
        return {.checkpoint = s_dir / checkpoint,
                .t5Directory = s_dir / "flan-t5",
                .metaDirectory = s_dir / "meta",
                .out = s_dir / out};
    }
    static std::string importError(const mp::MotionGptImportOptions &o)
    {
        try {
            mp::importMotionGpt(o);
        } catch (const mp::InputError &e) {
            return e.what();
        }
        return "";
    }

    static fs::path s_dir;
    static mp::T5Config s_t5Config;
    static mp::VqVaeConfig s_vqConfig;
    static mp::TensorMap s_state;
};
fs::path MotionGptImport::s_dir;
mp::T5Config MotionGptImport::s_t5Config;
mp::VqVaeConfig MotionGptImport::s_vqConfig;
mp::TensorMap MotionGptImport::s_state;

TEST_F(MotionGptImport, SafetensorsGiveAWorkingBundle)
{
    for (const char *checkpoint : {"motiongpt.safetensors"}) {
        const auto result =
            mp::importMotionGpt(options(checkpoint, std::string("out_") + checkpoint));
        EXPECT_EQ(result.notUsed, "");
        mp::ModelBundle bundle(result.bundle);
        const auto &c = bundle.config();
        EXPECT_EQ(c.t5.vocabSize, 119) << checkpoint;
        EXPECT_EQ(c.tokens.textVocabSize, 100);
        EXPECT_EQ(c.tokens.somId(), 116); // MotionGPT's <motion_id_512>
        EXPECT_EQ(c.vqvae.numCodes, 16);
        EXPECT_EQ(c.vqvae.width, 12);
        // Every weight arrives under its bundle name, unchanged.
        for (const auto &[name, tensor] : mp::moduleStateDict(*bundle.t5()))
            EXPECT_TRUE(torch::equal(tensor, s_state.at("lm.language_model." + name))) << name;
        for (const auto &[name, tensor] : mp::moduleStateDict(*bundle.vqvae()))
            EXPECT_TRUE(torch::equal(tensor, s_state.at("vae." + name))) << name;
        EXPECT_TRUE(torch::allclose(bundle.mean(), torch::linspace(-1, 1, 263)));
        const auto samples = bundle.generate("a person jumps twice", bundle.defaultOptions({4, 5}));
        EXPECT_EQ(samples.size(), 2u);
    }
}

TEST_F(MotionGptImport, MissingOrForeignInputsAreNamed)
{
    auto state = s_state;
    state.erase("lm.language_model.shared.weight");
    mp::writeSafetensors(s_dir / "no_lm.safetensors", state);
    auto message = importError(options("no_lm.safetensors", "x"));
    EXPECT_NE(message.find("lm.language_model.shared.weight"), std::string::npos) << message;

    state = s_state;
    state.erase("vae.decoder.model.0.weight");
    mp::writeSafetensors(s_dir / "no_decoder.safetensors", state);
    message = importError(options("no_decoder.safetensors", "x"));
    EXPECT_NE(message.find("vae.decoder.model.0.weight"), std::string::npos) << message;

    std::ofstream(s_dir / "garbage.tar") << "not a zip archive";
    message = importError(options("garbage.tar", "x"));
    EXPECT_NE(message.find("garbage.tar"), std::string::npos) << message;
    EXPECT_NE(message.find("not a PyTorch checkpoint"), std::string::npos) << message;

    auto o = options("motiongpt.safetensors", "x");
    o.metaDirectory = s_dir / "flan-t5";
    message = importError(o);
    EXPECT_NE(message.find("mean.npy"), std::string::npos) << message;
    o = options("motiongpt.safetensors", "x");
    o.t5Directory = s_dir / "meta";
    message = importError(o);
    EXPECT_NE(message.find("config.json"), std::string::npos) << message;
    EXPECT_FALSE(fs::exists(s_dir / "x"));
}

} // namespace
