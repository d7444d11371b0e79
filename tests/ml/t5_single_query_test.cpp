#include "ml/models/t5_single_query.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <limits>

namespace {

// The path it replaces: matmul -> + bias -> softmax -> matmul.
at::Tensor reference(const at::Tensor &query, const at::Tensor &key, const at::Tensor &value,
                     const at::Tensor &bias)
{
    auto scores = torch::matmul(query, key.transpose(-1, -2));
    if (bias.defined())
        scores = scores + bias;
    return torch::matmul(torch::softmax(scores, -1), value);
}

} // namespace

TEST(SingleQueryAttention, EqualsMatmulSoftmaxMatmul)
{
    torch::NoGradGuard noGrad;
    torch::manual_seed(3);
    // 3 rows, 4 heads, 13 keys of 20 values (not a multiple of the 8 partial sums).
    const auto query = torch::randn({3, 4, 1, 20});
    const auto key = torch::randn({3, 4, 13, 20});
    const auto value = torch::randn({3, 4, 13, 20});
    const auto bias = torch::randn({1, 4, 1, 13}); // relative-position bias, broadcast over rows
    ASSERT_TRUE(mp::canUseSingleQueryAttention(query, key, value, bias));
    const auto got = mp::singleQueryAttention(query, key, value, bias);
    ASSERT_EQ(got.sizes(), torch::IntArrayRef({3, 4, 1, 20}));
    EXPECT_TRUE(torch::allclose(got, reference(query, key, value, bias), 1e-5, 1e-5));
    EXPECT_TRUE(torch::allclose(mp::singleQueryAttention(query, key, value, {}),
                                reference(query, key, value, {}), 1e-5, 1e-5));
}

TEST(SingleQueryAttention, NarrowedCacheAndMaskedKeys)
{
    torch::NoGradGuard noGrad;
    torch::manual_seed(4);
    // A cache buffer with room for 32 positions, 9 of them filled; an encoder mask (B, 1, 1, T)
    // that hides the last 3 keys of row 0 with the most negative float, as the T5 stack does.
    const auto buffer = torch::randn({2, 3, 32, 16});
    const auto key = buffer.narrow(2, 0, 9);
    const auto value = torch::randn({2, 3, 32, 16}).narrow(2, 0, 9);
    const auto query = torch::randn({2, 3, 1, 16});
    auto mask = torch::zeros({2, 1, 1, 9});
    mask.select(0, 0).narrow(-1, 6, 3).fill_(std::numeric_limits<float>::lowest());
    ASSERT_TRUE(mp::canUseSingleQueryAttention(query, key, value, mask));
    const auto got = mp::singleQueryAttention(query, key, value, mask);
    EXPECT_TRUE(torch::allclose(got, reference(query, key, value, mask), 1e-5, 1e-5));
    // Row 0 ignores its masked keys: changing them changes nothing.
    const auto otherValue = value.clone();
    otherValue.select(0, 0).narrow(1, 6, 3).fill_(100.0f);
    EXPECT_TRUE(torch::allclose(mp::singleQueryAttention(query, key, otherValue, mask)[0], got[0],
                                1e-6, 1e-6));
}

TEST(SingleQueryAttention, RefusesWhatItCannotDo)
{
    const auto key = torch::randn({1, 2, 5, 8});
    const auto value = torch::randn({1, 2, 5, 8});
    torch::NoGradGuard noGrad;
    EXPECT_FALSE(mp::canUseSingleQueryAttention(torch::randn({1, 2, 2, 8}), key, value, {}));
    EXPECT_FALSE(mp::canUseSingleQueryAttention(torch::randn({1, 2, 1, 8}), key.to(torch::kDouble),
                                                value.to(torch::kDouble), {}));
    EXPECT_FALSE(mp::canUseSingleQueryAttention(
        torch::randn({1, 2, 1, 8}), key.transpose(2, 3).contiguous().transpose(2, 3), value, {}));
    {
        at::AutoGradMode grad(true);
        EXPECT_FALSE(mp::canUseSingleQueryAttention(torch::randn({1, 2, 1, 8}), key, value, {}));
    }
}
