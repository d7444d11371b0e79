// The training run's data: the pairs JSONL, selection by degree and percentage, the seeded split,
// id lists, the step plan's batches; and the kinematic descriptor the simulated labeler uses.
#include "ml/core/error.h"
#include "ml/run/run_config.h"
#include "ml/run/run_directory.h"
#include "ml/run/step_plan.h"
#include "ml/simulate/motion_descriptor.h"
#include "ml/train/preference_data.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>
#include <set>

namespace {

namespace fs = std::filesystem;

class PreferenceData : public ::testing::Test {
protected:
    void SetUp() override
    {
        dir = fs::temp_directory_path() /
              ("mp_pref_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
               "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    void TearDown() override { fs::remove_all(dir); }

    fs::path write(const std::string &name, const std::string &text)
    {
        std::ofstream(dir / name) << text;
        return dir / name;
    }

    static std::vector<mp::PreferencePair> pairs(int n)
    {
        std::vector<mp::PreferencePair> out;
        const mp::PreferenceDegree degrees[] = {
            mp::PreferenceDegree::MuchBetter, mp::PreferenceDegree::Better,
            mp::PreferenceDegree::SlightlyBetter, mp::PreferenceDegree::Unsure};
        for (int i = 0; i < n; ++i)
            out.push_back({.pairId = 100 + i,
                           .prompt = "a person walks " + std::to_string(i),
                           .chosen = {1, 2, 3},
                           .rejected = {4, 5},
                           .degree = degrees[i % 4]});
        return out;
    }

    fs::path dir;
};

TEST_F(PreferenceData, RoundTripsTheStudySplitJsonl)
{
    const auto original = pairs(5);
    mp::writePreferencePairs(original, dir / "p.jsonl");
    const auto read = mp::readPreferencePairs(dir / "p.jsonl");
    ASSERT_EQ(read.size(), 5u);
    EXPECT_EQ(read[1].pairId, 101);
    EXPECT_EQ(read[1].prompt, "a person walks 1");
    EXPECT_EQ(read[1].chosen, (std::vector<std::int64_t>{1, 2, 3}));
    EXPECT_EQ(read[1].rejected, (std::vector<std::int64_t>{4, 5}));
    EXPECT_EQ(read[1].degree, mp::PreferenceDegree::Better);
    EXPECT_EQ(read[3].degree, mp::PreferenceDegree::Unsure);
}

TEST_F(PreferenceData, BadLinesNameFileLineAndProblem)
{
    const std::string good =
        R"({"pair_id":1,"prompt":"walk","chosen":[1],"rejected":[2],"degree":"Better"})";
    const auto expectError = [&](const std::string &text, const std::string &needle) {
        const auto path = write("bad.jsonl", text);
        try {
            mp::readPreferencePairs(path);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const mp::InputError &e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("bad.jsonl"), std::string::npos) << e.what();
        }
    };
    expectError(good + "\n{not json\n", "line 2");
    expectError(good + "\n" + good + "\n", "appears twice");
    expectError(R"({"pair_id":1,"prompt":"walk","chosen":[],"rejected":[2],"degree":"Better"})",
                "'chosen'");
    expectError(R"({"pair_id":1,"prompt":"walk","chosen":[1],"rejected":[2],"degree":"meh"})",
                "unknown degree");
    expectError(R"({"prompt":"walk","chosen":[1],"rejected":[2],"degree":"Better"})", "pair_id");
    expectError("", "no preference pairs");
}

TEST_F(PreferenceData, SelectionByDegreeAndPercentIsSeeded)
{
    const auto all = pairs(40);
    const auto preferring = mp::selectPreferencePairs(
        all, {mp::PreferenceDegree::MuchBetter, mp::PreferenceDegree::Better}, 1.0, 1);
    EXPECT_EQ(preferring.size(), 20u);
    for (const auto &pair : preferring)
        EXPECT_TRUE(pair.degree == mp::PreferenceDegree::MuchBetter ||
                    pair.degree == mp::PreferenceDegree::Better);
    const auto half = mp::selectPreferencePairs(
        all, {std::begin(mp::kAllDegrees), std::end(mp::kAllDegrees)}, 0.5, 9);
    EXPECT_EQ(half.size(), 20u);
    const auto again = mp::selectPreferencePairs(
        all, {std::begin(mp::kAllDegrees), std::end(mp::kAllDegrees)}, 0.5, 9);
    ASSERT_EQ(again.size(), half.size());
    for (std::size_t i = 0; i < half.size(); ++i)
        EXPECT_EQ(half[i].pairId, again[i].pairId);
    EXPECT_THROW(mp::selectPreferencePairs(all, {}, 0.0, 1), mp::InputError);
}

TEST_F(PreferenceData, SplitPartitionsAndIdListsRoundTrip)
{
    const auto all = pairs(30);
    const auto split = mp::splitPreferencePairs(all, 0.1, 2222);
    EXPECT_EQ(split.evalIds.size(), 3u);
    EXPECT_EQ(split.trainIds.size(), 27u);
    std::set<std::int64_t> ids(split.trainIds.begin(), split.trainIds.end());
    ids.insert(split.evalIds.begin(), split.evalIds.end());
    EXPECT_EQ(ids.size(), 30u);
    mp::writePairIdList(split.trainIds, dir / "train.txt");
    EXPECT_EQ(mp::readPairIdList(dir / "train.txt"), split.trainIds);
    EXPECT_THROW(mp::readPairIdList(write("ids.txt", "12\nabc\n")), mp::InputError);
    EXPECT_THROW(mp::pairsWithIds(all, {999}, "ids.txt"), mp::InputError);
}

TEST_F(PreferenceData, AnIdListCutShortIsRefusedAndAHandWrittenOneIsRead)
{
    const std::vector<std::int64_t> ids = {4, 8, 15, 16, 23, 42};
    const auto path = dir / "train_ids.txt";
    mp::writePairIdList(ids, path);
    EXPECT_FALSE(std::filesystem::exists(dir / "train_ids.txt.tmp"));
    EXPECT_EQ(mp::readPairIdList(path), ids);

    // Cut at a line boundary: every line left is a valid id, so only the count can tell.
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text.resize(text.rfind("16\n"));
    const auto cut = write("cut.txt", text);
    try {
        mp::readPairIdList(cut);
        FAIL() << "a list cut short was read";
    } catch (const mp::InputError &error) {
        const std::string message = error.what();
        EXPECT_NE(message.find("cut.txt"), std::string::npos) << message;
        EXPECT_NE(message.find("holds 3 pair ids"), std::string::npos) << message;
    }
    // Lists without the count line (by hand, or older runs) and user comments still read.
    EXPECT_EQ(mp::readPairIdList(write("hand.txt", "# mine\n7\n\n9\n")),
              (std::vector<std::int64_t>{7, 9}));
}

TEST_F(PreferenceData, DegreeSelectionNarrowsAFixedSplitsTrainingPairsOnly)
{
    const auto all = pairs(20); // degrees cycle much, better, slightly, unsure
    mp::writePreferencePairs(all, dir / "all.jsonl");
    std::vector<std::int64_t> trainIds, evalIds;
    for (const auto &pair : all)
        (pair.pairId < 116 ? trainIds : evalIds).push_back(pair.pairId);
    mp::writePairIdList(trainIds, dir / "train.txt");
    mp::writePairIdList(evalIds, dir / "test.txt");
    mp::RunConfig config;
    config.data.pairs = (dir / "all.jsonl").string();
    config.data.trainIds = (dir / "train.txt").string();
    config.data.evalIds = (dir / "test.txt").string();
    config.data.degrees = {mp::PreferenceDegree::MuchBetter};
    fs::create_directories(dir / "run");
    const auto data = mp::loadRunData(config, dir / "run", false);
    ASSERT_EQ(data.train.size(), 4u); // ids 100, 104, 108, 112
    for (const auto &pair : data.train)
        EXPECT_EQ(pair.degree, mp::PreferenceDegree::MuchBetter);
    EXPECT_EQ(data.eval.size(), evalIds.size()); // the held-out pairs stay whole

    mp::writePairIdList({100, 999}, dir / "bad.txt");
    config.data.trainIds = (dir / "bad.txt").string();
    EXPECT_THROW(mp::loadRunData(config, dir / "run", false), mp::InputError);
}

TEST_F(PreferenceData, AResumeRefusesAForeignEventLogAndSaysWhereItStarts)
{
    const mp::RunConfig config;
    const fs::path run = dir / "run";
    mp::prepareRunDirectory(config, run, false);
    write("run/events.jsonl", "\x01\x02 not json\nsomething else\n");
    try {
        mp::prepareRunDirectory(config, run, true);
        FAIL() << "resumed onto a file of no events";
    } catch (const mp::InputError &error) {
        EXPECT_NE(std::string(error.what()).find("events.jsonl: not a run's event log (2 complete"),
                  std::string::npos)
            << error.what();
    }
    // One cut line after real events is what a killed run leaves: that resumes.
    write("run/events.jsonl", "{\"type\":\"step\",\"step\":1,\"epoch\":0,\"time\":0}\n{\"ty");
    EXPECT_NO_THROW(mp::prepareRunDirectory(config, run, true));

    fs::create_directories(run / "checkpoints" / "step-000040"); // cut off while being written
    const std::string fromScratch = mp::describeResumePoint(run);
    EXPECT_NE(fromScratch.find("cut off while being written: step-000040)"), std::string::npos)
        << fromScratch;
    EXPECT_NE(fromScratch.find("starts again from step 0"), std::string::npos) << fromScratch;
    fs::create_directories(run / "checkpoints" / "step-000020");
    write("run/checkpoints/step-000020/trainer_state.json", "{}");
    EXPECT_EQ(mp::describeResumePoint(run), "resumed from checkpoints/step-000020");
}

TEST_F(PreferenceData, StepPlanCoversEveryPairOncePerEpoch)
{
    const auto all = pairs(10);
    const mp::StepPlan plan(10, 3, 2, 2); // 4 micro-batches per epoch, 2 steps per epoch
    EXPECT_EQ(plan.microPerEpoch, 4);
    EXPECT_EQ(plan.stepsPerEpoch, 2);
    EXPECT_EQ(plan.totalSteps, 4);
    for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
        std::multiset<std::int64_t> seen;
        for (std::int64_t step = epoch * 2; step < epoch * 2 + 2; ++step)
            for (const auto &micro : mp::stepMicroBatches(all, plan, step, 5))
                for (const auto &pair : micro)
                    seen.insert(pair.pairId);
        EXPECT_EQ(seen.size(), 10u);
        EXPECT_EQ(std::set<std::int64_t>(seen.begin(), seen.end()).size(), 10u);
    }
    // Deterministic per step: a resumed run sees the same batches.
    const auto first = mp::stepMicroBatches(all, plan, 3, 5);
    const auto second = mp::stepMicroBatches(all, plan, 3, 5);
    ASSERT_EQ(first.size(), second.size());
    for (std::size_t m = 0; m < first.size(); ++m)
        for (std::size_t i = 0; i < first[m].size(); ++i)
            EXPECT_EQ(first[m][i].pairId, second[m][i].pairId);
}

// A stick figure standing at the origin facing +Z (SMPL: left is +X), translated and turned.
at::Tensor figure(int frames, double forwardPerFrame, double yawPerFrame, double sidePerFrame = 0)
{
    const float base[22][3] = {
        {0, 0.95f, 0},     {0.1f, 0.9f, 0},   {-0.1f, 0.9f, 0},    {0, 1.05f, 0},
        {0.1f, 0.5f, 0},   {-0.1f, 0.5f, 0},  {0, 1.2f, 0},        {0.1f, 0.08f, 0},
        {-0.1f, 0.08f, 0}, {0, 1.3f, 0},      {0.1f, 0.02f, 0.1f}, {-0.1f, 0.02f, 0.1f},
        {0, 1.5f, 0},      {0.08f, 1.42f, 0}, {-0.08f, 1.42f, 0},  {0, 1.65f, 0},
        {0.18f, 1.4f, 0},  {-0.18f, 1.4f, 0}, {0.2f, 1.15f, 0},    {-0.2f, 1.15f, 0},
        {0.2f, 0.9f, 0},   {-0.2f, 0.9f, 0}};
    auto joints = torch::zeros({frames, 22, 3});
    auto access = joints.accessor<float, 3>();
    double x = 0, z = 0;
    for (int t = 0; t < frames; ++t) {
        const double yaw = yawPerFrame * t;
        for (int j = 0; j < 22; ++j) {
            const double bx = base[j][0], bz = base[j][2];
            access[t][j][0] = static_cast<float>(x + bx * std::cos(yaw) + bz * std::sin(yaw));
            access[t][j][1] = base[j][1];
            access[t][j][2] = static_cast<float>(z - bx * std::sin(yaw) + bz * std::cos(yaw));
        }
        x += forwardPerFrame * std::sin(yaw) + sidePerFrame * std::cos(yaw);
        z += forwardPerFrame * std::cos(yaw) - sidePerFrame * std::sin(yaw);
    }
    return joints;
}

TEST(MotionDescriptor, MeasuresTravelDirectionAndTurning)
{
    const auto walk = mp::describeMotion(figure(41, 0.05, 0.0)).features;
    EXPECT_NEAR(walk.at("forward_m"), 2.0, 1e-3);
    EXPECT_NEAR(walk.at("sideways_m"), 0.0, 1e-3);
    EXPECT_NEAR(walk.at("path_m"), 2.0, 1e-3);
    EXPECT_NEAR(walk.at("turn_deg"), 0.0, 1e-3);
    EXPECT_NEAR(walk.at("duration_s"), 41.0 / 20.0, 1e-9);

    const auto back = mp::describeMotion(figure(41, -0.05, 0.0)).features;
    EXPECT_NEAR(back.at("forward_m"), -2.0, 1e-3);

    const auto left = mp::describeMotion(figure(41, 0.0, 0.0, 0.02)).features;
    EXPECT_NEAR(left.at("sideways_m"), 0.8, 1e-3);
    EXPECT_NEAR(left.at("forward_m"), 0.0, 1e-3);

    // A quarter turn to the left over 40 frames (yaw grows counter-clockwise seen from above).
    const auto turn = mp::describeMotion(figure(41, 0.0, std::numbers::pi / 80)).features;
    EXPECT_NEAR(std::abs(turn.at("turn_deg")), 90.0, 0.5);
    EXPECT_NEAR(turn.at("yaw_travel_deg"), 90.0, 0.5);
    EXPECT_NEAR(turn.at("path_m"), 0.0, 1e-3);

    const auto still = mp::describeMotion(figure(20, 0, 0)).features;
    EXPECT_NEAR(still.at("left_hand_mps"), 0.0, 1e-6);
    EXPECT_NEAR(still.at("rise_m"), 0.0, 1e-6);
    EXPECT_NEAR(still.at("hands_up_frac"), 0.0, 1e-9);
    EXPECT_THROW(mp::describeMotion(torch::zeros({10, 21, 3})), mp::InputError);
}

TEST(MotionDescriptor, LabelerPrefersTheMotionCloserToTheReference)
{
    const auto reference = mp::describeMotion(figure(41, 0.05, 0.0));
    const auto scales = mp::descriptorScales({reference, mp::describeMotion(figure(41, -0.05, 0)),
                                              mp::describeMotion(figure(41, 0, 0.03))});
    const auto intent = mp::intentFromReference("a person walks forward", reference, scales);
    const auto close = mp::describeMotion(figure(41, 0.045, 0.0));
    const auto wrong = mp::describeMotion(figure(41, -0.05, 0.0));
    EXPECT_GT(mp::matchScore(intent, close), mp::matchScore(intent, wrong));
    const mp::SimulatedLabeler labeler({.noiseStd = 0.0});
    EXPECT_EQ(labeler.label(intent, close, wrong, 1).choice, 0);
    EXPECT_EQ(labeler.label(intent, wrong, close, 2).choice, 1);
}

} // namespace
