// The text-motion judge of the simulated labeler: with the embedded default's evaluator, a corpus
// clip lies nearer its own caption than the other clips' captions, and the judge's distance
// enters the labeler's intent and descriptors only when asked for.

#include "ml/core/error.h"
#include "ml/core/paths.h"
#include "ml/data/corpus/corpus_builder.h"
#include "ml/data/npy.h"
#include "ml/simulate/corpus_intents.h"
#include "ml/simulate/text_motion_judge.h"

#include "temp_dir.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace {

using mp::test::TempDir;

struct JudgeClip {
    std::string caption;
    at::Tensor features;
};

std::vector<JudgeClip> corpusClips(const fs::path &dir)
{
    std::ifstream in(dir / "manifest.json");
    const auto manifest = nlohmann::json::parse(in);
    std::vector<JudgeClip> clips;
    for (const auto &clip : manifest["clips"])
        clips.push_back(
            {clip["captions"][0].get<std::string>(),
             mp::npy::read(dir / "new_joint_vecs" / (clip["id"].get<std::string>() + ".npy"))});
    return clips;
}

fs::path defaultEvaluatorDir()
{
    return mp::defaultModelDir() / "evaluator";
}

} // namespace

TEST(TextMotionJudge, ClipsLieNearerTheirOwnCaptions)
{
    TempDir dir;
    // A seed the default evaluator was not trained on: these clips are new to it.
    mp::corpus::buildCorpus(dir.path(), {.numClips = 40, .seed = 4242});
    const auto clips = corpusClips(dir.path());
    std::vector<std::string> captions;
    std::vector<at::Tensor> features;
    for (const auto &clip : clips) {
        captions.push_back(clip.caption);
        features.push_back(clip.features);
    }
    mp::TextMotionJudge judge(defaultEvaluatorDir());
    const auto own = judge.distances(captions, features);
    ASSERT_EQ(own.size(), clips.size());
    int nearerOwn = 0;
    double ownMean = 0.0;
    for (std::size_t i = 0; i < clips.size(); ++i) {
        // The next clip's caption with this clip's motion.
        const auto other = judge.distances({captions[(i + 1) % clips.size()]}, {features[i]});
        nearerOwn += own[i] < other.front() ? 1 : 0;
        ownMean += own[i] / static_cast<double>(clips.size());
    }
    EXPECT_GE(nearerOwn, static_cast<int>(clips.size() * 3 / 4)) << "of " << clips.size();
    EXPECT_LT(ownMean, judge.mismatchedDistance(captions, features));
    // Deterministic (eval mode, no dropout); alone or in a batch only float rounding differs.
    EXPECT_NEAR(judge.distances({captions[0]}, {features[0]}).front(), own[0], 1e-4);
}

TEST(TextMotionJudge, EntersTheIntentOnlyWhenAskedFor)
{
    TempDir dir;
    mp::corpus::buildCorpus(dir.path(), {.numClips = 40, .seed = 4243});
    mp::TextMotionJudge judge(defaultEvaluatorDir());
    const auto plain = mp::drawCorpusPrompts(dir.path(), "train", 3, 1);
    ASSERT_EQ(plain.size(), 3u);
    EXPECT_EQ(plain[0].intent.targets.count(mp::kTextMatchFeature), 0u);

    const auto judged =
        mp::drawCorpusPrompts(dir.path(), "train", 3, 1, {.judgeWeight = 30.0, .judge = &judge});
    const auto &prompt = judged[0];
    ASSERT_EQ(prompt.intent.targets.count(mp::kTextMatchFeature), 1u);
    const auto &target = prompt.intent.targets.at(mp::kTextMatchFeature);
    EXPECT_EQ(target.weight, 30.0);
    EXPECT_GT(target.scale, 0.0);
    EXPECT_EQ(prompt.caption, plain[0].caption); // the judge changes no draw

    const auto features = mp::npy::read(dir.path() / "new_joint_vecs" / (prompt.clipId + ".npy"));
    const auto joints = mp::npy::read(dir.path() / "new_joints" / (prompt.clipId + ".npy"));
    const auto described = mp::describeForPrompt(prompt, joints, 20.0, features, &judge);
    ASSERT_EQ(described.features.count(mp::kTextMatchFeature), 1u);
    EXPECT_DOUBLE_EQ(described.features.at(mp::kTextMatchFeature),
                     judge.distances({prompt.caption}, {features}).front());
    // Without features the measure is missing, which the labeler scores as a full mismatch.
    EXPECT_EQ(mp::describeForPrompt(prompt, joints, 20.0).features.count(mp::kTextMatchFeature),
              0u);
}

TEST(TextMotionJudge, MissingEvaluatorNamesTheDirectory)
{
    try {
        mp::TextMotionJudge judge("/nonexistent/judge");
        FAIL() << "no error";
    } catch (const mp::InputError &e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/judge"), std::string::npos) << e.what();
    }
}
