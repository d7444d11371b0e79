#include "ml/core/error.h"
#include "ml/data/npy.h"
#include "ml/train/train_base.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

// A HumanML3D-layout directory with a handful of synthetic clips.
fs::path makeCorpus(const fs::path &root)
{
    fs::create_directories(root / "new_joint_vecs");
    fs::create_directories(root / "texts");
    const char *captions[] = {"a person walks forward",
                              "a person runs to the left",
                              "someone jumps twice",
                              "a person waves the right hand",
                              "a person kicks with the left leg",
                              "a person squats slowly"};
    std::ofstream train(root / "train.txt");
    std::ofstream val(root / "val.txt");
    for (int i = 0; i < 6; ++i) {
        const auto id = "00000" + std::to_string(i);
        const auto t = torch::arange(48, torch::kFloat).unsqueeze(1);
        mp::npy::write(root / "new_joint_vecs" / (id + ".npy"),
                       torch::sin(t * 0.1 * (i + 1) + torch::arange(263, torch::kFloat) * 0.05));
        std::ofstream(root / "texts" / (id + ".txt"))
            << captions[i] << "#a/DET person/NOUN#0.0#0.0\n"
            << captions[(i + 1) % 6] << " again#x/X#0.0#0.0\n";
        (i < 5 ? train : val) << id << "\n";
    }
    train << "missing_id\n"; // listed without data: skipped, as in HumanML3D
    return root;
}

TEST(TrainBase, ReadsHumanMl3dLayout)
{
    const auto root =
        makeCorpus(fs::temp_directory_path() / ("mp_corpus_read_" + std::to_string(::getpid())));
    const auto clips = mp::readHumanMl3dSplit(root, "train");
    ASSERT_EQ(clips.size(), 5u);
    EXPECT_EQ(clips[0].captions.size(), 2u);
    EXPECT_EQ(clips[0].features.sizes(), torch::IntArrayRef({48, 263}));
    EXPECT_THROW(mp::readHumanMl3dSplit(root, "test"), mp::InputError);
    fs::remove_all(root);
}

TEST(TrainBase, TrainsALoadableBundleAndResumes)
{
    torch::manual_seed(0);
    const auto base = fs::temp_directory_path() / ("mp_train_base_" + std::to_string(::getpid()));
    const auto root = makeCorpus(base / "corpus");
    mp::TrainBaseOptions options;
    options.corpus = root;
    options.out = base / "bundle";
    options.bundle = mp::defaultBaseConfig();
    options.bundle.t5.dModel = 16;
    options.bundle.t5.dKv = 4;
    options.bundle.t5.dFf = 32;
    options.bundle.t5.numLayers = 1;
    options.bundle.t5.numDecoderLayers = 1;
    options.bundle.t5.numHeads = 2;
    options.bundle.vqvae = {.numCodes = 16, .codeDim = 8, .width = 16, .depth = 1};
    options.textVocabSize = 40;
    options.vqvae = {.windowFrames = 16, .batchSize = 4, .steps = 4, .warmupSteps = 1};
    options.t5 = {.batchSize = 4, .steps = 4, .warmupSteps = 1};
    options.checkpointEvery = 2;
    options.evaluateEvery = 2;
    std::vector<std::string> stages;
    mp::trainBaseBundle(
        options, {},
        [&](const std::string &stage, std::int64_t,
            const std::vector<std::pair<std::string, double>> &) { stages.push_back(stage); });
    EXPECT_NE(std::find(stages.begin(), stages.end(), "vqvae_eval"), stages.end());
    EXPECT_NE(std::find(stages.begin(), stages.end(), "t5"), stages.end());
    for (const char *name : {"config.json", "model.safetensors", "vqvae.safetensors",
                             "spiece.model", "meta.safetensors"})
        EXPECT_TRUE(fs::exists(options.out / name)) << name;

    mp::ModelBundle bundle(options.out);
    EXPECT_EQ(bundle.config().tokens.numMotionCodes, 16);
    const auto samples = bundle.generate("a person walks", bundle.defaultOptions({1, 2}));
    EXPECT_EQ(samples.size(), 2u);

    // A second run finds every stage done and only rewrites the bundle.
    stages.clear();
    mp::trainBaseBundle(
        options, {},
        [&](const std::string &stage, std::int64_t,
            const std::vector<std::pair<std::string, double>> &) { stages.push_back(stage); });
    EXPECT_TRUE(stages.empty());
    fs::remove_all(base);
}

} // namespace
