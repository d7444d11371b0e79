// The cross-check evaluator (ml/eval/cross_evaluator*): its joint input, shapes and padding
// invariance, InfoNCE against a hand-computed 2x2 case, a bit-for-bit save/load round trip, clear
// errors for broken directories, training on a small procedural corpus, and the embedded
// default's cross evaluator ranking matching pairs of a corpus it never saw far above chance.

#include "ml/core/error.h"
#include "ml/core/paths.h"
#include "ml/data/corpus/corpus_builder.h"
#include "ml/eval/cross_evaluator.h"
#include "ml/eval/cross_evaluator_trainer.h"
#include "ml/eval/eval_dataset.h"
#include "ml/models/sentencepiece.h"
#include "ml/motion/features.h"
#include "ml/run/experiment.h"

#include "temp_dir.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

using mp::test::TempDir;

fs::path tokenizerFile()
{
    return mp::defaultModelDir() / "spiece.model";
}

mp::CrossEvaluatorConfig tinyCrossConfig(std::int64_t vocab)
{
    return {.vocabSize = vocab, .dimPiece = 8, .dimText = 12, .dimMotion = 12, .dimEmbedding = 6};
}

// Features of a corpus-like motion: joints walking forward, through the project's extractor.
at::Tensor walkingFeatures(int frames, float speed)
{
    const auto t = torch::arange(frames + 1, torch::kFloat32).view({-1, 1, 1});
    auto joints = torch::rand({1, 22, 3}, at::make_generator<at::CPUGeneratorImpl>(3)) +
                  torch::tensor({0.0f, 0.5f, 0.0f}).view({1, 1, 3});
    joints = joints.repeat({frames + 1, 1, 1});
    joints.select(2, 2).add_(speed * t.view({-1, 1}));
    joints.select(2, 1).add_(0.05 * torch::sin(t.view({-1, 1}) * 0.5));
    return mp::extractFeatures(joints);
}

TEST(CrossEvaluator, JointInputIsRootRelativePositionsAndVelocities)
{
    const auto features = walkingFeatures(30, 0.05f);
    const auto input = mp::crossMotionInput(features);
    ASSERT_EQ(input.sizes(), (std::vector<std::int64_t>{30, mp::kCrossMotionInput}));
    const auto joints = mp::recoverFromRic(features);
    const auto positions = input.slice(1, 0, 66).view({30, 22, 3});
    const auto velocities = input.slice(1, 66).view({30, 22, 3});
    // The root sits at x = z = 0 and keeps its height; other joints are offset from it.
    EXPECT_TRUE(torch::allclose(positions.select(1, 0).select(1, 0), torch::zeros({30})));
    EXPECT_TRUE(torch::allclose(positions.select(1, 0).select(1, 2), torch::zeros({30})));
    EXPECT_TRUE(torch::allclose(positions.select(2, 1), joints.select(2, 1)));
    EXPECT_TRUE(
        torch::allclose(positions.select(1, 5).select(1, 0),
                        joints.select(1, 5).select(1, 0) - joints.select(1, 0).select(1, 0)));
    // Velocities: 0 at frame 0, then the frame-to-frame step of the absolute joints.
    EXPECT_TRUE(torch::equal(velocities[0], torch::zeros({22, 3})));
    EXPECT_TRUE(torch::allclose(velocities[7], joints[7] - joints[6]));
    // Walking: the root moves about `speed` per frame on the ground (the canonical facing comes
    // from the random hips and shoulders, so the direction is not +Z).
    const auto rootStep = velocities.select(1, 0).slice(0, 1);
    const auto ground = (rootStep.select(1, 0).pow(2) + rootStep.select(1, 2).pow(2)).sqrt();
    EXPECT_NEAR(ground.mean().item<double>(), 0.05, 0.005);
    EXPECT_THROW(mp::crossMotionInput(torch::zeros({5, 100})), std::invalid_argument);
}

TEST(CrossEvaluator, EmbeddingsAreUnitRowsIndependentOfBatchMatesAndPadding)
{
    torch::manual_seed(1);
    mp::CrossEvaluator model(tinyCrossConfig(50));
    model->eval();
    torch::NoGradGuard noGrad;
    const auto ids = torch::randint(0, 50, {3, 7}, torch::kLong);
    const auto text = model->encodeText(ids, torch::tensor({7, 3, 1}, torch::kLong));
    ASSERT_EQ(text.sizes(), (std::vector<std::int64_t>{3, 6}));
    EXPECT_TRUE(torch::allclose(text.norm(2, 1), torch::ones({3}), 1e-5, 1e-6));
    // A short caption alone gives the same embedding as in a padded batch.
    const auto alone =
        model->encodeText(ids.slice(0, 1, 2).slice(1, 0, 3), torch::tensor({3}, torch::kLong));
    EXPECT_TRUE(torch::allclose(alone[0], text[1], 1e-5, 1e-6));

    std::vector<at::Tensor> inputs = {mp::crossMotionInput(walkingFeatures(61, 0.03f)),
                                      mp::crossMotionInput(walkingFeatures(23, 0.06f))};
    const std::vector<std::int64_t> lengths = {60, 21};
    const auto batch = mp::crossMotionBatch(*model, inputs, lengths);
    ASSERT_EQ(batch.sizes(), (std::vector<std::int64_t>{2, 60, mp::kCrossMotionInput}));
    EXPECT_TRUE(torch::equal(batch[1].slice(0, 21), torch::zeros({39, mp::kCrossMotionInput})));
    const auto both = model->encodeMotion(batch, torch::tensor(lengths, torch::kLong));
    ASSERT_EQ(both.sizes(), (std::vector<std::int64_t>{2, 6}));
    EXPECT_TRUE(torch::allclose(both.norm(2, 1), torch::ones({2}), 1e-5, 1e-6));
    const auto shortAlone = model->encodeMotion(mp::crossMotionBatch(*model, {inputs[1]}, {21}),
                                                torch::tensor({21}, torch::kLong));
    EXPECT_TRUE(torch::allclose(shortAlone[0], both[1], 1e-5, 1e-6)) << shortAlone[0] << both[1];
}

TEST(CrossEvaluator, SymmetricInfoNceMatchesAHandComputedCase)
{
    // T = [[1,0],[0,1]], M = [[1,0],[0.6,0.8]], scale 2: logits [[2,1.2],[0,1.6]]. Rows give
    // log(1+e^-0.8) and log(1+e^-1.6), columns log(1+e^-2) and log(1+e^-0.4); the loss is the
    // mean of the two means: 0.2987361675697604.
    const auto text = torch::tensor({1.0, 0.0, 0.0, 1.0}, torch::kFloat64).view({2, 2});
    const auto motion = torch::tensor({1.0, 0.0, 0.6, 0.8}, torch::kFloat64).view({2, 2});
    const auto loss = mp::symmetricInfoNce(text, motion, torch::tensor(2.0, torch::kFloat64));
    EXPECT_NEAR(loss.item<double>(), 0.2987361675697604, 1e-12);
    // Swapping the roles of text and motion gives the same loss (it is symmetric).
    EXPECT_NEAR(
        mp::symmetricInfoNce(motion, text, torch::tensor(2.0, torch::kFloat64)).item<double>(),
        0.2987361675697604, 1e-12);
}

TEST(CrossEvaluator, SaveLoadRoundTripIsBitForBit)
{
    TempDir dir;
    const mp::SentencePieceModel tokenizer(tokenizerFile());
    torch::manual_seed(2);
    mp::CrossEvaluator model(tinyCrossConfig(tokenizer.size()));
    {
        torch::NoGradGuard noGrad;
        model->input_mean.copy_(torch::randn({mp::kCrossMotionInput}));
        model->input_std.copy_(torch::rand({mp::kCrossMotionInput}) + 0.5);
        model->logit_scale.fill_(3.25);
    }
    mp::saveCrossEvaluator(dir.path() / "x", *model, tokenizerFile(), R"({"note": "test"})");
    for (const char *name : {"cross_evaluator.json", "cross_evaluator.safetensors", "spiece.model"})
        EXPECT_TRUE(fs::exists(dir.path() / "x" / name)) << name;
    auto loaded = mp::loadCrossEvaluator(dir.path() / "x");
    EXPECT_EQ(loaded.summaryJson, R"({"note":"test"})");
    const auto saved = mp::crossEvaluatorStateDict(*model);
    const auto back = mp::crossEvaluatorStateDict(*loaded.model);
    ASSERT_EQ(saved.size(), back.size());
    for (const auto &[name, tensor] : saved)
        EXPECT_TRUE(torch::equal(tensor, back.at(name))) << name;

    model->eval();
    mp::CrossEvaluatorEmbedder embedder(std::move(loaded));
    const auto features = walkingFeatures(40, 0.04f);
    const auto viaEmbedder = embedder.motions({features}, {40});
    torch::NoGradGuard noGrad;
    const auto direct =
        model->encodeMotion(mp::crossMotionBatch(*model, {mp::crossMotionInput(features)}, {40}),
                            torch::tensor({40}, torch::kLong));
    EXPECT_TRUE(torch::equal(viaEmbedder, direct));
    const auto pieces = mp::crossCaptionPieces(tokenizer, "a person walks forward", 40);
    const auto directText = model->encodeText(torch::tensor(pieces).view({1, -1}),
                                              torch::tensor({std::int64_t(pieces.size())}));
    EXPECT_TRUE(torch::equal(embedder.texts({"a person walks forward"}), directText));
}

TEST(CrossEvaluator, BrokenDirectoriesNameTheFile)
{
    TempDir dir;
    const mp::SentencePieceModel tokenizer(tokenizerFile());
    mp::CrossEvaluator model(tinyCrossConfig(tokenizer.size()));
    const auto x = dir.path() / "x";
    mp::saveCrossEvaluator(x, *model, tokenizerFile());
    const auto expectError = [](const fs::path &d, const std::string &needle) {
        try {
            mp::loadCrossEvaluator(d);
            FAIL() << "no error for " << needle;
        } catch (const mp::InputError &e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    // A config that does not match the weights.
    {
        std::ifstream in(x / "cross_evaluator.json");
        std::string text((std::istreambuf_iterator<char>(in)), {});
        text.replace(text.find("\"dim_text\": 12"), 14, "\"dim_text\": 13");
        std::ofstream(x / "cross_evaluator.json", std::ios::trunc) << text;
    }
    expectError(x, "cross_evaluator.safetensors");
    std::ofstream(x / "cross_evaluator.json", std::ios::trunc)
        << "{\"config\": {\"dim_piece\": 1}}";
    expectError(x, "cross_evaluator.json: missing key 'vocab_size'");
    fs::remove(x / "cross_evaluator.json");
    expectError(x, "cross_evaluator.json");
    EXPECT_THROW(mp::resolveCrossCheckDir(x), mp::InputError);
}

TEST(CrossEvaluator, TrainingOnASmallCorpusRanksPairsAboveChance)
{
    TempDir dir;
    mp::corpus::buildCorpus(dir.path(), {.numClips = 480, .seed = 77, .threads = 1});
    const auto train = mp::loadEvalSplit(dir.path(), "train");
    const auto test = mp::loadEvalSplit(dir.path(), "test");
    const mp::SentencePieceModel tokenizer(tokenizerFile());
    torch::manual_seed(5);
    mp::CrossEvaluator model(mp::CrossEvaluatorConfig{.vocabSize = tokenizer.size(),
                                                      .dimPiece = 24,
                                                      .dimText = 48,
                                                      .dimMotion = 48,
                                                      .dimEmbedding = 32});
    std::vector<double> losses;
    const auto report = mp::trainCrossEvaluator(
        *model, tokenizer, train, test,
        {.epochs = 4, .batchSize = 32, .learningRate = 3e-3, .validationFraction = 0.1, .seed = 9},
        {}, [&](const mp::CrossEvaluatorEpoch &e) { losses.push_back(e.loss); });
    std::printf("small corpus: test R@1 %.3f R@3 %.3f (untrained %.3f %.3f), losses %.3f -> %.3f\n",
                report.finalTest.rPrecision[0], report.finalTest.rPrecision[2],
                report.initialTest.rPrecision[0], report.initialTest.rPrecision[2], losses.front(),
                losses.back());
    ASSERT_EQ(losses.size(), 4u);
    EXPECT_LT(losses.back(), losses.front());
    EXPECT_GE(report.bestEpoch, 1);
    EXPECT_GT(report.fitMotions, report.validationMotions);
    // Chance is 1/32 at R@1 and 3/32 at R@3. Measured (4 epochs): R@1 0.214, R@3 0.516 after,
    // 0.052 / 0.130 untrained.
    EXPECT_LT(report.initialTest.rPrecision[0], 0.15);
    EXPECT_GT(report.finalTest.rPrecision[0], 0.12) << "R@1 " << report.finalTest.rPrecision[0];
    EXPECT_GT(report.finalTest.rPrecision[2], report.initialTest.rPrecision[2] + 0.2);
}

TEST(CrossEvaluator, EmbeddedDefaultRanksPairsOfAnUnseenCorpusFarAboveChance)
{
    const auto dirOfDefault = mp::defaultModelDir() / "cross_evaluator";
    if (!fs::exists(dirOfDefault / "cross_evaluator.json"))
        GTEST_SKIP() << "no embedded cross evaluator";
    TempDir dir;
    // A corpus seed the shipped one was not trained on (it used seed 1).
    mp::corpus::buildCorpus(dir.path(), {.numClips = 400, .seed = 31, .threads = 1});
    const auto test = mp::loadEvalSplit(dir.path(), "test");
    auto loaded = mp::loadCrossEvaluator(mp::resolveCrossCheckDir("default"));
    const auto score =
        mp::scoreCrossEvaluator(*loaded.model, *loaded.tokenizer, test, 3, /*seed=*/1234);
    std::printf("embedded default on an unseen corpus: R@1 %.3f R@2 %.3f R@3 %.3f matching %.3f\n",
                score.rPrecision[0], score.rPrecision[1], score.rPrecision[2], score.matchingScore);
    // Measured: R@1 0.948, R@3 1.000 on the 60 test clips of this corpus (on its
    // training corpus's test split: 0.938 / 0.999). Chance: 1/32 and 3/32.
    EXPECT_GT(score.rPrecision[0], 0.8) << "R@1 " << score.rPrecision[0];
    EXPECT_GT(score.rPrecision[2], 0.95) << "R@3 " << score.rPrecision[2];
}

} // namespace

namespace {

TEST(CrossEvaluator, SweepEvalBlockTakesCrossCheck)
{
    const std::string base =
        R"({"base": {"method": "dpo", "epochs": 1, "data": {"pairs": "p.jsonl"}},
        "eval": {"dataset": "corpus", "replications": 3, )";
    EXPECT_EQ(mp::parseSweep(base + R"("cross_check": "default"}})", "s.json").eval.crossCheck,
              "default");
    EXPECT_EQ(mp::parseSweep(base + R"("seed": 5}})", "s.json").eval.crossCheck, "");
    try {
        mp::parseSweep(base + R"("cross_check": 3}})", "s.json");
        FAIL() << "a number was taken as a directory";
    } catch (const mp::InputError &e) {
        EXPECT_NE(std::string(e.what()).find("eval.cross_check"), std::string::npos) << e.what();
    }
}

} // namespace
