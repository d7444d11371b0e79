// Active pair selection (issue 21) on hand-built pools: the margin rule picks the pair with the
// smallest |implicit reward margin|, the diversity term moves the pick away from a prompt like
// those already chosen, and the T5 scorer's rewards are β·(log π − log π_ref) of a real model.
#include "ml/core/error.h"
#include "ml/models/bundle.h"
#include "ml/models/lora.h"
#include "ml/train/pair_selection.h"
#include "tests/app/tiny_bundle.h"
#include "tests/ml/temp_dir.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <set>
#include <string>

namespace {

using mp::CandidatePool;
using mp::PairRule;

// A stand-in for the policy: each candidate's log-probs under policy and reference are given,
// so the rewards (and the pick) are known in advance.
class FakeScorer : public mp::CandidateScorer {
public:
    double beta = 0.5;
    std::map<std::int64_t, std::pair<double, double>> logps; // first code -> (policy, reference)
    std::map<std::string, std::vector<float>> embeddings;

    std::vector<double>
    implicitRewards(const std::string &,
                    const std::vector<std::vector<std::int64_t>> &codes) override
    {
        std::vector<double> rewards;
        for (const auto &c : codes) {
            const auto [policy, reference] = logps.at(c.front());
            rewards.push_back(beta * (policy - reference));
        }
        return rewards;
    }
    std::vector<float> promptEmbedding(const std::string &prompt) override
    {
        return embeddings.at(prompt);
    }
    // The ensemble rule's tests give member rewards directly (CandidatePool::memberRewards).
    std::vector<std::vector<double>>
    memberRewards(const std::string &, const std::vector<std::vector<std::int64_t>> &) override
    {
        throw std::logic_error("FakeScorer has no ensemble");
    }
};

CandidatePool poolOf(mp::CandidateScorer &scorer, const std::string &prompt,
                     const std::vector<std::int64_t> &firstCodes)
{
    std::vector<std::vector<std::int64_t>> codes;
    for (auto code : firstCodes)
        codes.push_back({code, 1, 2});
    CandidatePool pool;
    pool.rewards = scorer.implicitRewards(prompt, codes);
    pool.embedding = scorer.promptEmbedding(prompt);
    pool.size = codes.size();
    return pool;
}

TEST(PairSelection, MarginRulePicksTheSmallestAbsoluteMargin)
{
    FakeScorer scorer;
    // Rewards 0.5·(policy − reference): 0.9, −0.5, 0.3, 0.36. Closest pair: (2, 3), margin −0.06.
    scorer.logps = {
        {10, {-10.0, -11.8}}, {11, {-12.0, -11.0}}, {12, {-9.4, -10.0}}, {13, {-20.0, -20.72}}};
    scorer.embeddings = {{"walk", {1.0f, 0.0f}}};
    std::mt19937_64 rng(1);
    const CandidatePool pool = poolOf(scorer, "walk", {10, 11, 12, 13});
    const mp::PairPick pick = mp::pickPair({pool}, {}, {.rule = PairRule::Margin}, rng);
    EXPECT_EQ(pick.first, 2u);
    EXPECT_EQ(pick.second, 3u);
    ASSERT_TRUE(pick.margin);
    EXPECT_NEAR(*pick.margin, -0.06, 1e-9);
    ASSERT_TRUE(pick.score);
    EXPECT_NEAR(*pick.score, -0.06, 1e-9);
    // The order of the candidates does not matter: the same two motions win.
    const CandidatePool shuffled = poolOf(scorer, "walk", {13, 11, 10, 12});
    const mp::PairPick again = mp::pickPair({shuffled}, {}, {.rule = PairRule::Margin}, rng);
    EXPECT_EQ(again.first, 0u);
    EXPECT_EQ(again.second, 3u);
    EXPECT_NEAR(std::abs(*again.margin), 0.06, 1e-9);
}

TEST(PairSelection, RandomRuleDrawsEveryPair)
{
    const CandidatePool pool{.rewards = {}, .embedding = {}, .size = 4};
    std::mt19937_64 rng(3);
    std::set<std::pair<std::size_t, std::size_t>> seen;
    for (int i = 0; i < 200; ++i) {
        const mp::PairPick pick = mp::pickPair({pool}, {}, {.rule = PairRule::Random}, rng);
        ASSERT_LT(pick.first, pick.second);
        ASSERT_LT(pick.second, 4u);
        EXPECT_FALSE(pick.score);
        seen.insert({pick.first, pick.second});
    }
    EXPECT_EQ(seen.size(), 6u); // all C(4,2) pairs
}

TEST(PairSelection, DiversityChangesThePickWhenPromptsRepeat)
{
    FakeScorer scorer;
    scorer.logps = {{1, {-5.0, -5.0}},
                    {2, {-5.02, -5.0}}, // "walk": margin 0.01
                    {3, {-5.0, -5.0}},
                    {4, {-5.4, -5.0}}}; // "jump": margin 0.2
    scorer.embeddings = {{"walk", {1.0f, 0.0f}}, {"jump", {0.0f, 1.0f}}};
    const std::vector<CandidatePool> pools = {poolOf(scorer, "walk", {1, 2}),
                                              poolOf(scorer, "jump", {3, 4})};
    std::mt19937_64 rng(1);
    // Nothing chosen yet, or no diversity: the smallest margin wins.
    EXPECT_EQ(mp::pickPair(pools, {}, {.rule = PairRule::Margin, .diversity = 1.0}, rng).pool, 0u);
    const std::vector<std::vector<float>> chosen = {{2.0f, 0.0f}}; // a walk was chosen already
    EXPECT_EQ(mp::pickPair(pools, chosen, {.rule = PairRule::Margin}, rng).pool, 0u);
    const mp::PairPick diverse =
        mp::pickPair(pools, chosen, {.rule = PairRule::Margin, .diversity = 1.0}, rng);
    EXPECT_EQ(diverse.pool, 1u);
    EXPECT_NEAR(diverse.similarity, 0.0, 1e-9);
    EXPECT_NEAR(*diverse.score, -0.2, 1e-6);
    // A small weight leaves the margin in charge: −0.01 − 0.1 > −0.2.
    EXPECT_EQ(mp::pickPair(pools, chosen, {.rule = PairRule::Margin, .diversity = 0.1}, rng).pool,
              0u);
    // Random rule with diversity: always the unlike prompt.
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(
            mp::pickPair(pools, chosen, {.rule = PairRule::Random, .diversity = 0.5}, rng).pool,
            1u);
}

TEST(PairSelection, BadPoolsAndNames)
{
    std::mt19937_64 rng(1);
    EXPECT_THROW(mp::pickPair({}, {}, {}, rng), std::invalid_argument);
    EXPECT_THROW(mp::pickPair({CandidatePool{.size = 1}}, {}, {}, rng), std::invalid_argument);
    EXPECT_THROW(mp::pickPair({CandidatePool{.size = 3}}, {}, {.rule = PairRule::Margin}, rng),
                 std::invalid_argument);
    EXPECT_THROW(mp::pickPair({CandidatePool{.size = 3}}, {}, {.diversity = 1.0}, rng),
                 std::invalid_argument);
    EXPECT_EQ(mp::parsePairRule("margin"), PairRule::Margin);
    EXPECT_EQ(mp::pairRuleName(PairRule::Random), "random");
    EXPECT_EQ(mp::parsePairRule("ensemble"), PairRule::Ensemble);
    EXPECT_THROW(mp::pickPair({CandidatePool{.size = 3}}, {}, {.rule = PairRule::Ensemble}, rng),
                 std::invalid_argument);
    // One member is no ensemble.
    EXPECT_THROW(mp::pickPair({CandidatePool{.memberRewards = {{0.0, 1.0}}}}, {},
                              {.rule = PairRule::Ensemble}, rng),
                 std::invalid_argument);
    try {
        mp::parsePairRule("committee");
        FAIL() << "an unknown rule was accepted";
    } catch (const mp::InputError &error) {
        EXPECT_NE(std::string(error.what()).find("random, margin, ensemble"), std::string::npos);
    }
}

// Three members score four candidates. Pair (0, 1): every member prefers 0 by 2 (agreement,
// variance 0). Pair (2, 3): members say +3, -3, +3 (confident, opposite: the largest variance of
// sigma(diff)). Pair (0, 2) etc. lie between. The rule picks (2, 3), scores its variance and
// gives the members' mean difference as the margin.
TEST(PairSelection, EnsembleRulePicksTheLargestDisagreement)
{
    const std::vector<std::vector<double>> members = {
        {2.0, 0.0, 1.5, -1.5}, {2.0, 0.0, -1.5, 1.5}, {2.0, 0.0, 1.5, -1.5}};
    const auto sigmoid = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
    const double high = sigmoid(3.0), low = sigmoid(-3.0);
    const double mean = (2 * high + low) / 3.0;
    const double variance = (2 * (high - mean) * (high - mean) + (low - mean) * (low - mean)) / 3.0;
    EXPECT_NEAR(mp::ensembleDisagreement(members, 2, 3), variance, 1e-12);
    EXPECT_NEAR(mp::ensembleDisagreement(members, 0, 1), 0.0, 1e-12);
    std::mt19937_64 rng(1);
    const mp::PairPick pick = mp::pickPair({CandidatePool{.memberRewards = members}}, {},
                                           {.rule = PairRule::Ensemble}, rng);
    EXPECT_EQ(pick.first, 2u);
    EXPECT_EQ(pick.second, 3u);
    ASSERT_TRUE(pick.score);
    EXPECT_NEAR(*pick.score, variance, 1e-12);
    ASSERT_TRUE(pick.margin);
    EXPECT_NEAR(*pick.margin, 1.0, 1e-12); // (3 - 3 + 3) / 3
    // A uniform shift of one member's rewards changes nothing (only differences count), and the
    // candidates' order does not matter.
    auto shifted = members;
    for (double &r : shifted[1])
        r += 7.0;
    const std::vector<std::vector<double>> reordered = {
        {shifted[0][3], shifted[0][1], shifted[0][0], shifted[0][2]},
        {shifted[1][3], shifted[1][1], shifted[1][0], shifted[1][2]},
        {shifted[2][3], shifted[2][1], shifted[2][0], shifted[2][2]}};
    const mp::PairPick again = mp::pickPair({CandidatePool{.memberRewards = reordered}}, {},
                                            {.rule = PairRule::Ensemble}, rng);
    EXPECT_EQ(again.first, 0u);  // candidate 3
    EXPECT_EQ(again.second, 3u); // candidate 2
    EXPECT_NEAR(*again.score, variance, 1e-12);
    // Across prompts: a pool whose members all agree loses to one where they disagree; with a
    // diversity weight, the disagreeing prompt loses when it repeats a chosen prompt.
    const CandidatePool agreeing{.memberRewards = {{1.0, 0.0}, {1.2, 0.0}, {0.9, 0.0}},
                                 .embedding = {0.0f, 1.0f}};
    const CandidatePool disagreeing{.memberRewards = {{3.0, 0.0}, {-3.0, 0.0}, {3.0, 0.0}},
                                    .embedding = {1.0f, 0.0f}};
    EXPECT_EQ(mp::pickPair({agreeing, disagreeing}, {}, {.rule = PairRule::Ensemble}, rng).pool,
              1u);
    EXPECT_EQ(mp::pickPair({agreeing, disagreeing}, {{1.0f, 0.0f}},
                           {.rule = PairRule::Ensemble, .diversity = 1.0}, rng)
                  .pool,
              0u);
}

TEST(PairSelection, T5ScorerRewardsAreBetaTimesTheLogRatio)
{
    mp::test::TempDir dir("pair_selection");
    const auto bundleDir = mp::test::writeTinyBundle(dir.path());
    mp::ModelBundle bundle(bundleDir);
    const std::vector<std::vector<std::int64_t>> codes = {{1, 2, 3}, {4, 5}, {6, 7, 8, 9}};
    const std::string prompt = "a person walks forward";
    {
        mp::T5CandidateScorer scorer(bundle, 0.1);
        // No adapter: the policy is the reference.
        for (double reward : scorer.implicitRewards(prompt, codes))
            EXPECT_EQ(reward, 0.0);
    }
    mp::applyLora(*bundle.t5(), mp::LoraConfig{.rank = 2, .alpha = 4.0});
    for (auto &parameter : mp::loraParameters(*bundle.t5())) {
        torch::NoGradGuard noGrad;
        parameter.normal_(0.0, 0.5);
    }
    mp::T5CandidateScorer small(bundle, 0.1);
    mp::T5CandidateScorer large(bundle, 0.3);
    const auto a = small.implicitRewards(prompt, codes);
    const auto b = large.implicitRewards(prompt, codes);
    ASSERT_EQ(a.size(), 3u);
    bool anyNonZero = false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_TRUE(std::isfinite(a[i]));
        EXPECT_NEAR(b[i], 3.0 * a[i], 1e-6 + 1e-6 * std::abs(b[i]));
        anyNonZero = anyNonZero || std::abs(a[i]) > 1e-6;
    }
    EXPECT_TRUE(anyNonZero);
    // Candidates scored one by one give the same rewards as in a batch (padding is not scored).
    const auto single = small.implicitRewards(prompt, {codes[1]});
    EXPECT_NEAR(single.front(), a[1], 1e-5);
    // The embedding is the base encoder's mean state: the adapter does not move it.
    const auto withAdapter = small.promptEmbedding(prompt);
    mp::removeLora(*bundle.t5());
    mp::T5CandidateScorer base(bundle, 0.1);
    const auto withoutAdapter = base.promptEmbedding(prompt);
    ASSERT_EQ(withAdapter.size(), static_cast<std::size_t>(bundle.config().t5.dModel));
    for (std::size_t i = 0; i < withAdapter.size(); ++i)
        EXPECT_NEAR(withAdapter[i], withoutAdapter[i], 1e-5);
    EXPECT_GT(mp::maxCosineSimilarity(withAdapter, {withoutAdapter}), 0.999);
}

} // namespace
