// Reward-model loss/accuracy and NEFTune against the spec's vectors (§6), in float64 and
// float32 at rtol 1e-6.
#include "ml/core/error.h"
#include "ml/train/reward_loss.h"

#include "near.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace {

constexpr double kRewardRtol = 1e-6;

// Absolute floor for float32 (inputs of order 1 carry ~1e-7 of rounding); float64 needs none.
thread_local double gRewardAtol = 1e-12;

void expectRewardNear(double actual, double expected, const std::string &what)
{
    mp::test::expectNear(actual, expected, kRewardRtol, gRewardAtol, what);
}

void expectRewardTensorNear(const at::Tensor &actual, const std::vector<double> &expected,
                            const std::string &what)
{
    mp::test::expectTensorNear(actual, expected, kRewardRtol, gRewardAtol, what);
}

class LossVectorTest : public ::testing::TestWithParam<c10::ScalarType> {
protected:
    void SetUp() override { gRewardAtol = GetParam() == torch::kFloat ? 5e-7 : 1e-12; }
    void TearDown() override { gRewardAtol = 1e-12; }
    at::Tensor t(std::vector<double> values) const
    {
        return torch::tensor(values, torch::kDouble).to(GetParam());
    }
};

TEST_P(LossVectorTest, RewardModelVectors)
{
    const auto rc = t({1, -0.5, 2, 0.3}), rr = t({0, 0.5, 2, -1.2}), m = t({0.5, 0, 1, 2});
    const auto plain = mp::rewardLosses(rc, rr);
    expectRewardTensorNear(plain, {0.3132616875, 1.313261688, 0.6931471806, 0.201413278},
                           "no margin");
    expectRewardNear(plain.mean().item<double>(), 0.6302709584, "no margin mean");
    const auto margin = mp::rewardLosses(rc.unsqueeze(1), rr.unsqueeze(1), m);
    expectRewardTensorNear(margin, {0.4740769842, 1.313261688, 1.313261688, 0.9740769842},
                           "margin");
    expectRewardNear(margin.mean().item<double>(), 1.018669336, "margin mean");
    // The TRL [B,1] - [B] broadcast, kept here only as a reference value.
    const auto quirk = -torch::log_sigmoid((rc - rr).unsqueeze(1) - m.unsqueeze(0)).mean();
    expectRewardNear(quirk.item<double>(), 1.128386292, "TRL broadcast quirk");
    EXPECT_GT(std::abs(quirk.item<double>() - margin.mean().item<double>()), 0.1);

    expectRewardNear(mp::rewardAccuracy(rc, rr), 0.75, "accuracy, tie correct");
    expectRewardTensorNear(mp::rewardChosenProbability(rc, rr),
                           {0.7310585786, 0.2689414214, 0.5, 0.8175744762}, "p_chosen");
}

TEST_P(LossVectorTest, RewardSoftLabelForUnsure)
{
    // y = 0.5, m = 0: the loss is minimised at r_c = r_r and symmetric.
    const auto half = t({0.5, 0.5});
    const auto losses = mp::rewardLosses(t({1, 0}), t({0, 1}), {}, half);
    expectRewardNear(losses[0].item<double>(), losses[1].item<double>(), "symmetric");
    const auto atTie = mp::rewardLosses(t({0}), t({0}), {}, t({0.5}));
    expectRewardNear(atTie.item<double>(), std::log(2.0), "tie");
    EXPECT_LT(atTie.item<double>(), losses[0].item<double>());
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LossVectorTest, ::testing::Values(torch::kDouble, torch::kFloat));

TEST(RewardLoss, MarginsLabelsAndAccuracyByDegree)
{
    using D = mp::PreferenceDegree;
    const std::vector<D> degrees = {D::MuchBetter, D::Better, D::SlightlyBetter, D::Unsure};
    expectRewardTensorNear(mp::rewardMargins(degrees, mp::MarginScale::Big), {3, 2, 1, 0}, "big");
    expectRewardTensorNear(mp::rewardMargins(degrees, mp::MarginScale::Small), {1, 0.666, 0.333, 0},
                           "small");
    expectRewardTensorNear(mp::rewardLabels(degrees), {1, 1, 1, 0.5}, "labels");

    const auto metrics = mp::rewardAccuracyByDegree(torch::tensor({1.0, -0.5, 2.0, 0.3}),
                                                    torch::tensor({0.0, 0.5, 2.0, -1.2}), degrees);
    expectRewardNear(metrics.at("accuracy"), 2.0 / 3.0, "accuracy without unsure");
    EXPECT_EQ(metrics.at("accuracy/much_better"), 1.0);
    EXPECT_EQ(metrics.at("accuracy/better"), 0.0);
    EXPECT_EQ(metrics.at("accuracy/slightly_better"), 1.0);
    EXPECT_EQ(metrics.at("accuracy/unsure"), 1.0);
    EXPECT_EQ(metrics.at("ties"), 1.0);
}

TEST(Neftune, BoundAndNoise)
{
    expectRewardNear(mp::neftuneBound(5, 10, 512), 0.0698771243, "bound");
    at::Generator generator = at::detail::createCPUGenerator(7);
    const at::Tensor embeddings = torch::zeros({2, 10, 512});
    const at::Tensor noisy = mp::addNeftuneNoise(embeddings, 5, &generator);
    EXPECT_LE(noisy.abs().max().item<double>(), 0.0698771243);
    EXPECT_GT(noisy.abs().max().item<double>(), 0.06);
    EXPECT_NEAR(noisy.mean().item<double>(), 0.0, 0.002);
    at::Generator again = at::detail::createCPUGenerator(7);
    EXPECT_TRUE(torch::equal(noisy, mp::addNeftuneNoise(embeddings, 5, &again)));
}

} // namespace
