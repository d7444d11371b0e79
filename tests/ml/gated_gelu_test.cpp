#include "ml/models/gated_gelu.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

namespace {

double maxAbsDiff(const at::Tensor &a, const at::Tensor &b)
{
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// gelu_new(gate) * linear in float64: the exact value both float32 paths approximate.
at::Tensor exactGatedGelu(const at::Tensor &gate, const at::Tensor &linear)
{
    return torch::gelu(gate.to(torch::kDouble), "tanh") * linear.to(torch::kDouble);
}

} // namespace

// Every element, including a last partial vector (the sizes are not multiples of 16), within
// float rounding of the float64 value, and as close to it as LibTorch's own float32 kernels are;
// the tails of the activation (|gate| up to 30, where tanh saturates) included.
TEST(GatedGelu, ForwardMatchesLibTorch)
{
    torch::NoGradGuard noGrad;
    torch::manual_seed(3);
    for (const std::int64_t count : {1, 15, 16, 17, 1000, 70001}) {
        auto gate = torch::randn({count}) * 4;
        const auto linear = torch::randn({count});
        gate.index_put_({0}, count % 2 ? 30.0 : -30.0);
        ASSERT_TRUE(mp::canFuseGatedGelu(gate, linear));
        const auto fused = mp::gatedGeluTanh(gate, linear);
        const auto exact = exactGatedGelu(gate, linear);
        const auto libtorch = torch::gelu(gate, "tanh") * linear;
        const double scale = exact.abs().max().item<double>();
        EXPECT_LT(maxAbsDiff(fused, exact), 1e-6 * scale) << count << " elements";
        EXPECT_LT(maxAbsDiff(fused, libtorch), 2e-6 * scale) << count << " elements";
    }
}

TEST(GatedGelu, GradientsMatchLibTorchAutograd)
{
    torch::manual_seed(4);
    const auto gateInit = torch::randn({7, 33, 40}) * 3;
    const auto linearInit = torch::randn({7, 33, 40});
    const auto upstream = torch::randn({7, 33, 40});

    const auto gate = gateInit.clone().requires_grad_(true);
    const auto linear = linearInit.clone().requires_grad_(true);
    (mp::gatedGeluTanh(gate, linear) * upstream).sum().backward();

    const auto gate64 = gateInit.to(torch::kDouble).requires_grad_(true);
    const auto linear64 = linearInit.to(torch::kDouble).requires_grad_(true);
    (exactGatedGelu(gate64, linear64) * upstream.to(torch::kDouble)).sum().backward();

    const double gateScale = gate64.grad().abs().max().item<double>();
    const double linearScale = linear64.grad().abs().max().item<double>();
    EXPECT_LT(maxAbsDiff(gate.grad(), gate64.grad()), 2e-6 * gateScale);
    EXPECT_LT(maxAbsDiff(linear.grad(), linear64.grad()), 2e-6 * linearScale);
}

// Only the input that wants a gradient gets one (LoRA's frozen products feed the gate).
TEST(GatedGelu, GradientOfOneInputOnly)
{
    torch::manual_seed(6);
    const auto gate = torch::randn({5, 21});
    const auto linear = torch::randn({5, 21}).requires_grad_(true);
    mp::gatedGeluTanh(gate, linear).sum().backward();
    EXPECT_FALSE(gate.grad().defined());
    const auto expected = torch::gelu(gate, "tanh");
    EXPECT_LT(maxAbsDiff(linear.grad(), expected), 2e-6);
}

// Inputs the fused kernel does not take (a transposed view, float64) go through LibTorch's ops.
TEST(GatedGelu, OtherInputsTakeLibTorchsPath)
{
    torch::NoGradGuard noGrad;
    const auto gate = torch::randn({12, 9}).t();
    const auto linear = torch::randn({9, 12});
    EXPECT_FALSE(mp::canFuseGatedGelu(gate, linear));
    EXPECT_TRUE(torch::equal(mp::gatedGeluTanh(gate, linear), torch::gelu(gate, "tanh") * linear));
    const auto gate64 = torch::randn({4, 4}, torch::kDouble);
    EXPECT_FALSE(mp::canFuseGatedGelu(gate64, gate64));
    EXPECT_TRUE(
        torch::equal(mp::gatedGeluTanh(gate64, gate64), torch::gelu(gate64, "tanh") * gate64));
}
