// The leaderboard's Bradley-Terry fit and bootstrap (ml/eval/bradley_terry.*): closed forms,
// scipy's logistic-regression fit (tests/reference/bradley_terry.py), and interval coverage on
// simulated tournaments with known strengths.

#include "ml/core/error.h"
#include "ml/eval/bradley_terry.h"
#include "tests/ml/golden_files.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

namespace mp {
namespace {

std::vector<PairwiseOutcome> repeat(int first, int second, double score, int times)
{
    return std::vector<PairwiseOutcome>(times, PairwiseOutcome{first, second, score});
}

std::vector<PairwiseOutcome> join(std::vector<PairwiseOutcome> a,
                                  const std::vector<PairwiseOutcome> &b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

TEST(BradleyTerry, TwoModelsKWinsOfNIsTheLogOdds)
{
    for (const auto &[k, n] : std::vector<std::pair<int, int>>{{7, 10}, {1, 4}, {50, 60}}) {
        const auto outcomes = join(repeat(0, 1, 1.0, k), repeat(1, 0, 1.0, n - k));
        const BradleyTerryFit fit = fitBradleyTerry(2, outcomes, {.ridge = 0});
        ASSERT_TRUE(fit.converged);
        EXPECT_NEAR(fit.theta[0] - fit.theta[1], std::log(double(k) / (n - k)), 1e-9);
        EXPECT_NEAR(fit.theta[0] + fit.theta[1], 0.0, 1e-12); // mean 0
    }
}

TEST(BradleyTerry, ATieIsHalfAWinForEachSide)
{
    // 3 wins, 1 loss and 2 ties = 4 of 6 points: log(4/2).
    const auto outcomes =
        join(join(repeat(0, 1, 1.0, 3), repeat(0, 1, 0.0, 1)), repeat(1, 0, 0.5, 2));
    const BradleyTerryFit fit = fitBradleyTerry(2, outcomes, {.ridge = 0});
    EXPECT_NEAR(fit.theta[0] - fit.theta[1], std::log(2.0), 1e-9);
    // Only ties: equal strengths.
    const BradleyTerryFit ties =
        fitBradleyTerry(3, join(repeat(0, 1, 0.5, 4), repeat(1, 2, 0.5, 2)), {.ridge = 0});
    for (double theta : ties.theta)
        EXPECT_NEAR(theta, 0.0, 1e-12);
}

TEST(BradleyTerry, ARidgeKeepsAnUndefeatedModelFinite)
{
    const auto outcomes = repeat(0, 1, 1.0, 10);
    const BradleyTerryFit free = fitBradleyTerry(2, outcomes, {.ridge = 0, .maxIterations = 60});
    EXPECT_FALSE(free.converged); // the MLE is at infinity
    const BradleyTerryFit ridged = fitBradleyTerry(2, outcomes, {.ridge = 0.1});
    ASSERT_TRUE(ridged.converged);
    // Stationarity by hand: 10 (1 - sigmoid(2t)) = 0.1 t with theta = (t, -t).
    const double t = ridged.theta[0];
    EXPECT_NEAR(ridged.theta[1], -t, 1e-12);
    EXPECT_NEAR(10.0 * (1.0 - 1.0 / (1.0 + std::exp(-2 * t))), 0.1 * t, 1e-9);
    EXPECT_GT(t, 1.0);
    EXPECT_LT(t, 10.0);
}

TEST(BradleyTerry, MatchesScipyLogisticRegression)
{
    const auto golden = test::readJsonFile(test::goldenDir("bradley_terry") / "cases.json");
    ASSERT_GE(golden["cases"].size(), 5u);
    for (const auto &c : golden["cases"]) {
        SCOPED_TRACE(c["name"].get<std::string>());
        std::vector<PairwiseOutcome> outcomes;
        for (const auto &o : c["outcomes"])
            outcomes.push_back({o[0].get<int>(), o[1].get<int>(), o[2].get<double>()});
        const int n = c["num_models"].get<int>();
        const BradleyTerryFit fit =
            fitBradleyTerry(n, outcomes, {.ridge = c["ridge"].get<double>()});
        ASSERT_TRUE(fit.converged);
        EXPECT_LT(fit.iterations, 30);
        double largest = 0;
        for (int m = 0; m < n; ++m) {
            EXPECT_NEAR(fit.theta[m], c["theta"][m].get<double>(), 1e-6) << "model " << m;
            largest = std::max(largest, std::abs(fit.theta[m] - c["theta"][m].get<double>()));
        }
        // scipy's BFGS stops at a gradient of 5e-8 on the undefeated case (its own report).
        EXPECT_NEAR(fit.logLikelihood, c["log_likelihood"].get<double>(), 1e-7);
        std::printf("%s: largest theta difference %.2g\n", c["name"].get<std::string>().c_str(),
                    largest);
    }
}

TEST(BradleyTerry, RefusesBadInput)
{
    EXPECT_THROW(fitBradleyTerry(2, {{0, 2, 1.0}}), InputError);
    EXPECT_THROW(fitBradleyTerry(2, {{1, 1, 1.0}}), InputError);
    EXPECT_THROW(fitBradleyTerry(2, {{0, 1, 1.5}}), InputError);
    EXPECT_THROW(fitBradleyTerry(2, {{0, 1, 1.0}}, {.ridge = -1}), InputError);
    EXPECT_THROW(bootstrapBradleyTerry(2, {{0, 1, 1.0}}, {}, {.anchor = 2}), InputError);
}

TEST(BradleyTerry, QuantilesInterpolateAsNumpy)
{
    const std::vector<double> values{1, 2, 3, 4};
    EXPECT_DOUBLE_EQ(quantileSorted(values, 0.25), 1.75); // numpy.quantile([1,2,3,4], 0.25)
    EXPECT_DOUBLE_EQ(quantileSorted(values, 0.975), 3.925);
    EXPECT_DOUBLE_EQ(quantileSorted(values, 0.0), 1.0);
}

TEST(BradleyTerry, BootstrapIsSeededAndAnchored)
{
    const auto outcomes =
        join(join(repeat(0, 1, 1.0, 6), repeat(1, 0, 1.0, 4)), repeat(2, 1, 0.5, 5));
    const BootstrapOptions options{.replicates = 200, .seed = 5, .anchor = 1};
    const auto a = bootstrapBradleyTerry(3, outcomes, {}, options);
    const auto b = bootstrapBradleyTerry(3, outcomes, {}, options);
    EXPECT_EQ(a.lower, b.lower);
    EXPECT_EQ(a.upper, b.upper);
    EXPECT_EQ(a.lower[1], 0.0);
    EXPECT_EQ(a.upper[1], 0.0);
    const BradleyTerryFit fit = fitBradleyTerry(3, outcomes);
    for (int m : {0, 2}) {
        EXPECT_LT(a.lower[m], fit.theta[m] - fit.theta[1]);
        EXPECT_GT(a.upper[m], fit.theta[m] - fit.theta[1]);
    }
    const auto c =
        bootstrapBradleyTerry(3, outcomes, {}, {.replicates = 200, .seed = 6, .anchor = 1});
    EXPECT_NE(a.lower[0], c.lower[0]);
}

// Tournaments drawn from known strengths: the 95% intervals of theta_m - theta_0 hold the truth
// in about 95% of the cases (binomial: 100 intervals, at least 85 expected well above chance).
TEST(BradleyTerry, BootstrapIntervalsCoverTheTruth)
{
    const std::vector<double> truth{0.0, 0.4, -0.6, 1.0, 0.2, -0.2};
    const int n = int(truth.size());
    std::mt19937_64 rng(2024);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    int covered = 0;
    int intervals = 0;
    double width = 0;
    for (int tournament = 0; tournament < 20; ++tournament) {
        std::vector<PairwiseOutcome> outcomes;
        for (int k = 0; k < 400; ++k) {
            const int i = int(rng() % n);
            const int j = (i + 1 + int(rng() % (n - 1))) % n;
            const double p = 1.0 / (1.0 + std::exp(-(truth[i] - truth[j])));
            const double u = uniform(rng);
            outcomes.push_back({i, j, u < 0.1 ? 0.5 : (uniform(rng) < p ? 1.0 : 0.0)});
        }
        const auto ci = bootstrapBradleyTerry(n, outcomes, {.ridge = 0.01},
                                              {.replicates = 300, .seed = 7u + tournament});
        for (int m = 1; m < n; ++m) {
            ++intervals;
            covered += (ci.lower[m] <= truth[m] && truth[m] <= ci.upper[m]) ? 1 : 0;
            width += ci.upper[m] - ci.lower[m];
        }
    }
    EXPECT_GE(covered, 85) << "of " << intervals;
    // Not trivially wide: about 2 * 1.96 * sqrt(2 * 6 / (400 * 0.2)) ~ 1.5 log-odds.
    EXPECT_LT(width / intervals, 2.0);
    EXPECT_GT(width / intervals, 0.5);
}

} // namespace
} // namespace mp
