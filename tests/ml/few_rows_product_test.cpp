#include "ml/models/few_rows_product.h"
#include "ml/models/lora_linear.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

namespace {

// Relative to the largest output: the sums run in another order than OpenBLAS's.
void expectNearLinear(const at::Tensor &got, const at::Tensor &input, const at::Tensor &weight,
                      const at::Tensor &bias)
{
    const auto expected = torch::linear(input, weight, bias);
    ASSERT_EQ(got.sizes(), expected.sizes());
    const double scale = expected.abs().max().item<double>();
    EXPECT_LT((got - expected).abs().max().item<double>(), 2e-6 * scale)
        << "weight " << weight.sizes() << ", input " << input.sizes();
}

} // namespace

TEST(FewRowsLinear, EqualsLinearForEveryRowCountAndShape)
{
    torch::NoGradGuard noGrad;
    torch::manual_seed(5);
    // Inputs not a multiple of 16 (the scalar tail), outputs not a multiple of any block, and
    // row counts that leave 1, 2 and 3 rows in the last block of four.
    for (const auto &[out, in] :
         std::vector<std::pair<int, int>>{{67, 83}, {1000, 600}, {600, 1000}})
        for (int rows = 1; rows <= mp::kFewRowsProductMaxRows; ++rows) {
            const auto weight = torch::randn({out, in});
            const auto bias = torch::randn({out});
            const auto input = torch::randn({rows, in});
            expectNearLinear(mp::fewRowsLinear(input, weight, bias), input, weight, bias);
            expectNearLinear(mp::fewRowsLinear(input, weight, {}), input, weight, {});
        }
}

TEST(FewRowsLinear, TakesBatchedAndStridedInputs)
{
    torch::NoGradGuard noGrad;
    torch::manual_seed(6);
    const auto weight = torch::randn({96, 128});
    // (B, 1, in) as a decoding step has it, and a non-contiguous view of a wider tensor.
    const auto step = torch::randn({5, 1, 128});
    expectNearLinear(mp::fewRowsLinear(step, weight, {}), step, weight, {});
    const auto wide = torch::randn({3, 256}).narrow(1, 64, 128);
    ASSERT_FALSE(wide.is_contiguous());
    expectNearLinear(mp::fewRowsLinear(wide, weight, {}), wide, weight, {});
}

TEST(FewRowsLinear, AppliesOnlyWhereItPays)
{
    const auto big = torch::randn({2048, 768});
    const auto small = torch::randn({256, 256});
    {
        torch::NoGradGuard noGrad;
        EXPECT_TRUE(mp::canUseFewRowsLinear(torch::randn({2, 768}), big, {}));
        EXPECT_TRUE(mp::canUseFewRowsLinear(torch::randn({1, 768}), big, {}));
        EXPECT_TRUE(mp::canUseFewRowsLinear(torch::randn({4, 256}), small, {}));
        // Few rows over a small weight, too many rows, another dtype, a mismatched bias: no.
        EXPECT_FALSE(mp::canUseFewRowsLinear(torch::randn({2, 256}), small, {}));
        EXPECT_FALSE(
            mp::canUseFewRowsLinear(torch::randn({mp::kFewRowsProductMaxRows + 1, 768}), big, {}));
        EXPECT_FALSE(mp::canUseFewRowsLinear(torch::randn({2, 768}).to(torch::kDouble),
                                             big.to(torch::kDouble), {}));
        EXPECT_FALSE(mp::canUseFewRowsLinear(torch::randn({2, 768}), big, torch::randn({7})));
    }
    // Training needs autograd's graph: never under grad mode.
    EXPECT_FALSE(mp::canUseFewRowsLinear(torch::randn({2, 768}), big, {}));
}

TEST(FewRowsLinear, LoraLinearGivesTheSameStepWithAndWithoutGradMode)
{
    torch::manual_seed(7);
    mp::LoraLinear layer(768, 2048, /*withBias=*/true);
    layer->addAdapter({});
    {
        torch::NoGradGuard noGrad;
        layer->lora_B->weight.normal_();
    }
    const auto input = torch::randn({2, 1, 768});
    const auto trained = layer->forward(input).detach(); // grad mode: torch::linear
    torch::NoGradGuard noGrad;
    ASSERT_TRUE(mp::canUseFewRowsLinear(input, layer->weight, layer->bias));
    const auto inferred = layer->forward(input); // the few-rows product, plus the adapter
    EXPECT_LT((inferred - trained).abs().max().item<double>(),
              2e-6 * trained.abs().max().item<double>());
}
