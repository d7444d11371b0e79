#include "ml/models/rms_norm.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

namespace {

double maxAbsDiff(const at::Tensor &a, const at::Tensor &b)
{
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// T5's layer norm as transformers writes it, in float64: the value both float32 paths round.
at::Tensor exactRmsNorm(const at::Tensor &x, const at::Tensor &weight, double eps)
{
    const auto x64 = x.to(torch::kDouble);
    return weight.to(torch::kDouble) * (x64 * torch::rsqrt(x64.pow(2).mean(-1, true) + eps));
}

} // namespace

// Widths with and without a partial vector, one row and many (the rows split into chunks).
TEST(RmsNorm, ForwardMatchesTransformersFormula)
{
    torch::NoGradGuard noGrad;
    torch::manual_seed(8);
    for (const auto &[rows, width] :
         std::vector<std::pair<int, int>>{{1, 256}, {3, 7}, {2000, 768}, {129, 40}}) {
        const auto x = torch::randn({rows, width}) * 3;
        const auto weight = torch::rand({width}) + 0.5;
        ASSERT_TRUE(mp::canFuseRmsNorm(x, weight));
        const auto fused = mp::rmsNorm(x, weight, 1e-6);
        const auto exact = exactRmsNorm(x, weight, 1e-6);
        EXPECT_LT(maxAbsDiff(fused, exact), 2e-6 * exact.abs().max().item<double>())
            << rows << "x" << width;
    }
}

// A row of zeros: the scale is 1 / sqrt(eps), the output zero, nothing infinite.
TEST(RmsNorm, ZeroRowStaysFinite)
{
    torch::NoGradGuard noGrad;
    const auto x = torch::zeros({2, 32});
    const auto y = mp::rmsNorm(x, torch::ones({32}), 1e-6);
    EXPECT_TRUE(torch::equal(y, torch::zeros_like(y)));
}

TEST(RmsNorm, GradientsMatchAutogradInFloat64)
{
    torch::manual_seed(9);
    const auto xInit = torch::randn({4, 9, 48}) * 2;
    const auto weightInit = torch::rand({48}) + 0.5;
    const auto upstream = torch::randn({4, 9, 48});

    const auto x = xInit.clone().requires_grad_(true);
    const auto weight = weightInit.clone().requires_grad_(true);
    (mp::rmsNorm(x, weight, 1e-6) * upstream).sum().backward();

    const auto x64 = xInit.to(torch::kDouble).requires_grad_(true);
    const auto weight64 = weightInit.to(torch::kDouble).requires_grad_(true);
    (exactRmsNorm(x64, weight64, 1e-6) * upstream.to(torch::kDouble)).sum().backward();

    EXPECT_LT(maxAbsDiff(x.grad(), x64.grad()), 2e-6 * x64.grad().abs().max().item<double>());
    EXPECT_LT(maxAbsDiff(weight.grad(), weight64.grad()),
              2e-6 * weight64.grad().abs().max().item<double>());
}

// A frozen weight (LoRA training) gets no gradient; the input's is unchanged by that.
TEST(RmsNorm, FrozenWeightGetsNoGradient)
{
    torch::manual_seed(10);
    const auto x = torch::randn({6, 64}).requires_grad_(true);
    const auto weight = torch::rand({64}) + 0.5;
    (mp::rmsNorm(x, weight, 1e-6) * torch::arange(64)).sum().backward();
    EXPECT_FALSE(weight.grad().defined());
    const auto x64 = x.detach().to(torch::kDouble).requires_grad_(true);
    (exactRmsNorm(x64, weight, 1e-6) * torch::arange(64)).sum().backward();
    EXPECT_LT(maxAbsDiff(x.grad(), x64.grad()), 2e-6 * x64.grad().abs().max().item<double>());
}

// Half precision and strided inputs take LibTorch's operations (variance in float32).
TEST(RmsNorm, OtherInputsTakeLibTorchsPath)
{
    torch::NoGradGuard noGrad;
    const auto x = torch::randn({16, 8}).t();
    const auto weight = torch::rand({16});
    EXPECT_FALSE(mp::canFuseRmsNorm(x, weight));
    const auto expected = weight * (x * torch::rsqrt(x.pow(2).mean(-1, true) + 1e-6));
    EXPECT_TRUE(torch::allclose(mp::rmsNorm(x, weight, 1e-6), expected));
    const auto half = torch::randn({3, 16}).to(torch::kHalf);
    EXPECT_FALSE(mp::canFuseRmsNorm(half, weight.to(torch::kHalf)));
    EXPECT_EQ(mp::rmsNorm(half, weight.to(torch::kHalf), 1e-6).scalar_type(), torch::kHalf);
}
