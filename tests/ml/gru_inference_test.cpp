#include "ml/models/gru_inference.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <vector>

namespace {

// LibTorch's GRU over the packed rows: its second output, the final hidden states (D, B, H).
at::Tensor libtorchGruLastHidden(torch::nn::GRU &gru, const at::Tensor &inputs,
                                 const std::vector<std::int64_t> &lengths, const at::Tensor &h0)
{
    const auto pack = torch::nn::utils::rnn::pack_padded_sequence(
        inputs, torch::tensor(lengths, torch::kLong), /*batch_first=*/true,
        /*enforce_sorted=*/false);
    return std::get<1>(gru->forward_with_packed_input(pack, h0));
}

// Lengths 1..steps in a scrambled order, the longest at least once.
std::vector<std::int64_t> scrambledGruLengths(std::int64_t batch, std::int64_t steps)
{
    std::vector<std::int64_t> lengths;
    for (std::int64_t b = 0; b < batch; ++b)
        lengths.push_back(1 + (b * 7 + 3) % steps);
    lengths[static_cast<std::size_t>(batch / 2)] = steps;
    return lengths;
}

void expectInferenceGruEqualsLibtorch(std::int64_t batch, std::int64_t steps, std::int64_t in,
                                      std::int64_t hidden, bool bidirectional,
                                      const std::vector<std::int64_t> &lengths)
{
    torch::NoGradGuard noGrad;
    torch::nn::GRU gru(
        torch::nn::GRUOptions(in, hidden).batch_first(true).bidirectional(bidirectional));
    gru->eval();
    const auto inputs = torch::randn({batch, steps, in});
    const auto h0 = torch::randn({bidirectional ? 2 : 1, batch, hidden});
    ASSERT_TRUE(mp::canUseInferenceGru(*gru, inputs, h0));
    const auto got =
        mp::inferenceGruLastHidden(*gru, inputs, torch::tensor(lengths, torch::kLong), h0);
    const auto expected = libtorchGruLastHidden(gru, inputs, lengths, h0);
    ASSERT_EQ(got.sizes(), expected.sizes());
    EXPECT_LT((got - expected).abs().max().item<double>(), 1e-5)
        << "batch " << batch << ", steps " << steps << ", in " << in << ", hidden " << hidden;
}

} // namespace

TEST(InferenceGru, EqualsLibtorchsPackedGruForUnequalLengths)
{
    torch::manual_seed(11);
    // Hidden sizes off the 16-float vectors (the scalar tail) and on them; 1 row, a batch of at
    // most 32 rows (the few-rows product) and 33 and 40 (the GEMM above it).
    for (const auto hidden : {1, 7, 16, 37, 64})
        for (const auto batch : {1, 5, 32, 33, 40})
            expectInferenceGruEqualsLibtorch(batch, 9, 13, hidden, /*bidirectional=*/true,
                                             scrambledGruLengths(batch, 9));
}

TEST(InferenceGru, EqualsLibtorchsUnidirectionalAndAtTheEvaluatorsSizes)
{
    torch::manual_seed(12);
    expectInferenceGruEqualsLibtorch(6, 5, 20, 19, /*bidirectional=*/false,
                                     scrambledGruLengths(6, 5));
    // The motion GRU of T2M's evaluator: 512 in, 1024 hidden, up to 49 units of 4 frames.
    expectInferenceGruEqualsLibtorch(32, 49, 512, 1024, /*bidirectional=*/true,
                                     scrambledGruLengths(32, 49));
}

TEST(InferenceGru, EveryRowAtFullLengthEqualsTheUnpackedGru)
{
    torch::NoGradGuard noGrad;
    torch::manual_seed(13);
    torch::nn::GRU gru(torch::nn::GRUOptions(10, 21).batch_first(true).bidirectional(true));
    const auto inputs = torch::randn({4, 6, 10});
    const auto h0 = torch::randn({2, 4, 21});
    const auto got =
        mp::inferenceGruLastHidden(*gru, inputs, torch::full({4}, 6, torch::kLong), h0);
    const auto expected = std::get<1>(gru->forward(inputs, h0));
    EXPECT_LT((got - expected).abs().max().item<double>(), 1e-5);
}

TEST(InferenceGru, SaturatedGatesStayFinite)
{
    torch::NoGradGuard noGrad;
    torch::manual_seed(14);
    torch::nn::GRU gru(torch::nn::GRUOptions(3, 17).batch_first(true).bidirectional(true));
    // Pre-activations far beyond the exponential's clamp at +-87.
    const auto inputs = torch::randn({3, 4, 3}) * 1000.0;
    const auto h0 = torch::randn({2, 3, 17});
    const std::vector<std::int64_t> lengths{4, 2, 3};
    const auto got =
        mp::inferenceGruLastHidden(*gru, inputs, torch::tensor(lengths, torch::kLong), h0);
    EXPECT_TRUE(torch::isfinite(got).all().item<bool>());
    EXPECT_LT((got - libtorchGruLastHidden(gru, inputs, lengths, h0)).abs().max().item<double>(),
              1e-5);
}

TEST(InferenceGru, OnlyWithoutGradientAndRejectsBadLengths)
{
    torch::nn::GRU gru(torch::nn::GRUOptions(4, 5).batch_first(true).bidirectional(true));
    const auto inputs = torch::randn({2, 3, 4});
    const auto h0 = torch::zeros({2, 2, 5});
    EXPECT_FALSE(mp::canUseInferenceGru(*gru, inputs, h0));
    torch::NoGradGuard noGrad;
    EXPECT_TRUE(mp::canUseInferenceGru(*gru, inputs, h0));
    EXPECT_FALSE(mp::canUseInferenceGru(*gru, inputs.to(torch::kDouble), h0));
    EXPECT_THROW(mp::inferenceGruLastHidden(*gru, inputs, torch::tensor({3, 4}), h0),
                 std::invalid_argument);
    EXPECT_THROW(mp::inferenceGruLastHidden(*gru, inputs, torch::tensor({0, 2}), h0),
                 std::invalid_argument);
    EXPECT_THROW(mp::inferenceGruLastHidden(*gru, inputs, torch::tensor({3}), h0),
                 std::invalid_argument);
}
