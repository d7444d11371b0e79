// Batched generation over different prompts (generateTokensBatch, ModelBundle::generateBatch):
// a row gives what its prompt and seed give alone, padding does not leak into the encoder output,
// and finished rows stop costing decoder work.

#include "../app/tiny_bundle.h"
#include "ml/core/error.h"
#include "ml/models/bundle.h"
#include "ml/models/sampler_loop.h"
#include "ml/models/t5.h"
#include "tiny_t5.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <unistd.h>

#include <filesystem>
#include <numeric>

namespace {

mp::T5Model seededTinyModel()
{
    torch::manual_seed(5);
    return mp::test::tinyGenerationT5();
}

// Prompts of different lengths (1 to 9 tokens), one repeated, all ending in </s> (1).
const std::vector<std::vector<std::int64_t>> kPrompts = {
    {5, 9, 12, 1}, {7, 1}, {30, 31, 32, 33, 34, 35, 36, 37, 1}, {1}, {5, 9, 12, 1}, {44, 2, 1}};
const std::vector<std::uint64_t> kSeeds = {3, 4, 5, 6, 7, 8};
// Two stop ids so that rows end at different steps.
const std::vector<std::int64_t> kStops = {48, 17};

void expectRowsEqualAlone(mp::T5Model &model, const mp::SampleOptions &sampling, bool useCache)
{
    const mp::GenerateOptions batchOptions{
        .sampling = sampling, .seeds = kSeeds, .maxMotionTokens = 20, .useCache = useCache};
    const auto batch = mp::generateTokensBatch(model, kPrompts, kStops, batchOptions);
    ASSERT_EQ(batch.sequences.size(), kPrompts.size());
    for (std::size_t i = 0; i < kPrompts.size(); ++i) {
        auto single = batchOptions;
        single.seeds = {kSeeds[i]};
        const auto alone = mp::generateTokens(model, kPrompts[i], kStops, single);
        EXPECT_EQ(batch.sequences[i], alone.sequences[0]) << "row " << i;
    }
}

TEST(GenerateBatch, EachRowEqualsItsPromptAndSeedAlone)
{
    auto model = seededTinyModel();
    expectRowsEqualAlone(model, {.temperature = 1.0, .topK = 10}, true);
    expectRowsEqualAlone(model, {.temperature = 0.7, .topK = 0, .topP = 0.9}, true);
    expectRowsEqualAlone(model, {.greedy = true}, true);
    expectRowsEqualAlone(model, {.temperature = 1.0, .topK = 10}, false);
    EXPECT_TRUE(model->is_training()); // restored
}

TEST(GenerateBatch, RowsDoNotDependOnTheirNeighboursOrOrder)
{
    auto model = seededTinyModel();
    const mp::GenerateOptions options{
        .sampling = {.temperature = 1.0, .topK = 10}, .seeds = kSeeds, .maxMotionTokens = 20};
    const auto forward = mp::generateTokensBatch(model, kPrompts, kStops, options);
    auto reversedPrompts = kPrompts;
    std::reverse(reversedPrompts.begin(), reversedPrompts.end());
    auto reversedOptions = options;
    std::reverse(reversedOptions.seeds.begin(), reversedOptions.seeds.end());
    const auto backward = mp::generateTokensBatch(model, reversedPrompts, kStops, reversedOptions);
    for (std::size_t i = 0; i < kPrompts.size(); ++i)
        EXPECT_EQ(forward.sequences[i], backward.sequences[kPrompts.size() - 1 - i]);
    // The repeated prompt with different seeds gives different samples (seeds matter).
    EXPECT_NE(forward.sequences[0], forward.sequences[4]);
}

TEST(GenerateBatch, PaddedEncoderRowsEqualUnpaddedOnes)
{
    auto model = seededTinyModel();
    model->eval();
    torch::NoGradGuard noGrad;
    const std::vector<std::int64_t> shortPrompt = {7, 3, 1};
    const std::vector<std::int64_t> longPrompt = {30, 31, 32, 33, 34, 35, 36, 1};
    auto ids = torch::zeros({2, 8}, torch::kLong);
    ids[0].narrow(0, 0, 3).copy_(torch::tensor(shortPrompt));
    ids[1].copy_(torch::tensor(longPrompt));
    auto mask = torch::zeros({2, 8}, torch::kLong);
    mask[0].narrow(0, 0, 3).fill_(1);
    mask[1].fill_(1);
    const auto padded = model->encode(ids, mask);
    const auto alone = model->encode(torch::tensor(shortPrompt).unsqueeze(0));
    const auto longAlone = model->encode(torch::tensor(longPrompt).unsqueeze(0));
    EXPECT_LT((padded[0].narrow(0, 0, 3) - alone[0]).abs().max().item<double>(), 1e-5);
    EXPECT_LT((padded[1] - longAlone[0]).abs().max().item<double>(), 1e-5);
    // Without the mask the padding would change the short row: the mask is what protects it.
    const auto unmasked = model->encode(ids);
    EXPECT_GT((unmasked[0].narrow(0, 0, 3) - alone[0]).abs().max().item<double>(), 1e-3);
}

TEST(GenerateBatch, SharedCrossAttentionKeysEqualThoseTheFirstStepComputes)
{
    // Rows 0, 2 and 3 share prompt 0, as MultiModality's repeats of one caption do.
    auto model = seededTinyModel();
    model->eval();
    torch::NoGradGuard noGrad;
    const auto ids = torch::tensor({5, 9, 12, 1, 44, 2, 7, 1}, torch::kLong).view({2, 4});
    const auto rowIndex = torch::tensor({0, 1, 0, 0, 1}, torch::kLong);
    const auto encoded = model->encode(ids);
    const auto rows = encoded.index_select(0, rowIndex);
    const auto start = torch::zeros({5, 1}, torch::kLong);
    mp::T5Cache computed;
    const auto computedLogits = model->decode(start, rows, {}, &computed);
    mp::T5Cache filled;
    model->fillCrossAttentionCache(encoded, rowIndex, filled);
    ASSERT_EQ(filled.layers.size(), computed.layers.size());
    for (std::size_t i = 0; i < filled.layers.size(); ++i) {
        const auto &a = filled.layers[i].cross;
        const auto &b = computed.layers[i].cross;
        ASSERT_EQ(a.key.sizes(), b.key.sizes()) << "layer " << i;
        EXPECT_TRUE(a.key.is_contiguous() && a.value.is_contiguous());
        EXPECT_LT((a.key - b.key).abs().max().item<double>(), 1e-6) << "layer " << i;
        EXPECT_LT((a.value - b.value).abs().max().item<double>(), 1e-6) << "layer " << i;
    }
    const auto filledLogits = model->decode(start, rows, {}, &filled);
    EXPECT_LT((filledLogits - computedLogits).abs().max().item<double>(), 1e-5);
    EXPECT_EQ(filled.length, 1);
}

TEST(GenerateBatch, FinishedRowsStopAndCostNoMoreSteps)
{
    auto model = seededTinyModel();
    const mp::GenerateOptions options{
        .sampling = {.temperature = 1.0, .topK = 10}, .seeds = kSeeds, .maxMotionTokens = 20};
    const auto out = mp::generateTokensBatch(model, kPrompts, kStops, options);
    std::size_t shortest = 1000;
    std::size_t longest = 0;
    std::int64_t tokens = 0;
    for (const auto &seq : out.sequences) {
        ASSERT_FALSE(seq.empty());
        EXPECT_LE(seq.size(), 22u); // 20 codes + SOM + EOM
        // Only the last token may be a stop token; a shorter row ended with one.
        for (std::size_t i = 0; i + 1 < seq.size(); ++i)
            EXPECT_TRUE(seq[i] != 48 && seq[i] != 17);
        if (seq.size() < 22u)
            EXPECT_TRUE(seq.back() == 48 || seq.back() == 17);
        shortest = std::min(shortest, seq.size());
        longest = std::max(longest, seq.size());
        tokens += static_cast<std::int64_t>(seq.size());
    }
    // The seeds give rows of different lengths (else this test proves nothing).
    ASSERT_LT(shortest, longest);
    EXPECT_EQ(out.decoderSteps, static_cast<std::int64_t>(longest));
    // Each decoder row-step produced a kept token: finished rows left the batch.
    EXPECT_EQ(out.rowSteps, tokens);
    EXPECT_LT(out.rowSteps, out.decoderSteps * static_cast<std::int64_t>(kPrompts.size()));
}

TEST(GenerateBatch, BadInputsAreInputErrors)
{
    auto model = seededTinyModel();
    mp::GenerateOptions options{.sampling = {.greedy = true}, .seeds = {1, 2}};
    EXPECT_THROW(mp::generateTokensBatch(model, {{5, 1}}, kStops, options), mp::InputError);
    EXPECT_THROW(mp::generateTokensBatch(model, {{5, 1}, {}}, kStops, options), mp::InputError);
    EXPECT_THROW(mp::generateTokensBatch(model, {{5, 1}, {99}}, kStops, options), mp::InputError);
    options.seeds.clear();
    EXPECT_THROW(mp::generateTokensBatch(model, {}, kStops, options), mp::InputError);
}

TEST(GenerateBatch, BundleSamplesEqualThoseGeneratedAlone)
{
    const auto dir =
        std::filesystem::temp_directory_path() / ("mp_batch_" + std::to_string(::getpid()));
    mp::ModelBundle bundle(mp::test::writeTinyBundle(dir));
    const std::vector<std::string> prompts = {"a person walks forward", "a person kicks twice",
                                              "a person waves", "a person walks forward"};
    auto options = bundle.defaultOptions({21, 22, 23, 24});
    const auto batch = bundle.generateBatch(prompts, options);
    ASSERT_EQ(batch.size(), prompts.size());
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        const auto alone = bundle.generate(prompts[i], bundle.defaultOptions({options.seeds[i]}));
        EXPECT_EQ(batch[i].seed, options.seeds[i]);
        EXPECT_EQ(batch[i].tokens, alone[0].tokens) << "row " << i;
        ASSERT_EQ(batch[i].features.sizes(), alone[0].features.sizes());
        EXPECT_LT((batch[i].features - alone[0].features).abs().max().item<double>(), 1e-5);
    }
    std::filesystem::remove_all(dir);
}

} // namespace
