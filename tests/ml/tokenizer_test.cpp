#include "ml/core/error.h"
#include "ml/models/tokenizer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

// One real SentencePiece model, trained once for the whole suite.
class TokenizerTest : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        s_dir = fs::temp_directory_path() / ("mp_tokenizer_" + std::to_string(::getpid()));
        fs::create_directories(s_dir);
        std::vector<std::string> sentences;
        const char *verbs[] = {"walks", "runs", "jumps", "waves", "kicks", "squats", "turns"};
        const char *ways[] = {"forward", "backward", "to the left", "to the right",
                              "slowly",  "quickly",  "in a circle", "twice"};
        for (const char *verb : verbs)
            for (const char *way : ways)
                sentences.push_back(std::string("a person ") + verb + " " + way + ".");
        mp::trainSentencePiece(sentences, s_dir / "spiece.model", {.vocabSize = 60});
    }
    static void TearDownTestSuite() { fs::remove_all(s_dir); }

    static mp::MotionTokenLayout smallLayout()
    {
        return {.textVocabSize = 100, .numMotionCodes = 16};
    }

    static fs::path s_dir;
};
fs::path TokenizerTest::s_dir;

TEST(MotionTokenLayout, MotionGptIds)
{
    const auto layout = mp::MotionTokenLayout::motionGpt();
    EXPECT_EQ(layout.motionId(0), 32100);
    EXPECT_EQ(layout.motionId(511), 32611);
    EXPECT_EQ(layout.somId(), 32612); // <motion_id_512>
    EXPECT_EQ(layout.eomId(), 32613); // <motion_id_513>
    EXPECT_EQ(layout.maskId(), 32614);
    EXPECT_EQ(layout.vocabSize(), 32615);
    const auto json = layout.toJson();
    EXPECT_EQ(mp::MotionTokenLayout::fromJson(json, "c").vocabSize(), 32615);
    auto bad = json;
    bad["som_id"] = 512;
    EXPECT_THROW(mp::MotionTokenLayout::fromJson(bad, "config.json"), mp::InputError);
}

TEST_F(TokenizerTest, EncodesWithARealModelAndAppendsEos)
{
    mp::Tokenizer tokenizer(s_dir / "spiece.model", smallLayout());
    EXPECT_EQ(tokenizer.eosId(), 1);
    EXPECT_EQ(tokenizer.padId(), 0);
    EXPECT_EQ(tokenizer.unkId(), 2);
    EXPECT_GT(tokenizer.numPieces(), 10);
    const auto ids = tokenizer.encodeText("a person walks forward.");
    ASSERT_GE(ids.size(), 3u);
    EXPECT_EQ(ids.back(), 1);
    for (auto id : ids)
        EXPECT_LT(id, tokenizer.numPieces());
    EXPECT_EQ(tokenizer.decodeText(ids), "a person walks forward.");
    // Unknown characters map to unk rather than failing.
    const auto unknown = tokenizer.encodeText("ЖЖЖ");
    EXPECT_NE(std::find(unknown.begin(), unknown.end(), tokenizer.unkId()), unknown.end());
    // Truncation keeps </s> inside the limit; empty text is just </s>.
    const auto truncated = tokenizer.encodeText(std::string(10000, 'a') + " walks", 16);
    EXPECT_EQ(truncated.size(), 16u);
    EXPECT_EQ(truncated.back(), 1);
    EXPECT_EQ(tokenizer.encodeText(""), std::vector<std::int64_t>{1});
}

// The reference: sentencepiece's own encoder (spm_encode) on the same model.
std::vector<std::vector<std::int64_t>>
referenceIds(const fs::path &model, const std::vector<std::string> &lines, const fs::path &dir)
{
    const auto input = dir / "reference_input.txt";
    {
        std::ofstream out(input);
        for (const auto &line : lines)
            out << line << "\n";
    }
    const auto command =
        "spm_encode --model='" + model.string() + "' --output_format=id < '" + input.string() + "'";
    std::vector<std::vector<std::int64_t>> result;
    FILE *pipe = ::popen(command.c_str(), "r");
    if (!pipe)
        return result;
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, pipe)) {
        std::istringstream line(buffer);
        std::vector<std::int64_t> ids;
        std::int64_t id = 0;
        while (line >> id)
            ids.push_back(id);
        result.push_back(ids);
    }
    ::pclose(pipe);
    return result;
}

TEST_F(TokenizerTest, MatchesSentencePiecesOwnEncoder)
{
    mp::Tokenizer tokenizer(s_dir / "spiece.model", smallLayout());
    const std::vector<std::string> lines = {
        "a person walks forward.",
        "A PERSON RUNS backward",
        "  extra   spaces  here ",
        "\xEF\xAC\x81ve \xEF\xBC\xA1\xEF\xBC\xA2 \xE2\x91\xA0", // "ﬁve ＡＢ ①": NFKC folds
        "\xD0\x96\xD0\x96\xD0\x96 walks x",                     // unknown run
        "turns in a circle twice, then jumps 123 times!",
        "tab\tand\x01control"};
    const auto reference = referenceIds(s_dir / "spiece.model", lines, s_dir);
    if (reference.size() != lines.size())
        GTEST_SKIP() << "spm_encode is not available";
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto ours = tokenizer.encodeText(lines[i], 0);
        ours.pop_back(); // </s>
        EXPECT_EQ(ours, reference[i]) << lines[i];
    }
}

TEST_F(TokenizerTest, MotionStringAndMotionGptDecodingRules)
{
    mp::Tokenizer tokenizer(s_dir / "spiece.model", smallLayout());
    const auto ids = tokenizer.encodeMotion({3, 0, 15});
    EXPECT_EQ(ids, (std::vector<std::int64_t>{116, 103, 100, 115, 117}));
    EXPECT_EQ(tokenizer.tokenName(116), "<motion_id_16>");
    EXPECT_THROW(tokenizer.encodeMotion({16}), std::invalid_argument);

    auto decoded = tokenizer.decodeMotion({0, 116, 103, 100, 115, 117, 1});
    EXPECT_EQ(decoded.codes, (std::vector<std::int64_t>{3, 0, 15}));
    EXPECT_TRUE(decoded.foundMarkers);
    EXPECT_FALSE(decoded.degenerate());
    // No EOM, no SOM, or nothing between: [0], a degenerate (zero) motion.
    EXPECT_EQ(tokenizer.decodeMotion({116, 103, 104}).codes, std::vector<std::int64_t>{0});
    EXPECT_FALSE(tokenizer.decodeMotion({116, 103, 104}).foundMarkers);
    EXPECT_EQ(tokenizer.decodeMotion({103, 117}).codes, std::vector<std::int64_t>{0});
    EXPECT_TRUE(tokenizer.decodeMotion({116, 117}).degenerate());
    // An EOM before the SOM is not the end; the mask token inside clamps to the last code;
    // text ids between the markers are skipped.
    decoded = tokenizer.decodeMotion({117, 116, 105, 118, 5, 106, 117});
    EXPECT_EQ(decoded.codes, (std::vector<std::int64_t>{5, 15, 6}));
    // A single code is degenerate, as in MotionGPT.
    EXPECT_TRUE(tokenizer.decodeMotion({116, 107, 117}).degenerate());
}

TEST_F(TokenizerTest, BadModelsAreClearErrors)
{
    EXPECT_THROW(mp::Tokenizer(s_dir / "missing.model", smallLayout()), mp::InputError);
    std::ofstream(s_dir / "junk.model") << "not a model";
    try {
        mp::Tokenizer(s_dir / "junk.model", smallLayout());
        FAIL() << "expected InputError";
    } catch (const mp::InputError &e) {
        EXPECT_NE(std::string(e.what()).find("junk.model"), std::string::npos) << e.what();
    }
    // More pieces than the text vocabulary leaves room for.
    EXPECT_THROW(mp::Tokenizer(s_dir / "spiece.model", {.textVocabSize = 10, .numMotionCodes = 4}),
                 mp::InputError);
}

} // namespace
