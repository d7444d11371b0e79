#include "ml/core/error.h"
#include "ml/data/humanml3d_dataset.h"
#include "ml/data/npy.h"

#include "input_error.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

void writeText(const fs::path &path, const std::string &text)
{
    std::ofstream(path, std::ios::binary) << text;
}

using mp::test::errorOf;

// A small HumanML3D-layout directory:
//   a: 60 frames, one whole-clip caption, with new_joints
//   b: 30 frames (too short), c: 250 frames (too long: dropped with its sub-clips)
//   d: 100 frames, a whole caption, a 60-frame sub-clip [20, 80) and a too short sub-clip
//   e: 120 frames, only a sub-clip [40, 110)
class HumanMl3dTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        m_root = fs::temp_directory_path() /
                 ("humanml3d_test_" +
                  std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
        fs::remove_all(m_root);
        fs::create_directories(m_root / "new_joint_vecs");
        fs::create_directories(m_root / "new_joints");
        fs::create_directories(m_root / "texts");
        torch::manual_seed(5);
        const std::vector<std::pair<std::string, int64_t>> clips = {
            {"a", 60}, {"b", 30}, {"c", 250}, {"d", 100}, {"e", 120}};
        for (const auto &[name, frames] : clips) {
            m_features[name] = torch::randn({frames, 263});
            mp::npy::write(m_root / "new_joint_vecs" / (name + ".npy"), m_features[name]);
        }
        mp::npy::write(m_root / "new_joints" / "a.npy", torch::randn({61, 22, 3}));
        writeText(m_root / "texts" / "a.txt",
                  "a person walks forward.#a/DET person/NOUN walk/VERB forward/ADV#0.0#0.0\n"
                  "someone strolls ahead#someone/PRON stroll/VERB ahead/ADV#nan#nan\r\n\n");
        writeText(m_root / "texts" / "b.txt", "short#short/ADJ#0.0#0.0\n");
        writeText(m_root / "texts" / "c.txt", "long#long/ADJ#0.0#0.0\nsub#sub/NOUN#1.0#4.0\n");
        writeText(m_root / "texts" / "d.txt", "jumps twice#jump/VERB twice/ADV#0.0#0.0\n"
                                              "the first jump#the/DET first/ADJ jump/NOUN#1.0#4.0\n"
                                              "a blink#a/DET blink/NOUN#1.0#2.0\n");
        writeText(m_root / "texts" / "e.txt", "waves#wave/VERB#2.0#5.5\n");
        writeText(m_root / "train.txt", "a\nb\nc\nd\ne\n");
        writeText(m_root / "test.txt", "a\n");
        mp::npy::write(m_root / "Mean.npy", torch::zeros({263}));
        mp::npy::write(m_root / "Std.npy", torch::ones({263}));
    }
    void TearDown() override { fs::remove_all(m_root); }

    fs::path m_root;
    std::map<std::string, torch::Tensor> m_features;
};

} // namespace

TEST(Captions, ParsesT2MLines)
{
    const auto captions = mp::parseCaptions(
        "a man kicks.#a/DET man/NOUN kick/VERB#0.0#0.0\r\n\n  \nturns#turn/VERB#1.5#nan\n"
        "x#y/NOUN#0#2#extra field\n",
        "t.txt");
    ASSERT_EQ(captions.size(), 3u);
    EXPECT_EQ(captions[0].text, "a man kicks.");
    EXPECT_EQ(captions[0].tokens, (std::vector<std::string>{"a/DET", "man/NOUN", "kick/VERB"}));
    EXPECT_EQ(captions[1].startS, 1.5);
    EXPECT_EQ(captions[1].endS, 0.0);
    EXPECT_EQ(captions[2].endS, 2.0);
    const mp::Caption c{
        .text = "up # down", .tokens = {"up/ADV", "down/ADV"}, .startS = 1.0, .endS = 2.25};
    EXPECT_EQ(mp::formatCaptionLine(c), "up   down#up/ADV down/ADV#1.0#2.25");
    EXPECT_EQ(mp::parseCaptions(mp::formatCaptionLine(c), "x")[0].endS, 2.25);
}

TEST(Captions, MalformedLinesNameFileAndLine)
{
    EXPECT_EQ(errorOf([] { mp::parseCaptions("ok#ok/ADJ#0#0\nno hashes here\n", "t.txt"); }),
              "t.txt:2: expected 'caption#tokens#start#end', got 1 field");
    EXPECT_EQ(errorOf([] { mp::parseCaptions("walk#walk/VERB#soon#0\n", "t.txt"); }),
              "t.txt:1: bad start time 'soon'");
    EXPECT_EQ(errorOf([] { mp::parseCaptions("walk#walk/VERB#0#-1\n", "t.txt"); }),
              "t.txt:1: bad end time '-1'");
    EXPECT_EQ(errorOf([] { mp::parseCaptions("#walk/VERB#0#0\n", "t.txt"); }),
              "t.txt:1: empty caption");
}

TEST_F(HumanMl3dTest, ReadsClipsSubClipsAndFilters)
{
    for (bool preload : {true, false}) {
        const auto data = mp::HumanMl3dDataset::open(m_root, {.preload = preload});
        ASSERT_EQ(data.size(), 4) << preload;
        EXPECT_EQ(data.record(0).name, "a");
        EXPECT_EQ(data.record(0).captions.size(), 2u); // nan#nan is the whole clip
        EXPECT_EQ(data.record(1).name, "d");
        EXPECT_EQ(data.record(1).captions.size(), 1u);
        EXPECT_EQ(data.record(2).name, "A_d");
        EXPECT_EQ(data.record(2).startFrame, 20);
        EXPECT_EQ(data.record(2).numFrames, 60);
        EXPECT_EQ(data.record(2).captions[0].text, "the first jump");
        EXPECT_EQ(data.record(3).name, "A_e");
        EXPECT_EQ(data.record(3).numFrames, 70);
        EXPECT_EQ(data.numFiltered(), 2); // b (short) and c (long)
        EXPECT_TRUE(torch::equal(data.features(0), m_features["a"]));
        EXPECT_TRUE(torch::equal(data.features(2), m_features["d"].slice(0, 20, 80)));
        EXPECT_TRUE(torch::equal(data.features(3), m_features["e"].slice(0, 40, 110)));
        EXPECT_EQ(data.normalizer().dim(), 263);
        EXPECT_TRUE(data.problems().empty());
    }
    const auto test = mp::HumanMl3dDataset::open(m_root, {.split = "test"});
    ASSERT_EQ(test.size(), 1);
    EXPECT_EQ(test.joints(0).sizes(), (std::vector<int64_t>{60, 22, 3}));
    const auto train = mp::HumanMl3dDataset::open(m_root);
    EXPECT_NE(errorOf([&] { train.joints(1); }).find("d.npy: cannot open"), std::string::npos);
    // Looser length limits keep the short clip.
    EXPECT_EQ(mp::HumanMl3dDataset::open(m_root, {.minFrames = 20}).size(), 6);
}

TEST_F(HumanMl3dTest, ProgressCanCancel)
{
    int calls = 0;
    EXPECT_THROW(
        mp::HumanMl3dDataset::open(
            m_root, {.progress = [&](int64_t, int64_t, std::string_view) { return ++calls < 3; }}),
        mp::Cancelled);
    EXPECT_EQ(calls, 3);
}

TEST_F(HumanMl3dTest, EachBadInputGivesOneErrorNamingTheFile)
{
    struct Case {
        std::string what;
        std::function<void()> damage;
        std::string expected; // the message starts with the file and contains this
        std::string file;
    };
    const auto vecs = m_root / "new_joint_vecs";
    const std::vector<Case> cases = {
        {"wrong shape",
         [&] {
             mp::npy::write(vecs / "d.npy", torch::zeros({100, 22, 3}));
         },
         "expected features shape (T,263), got (100,22,3)", (vecs / "d.npy").string()},
        {"nan",
         [&] {
             auto t = m_features["d"].clone();
             t[7][3] = std::numeric_limits<float>::quiet_NaN();
             t[9][3] = std::numeric_limits<float>::infinity();
             mp::npy::write(vecs / "d.npy", t);
         },
         "2 non-finite values (NaN/Inf), first at frame 7", (vecs / "d.npy").string()},
        {"truncated",
         [&] {
             const auto bytes = mp::npy::toBytes(m_features["d"]);
             writeText(vecs / "d.npy", bytes.substr(0, bytes.size() - 100));
         },
         "truncated", (vecs / "d.npy").string()},
        {"dtype",
         [&] {
             auto bytes = mp::npy::toBytes(m_features["d"]);
             bytes.replace(bytes.find("<f4"), 3, "<u4");
             writeText(vecs / "d.npy", bytes);
         },
         "unsupported dtype '<u4'", (vecs / "d.npy").string()},
        {"missing motion", [&] { fs::remove(vecs / "d.npy"); }, "cannot open",
         (vecs / "d.npy").string()},
        {"malformed text", [&] { writeText(m_root / "texts" / "d.txt", "jumps twice\n"); },
         "expected 'caption#tokens#start#end'", (m_root / "texts" / "d.txt").string() + ":1"},
        {"missing text", [&] { fs::remove(m_root / "texts" / "d.txt"); }, "cannot open text file",
         (m_root / "texts" / "d.txt").string()},
    };
    for (const auto &c : cases) {
        SetUp();
        c.damage();
        const auto message = errorOf([&] { mp::HumanMl3dDataset::open(m_root); });
        EXPECT_EQ(message.rfind(c.file + ": ", 0), 0u) << c.what << ": " << message;
        EXPECT_NE(message.find(c.expected), std::string::npos) << c.what << ": " << message;
        // With skipBad the bad clip is reported and left out; the others load.
        std::vector<std::string> reported;
        const auto data = mp::HumanMl3dDataset::open(
            m_root,
            {.skipBad = true, .onProblem = [&](const std::string &p) { reported.push_back(p); }});
        EXPECT_EQ(data.size(), 2) << c.what; // a and A_e
        ASSERT_EQ(reported.size(), 1u) << c.what;
        EXPECT_EQ(reported[0], message);
        EXPECT_EQ(data.problems(), reported);
    }
}

TEST_F(HumanMl3dTest, MissingSplitAndNormalizationFiles)
{
    EXPECT_EQ(errorOf([&] { mp::HumanMl3dDataset::open(m_root, {.split = "val"}); }),
              (m_root / "val.txt").string() + ": missing split file");
    fs::remove(m_root / "Std.npy");
    EXPECT_EQ(errorOf([&] {
                  mp::HumanMl3dDataset::open(m_root);
              }).rfind((m_root / "Std.npy").string() + ": missing", 0),
              0u);
    fs::remove(m_root / "Mean.npy");
    EXPECT_TRUE(mp::HumanMl3dDataset::open(m_root).normalizer().empty());
    EXPECT_EQ(errorOf([&] { mp::HumanMl3dDataset::open(m_root / "nowhere"); }),
              (m_root / "nowhere").string() + ": not a directory");
}
