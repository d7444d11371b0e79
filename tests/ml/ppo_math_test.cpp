// PPO math against the spec's test vectors (§6), float64 and float32 at rtol 1e-6.
#include "ml/core/error.h"
#include "ml/train/ppo_math.h"
#include "ml/train/running_moments.h"

#include "near.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace {

constexpr double kPpoRtol = 1e-6;

// Absolute floor: a float32 loss that is a cancelling sum of O(1) terms (loss/total ≈ 0.004 from
// terms near 1) carries the inputs' own float32 rounding, ~5e-8; float64 needs no floor.
thread_local double gPpoAtol = 1e-9;

void expectPpoNear(double actual, double expected, const std::string &what)
{
    mp::test::expectNear(actual, expected, kPpoRtol, gPpoAtol, what);
}

void expectPpoTensorNear(const at::Tensor &actual, const std::vector<double> &expected,
                         const std::string &what)
{
    mp::test::expectTensorNear(actual, expected, kPpoRtol, gPpoAtol, what);
}

class PpoMathTest : public ::testing::TestWithParam<c10::ScalarType> {
protected:
    void SetUp() override { gPpoAtol = GetParam() == torch::kFloat ? 1e-7 : 1e-9; }
    void TearDown() override { gPpoAtol = 1e-9; }
    at::Tensor t(std::vector<double> values, std::vector<std::int64_t> shape = {2, 4}) const
    {
        return torch::tensor(values, torch::kDouble).reshape(shape).to(GetParam());
    }
    at::Tensor lp() const { return t({-1, -2, -0.5, -3, -0.7, -1.1, -0.9, 0}); }
    at::Tensor ref() const { return t({-1.2, -1.5, -0.5, -2, -0.7, -1.6, -1.0, 0}); }
    at::Tensor values() const { return t({0.5, 0.4, 0.3, 0.9, 0.1, 0.2, -0.1, 0.7}); }
    at::Tensor mask() const { return t({1, 1, 1, 1, 1, 1, 1, 0}); }
    at::Tensor scores() const { return t({1, -0.5}, {2}); }
};

TEST_P(PpoMathTest, RewardsAdvantagesReturns)
{
    const auto rewards = mp::computeRewards(scores(), lp(), ref(), mask(), 0.2);
    expectPpoTensorNear(rewards.rewards, {-0.04, 0.1, 0, 1.2, 0, -0.1, -0.52, 0}, "rewards");
    const auto adv = mp::computeAdvantages(values(), rewards.rewards, mask());
    expectPpoTensorNear(adv.rawAdvantages,
                        {0.6587125, 0.84075, 0.885, 0.3, -0.65905, -0.799, -0.42, 0}, "raw A");
    expectPpoTensorNear(adv.returns, {1.1587125, 1.24075, 1.185, 1.2, -0.55905, -0.599, -0.52, 0},
                        "returns");
    expectPpoTensorNear(adv.advantages,
                        {0.7477182331, 0.9981507531, 1.0590263365, 0.2542304882, -1.0651532011,
                         -1.257685131, -0.7362874788, -0.1584853314},
                        "whitened A");
}

TEST_P(PpoMathTest, StepStats)
{
    const auto rewards = mp::computeRewards(scores(), lp(), ref(), mask(), 0.2);
    mp::PpoStepInputs inputs{.scores = scores(),
                             .logprobs = lp(),
                             .refLogprobs = ref(),
                             .masks = mask(),
                             .kls = rewards.kls,
                             .nonScoreRewards = rewards.nonScoreRewards,
                             .queryLengths = torch::tensor({3, 5}),
                             .responseLengths = torch::tensor({6, 5}),
                             .klCoef = 0.2};
    const auto step = mp::ppoStepStats(inputs, {});
    const auto &s = step.stats.scalars;
    expectPpoNear(s.at("objective/kl"), -0.35, "objective/kl");
    expectPpoNear(s.at("objective/entropy"), 4.6, "objective/entropy");
    expectPpoNear(s.at("ppo/mean_non_score_reward"), 0.02, "mean_non_score_reward");
    expectPpoNear(s.at("ppo/mean_scores"), 0.25, "mean_scores");
    expectPpoNear(s.at("objective/kl_coef"), 0.2, "kl_coef");
    expectPpoNear(s.at("tokens/queries_len_mean"), 4, "queries_len_mean");
    EXPECT_TRUE(step.warnings.empty());
    EXPECT_EQ(step.stats.distributions.at("objective/kl_dist").numel(), 2);
}

TEST_P(PpoMathTest, LossVectors)
{
    const auto rewards = mp::computeRewards(scores(), lp(), ref(), mask(), 0.2);
    const auto adv = mp::computeAdvantages(values(), rewards.rewards, mask());
    const at::Tensor newLp = t({-0.8, -2.1, -0.2, -3, -0.7, -0.9, -1.3, 0});
    const at::Tensor vpred = t({0.7, 0.35, 0.6, 1.0, 0.1, 0.5, -0.2, 0});
    const auto result =
        mp::ppoLoss(lp(), adv.values, {}, vpred, newLp, mask(), adv.advantages, adv.returns);
    EXPECT_FALSE(result.skipped);
    const auto &s = result.stats.scalars;
    expectPpoNear(s.at("loss/policy"), -0.01930926428, "loss/policy");
    expectPpoNear(s.at("loss/value"), 0.2326875445, "loss/value");
    expectPpoNear(s.at("loss/total"), 0.003959490171, "loss/total");
    expectPpoNear(result.loss.item<double>(), 0.003959490171, "loss tensor");
    expectPpoNear(s.at("policy/clipfrac"), 0.4285714286, "policy/clipfrac");
    expectPpoNear(s.at("val/clipfrac"), 0.1428571429, "val/clipfrac");
    expectPpoNear(s.at("policy/approxkl"), 0.02428571429, "approxkl");
    expectPpoNear(s.at("policy/policykl"), -0.02857142857, "policykl");
    expectPpoNear(s.at("policy/ratio_mean"), 1.05254597, "mean ratio");
    expectPpoNear(s.at("val/vpred"), 0.4357142857, "val/vpred");
    expectPpoNear(s.at("val/error"), 0.4472322318, "val/error");
    expectPpoNear(s.at("returns/mean"), 0.4437732143, "returns/mean");
    expectPpoNear(s.at("returns/var"), 0.8815825771, "returns/var");

    mp::PpoStatsAccumulator accumulator;
    accumulator.add(result.stats);
    accumulator.add(result.stats);
    const auto averaged = accumulator.mean();
    expectPpoNear(averaged.scalars.at("ppo/loss/total"), 0.003959490171, "averaged total");
    expectPpoNear(averaged.scalars.at("ppo/val/var_explained"), 1 - 0.4472322318 / 0.8815825771,
                  "var_explained");
    EXPECT_EQ(averaged.distributions.at("ppo/policy/ratio").numel(), 16);
}

TEST_P(PpoMathTest, RatioThresholdZeroesLossButKeepsGraph)
{
    const auto rewards = mp::computeRewards(scores(), lp(), ref(), mask(), 0.2);
    const auto adv = mp::computeAdvantages(values(), rewards.rewards, mask());
    at::Tensor newLp = (lp() + 5.0).detach().requires_grad_(true); // ratio e^5 ≈ 148 > 10
    const auto result =
        mp::ppoLoss(lp(), adv.values, {}, values(), newLp, mask(), adv.advantages, adv.returns);
    EXPECT_TRUE(result.skipped);
    EXPECT_EQ(result.loss.item<double>(), 0.0);
    EXPECT_TRUE(result.loss.requires_grad());
    result.loss.backward();
    EXPECT_EQ(newLp.grad().abs().sum().item<double>(), 0.0);
}

TEST_P(PpoMathTest, KlPenalties)
{
    const at::Tensor p = t({std::log(0.7)}, {1});
    const at::Tensor q = t({std::log(0.5)}, {1});
    expectPpoTensorNear(mp::klPenalty(p, q, mp::KlPenalty::Kl), {0.3364722366}, "kl");
    expectPpoTensorNear(mp::klPenalty(p, q, mp::KlPenalty::Abs), {0.3364722366}, "abs");
    expectPpoTensorNear(mp::klPenalty(q, p, mp::KlPenalty::Abs), {0.3364722366}, "abs reversed");
    expectPpoTensorNear(mp::klPenalty(p, q, mp::KlPenalty::Mse), {0.0566067830}, "mse");
    expectPpoTensorNear(mp::klPenalty(p, q, mp::KlPenalty::K3),
                        {std::exp(0.3364722366) - 0.3364722366 - 1}, "k3");
    const at::Tensor full = mp::klPenalty(t({std::log(0.7), std::log(0.2), std::log(0.1)}, {1, 3}),
                                          t({std::log(0.5), std::log(0.3), std::log(0.2)}, {1, 3}),
                                          mp::KlPenalty::Full);
    expectPpoTensorNear(full, {0.0851228260}, "full");
}

TEST_P(PpoMathTest, RunningMomentsAndScoreTransforms)
{
    const at::Tensor batch = t({1, 2, 3, 4}, {4});
    mp::RunningMoments moments;
    moments.update(batch);
    expectPpoNear(moments.mean(), 2.5, "mean");
    expectPpoNear(moments.var(), 1.25, "var");
    expectPpoNear(moments.std(), 1.2909944487, "std");
    moments.update(t({0, 0}, {2}));
    expectPpoNear(moments.mean(), 1.6666666667, "mean 2");
    expectPpoNear(moments.var(), 2.2222222222, "var 2");
    expectPpoNear(moments.std(), 1.6329931619, "std 2");

    mp::RunningMoments normRunning;
    expectPpoTensorNear(
        mp::transformScores(batch, normRunning, {.useScaling = true, .useNorm = true}),
        {-1.1618948966, -0.3872982989, 0.3872982989, 1.1618948966}, "norm");
    mp::RunningMoments scaleRunning;
    expectPpoTensorNear(mp::transformScores(batch, scaleRunning, {.useScaling = true}),
                        {0.7745965977, 1.5491931954, 2.3237897931, 3.0983863909}, "scale");
    mp::RunningMoments unused;
    expectPpoTensorNear(mp::transformScores(batch, unused, {.clip = 2.5}), {1, 2, 2.5, 2.5},
                        "clip");
    EXPECT_EQ(unused.count(), 1e-24);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, PpoMathTest, ::testing::Values(torch::kDouble, torch::kFloat));

TEST(PpoMath, AdaptiveKlController)
{
    struct Row {
        double current;
        std::int64_t nSteps;
        double expected;
    };
    for (const Row &row : {Row{8, 256, 0.201024}, Row{3, 256, 0.198976}, Row{6.6, 128, 0.200256},
                           Row{100, 32, 0.200128}}) {
        auto controller = mp::KlController::adaptive(0.2, 6, 10000);
        controller.update(row.current, row.nSteps);
        expectPpoNear(controller.value(), row.expected,
                      "adaptive KL " + std::to_string(row.current));
    }
    auto fixed = mp::KlController::fixed(0.2);
    fixed.update(100, 256);
    EXPECT_EQ(fixed.value(), 0.2);
}

TEST(PpoMath, MaskedHelpers)
{
    const at::Tensor x = torch::tensor({1.0, 2.0, 3.0, 100.0});
    const at::Tensor m = torch::tensor({1.0, 1.0, 1.0, 0.0});
    EXPECT_DOUBLE_EQ(mp::maskedMean(x, m).item<double>(), 2.0);
    EXPECT_DOUBLE_EQ(mp::maskedVar(x, m).item<double>(), 1.0);
    const at::Tensor whitenedNoShift = mp::maskedWhiten(x, m, false);
    EXPECT_NEAR(mp::maskedMean(whitenedNoShift, m).item<double>(), 2.0, 1e-6);
    EXPECT_THROW(mp::maskedVar(x, torch::zeros({4})), std::invalid_argument);
}

TEST(PpoMath, EncoderDecoderMaskSkipsFirstToken)
{
    // Decoder ids [start, a, b, eos] -> len 4, 3 log-prob positions: mask [0, 1, 1].
    const at::Tensor mask = mp::encoderDecoderResponseMask({4, 3}, 3);
    expectPpoTensorNear(mask, {0, 1, 1, 0, 1, 0}, "mask");
}

TEST(PpoMath, ParseKlPenalty)
{
    EXPECT_EQ(mp::parseKlPenalty("k3"), mp::KlPenalty::K3);
    EXPECT_EQ(mp::parseKlPenalty("full"), mp::KlPenalty::Full);
    EXPECT_THROW(mp::parseKlPenalty("kl2"), mp::InputError);
}

TEST(PpoMath, ScoreLandsOnLastMaskedIndex)
{
    const at::Tensor zeros = torch::zeros({1, 4});
    const auto rewards = mp::computeRewards(torch::tensor({2.0f}), zeros, zeros,
                                            torch::tensor({{0.0f, 1.0f, 1.0f, 0.0f}}), 0.2);
    expectPpoTensorNear(rewards.rewards, {0, 0, 2, 0}, "score position");
    EXPECT_THROW(mp::computeRewards(torch::tensor({2.0f}), zeros, zeros, torch::zeros({1, 4}), 0.2),
                 std::invalid_argument);
}

} // namespace
