// Training the evaluator contrastively on a synthetic text-motion set whose caption names the
// motion's class: the ground-truth R-precision must rise far above chance.

#include "ml/core/error.h"
#include "ml/eval/evaluation.h"
#include "ml/eval/evaluator.h"
#include "ml/eval/evaluator_trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

namespace {

const std::vector<std::string> kVerbs = {"walk", "run", "jump", "kick", "wave", "squat"};

mp::EvalDataset makeSplit(int count, int offset)
{
    mp::EvalDataset d;
    // Each class has its own per-channel pattern; samples add noise and vary in length.
    const auto patterns = torch::randn({6, 263}, at::make_generator<at::CPUGeneratorImpl>(5));
    for (int i = 0; i < count; ++i) {
        const int cls = (i + offset) % 6;
        const int frames = 40 + ((i + offset) * 13) % 60;
        mp::EvalSample s;
        s.name = "s" + std::to_string(i);
        const auto t = torch::linspace(0, 1, frames).unsqueeze(1);
        s.features = patterns[cls].unsqueeze(0) * torch::sin(6.0 * t + cls) +
                     0.3 * torch::randn({frames, 263});
        s.captions.push_back({"a person " + kVerbs[cls] + "s", {}});
        s.captions.push_back({"someone does a " + kVerbs[cls], {}});
        d.samples.push_back(std::move(s));
    }
    d.mean = torch::zeros({263});
    d.std = torch::ones({263});
    return d;
}

TEST(EvalTrainer, ContrastiveTrainingLearnsTheMatching)
{
    torch::manual_seed(21);
    const auto train = makeSplit(96, 0);
    const auto test = makeSplit(64, 3);
    std::vector<std::vector<mp::TaggedWord>> tagged;
    for (const auto &s : train.samples)
        for (const auto &c : s.captions)
            tagged.push_back(mp::tagCaption(c.text));
    const auto vocabulary = mp::WordVocabulary::fromCaptions(tagged);
    mp::EvaluatorConfig config;
    config.vocabSize = vocabulary.size();
    config.dimWord = 16;
    config.dimTextHidden = 24;
    config.dimCoemb = 16;
    config.dimMovementHidden = 24;
    config.dimMovementLatent = 24;
    config.dimMotionHidden = 24;
    mp::TextMotionEvaluator evaluator(config);

    const auto dir =
        std::filesystem::temp_directory_path() / ("mp_eval_trainer_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    int epochsSeen = 0;
    const auto report = mp::trainEvaluator(*evaluator, vocabulary, train, test,
                                           {.movementPretrainEpochs = 2,
                                            .epochs = 25,
                                            .batchSize = 16,
                                            .learningRate = 2e-3,
                                            .testReplications = 2,
                                            .checkpointDir = dir},
                                           {}, [&](const mp::EvaluatorEpoch &) { ++epochsSeen; });
    EXPECT_EQ(epochsSeen, 27);
    ASSERT_EQ(report.epochs.size(), 27u);
    EXPECT_LT(report.epochs.back().loss, report.epochs[2].loss);
    // Chance top-3 in a group of 32 is 3/32; class-level matching gives about 0.5.
    EXPECT_GT(report.finalTest.rPrecision[2], 0.3) << report.initialTest.rPrecision[2];
    EXPECT_GT(report.finalTest.rPrecision[2], report.initialTest.rPrecision[2] + 0.1);
    EXPECT_TRUE(report.epochs.back().scored);
    std::printf("top-3 before %.3f after %.3f\n", report.initialTest.rPrecision[2],
                report.finalTest.rPrecision[2]);

    // The checkpoint reloads to the same scores.
    auto loaded = mp::loadEvaluator(dir / "latest");
    const auto again = mp::scoreEvaluator(*loaded.model, loaded.vocabulary, test, 2, 3407);
    EXPECT_NEAR(again.rPrecision[2], report.finalTest.rPrecision[2], 1e-9);
    EXPECT_TRUE(std::filesystem::exists(dir / "latest" / "optimizer.pt"));
    std::filesystem::remove_all(dir);
}

TEST(EvalTrainer, CancelStopsTraining)
{
    const auto train = makeSplit(40, 0);
    mp::EvaluatorConfig config;
    config.dimWord = 8;
    config.dimTextHidden = 8;
    config.dimCoemb = 8;
    config.dimMovementHidden = 8;
    config.dimMovementLatent = 8;
    config.dimMotionHidden = 8;
    mp::TextMotionEvaluator evaluator(config);
    mp::WordVocabulary vocabulary;
    EXPECT_THROW(mp::trainEvaluator(*evaluator, vocabulary, train, {}, {.batchSize = 8},
                                    [](int64_t done, int64_t, auto) { return done < 3; }),
                 mp::Cancelled);
    EXPECT_THROW(mp::trainEvaluator(*evaluator, vocabulary, train, {}, {.batchSize = 64}),
                 mp::InputError);
}

} // namespace
