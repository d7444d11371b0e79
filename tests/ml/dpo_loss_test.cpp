// DPO-family losses and log-prob gathering against the spec's test vectors (§6), in float64 and
// float32 (rtol 1e-6).
#include "ml/core/error.h"
#include "ml/train/dpo_loss.h"
#include "ml/train/logprobs.h"
#include "ml/train/preference_degree.h"
#include "ml/train/running_moments.h"

#include "near.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <vector>

namespace {

constexpr double kRtol = 1e-6;

void expectNear(double actual, double expected, const char *what)
{
    mp::test::expectNear(actual, expected, kRtol, 1e-12, what);
}

void expectTensorNear(const at::Tensor &actual, const std::vector<double> &expected,
                      const char *what)
{
    mp::test::expectTensorNear(actual, expected, kRtol, 1e-12, what);
}

// Spec cases A-E: pc, pr, rc, rr.
struct Case {
    double pc, pr, rc, rr;
};
constexpr Case kCases[] = {{-10, -12, -11, -11.5},
                           {-15, -9, -12, -10},
                           {-5, -5, -5, -5},
                           {-1, -501, -1, -1},
                           {-501, -1, -1, -1}};

class DpoLossTest : public ::testing::TestWithParam<c10::ScalarType> {
protected:
    at::Tensor column(std::vector<int> rows, double Case::*field) const
    {
        std::vector<double> values;
        for (int r : rows)
            values.push_back(kCases[r].*field);
        return torch::tensor(values, torch::dtype(torch::kDouble)).to(GetParam());
    }

    mp::DpoLossResult run(std::vector<int> rows, mp::DpoLossOptions options,
                          const at::Tensor &eps = {}, mp::RunningMoments *moments = nullptr) const
    {
        return mp::dpoLoss(column(rows, &Case::pc), column(rows, &Case::pr),
                           column(rows, &Case::rc), column(rows, &Case::rr), options, eps, moments);
    }

    void expectPerCase(mp::DpoLossType type, double eps, const std::vector<double> &expected)
    {
        const auto result =
            run({0, 1, 2, 3, 4}, {.type = type, .beta = 0.1, .labelSmoothing = eps});
        EXPECT_EQ(result.losses.scalar_type(), GetParam());
        expectTensorNear(result.losses, expected, std::string(mp::dpoLossTypeName(type)).c_str());
    }
};

TEST_P(DpoLossTest, SigmoidVectors)
{
    expectPerCase(mp::DpoLossType::Sigmoid, 0.0,
                  {0.6209570478, 0.9130152524, 0.6931471806, 1.928749848e-22, 50});
}

TEST_P(DpoLossTest, SigmoidLabelSmoothingVectors)
{
    expectPerCase(mp::DpoLossType::Sigmoid, 0.1, {0.6359570478, 0.8730152524, 0.6931471806, 5, 45});
}

TEST_P(DpoLossTest, RobustVectors)
{
    expectPerCase(mp::DpoLossType::Robust, 0.1,
                  {0.6022070478, 0.9630152524, 0.6931471806, -6.25, 56.25});
}

TEST_P(DpoLossTest, HingeIpoSppoNcaVectors)
{
    expectPerCase(mp::DpoLossType::Hinge, 0.0, {0.85, 1.4, 1, 0, 51});
    expectPerCase(mp::DpoLossType::Ipo, 0.0, {12.25, 81, 25, 245025, 255025});
    expectPerCase(mp::DpoLossType::SppoHard, 0.0, {36.25, 100, 50, 245050, 255050});
    expectPerCase(mp::DpoLossType::NcaPair, 0.0,
                  {1.350824814, 1.503731197, 1.386294361, 1.039720771, 50.34657359});
}

TEST_P(DpoLossTest, RewardsPerCase)
{
    const auto result = run({0, 1, 2, 3, 4}, {});
    expectTensorNear(result.chosenRewards, {0.1, -0.3, 0, 0, -50}, "chosen rewards");
    expectTensorNear(result.rejectedRewards, {-0.05, 0.1, 0, -50, 0}, "rejected rewards");
    EXPECT_FALSE(result.chosenRewards.requires_grad());
}

TEST_P(DpoLossTest, SigmoidBatchMetrics)
{
    const auto result = run({0, 1, 2}, {});
    expectNear(result.losses.mean().item<double>(), 0.7423731602, "loss");
    const auto metrics =
        mp::dpoMetrics(result, column({0, 1, 2}, &Case::pc), column({0, 1, 2}, &Case::pr), 1.5, -2);
    expectNear(metrics.at("rewards/chosen"), -0.0666666667, "rewards/chosen");
    expectNear(metrics.at("rewards/rejected"), 0.0166666667, "rewards/rejected");
    expectNear(metrics.at("rewards/margins"), -0.0833333333, "rewards/margins");
    expectNear(metrics.at("rewards/accuracies"), 1.0 / 3.0, "accuracies (tie C is a miss)");
    expectNear(metrics.at("logps/chosen"), -10, "logps/chosen");
    expectNear(metrics.at("logps/rejected"), -8.6666666667, "logps/rejected");
    EXPECT_EQ(metrics.at("logits/chosen"), 1.5);
    EXPECT_EQ(metrics.at("logits/rejected"), -2);
}

TEST_P(DpoLossTest, PerExampleLabelSmoothingReplacesScalar)
{
    // ε per example: A gets 0.1, B gets 0 -> A as in the ε=0.1 column, B as plain sigmoid.
    const at::Tensor eps = torch::tensor({0.1, 0.0}, torch::dtype(torch::kDouble)).to(GetParam());
    const auto result = run({0, 1}, {.labelSmoothing = 0.4}, eps);
    expectTensorNear(result.losses, {0.6359570478, 0.9130152524}, "per-example ε");
}

TEST_P(DpoLossTest, KtoPairVectors)
{
    const auto both = run({0, 1}, {.type = mp::DpoLossType::KtoPair});
    expectTensorNear(both.losses, {0.4812587841, 0.5805423048, 0.4875026035, 0.5249791875},
                     "kto_pair [A,B]");
    expectNear(both.losses.mean().item<double>(), 0.5185707200, "kto_pair mean");
    const auto a = run({0}, {.type = mp::DpoLossType::KtoPair});
    expectTensorNear(a.losses, {0.4750208125, 0.4625701547}, "kto_pair [A]");
    expectNear(a.losses.mean().item<double>(), 0.4687954836, "kto_pair [A] mean");
    const auto b = run({1}, {.type = mp::DpoLossType::KtoPair});
    expectNear(b.losses.mean().item<double>(), 0.5618334238, "kto_pair [B] mean");
}

TEST_P(DpoLossTest, BcoPairFirstStep)
{
    mp::RunningMoments moments;
    const auto result = run({0, 1}, {.type = mp::DpoLossType::BcoPair}, {}, &moments);
    expectNear(moments.mean(), -0.0375, "delta");
    expectTensorNear(result.losses, {1.313675314, 1.597244448}, "bco_pair");
    expectNear(result.losses.mean().item<double>(), 1.455459881, "bco_pair mean");
}

TEST_P(DpoLossTest, ReferenceFreeDropsReferenceRatio)
{
    // h = pc - pr = 2 for A: sigmoid = -logσ(0.2).
    const auto result = run({0}, {.referenceFree = true});
    expectNear(result.losses.item<double>(), 0.5981388693815918, "reference free");
}

INSTANTIATE_TEST_SUITE_P(Dtypes, DpoLossTest, ::testing::Values(torch::kDouble, torch::kFloat));

TEST(DpoLoss, KtoPairKeepsGradientThroughKl)
{
    // Batch [A,B]: rKL = 0.25 > 0, so the rejected log-probs get gradient from every chosen loss.
    auto pr = torch::tensor({-12.0, -9.0}, torch::requires_grad());
    const auto result =
        mp::dpoLoss(torch::tensor({-10.0, -15.0}), pr, torch::tensor({-11.0, -12.0}),
                    torch::tensor({-11.5, -10.0}), {.type = mp::DpoLossType::KtoPair});
    result.losses.slice(0, 0, 2).sum().backward();
    ASSERT_TRUE(pr.grad().defined());
    EXPECT_GT(pr.grad().abs().sum().item<double>(), 0.0);
}

TEST(DpoLoss, ParseLossType)
{
    EXPECT_EQ(mp::parseDpoLossType("sigmoid"), mp::DpoLossType::Sigmoid);
    EXPECT_EQ(mp::parseDpoLossType("hinge"), mp::DpoLossType::Hinge);
    EXPECT_EQ(mp::parseDpoLossType("ipo"), mp::DpoLossType::Ipo);
    EXPECT_EQ(mp::parseDpoLossType("kto_pair"), mp::DpoLossType::KtoPair);
    EXPECT_EQ(mp::parseDpoLossType("nca_pair"), mp::DpoLossType::NcaPair);
    for (auto type : {mp::DpoLossType::Robust, mp::DpoLossType::BcoPair, mp::DpoLossType::SppoHard})
        EXPECT_EQ(mp::parseDpoLossType(mp::dpoLossTypeName(type)), type);
    EXPECT_THROW(mp::parseDpoLossType("kto"), mp::InputError);
    EXPECT_THROW(mp::parseDpoLossType("Sigmoid"), mp::InputError);
    EXPECT_TRUE(mp::usesAverageLogProbs(mp::DpoLossType::Ipo));
    EXPECT_FALSE(mp::usesAverageLogProbs(mp::DpoLossType::Sigmoid));
}

TEST(PreferenceDegree, PaperConstants)
{
    using D = mp::PreferenceDegree;
    EXPECT_EQ(mp::paperLabelSmoothing(D::MuchBetter), 0.0);
    EXPECT_EQ(mp::paperLabelSmoothing(D::Better), 0.2);
    EXPECT_EQ(mp::paperLabelSmoothing(D::SlightlyBetter), 0.3);
    EXPECT_EQ(mp::paperLabelSmoothing(D::Unsure), 0.5);
    EXPECT_EQ(mp::parseDegree("Negligibly better/unsure"), D::Unsure);
    EXPECT_EQ(mp::parseDegree("slightly_better"), D::SlightlyBetter);
    EXPECT_EQ(mp::parseDegree("Much better"), D::MuchBetter);
    EXPECT_FALSE(mp::parseDegree("meh").has_value());
}

// get_batch_logps on the spec's hand-built batch.
class LogProbsTest : public ::testing::TestWithParam<c10::ScalarType> {
protected:
    at::Tensor logits() const
    {
        return torch::tensor({1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 5.0, -1.0, 0.0}, torch::kDouble)
            .reshape({1, 3, 3})
            .to(GetParam());
    }
};

TEST_P(LogProbsTest, EncoderDecoderSumAndMean)
{
    const at::Tensor labels = torch::tensor({2, 0, -100}, torch::kLong).reshape({1, 3});
    const auto tokens = mp::tokenLogProbs(logits(), labels);
    expectTensorNear(tokens.logps, {-0.4076059644, -1.0986122887, 0}, "per token");
    expectTensorNear(tokens.mask, {1, 1, 0}, "mask");
    expectTensorNear(mp::sequenceLogProbs(logits(), labels), {-1.5062182531}, "sum");
    expectTensorNear(mp::sequenceLogProbs(logits(), labels, {.average = true}), {-0.7531091266},
                     "mean");
    expectNear(mp::logitsMean(logits()), 1.1111111111, "logits mean with padding");
}

TEST_P(LogProbsTest, DecoderOnlyShiftGivesSameSum)
{
    const at::Tensor labels = torch::tensor({-100, 2, 0}, torch::kLong).reshape({1, 3});
    const auto sum =
        mp::sequenceLogProbs(logits(), labels, {.alignment = mp::LabelAlignment::DecoderOnly});
    expectTensorNear(sum, {-1.5062182531}, "decoder-only sum");
}

TEST_P(LogProbsTest, BatchRowsAreIndependent)
{
    // Two rows: the spec row, and a row with only the last label scored.
    at::Tensor batch = torch::cat({logits(), logits()});
    const at::Tensor labels =
        torch::tensor({2, 0, -100, -100, -100, 1}, torch::kLong).reshape({2, 3});
    const at::Tensor sums = mp::sequenceLogProbs(batch, labels);
    const double lastRow = -1.0 - std::log(std::exp(5.0) + std::exp(-1.0) + 1.0);
    expectTensorNear(sums, {-1.5062182531, lastRow}, "batch sums");
}

TEST_P(LogProbsTest, EntropyAndGather)
{
    const at::Tensor z = torch::tensor({1.0, 2.0, 3.0}, torch::kDouble).to(GetParam());
    expectTensorNear(mp::entropyFromLogits(z), {0.8323955818}, "entropy");
    const at::Tensor ids = torch::tensor({2, 0, 1}, torch::kLong).reshape({1, 3});
    expectTensorNear(mp::gatherLogProbs(logits(), ids),
                     {-0.4076059644, -1.0986122887, -6.0091744846}, "gather");
}

TEST(LogProbs, ShapeMismatchThrows)
{
    EXPECT_THROW(mp::sequenceLogProbs(torch::zeros({2, 3, 4}), torch::zeros({2, 4}, torch::kLong)),
                 std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LogProbsTest, ::testing::Values(torch::kDouble, torch::kFloat));

} // namespace
