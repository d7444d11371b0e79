#include "ml/core/error.h"
#include "ml/train/t5_trainer.h"
#include "ml/train/vqvae_trainer.h"
#include "tiny_t5.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <filesystem>

namespace fs = std::filesystem;

namespace {

fs::path trainersTempDir(const std::string &name)
{
    return fs::temp_directory_path() / ("mp_trainers_" + std::to_string(::getpid()) + name);
}

TEST(VqVaeTrainer, LossFallsAndCheckpointsResumeExactly)
{
    torch::manual_seed(0);
    const mp::VqVaeConfig config{
        .inputDim = 263, .numCodes = 8, .codeDim = 8, .width = 16, .depth = 1};
    std::vector<at::Tensor> clips;
    for (int i = 0; i < 4; ++i)
        clips.push_back(torch::sin(torch::arange(40, torch::kFloat).unsqueeze(1) * 0.2 +
                                   torch::arange(263, torch::kFloat) * 0.01 * (i + 1)));
    clips.push_back(torch::zeros({8, 263})); // shorter than a window: skipped
    const mp::VqVaeTrainOptions options{
        .windowFrames = 16, .batchSize = 4, .warmupSteps = 5, .learningRate = 1e-3};
    mp::VqVaeTrainer trainer(mp::VqVae(config), clips, options);
    EXPECT_EQ(trainer.usableClips(), 4);
    // The loss is noisy step to step: compare the means of the first and last five steps.
    double early = 0.0;
    double late = 0.0;
    mp::VqVaeStepStats last;
    for (int i = 0; i < 41; ++i) {
        last = trainer.step();
        if (i < 5)
            early += last.loss;
        if (i >= 36)
            late += last.loss;
    }
    EXPECT_LT(late, early);
    EXPECT_EQ(last.step, 41);
    EXPECT_GT(trainer.evaluate(clips), 0.0);

    const auto dir = trainersTempDir("vq");
    trainer.saveCheckpoint(dir);
    const auto a = trainer.step();
    torch::manual_seed(0);
    mp::VqVaeTrainer resumed(mp::VqVae(config), clips, options);
    resumed.loadCheckpoint(dir);
    EXPECT_EQ(resumed.stepsDone(), 41);
    const auto b = resumed.step();
    EXPECT_NEAR(a.loss, b.loss, 1e-4 * std::abs(a.loss) + 1e-6);
    fs::remove_all(dir);

    EXPECT_THROW(mp::VqVaeTrainer(mp::VqVae(config), {torch::zeros({4, 263})}, options),
                 mp::InputError);
}

TEST(T5Trainer, CollatesLikeHuggingFaceAndLearnsAMapping)
{
    torch::manual_seed(1);
    const mp::T5Config c = mp::test::tinyTrainerT5Config();
    mp::T5Model model(c);
    const std::vector<mp::Seq2SeqExample> examples = {{{5, 6, 1}, {20, 21, 22, 1}},
                                                      {{7, 1}, {20, 23, 1}}};
    const auto batch = mp::collateSeq2Seq({&examples[0], &examples[1]}, model);
    EXPECT_TRUE(torch::equal(batch.inputIds, torch::tensor({{5, 6, 1}, {7, 1, 0}})));
    EXPECT_TRUE(torch::equal(batch.attentionMask, torch::tensor({{1, 1, 1}, {1, 1, 0}})));
    EXPECT_TRUE(torch::equal(batch.labels, torch::tensor({{20, 21, 22, 1}, {20, 23, 1, -100}})));
    EXPECT_TRUE(torch::equal(batch.decoderIds, torch::tensor({{0, 20, 21, 22}, {0, 20, 23, 1}})));

    mp::T5Trainer trainer(model, examples,
                          {.batchSize = 2, .warmupSteps = 1, .learningRate = 3e-3});
    for (int i = 0; i < 150; ++i)
        trainer.step();
    const auto eval = trainer.evaluate(examples);
    EXPECT_LT(eval.loss, 0.1);
    EXPECT_DOUBLE_EQ(eval.accuracy, 1.0);

    const auto dir = trainersTempDir("t5");
    trainer.saveCheckpoint(dir);
    mp::T5Model other(c);
    mp::T5Trainer resumed(other, examples, {.batchSize = 2});
    resumed.loadCheckpoint(dir);
    EXPECT_EQ(resumed.stepsDone(), 150);
    EXPECT_NEAR(resumed.evaluate(examples).loss, eval.loss, 1e-6);
    fs::remove_all(dir);
}

} // namespace
