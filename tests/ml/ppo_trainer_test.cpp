// PpoTrainer (ml/train/ppo_trainer.h), the step the ppo run and the side-by-side benchmark share,
// on a tiny T5 with hand-made rollouts: the first mini-batch's loss is PPO's loss (ppo_math, held
// to TRL 0.8.6 by ppo_reference_test) of that mini-batch's rows of the evaluated rollout, the
// reference equals the policy at the initial weights, the KL controller moves as TRL's does, and
// a step raises the log-probability of the higher-scored response.

#include <gtest/gtest.h>

#include <numeric>

#include <torch/torch.h>

#include "ml/models/lora.h"
#include "ml/models/t5.h"
#include "ml/train/ppo_math.h"
#include "ml/train/ppo_trainer.h"
#include "ml/train/reward_model.h"
#include "tiny_t5.h"

namespace {

mp::T5Model tinyT5(std::uint64_t seed)
{
    torch::manual_seed(seed);
    mp::T5Model model(mp::test::tinyTrainerT5Config());
    mp::applyLora(*model, {.rank = 4, .alpha = 8, .dropout = 0.0, .targetModules = {"q", "v"}});
    return model;
}

std::vector<std::int64_t> identity(std::int64_t rows)
{
    std::vector<std::int64_t> order(static_cast<std::size_t>(rows));
    std::iota(order.begin(), order.end(), 0);
    return order;
}

mp::PpoRollout fourRollouts()
{
    mp::PpoRollout rollout;
    rollout.promptIds = torch::tensor({{5, 6, 1}, {7, 1, 0}, {8, 9, 1}, {10, 1, 0}});
    rollout.promptMask = rollout.promptIds.ne(0).to(torch::kLong);
    rollout.labels =
        torch::tensor({{20, 21, 22, 1}, {20, 23, 1, -100}, {24, 25, 1, -100}, {26, 1, -100, -100}});
    rollout.mask = rollout.labels.ne(-100).to(torch::kFloat);
    rollout.rawScores = torch::tensor({1.0f, -0.5f, 0.25f, 2.0f});
    return rollout;
}

TEST(PpoTrainer, FirstMiniBatchLossIsPpoLossOfItsRowsAtTheInitialWeights)
{
    mp::T5Model policy = tinyT5(3);
    mp::RewardModel critic(tinyT5(4), true);
    const mp::PpoTrainerOptions options{.optimizer = {.kind = mp::OptimizerKind::Adam, .lr = 1e-3},
                                        .miniBatchSize = 2,
                                        .ppoEpochs = 2,
                                        .order = [](std::int64_t, std::int64_t, std::int64_t rows) {
                                            auto order = identity(rows);
                                            std::reverse(order.begin(), order.end());
                                            return order; // rows 3, 2 first
                                        }};
    mp::PpoTrainer trainer(policy, critic, options);

    mp::PpoRollout rollout = fourRollouts();
    trainer.evaluate(rollout);
    // LoRA's B starts at zero: the adapter-disabled reference is the policy, bit for bit, and the
    // zero-head critic values every position 0.
    EXPECT_TRUE(torch::equal(rollout.logprobs, rollout.refLogprobs));
    EXPECT_TRUE(torch::equal(rollout.values, torch::zeros_like(rollout.values)));

    const auto rewards = mp::computeRewards(rollout.rawScores, rollout.logprobs,
                                            rollout.refLogprobs, rollout.mask, 0.2);
    const auto advantages = mp::computeAdvantages(rollout.values, rewards.rewards, rollout.mask);
    const auto rows = torch::tensor({3, 2});
    const auto pick = [&](const at::Tensor &t) { return t.index_select(0, rows); };
    const auto expected =
        mp::ppoLoss(pick(rollout.logprobs), pick(advantages.values), at::Tensor(),
                    torch::zeros_like(pick(rollout.values)), pick(rollout.logprobs),
                    pick(rollout.mask), pick(advantages.advantages), pick(advantages.returns))
            .loss.item<double>();
    // Rows 0 and 1 (a wrong order) give another loss: the check can fail.
    const auto front = torch::tensor({0, 1});
    const auto pickFront = [&](const at::Tensor &t) { return t.index_select(0, front); };
    const auto other = mp::ppoLoss(pickFront(rollout.logprobs), pickFront(advantages.values),
                                   at::Tensor(), torch::zeros_like(pickFront(rollout.values)),
                                   pickFront(rollout.logprobs), pickFront(rollout.mask),
                                   pickFront(advantages.advantages), pickFront(advantages.returns))
                           .loss.item<double>();
    ASSERT_GT(std::abs(expected - other), 1e-3);

    const auto result = trainer.update(rollout, 0);
    EXPECT_NEAR(result.firstLoss, expected, 1e-5 * std::max(1.0, std::abs(expected)));
    EXPECT_TRUE(std::isfinite(result.metrics.at("loss")));
    EXPECT_EQ(result.metrics.at("objective/kl"), 0.0);
    // TRL's AdaptiveKLController: KL 0 against target 6 clips the error to -0.2; n = 4 rollouts.
    EXPECT_NEAR(trainer.klCoef(), 0.2 * (1.0 - 0.2 * 4.0 / 10000.0), 1e-12);
    EXPECT_EQ(trainer.globalStep(), 1);
}

TEST(PpoTrainer, RaisesTheHigherScoredResponse)
{
    mp::T5Model policy = tinyT5(5);
    mp::PpoTrainer trainer(policy, mp::RewardModel{nullptr},
                           {.optimizer = {.kind = mp::OptimizerKind::Adam, .lr = 1e-2},
                            .miniBatchSize = 2,
                            .ppoEpochs = 4,
                            .adaptiveKl = false,
                            .initKlCoef = 0.05});
    mp::PpoRollout rollout;
    rollout.promptIds = torch::tensor({{5, 6, 1}, {5, 6, 1}});
    rollout.promptMask = torch::ones({2, 3}, torch::kLong);
    rollout.labels = torch::tensor({{20, 21, 22, 1}, {23, 24, 25, 1}});
    rollout.mask = torch::ones({2, 4});
    rollout.rawScores = torch::tensor({1.0f, -1.0f});
    const auto responseLogprobs = [&] {
        mp::PpoRollout copy = rollout;
        trainer.evaluate(copy);
        return copy.logprobs.sum(1);
    };
    const auto before = responseLogprobs();
    for (std::int64_t step = 0; step < 3; ++step)
        ASSERT_TRUE(std::isfinite(trainer.step(rollout, step).metrics.at("loss")));
    const auto change = responseLogprobs() - before;
    EXPECT_GT(change[0].item<double>(), 0.05) << change;
    EXPECT_LT(change[1].item<double>(), -0.05) << change;
}

TEST(PpoTrainer, RejectsAnOrderOfAnotherSize)
{
    mp::T5Model policy = tinyT5(6);
    mp::PpoTrainer trainer(policy, mp::RewardModel{nullptr},
                           {.order = [](std::int64_t, std::int64_t, std::int64_t rows) {
                               return identity(rows - 1);
                           }});
    EXPECT_THROW(trainer.step(fourRollouts(), 0), std::invalid_argument);
}

TEST(PpoTrainer, ValueHeadDropsOutOnlyInTheUpdate)
{
    mp::T5Model policy = tinyT5(7);
    mp::PpoTrainer trainer(
        policy, mp::RewardModel{nullptr},
        {.miniBatchSize = 4, .ppoEpochs = 1, .valueHead = true, .valueHeadDropout = 0.5});
    // The rollout's values come from the no-grad forward in evaluation mode: no dropout, so two
    // evaluations agree, and they are the head's (not the zeros of no critic).
    mp::PpoRollout first = fourRollouts(), second = fourRollouts();
    trainer.evaluate(first);
    trainer.evaluate(second);
    EXPECT_TRUE(torch::equal(first.values, second.values));
    EXPECT_GT(first.values.abs().max().item<double>(), 0.0);
    // The update's forward drops half the states' entries: its value predictions differ from the
    // evaluation's, which ppo/val/vpred (their masked mean) shows at the initial weights.
    const auto result = trainer.update(first, 0);
    const double evaluated =
        (first.values * first.mask).sum().item<double>() / first.mask.sum().item<double>();
    EXPECT_GT(std::abs(result.metrics.at("ppo/val/vpred") - evaluated), 1e-6);
}

TEST(PpoTrainer, RejectsACriticAndAValueHeadTogether)
{
    EXPECT_THROW(mp::PpoTrainer(tinyT5(8), mp::RewardModel(tinyT5(9), true), {.valueHead = true}),
                 std::invalid_argument);
}

} // namespace
