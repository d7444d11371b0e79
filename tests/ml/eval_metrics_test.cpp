// The HumanML3D metrics on inputs with known answers.

#include "ml/eval/metrics.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <set>

namespace {

at::Tensor rotation(double radians)
{
    return torch::tensor(
               {std::cos(radians), -std::sin(radians), std::sin(radians), std::cos(radians)},
               torch::kFloat64)
        .view({2, 2});
}

TEST(EvalMetrics, DistanceMatrixIsEuclidean)
{
    const auto a = torch::tensor({0.0, 0.0, 3.0, 4.0}, torch::kFloat64).view({2, 2});
    const auto b = torch::tensor({0.0, 0.0, 6.0, 8.0, 3.0, 0.0}, torch::kFloat64).view({3, 2});
    const auto d = mp::euclideanDistanceMatrix(a, b);
    ASSERT_EQ(d.sizes(), (std::vector<int64_t>{2, 3}));
    EXPECT_NEAR(d[0][0].item<double>(), 0.0, 1e-12);
    EXPECT_NEAR(d[0][1].item<double>(), 10.0, 1e-12);
    EXPECT_NEAR(d[1][1].item<double>(), 5.0, 1e-12);
    EXPECT_NEAR(d[1][2].item<double>(), 4.0, 1e-12);
}

TEST(EvalMetrics, TopKOfHandMadeDistanceMatrix)
{
    // Row 0: true pair nearest (rank 0); row 1: third (rank 2); row 2: second (rank 1).
    const auto d =
        torch::tensor({1.0, 2.0, 3.0, 1.0, 5.0, 2.0, 4.0, 1.0, 2.0}, torch::kFloat64).view({3, 3});
    const auto hits = mp::topKHits(d);
    EXPECT_EQ(hits[0], 1);
    EXPECT_EQ(hits[1], 2);
    EXPECT_EQ(hits[2], 3);
}

TEST(EvalMetrics, TopKTiesRankAsStableSort)
{
    // Every entry equal: row i ranks at position i, as a stable argsort puts it.
    const auto d = torch::ones({3, 3}, torch::kFloat64);
    const auto hits = mp::topKHits(d);
    EXPECT_EQ(hits[0], 1);
    EXPECT_EQ(hits[1], 2);
    EXPECT_EQ(hits[2], 3);
}

TEST(EvalMetrics, MatchingOfPerfectPairsAndDroppedRemainder)
{
    torch::manual_seed(3);
    const auto points = torch::randn({70, 8}, torch::kFloat64) * 10.0;
    mp::MetricRng rng(1);
    const auto result = mp::matchingMetrics(points, points, rng, 32);
    EXPECT_EQ(result.numEvaluated, 64); // two complete groups, 6 dropped
    EXPECT_EQ(result.usedIndices.size(), 64u);
    EXPECT_EQ(std::set<int64_t>(result.usedIndices.begin(), result.usedIndices.end()).size(), 64u);
    for (double r : result.rPrecision)
        EXPECT_DOUBLE_EQ(r, 1.0);
    EXPECT_NEAR(result.matchingScore, 0.0, 1e-6);
}

TEST(EvalMetrics, MatchingScoreIsMeanTrueDistance)
{
    // Motions are the texts shifted by (3,4): every true distance is 5.
    torch::manual_seed(4);
    const auto texts = torch::randn({64, 2}, torch::kFloat64) * 100.0;
    const auto motions = texts + torch::tensor({3.0, 4.0}, torch::kFloat64);
    mp::MetricRng rng(2);
    const auto result = mp::matchingMetrics(texts, motions, rng, 32);
    EXPECT_NEAR(result.matchingScore, 5.0, 1e-9);
    EXPECT_LE(result.rPrecision[0], result.rPrecision[1]);
    EXPECT_LE(result.rPrecision[1], result.rPrecision[2]);
}

TEST(EvalMetrics, MatchingNeedsAGroup)
{
    mp::MetricRng rng(1);
    const auto x = torch::zeros({10, 4});
    EXPECT_THROW(mp::matchingMetrics(x, x, rng, 32), std::invalid_argument);
}

TEST(EvalMetrics, IdenticalSetsGiveFidZero)
{
    torch::manual_seed(5);
    const auto x = torch::randn({200, 16}) * 3.0 + 1.0;
    EXPECT_NEAR(mp::fid(x, x), 0.0, 1e-8);
}

TEST(EvalMetrics, SampleCovarianceUsesDdofOne)
{
    const auto x = torch::tensor({1.0, 2.0, 3.0, 6.0}, torch::kFloat64).view({2, 2});
    const auto stats = mp::gaussianStats(x);
    EXPECT_NEAR(stats.mean[0].item<double>(), 2.0, 1e-12);
    EXPECT_NEAR(stats.mean[1].item<double>(), 4.0, 1e-12);
    // Deviations (-1,-2) and (1,2): sum of outer products / (2-1).
    EXPECT_NEAR(stats.cov[0][0].item<double>(), 2.0, 1e-12);
    EXPECT_NEAR(stats.cov[0][1].item<double>(), 4.0, 1e-12);
    EXPECT_NEAR(stats.cov[1][1].item<double>(), 8.0, 1e-12);
}

TEST(EvalMetrics, FidOfCommutingGaussiansIsClosedForm)
{
    // Sigma1 = I, Sigma2 = R diag(4,9) R^T: Tr(I + Sigma2 - 2 sqrt(Sigma2)) = 2 + 13 - 10 = 5.
    const auto r = rotation(0.4);
    mp::GaussianStats a{torch::tensor({0.0, 0.0}, torch::kFloat64), torch::eye(2, torch::kFloat64)};
    mp::GaussianStats b{
        torch::tensor({1.0, 2.0}, torch::kFloat64),
        r.matmul(torch::diag(torch::tensor({4.0, 9.0}, torch::kFloat64))).matmul(r.t())};
    EXPECT_NEAR(mp::frechetDistance(a, b), 5.0 + 5.0, 1e-9);
}

TEST(EvalMetrics, FidOfNonCommutingGaussiansIsClosedForm)
{
    // For 2x2 M with positive eigenvalues, tr sqrtm(M) = sqrt(tr M + 2 sqrt(det M)).
    const auto r = rotation(0.5236);
    const auto cov1 = torch::diag(torch::tensor({1.0, 4.0}, torch::kFloat64));
    const auto cov2 =
        r.matmul(torch::diag(torch::tensor({4.0, 9.0}, torch::kFloat64))).matmul(r.t());
    const double trProduct = cov1.matmul(cov2).trace().item<double>();
    const double detProduct = 4.0 * 36.0;
    const double expected =
        0.25 + 5.0 + 13.0 - 2.0 * std::sqrt(trProduct + 2.0 * std::sqrt(detProduct));
    mp::GaussianStats a{torch::tensor({0.5, 0.0}, torch::kFloat64), cov1};
    mp::GaussianStats b{torch::tensor({0.0, 0.0}, torch::kFloat64), cov2};
    EXPECT_NEAR(mp::frechetDistance(a, b), expected, 1e-9);
}

TEST(EvalMetrics, FidOfSingularCovariancesStaysFinite)
{
    // 10 samples in 64 dims: rank-deficient covariances, still a finite non-negative number.
    torch::manual_seed(6);
    const auto x = torch::randn({10, 64});
    const auto y = torch::randn({10, 64}) + 0.5;
    const double value = mp::fid(x, y);
    EXPECT_TRUE(std::isfinite(value));
    EXPECT_GT(value, 0.0);
}

TEST(EvalMetrics, DiversityOfConstantSetIsZero)
{
    const auto x = torch::full({400, 8}, 2.5);
    mp::MetricRng rng(7);
    EXPECT_NEAR(mp::diversity(x, rng, 300), 0.0, 1e-12);
}

TEST(EvalMetrics, DiversityOfTwoClustersIsBounded)
{
    // Half the points at 0, half at (6,8): every pair distance is 0 or 10.
    auto x = torch::zeros({400, 2}, torch::kFloat64);
    x.slice(0, 200).copy_(torch::tensor({6.0, 8.0}, torch::kFloat64).expand({200, 2}));
    mp::MetricRng rng(8);
    const double value = mp::diversity(x, rng, 300);
    EXPECT_GT(value, 2.0);
    EXPECT_LT(value, 8.0);
    // A pair distance is 0 or 10, so the mean of 300 is a multiple of 10/300.
    EXPECT_NEAR(std::fmod(value * 30.0 + 1e-9, 1.0), 0.0, 1e-6);
}

TEST(EvalMetrics, DiversityClampsToSampleCount)
{
    const auto x = torch::randn({20, 4});
    mp::MetricRng rng(9);
    EXPECT_TRUE(std::isfinite(mp::diversity(x, rng, 300)));
}

TEST(EvalMetrics, MultimodalityOfRepeatedSamplesIsZero)
{
    const auto perText = torch::randn({100, 1, 16});
    mp::MetricRng rng(10);
    EXPECT_NEAR(mp::multimodality(perText.expand({100, 30, 16}), rng, 10), 0.0, 1e-12);
}

TEST(EvalMetrics, MultimodalitySharesIndexSetsAcrossTexts)
{
    // Repeat r of text t sits at r * (t + 1) on a line: with shared index sets, text t's mean
    // distance is (t + 1) times text 0's, so the overall mean is 50.5 times text 0's.
    auto x = torch::zeros({100, 30, 1}, torch::kFloat64);
    for (int t = 0; t < 100; ++t)
        for (int r = 0; r < 30; ++r)
            x[t][r][0] = double(r) * (t + 1);
    mp::MetricRng rngAll(11);
    const double all = mp::multimodality(x, rngAll, 10);
    mp::MetricRng rngFirst(11);
    const double first = mp::multimodality(x.slice(0, 0, 1), rngFirst, 10);
    EXPECT_NEAR(all, 50.5 * first, 1e-9);
}

TEST(EvalMetrics, ConfidenceIntervalFormula)
{
    const auto stats = mp::metricStatistics({1.0, 2.0, 3.0, 4.0});
    EXPECT_DOUBLE_EQ(stats.mean, 2.5);
    // np.std (ddof 0) = sqrt(1.25); CI = 1.96 * std / sqrt(4).
    EXPECT_NEAR(stats.confInterval, 1.96 * std::sqrt(1.25) / 2.0, 1e-12);
    EXPECT_EQ(stats.values.size(), 4u);
    EXPECT_DOUBLE_EQ(mp::metricStatistics({7.0}).confInterval, 0.0);
}

TEST(EvalMetrics, SamplingIsDistinctAndSeeded)
{
    mp::MetricRng a(42), b(42), c(43);
    const auto sa = mp::sampleWithoutReplacement(1000, 300, a);
    const auto sb = mp::sampleWithoutReplacement(1000, 300, b);
    const auto sc = mp::sampleWithoutReplacement(1000, 300, c);
    EXPECT_EQ(std::set<int64_t>(sa.begin(), sa.end()).size(), 300u);
    EXPECT_EQ(sa, sb);
    EXPECT_NE(sa, sc);
    for (auto v : sa)
        EXPECT_TRUE(v >= 0 && v < 1000);
}

TEST(EvalMetrics, MetricsAreDeterministicForASeed)
{
    torch::manual_seed(12);
    const auto texts = torch::randn({96, 8});
    const auto motions = texts + 0.8 * torch::randn({96, 8});
    auto run = [&](uint64_t seed) {
        mp::MetricRng rng(seed);
        const auto m = mp::matchingMetrics(texts, motions, rng, 32);
        return std::vector<double>{m.rPrecision[0], m.rPrecision[1], m.rPrecision[2],
                                   m.matchingScore, mp::diversity(motions, rng, 50)};
    };
    EXPECT_EQ(run(5), run(5));
    EXPECT_NE(run(5), run(6));
}

} // namespace
