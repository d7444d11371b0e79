#include "ml/train/picked_log_probs.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <limits>
#include <stdexcept>

namespace {

double maxAbsDiff(const at::Tensor &a, const at::Tensor &b)
{
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// LibTorch's log_softmax and gather in float64: the value both float32 paths round.
at::Tensor exactPicked(const at::Tensor &logits, const at::Tensor &targets)
{
    return torch::log_softmax(logits.to(torch::kDouble), -1)
        .gather(-1, targets.unsqueeze(-1))
        .squeeze(-1);
}

} // namespace

// Widths with and without a partial vector, one row and many (the rows split into chunks), and
// the head's three-dimensional (rows, positions, vocabulary) shape.
TEST(PickedLogProbs, ForwardMatchesLogSoftmaxGatherInFloat64)
{
    torch::NoGradGuard noGrad;
    torch::manual_seed(11);
    for (const auto &sizes : std::vector<std::vector<std::int64_t>>{
             {1, 884}, {3, 7}, {2000, 884}, {129, 40}, {5, 1}, {4, 6, 33}, {2, 32128}}) {
        const auto logits = torch::randn(sizes) * 4;
        const auto width = sizes.back();
        const auto targets =
            torch::randint(width, c10::IntArrayRef(sizes).slice(0, sizes.size() - 1), torch::kLong);
        ASSERT_TRUE(mp::canFusePickedLogProbs(logits, targets));
        const auto fused = mp::pickedLogProbs(logits, targets);
        const auto exact = exactPicked(logits, targets);
        ASSERT_EQ(fused.sizes(), exact.sizes());
        EXPECT_LT(maxAbsDiff(fused, exact), 2e-6 * (1.0 + exact.abs().max().item<double>()))
            << sizes.size() << "-d, width " << width;
    }
}

// Large logits: the maximum is subtracted before the exponentials, nothing overflows.
TEST(PickedLogProbs, LargeLogitsStayFinite)
{
    torch::NoGradGuard noGrad;
    const auto logits = torch::tensor({{1000.0f, 999.0f, -1000.0f}, {-500.0f, -501.0f, 80.0f}});
    const auto targets = torch::tensor({1, 2}, torch::kLong);
    const auto fused = mp::pickedLogProbs(logits, targets);
    EXPECT_TRUE(torch::isfinite(fused).all().item<bool>());
    EXPECT_LT(maxAbsDiff(fused, exactPicked(logits, targets)), 1e-5);
}

TEST(PickedLogProbs, GradientMatchesAutogradInFloat64)
{
    torch::manual_seed(12);
    for (const auto &sizes :
         std::vector<std::vector<std::int64_t>>{{300, 884}, {4, 9, 37}, {2, 5}}) {
        const auto init = torch::randn(sizes) * 3;
        const auto targetSizes = c10::IntArrayRef(sizes).slice(0, sizes.size() - 1);
        const auto targets = torch::randint(sizes.back(), targetSizes, torch::kLong);
        const auto upstream = torch::randn(targetSizes);

        const auto logits = init.clone().requires_grad_(true);
        (mp::pickedLogProbs(logits, targets) * upstream).sum().backward();
        const auto logits64 = init.to(torch::kDouble).requires_grad_(true);
        (exactPicked(logits64, targets) * upstream.to(torch::kDouble)).sum().backward();

        EXPECT_LT(maxAbsDiff(logits.grad(), logits64.grad()),
                  2e-6 * logits64.grad().abs().max().item<double>())
            << "width " << sizes.back();
    }
}

// Logits far apart (a flan-size head's): probabilities below float's normal range give a
// gradient of exactly 0, never a subnormal float (which slows the head's backward GEMM ~100x).
TEST(PickedLogProbs, TinyProbabilitiesGiveNoSubnormalGradient)
{
    torch::manual_seed(13);
    const auto init = torch::randn({64, 1000}) * 40;
    const auto targets = torch::randint(1000, {64}, torch::kLong);
    const auto upstream = torch::rand({64}) * 1e-3;
    const auto logits = init.clone().requires_grad_(true);
    (mp::pickedLogProbs(logits, targets) * upstream).sum().backward();
    const auto magnitude = logits.grad().abs();
    const auto subnormal = (magnitude > 0) & (magnitude < std::numeric_limits<float>::min());
    EXPECT_EQ(subnormal.sum().item<std::int64_t>(), 0);
    EXPECT_GT((magnitude == 0).sum().item<std::int64_t>(), 0);
    const auto logits64 = init.to(torch::kDouble).requires_grad_(true);
    (exactPicked(logits64, targets) * upstream.to(torch::kDouble)).sum().backward();
    EXPECT_LT(maxAbsDiff(logits.grad(), logits64.grad()),
              2e-6 * logits64.grad().abs().max().item<double>());
}

// A target outside the vocabulary is an error, as LibTorch's gather makes it.
TEST(PickedLogProbs, TargetOutsideTheVocabularyThrows)
{
    const auto logits = torch::randn({2, 10});
    EXPECT_THROW(mp::pickedLogProbs(logits, torch::tensor({3, 10}, torch::kLong)),
                 std::out_of_range);
    EXPECT_THROW(mp::pickedLogProbs(logits, torch::tensor({-1, 0}, torch::kLong)),
                 std::out_of_range);
}

// float64, strided logits and int32 targets take LibTorch's operations.
TEST(PickedLogProbs, OtherInputsTakeLibTorchsPath)
{
    torch::NoGradGuard noGrad;
    const auto targets = torch::tensor({2, 0, 5}, torch::kLong);
    const auto doubles = torch::randn({3, 8}, torch::kDouble);
    EXPECT_FALSE(mp::canFusePickedLogProbs(doubles, targets));
    EXPECT_TRUE(
        torch::allclose(mp::pickedLogProbs(doubles, targets), exactPicked(doubles, targets)));
    const auto strided = torch::randn({8, 3}).t();
    EXPECT_FALSE(mp::canFusePickedLogProbs(strided, targets));
    EXPECT_LT(maxAbsDiff(mp::pickedLogProbs(strided, targets), exactPicked(strided, targets)),
              1e-6);
    EXPECT_FALSE(mp::canFusePickedLogProbs(torch::randn({3, 8}), targets.to(torch::kInt)));
}
