#include "ml/core/error.h"
#include "ml/models/sampler.h"
#include "ml/models/sampler_loop.h"
#include "ml/models/t5.h"
#include "tiny_t5.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

at::Tensor logitsOf(std::vector<double> probabilities)
{
    return torch::log(torch::tensor(probabilities, torch::kDouble)).to(torch::kFloat).unsqueeze(0);
}

TEST(Sampler, TemperatureDividesLogits)
{
    const auto out = mp::applyTemperature(torch::tensor({{1.0f, 2.0f, 3.0f}}), 2.0);
    EXPECT_TRUE(torch::allclose(out, torch::tensor({{0.5f, 1.0f, 1.5f}})));
    EXPECT_THROW(mp::applyTemperature(torch::tensor({{1.0f}}), 0.0), std::invalid_argument);
}

TEST(Sampler, TopKKeepsTiesAtTheKthValue)
{
    const auto out = mp::applyTopK(torch::tensor({{1.0f, 3.0f, 2.0f, 3.0f}}), 2);
    EXPECT_TRUE(torch::equal(out, torch::tensor({{-kInf, 3.0f, -kInf, 3.0f}})));
    const auto three = mp::applyTopK(torch::tensor({{1.0f, 4.0f, 2.0f, 3.0f}}), 3);
    EXPECT_TRUE(torch::equal(three, torch::tensor({{-kInf, 4.0f, 2.0f, 3.0f}})));
    // k = 0 or k >= V is off.
    const auto all = torch::tensor({{1.0f, 4.0f}});
    EXPECT_TRUE(torch::equal(mp::applyTopK(all, 0), all));
    EXPECT_TRUE(torch::equal(mp::applyTopK(all, 5), all));
}

// The CPU float path (nth_element) against torch::topk's k-th value, on rows with many ties, and
// the paths that keep torch::topk: float64, three dimensions, a row with a NaN.
TEST(Sampler, TopKEqualsTorchTopKOnEveryPath)
{
    torch::manual_seed(12);
    const auto viaTopK = [](const at::Tensor &logits, std::int64_t k) {
        const auto kth = std::get<0>(torch::topk(logits, k, -1)).narrow(-1, k - 1, 1);
        return logits.masked_fill(logits < kth, -kInf);
    };
    const auto tied = torch::randint(0, 40, {3, 884}).to(torch::kFloat);
    for (const std::int64_t k : {1, 50, 883})
        EXPECT_TRUE(torch::equal(mp::applyTopK(tied, k), viaTopK(tied, k))) << "k " << k;
    const auto wide = torch::randn({2, 3, 100}, torch::kDouble);
    EXPECT_TRUE(torch::equal(mp::applyTopK(wide, 7), viaTopK(wide, 7)));
    auto withNan = torch::randn({2, 30});
    withNan.index_put_({1, 4}, std::nanf(""));
    const auto got = mp::applyTopK(withNan, 5);
    const auto expected = viaTopK(withNan, 5);
    EXPECT_TRUE(torch::equal(got.isnan(), expected.isnan()));
    EXPECT_TRUE(torch::equal(got.nan_to_num(0), expected.nan_to_num(0)));
}

TEST(Sampler, TopPKeepsTheSmallestNucleus)
{
    const auto logits = logitsOf({0.15, 0.5, 0.05, 0.3});
    // p = 0.7: 0.5 + 0.3 = 0.8 >= 0.7 is the nucleus.
    const auto kept = torch::isfinite(mp::applyTopP(logits, 0.7));
    EXPECT_TRUE(torch::equal(kept, torch::tensor({{false, true, false, true}})));
    // p = 0.45: the top token alone.
    const auto one = torch::isfinite(mp::applyTopP(logits, 0.45));
    EXPECT_TRUE(torch::equal(one, torch::tensor({{false, true, false, false}})));
    // A tiny p still keeps one token.
    EXPECT_EQ(torch::isfinite(mp::applyTopP(logits, 1e-6)).sum().item<int>(), 1);
    EXPECT_TRUE(torch::equal(mp::applyTopP(logits, 1.0), logits));
}

TEST(Sampler, DrawIndexIsTheInverseCdfAndSkipsZeros)
{
    const auto probs = torch::tensor({0.2, 0.0, 0.5, 0.3});
    EXPECT_EQ(mp::drawIndex(probs, 0.0), 0);
    EXPECT_EQ(mp::drawIndex(probs, 0.19), 0);
    EXPECT_EQ(mp::drawIndex(probs, 0.2), 2);
    EXPECT_EQ(mp::drawIndex(probs, 0.69), 2);
    EXPECT_EQ(mp::drawIndex(probs, 0.71), 3);
    EXPECT_EQ(mp::drawIndex(probs, 0.999999999), 3);
    // Unnormalised rows and a trailing zero.
    EXPECT_EQ(mp::drawIndex(torch::tensor({2.0, 2.0, 0.0}), 0.99), 1);
    EXPECT_THROW(mp::drawIndex(torch::tensor({0.0, 0.0}), 0.5), std::runtime_error);
}

TEST(Sampler, GreedyTakesTheArgmax)
{
    mp::Sampler sampler({.greedy = true}, {1, 2});
    const auto tokens = sampler.sample(torch::tensor({{0.1f, 0.7f, 0.2f}, {3.0f, 1.0f, 2.0f}}));
    EXPECT_TRUE(torch::equal(tokens, torch::tensor({1, 0})));
}

TEST(Sampler, EachRowDependsOnlyOnItsSeed)
{
    const auto logits = logitsOf({0.1, 0.2, 0.3, 0.25, 0.15}).repeat({2, 1});
    mp::Sampler pair({.topK = 0}, {7, 9});
    mp::Sampler alone({.topK = 0}, {9});
    mp::Sampler again({.topK = 0}, {7, 9});
    std::vector<std::int64_t> a, b, c;
    for (int i = 0; i < 50; ++i) {
        const auto t = pair.sample(logits);
        a.push_back(t[0].item<std::int64_t>());
        b.push_back(t[1].item<std::int64_t>());
        c.push_back(alone.sample(logits.narrow(0, 1, 1))[0].item<std::int64_t>());
        EXPECT_TRUE(torch::equal(again.sample(logits), t));
    }
    EXPECT_EQ(b, c);
    EXPECT_NE(a, b);
}

TEST(Sampler, DrawsFollowTheWarpedDistribution)
{
    // top-k 2 of (0.1, 0.6, 0.3): renormalised 2:1 between index 1 and 2, never index 0.
    mp::Sampler sampler({.topK = 2}, {42});
    const auto logits = logitsOf({0.1, 0.6, 0.3});
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < 3000; ++i)
        ++counts[sampler.sample(logits)[0].item<std::int64_t>()];
    EXPECT_EQ(counts[0], 0);
    EXPECT_NEAR(counts[1] / 3000.0, 2.0 / 3.0, 0.04);
    // Temperature 0.5 squares the ratio: 4:1.
    mp::Sampler cold({.temperature = 0.5, .topK = 2}, {43});
    int hot = 0;
    for (int i = 0; i < 3000; ++i)
        hot += cold.sample(logits)[0].item<std::int64_t>() == 1;
    EXPECT_NEAR(hot / 3000.0, 0.8, 0.04);
}

TEST(Generate, CachedEqualsUncachedAndPairsAreReproducible)
{
    torch::manual_seed(1);
    auto model = mp::test::tinyGenerationT5();
    const std::vector<std::int64_t> prompt = {5, 9, 12, 1};
    const mp::GenerateOptions base{
        .sampling = {.temperature = 1.0, .topK = 10}, .seeds = {3, 4}, .maxMotionTokens = 12};
    const auto cached = mp::generateTokens(model, prompt, {48, 1}, base);
    auto uncachedOptions = base;
    uncachedOptions.useCache = false;
    const auto uncached = mp::generateTokens(model, prompt, {48, 1}, uncachedOptions);
    EXPECT_EQ(cached.sequences, uncached.sequences);
    ASSERT_EQ(cached.sequences.size(), 2u);

    auto single = base;
    single.seeds = {4};
    const auto alone = mp::generateTokens(model, prompt, {48, 1}, single);
    EXPECT_EQ(alone.sequences[0], cached.sequences[1]);

    for (const auto &seq : cached.sequences) {
        EXPECT_LE(seq.size(), 14u); // 12 codes + SOM + EOM
        // Only the last token may be a stop token.
        for (std::size_t i = 0; i + 1 < seq.size(); ++i)
            EXPECT_TRUE(seq[i] != 48 && seq[i] != 1);
    }
    EXPECT_TRUE(model->is_training()); // restored
}

TEST(Generate, StopsAtStopTokensAndRunsToTheLimitOtherwise)
{
    auto model = mp::test::tinyGenerationT5();
    {
        torch::NoGradGuard noGrad;
        model->lm_head->weight.zero_(); // all logits equal: greedy picks id 0
    }
    const std::vector<std::int64_t> prompt = {7, 1};
    const mp::GenerateOptions greedy{
        .sampling = {.greedy = true}, .seeds = {1, 2, 3}, .maxMotionTokens = 5};
    const auto full = mp::generateTokens(model, prompt, {48}, greedy);
    for (const auto &seq : full.sequences)
        EXPECT_EQ(seq, std::vector<std::int64_t>(7, 0));
    const auto stopped = mp::generateTokens(model, prompt, {0}, greedy);
    for (const auto &seq : stopped.sequences)
        EXPECT_EQ(seq, std::vector<std::int64_t>{0});
    EXPECT_EQ(stopped.decoderSteps, 1);

    EXPECT_THROW(mp::generateTokens(model, {}, {0}, greedy), mp::InputError);
    EXPECT_THROW(mp::generateTokens(model, {99}, {0}, greedy), mp::InputError);
    int calls = 0;
    EXPECT_THROW(mp::generateTokens(
                     model, prompt, {48}, greedy,
                     [&](std::int64_t, std::int64_t, std::string_view) { return ++calls < 2; }),
                 mp::Cancelled);
}

} // namespace
