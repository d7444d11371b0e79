// The trainer checkpoint shared by DPO, the reward model and PPO: a round trip restores the
// weights, the step, the scheduler's lr and the method's fields; a damaged or foreign
// trainer_state.json is a user error naming the file, never an internal one.
#include "ml/core/error.h"
#include "ml/train/checkpoint.h"
#include "ml/train/schedule.h"

#include "temp_dir.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

namespace {

namespace fs = std::filesystem;

struct Trainable {
    std::vector<at::Tensor> params{torch::randn({3, 2}).requires_grad_()};
    torch::optim::AdamW optimizer{params, torch::optim::AdamWOptions(1e-3)};
    mp::LrScheduler scheduler{optimizer, mp::ScheduleKind::Linear, 2, 10};
};

void save(const fs::path &directory, Trainable &trainable, const mp::TrainerIdentity &identity)
{
    mp::saveTrainingCheckpoint(directory, identity,
                               [&](torch::serialize::OutputArchive &archive) {
                                   mp::writeTensorList(archive, trainable.params, "param.");
                               },
                               trainable.optimizer, trainable.scheduler,
                               {.step = 4, .extra = {{"kl_coef", 0.25}}});
}

mp::TrainerState load(const fs::path &directory, Trainable &trainable,
                      const mp::TrainerIdentity &identity,
                      const std::function<void(const nlohmann::json &)> &restoreExtra = {})
{
    return mp::loadTrainingCheckpoint(
        directory, identity,
        [&](torch::serialize::InputArchive &archive) {
            mp::readTensorList(archive, trainable.params, "param.");
        },
        trainable.optimizer, trainable.scheduler, restoreExtra);
}

void expectInputError(const std::function<void()> &call, const std::string &needle)
{
    try {
        call();
        ADD_FAILURE() << "no error; expected one containing '" << needle << "'";
    } catch (const mp::InputError &e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

class CheckpointTest : public ::testing::Test {
protected:
    mp::test::TempDir m_dir;
    fs::path m_checkpoint = m_dir.path() / "step-4";
    const mp::TrainerIdentity m_ppo{.method = "ppo", .version = 1};

    void writeState(const std::string &text)
    {
        std::ofstream(m_checkpoint / "trainer_state.json", std::ios::binary) << text;
    }
};

TEST_F(CheckpointTest, RoundTripRestoresWeightsStepSchedulerAndExtra)
{
    Trainable saved;
    for (int i = 0; i < 4; ++i)
        saved.scheduler.step();
    save(m_checkpoint, saved, m_ppo);

    Trainable restored;
    double klCoef = 0;
    const auto state = load(m_checkpoint, restored, m_ppo, [&](const nlohmann::json &extra) {
        klCoef = extra.at("kl_coef").get<double>();
    });
    EXPECT_EQ(state.step, 4);
    EXPECT_EQ(restored.scheduler.stepCount(), 4);
    EXPECT_DOUBLE_EQ(restored.scheduler.currentLr(), saved.scheduler.currentLr());
    EXPECT_DOUBLE_EQ(klCoef, 0.25);
    EXPECT_TRUE(torch::equal(restored.params[0], saved.params[0]));
}

TEST_F(CheckpointTest, DamagedOrForeignStateIsAUserErrorNamingTheFile)
{
    Trainable trainable;
    save(m_checkpoint, trainable, m_ppo);
    const std::string file = (m_checkpoint / "trainer_state.json").string();

    expectInputError([&] { load(m_checkpoint, trainable, {.method = "rm", .version = 1}); },
                     file + ": a 'ppo' checkpoint, this run is 'rm'");
    expectInputError([&] { load(m_checkpoint, trainable, {.method = "ppo", .version = 2}); },
                     file + ": unsupported checkpoint version 1");
    expectInputError(
        [&] {
            load(m_checkpoint, trainable, m_ppo,
                 [](const nlohmann::json &extra) { extra.at("score_moments").at(0); });
        },
        file);

    writeState("{\"method\": \"ppo\", \"version\": 1, \"step\": ");
    expectInputError([&] { load(m_checkpoint, trainable, m_ppo); }, file);
    writeState("{\"method\": \"ppo\", \"version\": 1, \"scheduler_step\": 2}");
    expectInputError([&] { load(m_checkpoint, trainable, m_ppo); }, file);
    writeState("{\"method\": \"ppo\", \"version\": \"one\", \"step\": 1, \"scheduler_step\": 2}");
    expectInputError([&] { load(m_checkpoint, trainable, m_ppo); }, file);

    fs::remove(m_checkpoint / "rng.pt");
    expectInputError([&] { load(m_checkpoint, trainable, m_ppo); }, "rng.pt: missing");
}

} // namespace
