// The fast cached decoding step (ml/models/t5_decoder_step.h) against T5's general path: the
// teacher-forced forward of the whole prefix, which never takes the fast step.

#include "ml/models/lora.h"
#include "ml/models/t5.h"
#include "ml/models/t5_decoder_step.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <string>
#include <tuple>
#include <vector>

namespace {

mp::T5Config config(const std::string &feedForward, std::int64_t dModel)
{
    mp::T5Config c;
    c.vocabSize = 40;
    c.dModel = dModel;
    c.dKv = 8;
    c.dFf = 2 * dModel + 8;
    c.numLayers = 2;
    c.numDecoderLayers = 3;
    c.numHeads = 3; // inner dim 24 != d_model on purpose
    c.relativeAttentionNumBuckets = 8;
    c.relativeAttentionMaxDistance = 16;
    c.dropoutRate = 0.0;
    c.feedForwardProj = feedForward;
    c.tieWordEmbeddings = false;
    return c;
}

// Incremental logits of every position, one decode call per position, each checked to have
// taken the fast step (or not) as expected.
at::Tensor incremental(mp::T5Model &model, const at::Tensor &decoderIds, const at::Tensor &encoded,
                       const at::Tensor &mask, std::int64_t prefix = 0)
{
    mp::T5Cache cache;
    std::vector<at::Tensor> steps;
    if (prefix > 0)
        steps.push_back(model->decode(decoderIds.narrow(1, 0, prefix), encoded, mask, &cache));
    for (std::int64_t t = prefix; t < decoderIds.size(1); ++t) {
        const auto embeds = model->shared->forward(decoderIds.narrow(1, t, 1));
        EXPECT_TRUE(mp::canUseFastDecoderStep(*model->decoder, embeds, {}, encoded));
        steps.push_back(model->decode(decoderIds.narrow(1, t, 1), encoded, mask, &cache));
    }
    EXPECT_EQ(cache.length, decoderIds.size(1));
    return torch::cat(steps, 1);
}

class T5DecoderStep
    : public ::testing::TestWithParam<std::tuple<std::string, std::int64_t, std::int64_t, bool>> {};

TEST_P(T5DecoderStep, EqualsTheTeacherForcedForward)
{
    const auto [feedForward, dModel, rows, adapter] = GetParam();
    torch::manual_seed(7);
    mp::T5Model model(config(feedForward, dModel));
    if (adapter) {
        mp::applyLora(*model, {.rank = 4, .alpha = 8, .targetModules = {"q", "v", "o", "wo"}});
        torch::NoGradGuard noGrad;
        for (auto &p : model->named_parameters())
            if (p.key().find("lora_B") != std::string::npos)
                p.value().normal_(0.0, 0.2); // a trained adapter: B is no longer zero
    }
    model->eval();
    torch::NoGradGuard noGrad;
    const auto input = torch::randint(2, 40, {rows, 7});
    auto mask = torch::ones({rows, 7}, torch::kLong);
    mask[rows - 1].narrow(0, 4, 3).zero_();                    // the last prompt is shorter
    const auto decoderIds = torch::randint(2, 40, {rows, 20}); // beyond max_exact buckets
    const auto full = model->forward(input, mask, decoderIds);
    const auto encoded = model->encode(input, mask);

    const auto steps = incremental(model, decoderIds, encoded, mask);
    EXPECT_TRUE(torch::allclose(steps, full, 1e-5, 1e-5))
        << (steps - full).abs().max().item<float>();
    // A cache filled by the general path (several positions at once), continued by fast steps.
    const auto continued = incremental(model, decoderIds, encoded, mask, 5);
    EXPECT_TRUE(torch::allclose(continued, full, 1e-5, 1e-5))
        << (continued - full).abs().max().item<float>();
    // The adapter's contribution is there: without it the logits differ.
    if (adapter) {
        mp::setLoraEnabled(*model, false);
        const auto base = incremental(model, decoderIds, model->encode(input, mask), mask);
        EXPECT_GT((base - full).abs().max().item<float>(), 1e-3);
        EXPECT_TRUE(torch::allclose(base, model->forward(input, mask, decoderIds), 1e-5, 1e-5));
    }
}

// Activations, widths past the products' 16-float vectors, 1 row, 2 rows, and 20 rows (above
// the few-rows product's limit: a GEMM), with and without an adapter.
INSTANTIATE_TEST_SUITE_P(Variants, T5DecoderStep,
                         ::testing::Values(std::make_tuple("gated-gelu", 40, 2, false),
                                           std::make_tuple("gated-gelu", 40, 2, true),
                                           std::make_tuple("relu", 16, 1, false),
                                           std::make_tuple("gated-silu", 40, 3, true),
                                           std::make_tuple("gated-gelu_new", 24, 20, false),
                                           std::make_tuple("gelu", 24, 20, true)));

TEST(T5DecoderStep, NotTakenWithGradientsInTrainingOrWithADecoderMask)
{
    torch::manual_seed(1);
    mp::T5Model model(config("gated-gelu", 16));
    const auto encoded = model->encode(torch::randint(2, 40, {2, 5}));
    const auto embeds = model->shared->forward(torch::randint(2, 40, {2, 1}));
    model->eval();
    EXPECT_FALSE(mp::canUseFastDecoderStep(*model->decoder, embeds, {}, encoded)); // gradients
    torch::NoGradGuard noGrad;
    EXPECT_TRUE(mp::canUseFastDecoderStep(*model->decoder, embeds, {}, encoded));
    EXPECT_FALSE(mp::canUseFastDecoderStep(*model->decoder, embeds,
                                           torch::ones({2, 1}, torch::kLong), encoded));
    EXPECT_FALSE(mp::canUseFastDecoderStep(*model->encoder, embeds, {}, encoded)); // no cross
    model->train();
    EXPECT_FALSE(mp::canUseFastDecoderStep(*model->decoder, embeds, {}, encoded));
}

} // namespace
