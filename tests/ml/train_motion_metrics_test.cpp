// eval.motion_metrics: a tiny DPO run evaluates its policy with the HumanML3D protocol at the
// chosen epoch ends (tiny random bundle, 32-motion HumanML3D-layout split, tiny random
// evaluator), writes motion_metrics events, picks best/ by a motion metric, leaves the training
// itself unchanged, survives a stop in the middle of an evaluation, and refuses a missing
// dataset before writing anything.
#include "../app/tiny_bundle.h"
#include "../app/tiny_eval_dataset.h"

#include "ml/core/error.h"
#include "ml/run/events.h"
#include "ml/run/run_config.h"
#include "ml/run/train_run.h"
#include "ml/train/preference_data.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;

class TrainMotionMetricsTest : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        s_root = fs::temp_directory_path() / ("mp_train_motion_" + std::to_string(::getpid()));
        fs::remove_all(s_root);
        s_bundle = mp::test::writeTinyBundle(s_root / "model");
        mp::test::writeTinyEvalDataset(s_root / "data");
        mp::test::writeTinyEvaluator(s_root / "data", s_root / "evaluator");
        std::vector<mp::PreferencePair> pairs;
        for (int i = 0; i < 10; ++i)
            pairs.push_back({.pairId = i + 1,
                             .prompt = i % 2 ? "a person walks forward" : "a person jumps twice",
                             .chosen = {1, 2, 3, 4},
                             .rejected = {5, 5, 6},
                             .degree = mp::PreferenceDegree::Better});
        mp::writePreferencePairs(pairs, s_root / "pairs.jsonl");
    }
    static void TearDownTestSuite() { fs::remove_all(s_root); }

    static mp::RunConfig config(bool motion)
    {
        mp::RunConfig c = mp::defaultRunConfig(mp::TrainMethod::Dpo);
        c.model = s_bundle.string();
        c.device = "cpu";
        c.seed = 7;
        c.epochs = 3;
        c.batchSize = 4;
        c.warmupSteps = 1;
        c.data.pairs = (s_root / "pairs.jsonl").string();
        c.data.evalFraction = 0.2;
        c.eval.motionMetrics = motion;
        c.eval.motionEveryEpochs = 2; // epochs 2 and 3 (the end of the run)
        c.eval.replications = 2;
        c.eval.motionMaxClips = 32;
        c.eval.motionDataset = (s_root / "data").string();
        c.eval.motionEvaluator = (s_root / "evaluator").string();
        if (motion) {
            c.eval.bestMetric = "motion/FID";
            c.eval.bestMode = mp::BestMode::Min;
        }
        return c;
    }

    static std::vector<mp::Event> motionEvents(const fs::path &runDir)
    {
        std::vector<mp::Event> out;
        for (const auto &event : mp::readEvents(runDir / "events.jsonl"))
            if (event.type == mp::EventType::MotionMetrics)
                out.push_back(event);
        return out;
    }

    static std::string bytes(const fs::path &path)
    {
        std::ifstream in(path, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    }

    static inline fs::path s_root;
    static inline fs::path s_bundle;
};

TEST_F(TrainMotionMetricsTest, EvaluatesThePolicyAtTheChosenEpochs)
{
    const fs::path runDir = s_root / "with";
    ASSERT_EQ(mp::runTraining(config(true), {.runDir = runDir}), mp::RunOutcome::Finished);
    const auto events = motionEvents(runDir);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_DOUBLE_EQ(events[0].epoch, 2.0);
    EXPECT_DOUBLE_EQ(events[1].epoch, 3.0);
    EXPECT_EQ(events[1].step, 6); // 8 training pairs, batch 4: two steps an epoch
    for (const auto &event : events) {
        EXPECT_EQ(event.metrics.at("motion/samples"), 32);
        EXPECT_EQ(event.metrics.at("motion/replications"), 2);
        for (const char *name : {"R_precision_top_1", "R_precision_top_3", "FID", "Diversity",
                                 "Matching_score", "gt_R_precision_top_1"}) {
            const std::string key = std::string("motion/") + name;
            ASSERT_TRUE(event.metrics.count(key)) << key;
            EXPECT_TRUE(std::isfinite(event.metrics.at(key))) << key;
            EXPECT_GE(event.metrics.at(key + "/ci"), 0.0) << key;
            const auto &values = event.lists.at(key + "/values");
            ASSERT_EQ(values.size(), 2u) << key;
            EXPECT_NEAR((values[0] + values[1]) / 2, event.metrics.at(key), 1e-9) << key;
        }
        EXPECT_GE(event.metrics.at("motion/R_precision_top_1"), 0.0);
        EXPECT_LE(event.metrics.at("motion/R_precision_top_3"), 1.0);
    }
    // best/ follows the lowest FID.
    std::ifstream in(runDir / "best" / "best.json");
    const auto best = nlohmann::json::parse(in);
    EXPECT_EQ(best.at("metric"), "motion/FID");
    const double fid0 = events[0].metrics.at("motion/FID");
    const double fid1 = events[1].metrics.at("motion/FID");
    EXPECT_DOUBLE_EQ(best.at("value").get<double>(), std::min(fid0, fid1));
    EXPECT_EQ(best.at("step").get<std::int64_t>(), fid1 < fid0 ? 6 : 4);

    // The evaluation leaves the training alone: the same adapter as a run without it.
    const fs::path plainDir = s_root / "without";
    ASSERT_EQ(mp::runTraining(config(false), {.runDir = plainDir}), mp::RunOutcome::Finished);
    EXPECT_TRUE(motionEvents(plainDir).empty());
    EXPECT_EQ(bytes(runDir / "adapter" / "adapter_model.safetensors"),
              bytes(plainDir / "adapter" / "adapter_model.safetensors"));
}

TEST_F(TrainMotionMetricsTest, StopDuringAnEvaluationResumesWithIt)
{
    const fs::path runDir = s_root / "stopped";
    std::atomic<bool> stop{false};
    mp::TrainRunOptions options{.runDir = runDir, .stopRequested = &stop};
    bool sawStage = false;
    options.progress = [&](std::int64_t, std::int64_t, std::string_view stage) {
        if (stage.find("HumanML3D metrics, epoch 2") != std::string_view::npos) {
            sawStage = true;
            stop = true; // as SIGTERM would, in the middle of the evaluation
        }
        return true;
    };
    ASSERT_EQ(mp::runTraining(config(true), options), mp::RunOutcome::Stopped);
    EXPECT_TRUE(sawStage);
    EXPECT_TRUE(motionEvents(runDir).empty());
    EXPECT_FALSE(fs::exists(runDir / "adapter"));

    stop = false;
    const mp::RunConfig saved = mp::loadRunConfig(runDir / "config.json");
    ASSERT_EQ(mp::runTraining(saved, {.runDir = runDir, .resume = true}), mp::RunOutcome::Finished);
    const auto events = motionEvents(runDir);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].step, 4);
    EXPECT_EQ(events[1].step, 6);
}

TEST_F(TrainMotionMetricsTest, RlhfEvaluatesThePpoPolicyOnly)
{
    mp::RunConfig c = config(true);
    c.method = mp::TrainMethod::Rlhf;
    c.epochs = 1; // the reward-model phase: no motion metrics
    c.ppo.epochs = 1;
    c.ppo.batchSize = 4;
    c.ppo.miniBatchSize = 2;
    c.ppo.ppoEpochs = 1;
    c.ppo.maxNewTokens = 6;
    c.eval.motionEveryEpochs = 1;
    c.eval.replications = 1;
    c.eval.bestMetric = "eval_accuracy";
    c.eval.bestMode = mp::BestMode::Max;
    const fs::path runDir = s_root / "rlhf";
    ASSERT_EQ(mp::runTraining(c, {.runDir = runDir}), mp::RunOutcome::Finished);
    const auto events = motionEvents(runDir);
    ASSERT_EQ(events.size(), 1u); // the end of the one PPO epoch
    EXPECT_TRUE(std::isfinite(events[0].metrics.at("motion/R_precision_top_1")));
    EXPECT_EQ(events[0].lists.at("motion/FID/values").size(), 1u);
}

TEST_F(TrainMotionMetricsTest, RefusesAMissingDatasetBeforeWritingAnything)
{
    mp::RunConfig c = config(true);
    c.eval.motionDataset = (s_root / "no-such-dataset").string();
    const fs::path runDir = s_root / "refused";
    try {
        mp::runTraining(c, {.runDir = runDir});
        FAIL() << "expected an InputError";
    } catch (const mp::InputError &e) {
        EXPECT_NE(std::string(e.what()).find("eval.motion_dataset"), std::string::npos) << e.what();
    }
    c.eval.motionDataset = (s_root / "data").string();
    c.eval.motionSplit = "test";
    try {
        mp::runTraining(c, {.runDir = runDir});
        FAIL() << "expected an InputError";
    } catch (const mp::InputError &e) {
        EXPECT_NE(std::string(e.what()).find("eval.motion_split 'test'"), std::string::npos)
            << e.what();
    }
    EXPECT_FALSE(fs::exists(runDir / "events.jsonl"));
}

} // namespace
