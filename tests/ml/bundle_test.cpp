#include "../app/tiny_bundle.h"
#include "ml/core/error.h"
#include "ml/data/safetensors.h"
#include "ml/models/bundle.h"
#include "ml/models/state_dict.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;

namespace {

// The same tiny architecture as the app and GUI tests' bundle.
using mp::test::tinyBundleConfig;

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
    // The InputError's message, "" when the bundle loads; any other exception fails the test.
    static std::string loadError(const fs::path &dir)
    {
        try {
            mp::ModelBundle bundle(dir);
        } catch (const mp::InputError &e) {
            return e.what();
        }
        return "";
    }
    static std::string readBytes(const fs::path &path)
    {
        std::ifstream in(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
    static void writeBytes(const fs::path &path, const std::string &bytes)
    {
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
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

// Lists of equal length share one VQ-VAE batch: each motion as decoded alone, in its place.
TEST_F(Bundle, BatchedDecodingEqualsOneAtATime)
{
    mp::ModelBundle bundle(s_dir / "bundle");
    const std::vector<std::vector<std::int64_t>> codes = {
        {1, 2, 3}, {}, {4, 5, 6, 7, 8}, {9}, {15, 0, 3}, {7, 7, 7}, {2, 40, 5, 6, 1}};
    const auto batched = bundle.decodeCodesBatch(codes);
    ASSERT_EQ(batched.size(), codes.size());
    for (std::size_t i = 0; i < codes.size(); ++i) {
        const auto alone = bundle.decodeCodes(codes[i]);
        ASSERT_EQ(batched[i].sizes(), alone.sizes()) << "list " << i;
        EXPECT_LT((batched[i] - alone).abs().max().item<double>(), 1e-5) << "list " << i;
    }
    EXPECT_GT((batched[0] - batched[4]).abs().max().item<double>(), 1e-3);
    // generateBatch without joints: the same features, joints left undefined.
    auto options = bundle.defaultOptions({21, 22, 23});
    const std::vector<std::string> prompts = {"a person walks", "a person jumps", "a person walks"};
    const auto full = bundle.generateBatch(prompts, options);
    const auto lean = bundle.generateBatch(prompts, options, {}, /*withJoints=*/false);
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        EXPECT_TRUE(torch::equal(full[i].features, lean[i].features)) << i;
        EXPECT_TRUE(full[i].joints.defined());
        EXPECT_FALSE(lean[i].joints.defined());
    }
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
    // A config that promises a narrower feed-forward than the weights have.
    auto dir = copyBundle("narrow");
    auto config = tinyBundleConfig();
    config.t5.dFf = 24;
    std::ofstream(dir / "config.json") << config.toJson().dump();
    auto message = loadError(dir);
    EXPECT_NE(message.find("model.safetensors"), std::string::npos) << message;
    EXPECT_NE(message.find("DenseReluDense"), std::string::npos) << message;

    // A wider one is refused before the model is allocated.
    config.t5.dFf = 48;
    std::ofstream(dir / "config.json") << config.toJson().dump();
    message = loadError(dir);
    EXPECT_NE(message.find("model.safetensors"), std::string::npos) << message;
    EXPECT_NE(message.find("do not match"), std::string::npos) << message;

    // The VQ-VAE too, naming its file and the tensor.
    config = tinyBundleConfig();
    config.vqvae.width = 8;
    std::ofstream(dir / "config.json") << config.toJson().dump();
    message = loadError(dir);
    EXPECT_NE(message.find("vqvae.safetensors"), std::string::npos) << message;
    EXPECT_NE(message.find("decoder.model.0.bias"), std::string::npos) << message;

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

TEST_F(Bundle, ParameterCountsFromTheConfigMatchTheModules)
{
    auto config = tinyBundleConfig();
    const auto count = [](const mp::TensorMap &tensors) {
        double total = 0.0;
        for (const auto &[name, tensor] : tensors)
            total += static_cast<double>(tensor.numel());
        return total;
    };
    EXPECT_EQ(config.t5.numParameters(), count(mp::moduleStateDict(*mp::T5Model(config.t5))));
    config.t5.feedForwardProj = "relu";
    config.t5.tieWordEmbeddings = true;
    config.t5.numDecoderLayers = 3;
    EXPECT_EQ(config.t5.numParameters(), count(mp::moduleStateDict(*mp::T5Model(config.t5))));
    EXPECT_EQ(config.vqvae.numParameters(), count(mp::moduleStateDict(*mp::VqVae(config.vqvae))));
    config.vqvae.downT = 3;
    config.vqvae.depth = 2;
    EXPECT_EQ(config.vqvae.numParameters(), count(mp::moduleStateDict(*mp::VqVae(config.vqvae))));
}

TEST_F(Bundle, TruncatedOrCorruptWeightFilesNameTheFile)
{
    for (const char *name : {"model.safetensors", "vqvae.safetensors", "meta.safetensors"}) {
        const auto dir = copyBundle("corrupt");
        const auto good = readBytes(dir / name);
        const std::vector<std::pair<std::string, std::string>> cases = {
            {"empty", ""},
            {"half", good.substr(0, good.size() / 2)},
            {"header only", good.substr(0, 8 + static_cast<unsigned char>(good[0]))},
            {"last byte gone", good.substr(0, good.size() - 1)},
            {"garbage header", good.substr(0, 8) + std::string(40, 'x') + good.substr(48)},
            {"text file", "this is not a safetensors file\n"},
        };
        for (const auto &[what, bytes] : cases) {
            writeBytes(dir / name, bytes);
            const auto message = loadError(dir);
            EXPECT_NE(message.find(name), std::string::npos)
                << name << ", " << what << ": " << message;
            EXPECT_NE(message.find(dir.string()), std::string::npos) << message;
        }
    }
    // NaN weights are refused at load time, naming the tensor.
    const auto dir = copyBundle("nan");
    auto tensors = mp::readSafetensors(dir / "model.safetensors");
    tensors["shared.weight"][3][1] = std::nanf("");
    mp::writeSafetensors(dir / "model.safetensors", tensors);
    const auto message = loadError(dir);
    EXPECT_NE(message.find("model.safetensors: tensor 'shared.weight' has NaN"), std::string::npos)
        << message;
}

TEST_F(Bundle, RandomlyDamagedFilesGiveInputErrorsNeverCrashes)
{
    // Seeded byte flips and truncations of every file: the load succeeds (a flipped weight is
    // still a weight) or throws InputError; anything else (a crash, another exception) fails.
    std::mt19937 random(2024);
    int refused = 0;
    for (const char *name : {"config.json", "model.safetensors", "vqvae.safetensors",
                             "spiece.model", "meta.safetensors"}) {
        const auto dir = copyBundle("fuzz");
        const auto good = readBytes(dir / name);
        // Flips in the first bytes hit the structure (header, protobuf fields, JSON keys).
        const auto structure = std::min<std::size_t>(good.size(), 600);
        for (int trial = 0; trial < 25; ++trial) {
            auto bytes = good;
            if (trial % 5 == 4) {
                bytes.resize(
                    std::uniform_int_distribution<std::size_t>(0, good.size() - 1)(random));
            } else {
                for (int flip = 0; flip < 1 + trial % 4; ++flip)
                    bytes[std::uniform_int_distribution<std::size_t>(0, structure - 1)(random)] ^=
                        static_cast<char>(1 + random() % 255);
            }
            writeBytes(dir / name, bytes);
            const auto message = loadError(dir);
            if (!message.empty()) {
                ++refused;
                EXPECT_NE(message.find(dir.string()), std::string::npos) << message;
            }
        }
    }
    std::printf("damaged bundles refused: %d of 125\n", refused);
    EXPECT_GT(refused, 60); // most damage is noticed
}

TEST_F(Bundle, ConfigWithWrongTypesOrValuesNamesTheKey)
{
    struct Case {
        const char *pointer;
        nlohmann::json value;
        const char *expected;
    };
    const std::vector<Case> cases = {
        {"/t5/d_model", "big", "d_model"},
        {"/t5/num_heads", -2, "num_heads"},
        {"/t5/feed_forward_proj", 3, "feed_forward_proj"},
        {"/t5/feed_forward_proj", "gated-swish", "feed_forward_proj"},
        {"/t5/d_model", 1000000, "do not match"},
        {"/t5", nlohmann::json::array(), "T5 config is not a JSON object"},
        {"/fps", "fast", "fps"},
        {"/fps", -20, "fps"},
        {"/num_joints", "x", "num_joints"},
        {"/num_joints", 21, "num_joints"},
        {"/max_prompt_tokens", 1, "max_prompt_tokens"},
        {"/description", 5, "description"},
        {"/tokens", 5, "tokens"},
        {"/tokens/text_vocab_size", "100", "text_vocab_size"},
        {"/tokens/som_id", 3, "som_id"},
        {"/vqvae/width", 1.5, "width"},
        {"/vqvae/depth", 0, "depth"},
        {"/vqvae/down_t", 60, "down_t"},
        {"/vqvae/dilation_growth_rate", 1000, "depth"},
        {"/vqvae/width", 100000, "do not match"},
        {"/vqvae/mu", "0.9", "mu"},
        {"/generation", "hot", "generation"},
        {"/generation/top_k", "fifty", "top_k"},
        {"/generation/top_k", -1, "top-k"},
        {"/generation/top_p", 0, "top-p"},
        {"/generation/temperature", -1.0, "temperature"},
        {"/generation/max_motion_tokens", 100000, "max_motion_tokens"},
    };
    const auto dir = copyBundle("types");
    const auto good = tinyBundleConfig().toJson();
    for (const auto &c : cases) {
        auto json = good;
        json[nlohmann::json::json_pointer(c.pointer)] = c.value;
        std::ofstream(dir / "config.json", std::ios::trunc) << json.dump();
        const auto message = loadError(dir);
        EXPECT_NE(message.find("config.json"), std::string::npos) << c.pointer << ": " << message;
        EXPECT_NE(message.find(c.expected), std::string::npos) << c.pointer << ": " << message;
    }
    for (const char *text : {"", "{", "[1, 2]", "null", "{\"t5\": {}}"}) {
        std::ofstream(dir / "config.json", std::ios::trunc) << text;
        const auto message = loadError(dir);
        EXPECT_NE(message.find("config.json"), std::string::npos) << text << ": " << message;
    }
}

TEST_F(Bundle, ForeignDirectoriesSayWhatTheyAre)
{
    // A Hugging Face model directory (flan-t5-base's layout).
    const auto hf = s_dir / "flan-t5-base";
    fs::create_directories(hf);
    std::ofstream(hf / "config.json")
        << R"({"architectures": ["T5ForConditionalGeneration"], "model_type": "t5", "d_model": 768})";
    fs::copy_file(s_dir / "bundle" / "spiece.model", hf / "spiece.model");
    auto message = loadError(hf);
    EXPECT_NE(message.find("Hugging Face"), std::string::npos) << message;
    EXPECT_NE(message.find("\"t5\""), std::string::npos) << message;

    // A MotionGPT checkpoint folder.
    const auto mg = s_dir / "MotionGPT-base";
    fs::create_directories(mg);
    std::ofstream(mg / "motiongpt_s3_h3d.tar") << "not really a tar";
    message = loadError(mg);
    EXPECT_NE(message.find("motiongpt_s3_h3d.tar is a PyTorch checkpoint"), std::string::npos)
        << message;

    // A file, an empty directory.
    message = loadError(mg / "motiongpt_s3_h3d.tar");
    EXPECT_NE(message.find("not a model bundle directory"), std::string::npos) << message;
    fs::create_directories(s_dir / "empty");
    message = loadError(s_dir / "empty");
    EXPECT_NE(message.find("config.json: missing"), std::string::npos) << message;
}

TEST_F(Bundle, AnyPromptGeneratesAndBadOptionsAreInputErrors)
{
    mp::ModelBundle bundle(s_dir / "bundle");
    std::string longPrompt;
    while (longPrompt.size() < 10000)
        longPrompt += "a person jumps twice ";
    const std::vector<std::string> prompts = {
        longPrompt,
        "\xE6\x97\xA5\xE6\x9C\xAC \xE2\x98\x83",        // only characters the model never saw
        std::string("walks\0forward \xFF\xFE\xC3", 17), // a NUL and malformed UTF-8
        std::string(10000, 'x'),
    };
    for (const auto &prompt : prompts) {
        const auto samples = bundle.generate(prompt, bundle.defaultOptions({5, 6}));
        ASSERT_EQ(samples.size(), 2u);
        for (const auto &s : samples)
            EXPECT_TRUE(torch::isfinite(s.joints).all().item<bool>());
    }
    const auto refused = [&](auto change) {
        auto options = bundle.defaultOptions({1});
        change(options);
        EXPECT_THROW(bundle.generate("a person walks", options), mp::InputError);
    };
    refused([](mp::GenerateOptions &o) { o.sampling.temperature = std::nan(""); });
    refused([](mp::GenerateOptions &o) { o.sampling.temperature = -1.0; });
    refused([](mp::GenerateOptions &o) { o.sampling.topP = 0.0; });
    refused([](mp::GenerateOptions &o) { o.sampling.topP = 1.5; });
    refused([](mp::GenerateOptions &o) { o.sampling.topK = -3; });
    refused([](mp::GenerateOptions &o) { o.maxMotionTokens = 0; });
    refused([](mp::GenerateOptions &o) { o.maxMotionTokens = 1 << 20; });
    refused([](mp::GenerateOptions &o) { o.seeds.clear(); });
}

} // namespace
