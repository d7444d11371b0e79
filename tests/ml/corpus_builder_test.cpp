// The corpus on disk: the HumanML3D layout, the same bytes for the same seed whatever the thread
// count, features that recover the joints, and the physical figures of a few hundred clips.

#include "ml/core/error.h"
#include "ml/data/corpus/corpus_builder.h"
#include "ml/data/corpus/corpus_stats.h"
#include "ml/data/corpus/lexicon.h"
#include "ml/data/humanml3d_dataset.h"
#include "ml/data/npy.h"
#include "ml/motion/features.h"

#include "temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using namespace mp::corpus;

namespace {

using mp::test::TempDir;

std::string readFile(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// Relative path -> contents of every file under root.
std::map<std::string, std::string> snapshot(const fs::path &root)
{
    std::map<std::string, std::string> files;
    for (const auto &entry : fs::recursive_directory_iterator(root))
        if (entry.is_regular_file())
            files[fs::relative(entry.path(), root).string()] = readFile(entry.path());
    return files;
}

std::vector<std::string> lines(const fs::path &path)
{
    std::vector<std::string> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            out.push_back(line);
    return out;
}

} // namespace

TEST(CorpusBuilder, SameSeedGivesTheSameBytesWhateverTheThreads)
{
    TempDir a, b, c;
    buildCorpus(a.path(), {.numClips = 24, .seed = 7, .threads = 1});
    buildCorpus(b.path(), {.numClips = 24, .seed = 7, .threads = 3});
    buildCorpus(c.path(), {.numClips = 24, .seed = 8, .threads = 2});
    const auto sa = snapshot(a.path()), sb = snapshot(b.path()), sc = snapshot(c.path());
    ASSERT_EQ(sa.size(), 24u * 3 + 7);
    EXPECT_TRUE(sa == sb);
    EXPECT_NE(sa.at("manifest.json"), sc.at("manifest.json"));
    EXPECT_NE(sa.at("new_joints/000003.npy"), sc.at("new_joints/000003.npy"));
}

TEST(CorpusBuilder, WritesTheHumanML3DLayout)
{
    TempDir dir;
    const CorpusSummary summary = buildCorpus(dir.path(), {.numClips = 40, .seed = 3});
    EXPECT_EQ(summary.numTrain + summary.numVal + summary.numTest, 40);
    EXPECT_EQ(summary.numTrain, 32);

    std::set<std::string> ids;
    for (const char *split : {"train.txt", "val.txt", "test.txt"})
        for (const std::string &id : lines(dir.path() / split))
            EXPECT_TRUE(ids.insert(id).second) << id << " in two splits";
    EXPECT_EQ(ids.size(), 40u);
    EXPECT_EQ(lines(dir.path() / "all.txt").size(), 40u);

    const auto manifest = nlohmann::json::parse(readFile(dir.path() / "manifest.json"));
    EXPECT_EQ(manifest["version"], kCorpusVersion);
    EXPECT_EQ(manifest["seed"], 3);
    ASSERT_EQ(manifest["clips"].size(), 40u);

    for (const auto &clip : manifest["clips"]) {
        const std::string id = clip["id"];
        const auto joints = mp::npy::read(dir.path() / "new_joints" / (id + ".npy"));
        const auto features = mp::npy::read(dir.path() / "new_joint_vecs" / (id + ".npy"));
        ASSERT_EQ(joints.dim(), 3);
        EXPECT_EQ(joints.size(0), clip["frames"].get<int>());
        EXPECT_EQ(joints.size(1), 22);
        EXPECT_EQ(joints.scalar_type(), torch::kFloat32);
        ASSERT_EQ(features.dim(), 2);
        EXPECT_EQ(features.size(0), joints.size(0) - 1);
        EXPECT_EQ(features.size(1), 263);
        EXPECT_GE(features.size(0), 40);
        EXPECT_LE(features.size(0), 196);
        // The features decode back to the joints (HumanML3D's recover_from_ric).
        const auto recovered = mp::recoverFromRic(features.to(torch::kFloat64));
        const auto expected = joints.slice(0, 0, features.size(0)).to(torch::kFloat64);
        EXPECT_LT((recovered - expected).abs().max().item<double>(), 1e-3) << id;

        const auto texts = lines(dir.path() / "texts" / (id + ".txt"));
        EXPECT_GE(texts.size(), 3u);
        ASSERT_EQ(texts.size(), clip["captions"].size());
        for (std::size_t i = 0; i < texts.size(); ++i) {
            const std::string caption = clip["captions"][i];
            EXPECT_EQ(texts[i], humanml3dTextLine(caption));
            // The caption names the clip's actions, in order.
            const auto parsed = parseCaption(caption);
            ASSERT_EQ(parsed.size(), clip["segments"].size()) << caption;
            for (std::size_t s = 0; s < parsed.size(); ++s)
                EXPECT_EQ(std::string(actionName(parsed[s].action)),
                          clip["segments"][s]["action"].get<std::string>())
                    << caption;
        }
    }
    const auto mean = mp::npy::read(dir.path() / "Mean.npy");
    const auto stdev = mp::npy::read(dir.path() / "Std.npy");
    EXPECT_EQ(mean.sizes().vec(), (std::vector<int64_t>{263}));
    EXPECT_EQ(stdev.sizes().vec(), (std::vector<int64_t>{263}));
    EXPECT_GT(stdev.min().item<float>(), 0.0f);
}

TEST(CorpusBuilder, AFewHundredClipsArePhysicallyPlausible)
{
    TempDir dir;
    buildCorpus(dir.path(), {.numClips = 300, .seed = 2024});
    const CorpusStats stats = corpusStats(dir.path());
    std::printf("%s", formatStats(stats).c_str());
    EXPECT_EQ(stats.numClips, 300);
    EXPECT_GE(stats.numCaptions, 900);
    EXPECT_LE(stats.skatingRatioMean, 0.06);
    EXPECT_LE(stats.penetrationMaxM, 0.01);
    EXPECT_LE(stats.boneLengthMaxErrorM, 1e-5);
    EXPECT_EQ(stats.jointLimitViolations, 0);
    int reached = 0;
    for (const auto &[name, count] : stats.actionCounts)
        reached += count > 0;
    EXPECT_EQ(reached, kNumActions);
}

// The motion core's HumanML3D reader reads the corpus as it reads HumanML3D: every clip of a
// split (all are 40..196 frames), its captions with word/POS tokens, and its joints.
TEST(CorpusBuilder, TheHumanMl3dReaderReadsIt)
{
    TempDir dir;
    const CorpusSummary summary = buildCorpus(dir.path(), {.numClips = 40, .seed = 3});
    for (const auto &[split, count] : {std::pair<std::string, int>{"train", summary.numTrain},
                                       {"val", summary.numVal},
                                       {"test", summary.numTest}}) {
        const auto dataset = mp::HumanMl3dDataset::open(dir.path(), {.split = split});
        std::set<std::string> files;
        for (const auto &record : dataset.records())
            files.insert(record.file);
        EXPECT_EQ(static_cast<int>(files.size()), count) << split;
        for (std::int64_t i = 0; i < dataset.size(); ++i) {
            const auto &record = dataset.record(i);
            EXPECT_GE(record.captions.size(), 3u) << record.name;
            EXPECT_FALSE(record.captions.front().tokens.empty()) << record.name;
            EXPECT_EQ(dataset.features(i).size(0), record.numFrames);
            EXPECT_EQ(dataset.features(i).size(1), 263);
            EXPECT_EQ(dataset.joints(i).size(0), record.numFrames);
        }
    }
}

TEST(CorpusBuilder, BadArgumentsAreUserErrors)
{
    TempDir dir;
    EXPECT_THROW(buildCorpus(dir.path(), {.numClips = 0}), mp::InputError);
    EXPECT_THROW(corpusStats(dir.path() / "missing"), mp::InputError);
}
