#include "ml/models/fused_attention.h"

#include "near.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <limits>

namespace {

double attentionDiff(const at::Tensor &a, const at::Tensor &b)
{
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

double attentionLargest(const at::Tensor &x)
{
    return x.abs().max().item<double>();
}

// The attention as transformers' T5Attention writes it (heads split, matmul, bias add, softmax,
// matmul, heads merged), in float64: the value both float32 paths round.
at::Tensor exactAttention(const at::Tensor &query, const at::Tensor &key, const at::Tensor &value,
                          const at::Tensor &bias, std::int64_t heads)
{
    const auto split = [&](const at::Tensor &x) {
        return x.to(torch::kDouble)
            .view({x.size(0), x.size(1), heads, x.size(2) / heads})
            .transpose(1, 2);
    };
    auto scores = torch::matmul(split(query), split(key).transpose(-1, -2));
    if (bias.defined())
        scores = scores + bias.to(torch::kDouble);
    const auto context = torch::matmul(torch::softmax(scores, -1), split(value));
    return context.transpose(1, 2).reshape(query.sizes());
}

// T5's masks: 0 where allowed, float's lowest where not.
at::Tensor attentionMask(const at::Tensor &allowed)
{
    return torch::zeros(allowed.sizes())
        .masked_fill(allowed.logical_not(), std::numeric_limits<float>::lowest());
}

struct AttentionCase {
    const char *name;
    std::int64_t batch, queries, keys, heads, dKv;
    std::vector<std::int64_t> biasShape; // empty: no bias
};

at::Tensor attentionBias(const AttentionCase &c)
{
    if (c.biasShape.empty())
        return {};
    return torch::randn(c.biasShape) * 2;
}

const std::vector<AttentionCase> &attentionCases()
{
    static const std::vector<AttentionCase> all{
        {"position bias per head", 3, 7, 7, 4, 16, {1, 4, 7, 7}},
        {"full bias", 2, 5, 9, 2, 8, {2, 2, 5, 9}},
        {"key mask only (cross-attention)", 4, 6, 11, 3, 5, {4, 1, 1, 11}},
        {"no bias", 2, 19, 33, 2, 32, {}},
        {"one query", 5, 1, 17, 4, 8, {5, 4, 1, 17}},
        {"many pairs (parallel chunks)", 64, 12, 12, 4, 16, {1, 4, 12, 12}},
    };
    return all;
}

} // namespace

TEST(FusedAttention, ForwardMatchesTransformersFormula)
{
    torch::NoGradGuard noGrad;
    torch::manual_seed(11);
    for (const auto &c : attentionCases()) {
        const auto width = c.heads * c.dKv;
        const auto query = torch::randn({c.batch, c.queries, width});
        const auto key = torch::randn({c.batch, c.keys, width});
        const auto value = torch::randn({c.batch, c.keys, width});
        const auto bias = attentionBias(c);
        ASSERT_TRUE(mp::canFuseAttention(query, key, value, bias, c.heads)) << c.name;
        const auto fused = mp::fusedAttention(query, key, value, bias, c.heads);
        const auto exact = exactAttention(query, key, value, bias, c.heads);
        ASSERT_EQ(fused.sizes(), exact.sizes()) << c.name;
        EXPECT_LT(attentionDiff(fused, exact), 2e-6 * attentionLargest(exact)) << c.name;
    }
}

// A decoder's bias: causal and padding masks on top of the position bias, as T5's stack builds
// it. Masked keys get probability 0 exactly, so a padded key's value cannot leak into any output.
TEST(FusedAttention, MaskedKeysGetNoWeight)
{
    torch::NoGradGuard noGrad;
    torch::manual_seed(12);
    const std::int64_t batch = 2, length = 6, heads = 2, dKv = 8;
    const auto query = torch::randn({batch, length, heads * dKv});
    const auto key = torch::randn({batch, length, heads * dKv});
    auto value = torch::randn({batch, length, heads * dKv});
    const auto positions = torch::arange(length);
    const auto causal =
        (positions.unsqueeze(0) <= positions.unsqueeze(1)).view({1, 1, length, length});
    const auto padding = torch::tensor({1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0})
                             .view({batch, 1, 1, length})
                             .to(torch::kBool);
    const auto bias =
        torch::randn({1, heads, length, length}) + attentionMask(causal.logical_and(padding));
    const auto before = mp::fusedAttention(query, key, value, bias, heads);
    EXPECT_LT(attentionDiff(before, exactAttention(query, key, value, bias, heads)),
              2e-6 * attentionLargest(before));
    // Changing a padded key's value, or a future key's, changes nothing.
    value.select(0, 1).select(0, 4).fill_(1e6);
    value.select(0, 0).select(0, 5).fill_(1e6);
    const auto after = mp::fusedAttention(query, key, value, bias, heads);
    EXPECT_TRUE(torch::equal(before.select(0, 1), after.select(0, 1)));
    EXPECT_TRUE(
        torch::equal(before.select(0, 0).slice(0, 0, 5), after.select(0, 0).slice(0, 0, 5)));
}

TEST(FusedAttention, GradientsMatchAutogradInFloat64)
{
    torch::manual_seed(13);
    for (const auto &c : attentionCases()) {
        if (c.biasShape.empty())
            continue;
        const auto width = c.heads * c.dKv;
        const auto queryInit = torch::randn({c.batch, c.queries, width});
        const auto keyInit = torch::randn({c.batch, c.keys, width});
        const auto valueInit = torch::randn({c.batch, c.keys, width});
        const auto biasInit = attentionBias(c);
        const auto upstream = torch::randn({c.batch, c.queries, width});

        const auto query = queryInit.clone().requires_grad_(true);
        const auto key = keyInit.clone().requires_grad_(true);
        const auto value = valueInit.clone().requires_grad_(true);
        const auto bias = biasInit.clone().requires_grad_(true);
        (mp::fusedAttention(query, key, value, bias, c.heads) * upstream).sum().backward();

        const auto query64 = queryInit.to(torch::kDouble).requires_grad_(true);
        const auto key64 = keyInit.to(torch::kDouble).requires_grad_(true);
        const auto value64 = valueInit.to(torch::kDouble).requires_grad_(true);
        const auto bias64 = biasInit.to(torch::kDouble).requires_grad_(true);
        (exactAttention(query64, key64, value64, bias64, c.heads) * upstream.to(torch::kDouble))
            .sum()
            .backward();

        for (const auto &[fused, exact, name] :
             std::vector<std::tuple<at::Tensor, at::Tensor, const char *>>{
                 {query.grad(), query64.grad(), "query"},
                 {key.grad(), key64.grad(), "key"},
                 {value.grad(), value64.grad(), "value"},
                 {bias.grad(), bias64.grad(), "bias"}}) {
            ASSERT_TRUE(fused.defined()) << c.name << ": " << name;
            ASSERT_EQ(fused.sizes(), exact.sizes()) << c.name << ": " << name;
            EXPECT_LT(attentionDiff(fused, exact), 1e-5 * attentionLargest(exact))
                << c.name << ": " << name;
        }
    }
}

// LoRA training: a frozen bias and key get no gradient; the others are unchanged by that.
TEST(FusedAttention, FrozenInputsGetNoGradient)
{
    torch::manual_seed(14);
    const auto query = torch::randn({3, 5, 16}).requires_grad_(true);
    const auto key = torch::randn({3, 5, 16});
    const auto value = torch::randn({3, 5, 16}).requires_grad_(true);
    const auto bias = torch::randn({1, 2, 5, 5});
    const auto upstream = torch::randn({3, 5, 16});
    (mp::fusedAttention(query, key, value, bias, 2) * upstream).sum().backward();
    EXPECT_FALSE(key.grad().defined());
    EXPECT_FALSE(bias.grad().defined());

    const auto query64 = query.detach().to(torch::kDouble).requires_grad_(true);
    const auto value64 = value.detach().to(torch::kDouble).requires_grad_(true);
    (exactAttention(query64, key, value64, bias, 2) * upstream.to(torch::kDouble)).sum().backward();
    EXPECT_LT(attentionDiff(query.grad(), query64.grad()), 1e-5 * attentionLargest(query64.grad()));
    EXPECT_LT(attentionDiff(value.grad(), value64.grad()), 1e-5 * attentionLargest(value64.grad()));
}

// T5's position bias is a permuted view (last stride = heads): taken, read as rows in order.
TEST(FusedAttention, PermutedBiasView)
{
    torch::NoGradGuard noGrad;
    torch::manual_seed(15);
    const auto table = torch::randn({7, 7, 4}); // (q, k, H), as the bias embedding returns it
    const auto bias = table.permute({2, 0, 1}).unsqueeze(0);
    const auto query = torch::randn({2, 7, 32});
    const auto key = torch::randn({2, 7, 32});
    const auto value = torch::randn({2, 7, 32});
    ASSERT_TRUE(mp::canFuseAttention(query, key, value, bias, 4));
    const auto fused = mp::fusedAttention(query, key, value, bias, 4);
    EXPECT_LT(attentionDiff(fused, exactAttention(query, key, value, bias, 4)),
              2e-6 * attentionLargest(fused));
}

TEST(FusedAttention, RefusesWhatItCannotTake)
{
    const auto query = torch::randn({2, 3, 8});
    const auto key = torch::randn({2, 5, 8});
    const auto value = torch::randn({2, 5, 8});
    EXPECT_FALSE(mp::canFuseAttention(query.to(torch::kDouble), key, value, {}, 2));
    EXPECT_FALSE(mp::canFuseAttention(query.transpose(0, 1), key, value, {}, 2));
    EXPECT_FALSE(mp::canFuseAttention(query, key, value, {}, 3)); // 8 columns, 3 heads
    EXPECT_FALSE(mp::canFuseAttention(query, key, value.slice(1, 0, 4), {}, 2));
    EXPECT_FALSE(mp::canFuseAttention(query, key, value, torch::zeros({2, 2, 3, 4}), 2));
    EXPECT_FALSE(mp::canFuseAttention(query, key, value, torch::zeros({2, 2, 3, 1}), 2));
    EXPECT_TRUE(mp::canFuseAttention(query, key, value, torch::zeros({2, 1, 1, 5}), 2));
}
