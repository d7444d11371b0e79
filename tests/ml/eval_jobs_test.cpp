// The evaluator training job on a small HumanML3D-layout directory written here: the reader
// adapter keeps captions and tokens, and the job writes a loadable evaluator and its report.

#include "ml/core/error.h"
#include "ml/core/paths.h"
#include "ml/data/npy.h"
#include "ml/eval/bundle_eval.h"
#include "ml/eval/eval_dataset.h"
#include "ml/eval/eval_jobs.h"
#include "ml/eval/evaluator.h"
#include "ml/models/bundle.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace {

std::filesystem::path writeDataset(const std::string &tag)
{
    const auto root = std::filesystem::temp_directory_path() /
                      ("mp_eval_jobs_" + tag + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(root);
    std::filesystem::create_directories(root / "new_joint_vecs");
    std::filesystem::create_directories(root / "texts");
    const std::vector<std::string> verbs = {"walk", "run", "jump", "kick"};
    std::ofstream train(root / "train.txt"), test(root / "test.txt");
    torch::manual_seed(3);
    for (int i = 0; i < 80; ++i) {
        const std::string name = "clip" + std::to_string(i);
        const int cls = i % 4;
        const auto features = torch::randn({48 + 4 * (i % 8), 263}) * 0.2 + double(cls);
        mp::npy::write(root / "new_joint_vecs" / (name + ".npy"), features);
        std::ofstream text(root / "texts" / (name + ".txt"));
        text << "a person " << verbs[cls] << "s.#a/DET person/NOUN " << verbs[cls]
             << "/VERB#0.0#0.0\n";
        text << "someone " << verbs[cls] << "s quickly#someone/PRON " << verbs[cls]
             << "/VERB quickly/ADV#0.0#0.0\n";
        (i < 48 ? train : test) << name << "\n";
    }
    mp::npy::write(root / "Mean.npy", torch::zeros({263}));
    mp::npy::write(root / "Std.npy", torch::ones({263}));
    return root;
}

TEST(EvalJobs, AdapterKeepsCaptionsAndTokens)
{
    const auto root = writeDataset("adapter");
    const auto split = mp::loadEvalSplit(root, "test");
    ASSERT_EQ(split.samples.size(), 32u);
    const auto &sample = split.samples.front();
    ASSERT_EQ(sample.captions.size(), 2u);
    EXPECT_EQ(sample.captions[0].tokens.size(), 3u);
    EXPECT_EQ(sample.captions[1].tokens[2].pos, "ADV");
    EXPECT_EQ(sample.features.size(1), 263);
    EXPECT_EQ(split.std.numel(), 263);
    EXPECT_EQ(mp::taggedCaptions(split).size(), 64u);
    EXPECT_THROW(mp::loadEvalSplit(root, "val"), mp::InputError);
    std::filesystem::remove_all(root);
}

TEST(EvalJobs, TrainsAndWritesALoadableEvaluator)
{
    const auto root = writeDataset("train");
    mp::TrainEvaluatorJob job;
    job.datasetRoot = root;
    job.outDir = root / "evaluator";
    job.train.movementPretrainEpochs = 1;
    job.train.epochs = 2;
    job.train.batchSize = 16;
    job.train.testReplications = 1;
    const auto report = mp::trainEvaluatorJob(job);
    EXPECT_EQ(report.epochs.size(), 3u);
    const auto loaded = mp::loadEvaluator(job.outDir);
    EXPECT_EQ(loaded.model->config().dimCoemb, 256);
    EXPECT_TRUE(loaded.vocabulary.contains("kick"));
    EXPECT_EQ(loaded.mean.numel(), 263);
    std::ifstream in(job.outDir / "evaluator_report.json");
    const auto j = nlohmann::json::parse(in);
    EXPECT_EQ(j.at("word_vectors"), "learned");
    EXPECT_TRUE(j.at("test_after").contains("R_precision_top_3"));
    EXPECT_EQ(j.at("history").size(), 3u);
    std::filesystem::remove_all(root);
}

// The bundle job on the embedded default with two generation threads sharing the bundle: the
// metrics of one thread, and the caller's train mode back afterwards.
TEST(EvalJobs, BundleJobOnTwoThreadsEqualsOneAndRestoresModes)
{
    const auto root = writeDataset("threads");
    mp::BundleEvaluationJob job;
    job.modelDir = mp::defaultModelDir();
    job.datasetRoot = root;
    job.options.replications = 1;
    job.options.mmNumTexts = 2;
    job.options.mmRepeats = 12;
    job.options.mmPairs = 4;
    job.generationBatchRows = 8; // several generator calls per stage
    job.generationThreads = 1;
    const mp::BundleEvaluator one(job);
    job.generationThreads = 2;
    const mp::BundleEvaluator two(job);
    mp::ModelBundle bundle(job.modelDir);
    const auto a = one.evaluate(bundle);
    bundle.t5()->train();
    const auto b = two.evaluate(bundle);
    EXPECT_TRUE(bundle.t5()->is_training());
    EXPECT_FALSE(bundle.vqvae()->is_training());
    ASSERT_EQ(a.metrics.size(), b.metrics.size());
    for (const auto &[name, stats] : a.metrics) {
        ASSERT_EQ(stats.values.size(), 1u) << name;
        EXPECT_NEAR(stats.values[0], b.metrics.at(name).values[0],
                    1e-5 * (1.0 + std::abs(stats.values[0])))
            << name;
    }
    EXPECT_GT(a.metrics.at("FID").values[0], 0.0);
    std::filesystem::remove_all(root);
}

} // namespace
