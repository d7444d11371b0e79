#include "ml/models/dense_linear.h"

#include "near.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

namespace {

double maxAbsDiff(const at::Tensor &a, const at::Tensor &b)
{
    return mp::test::maxDiff(a.to(torch::kDouble), b.to(torch::kDouble));
}

double scaleOf(const at::Tensor &t)
{
    return t.abs().max().item<double>();
}

struct Grads {
    at::Tensor out, rows, weight;
};

// The product and both gradients under an upstream gradient, in the dtype of the inputs given.
Grads run(const at::Tensor &rowsInit, const at::Tensor &weightInit, const at::Tensor &upstream,
          bool weightGrad, bool dense)
{
    const auto rows = rowsInit.clone().requires_grad_(true);
    const auto weight = weightInit.clone().requires_grad_(weightGrad);
    const auto out = dense ? mp::denseLinear(rows, weight) : at::mm(rows, weight.t());
    (out * upstream.to(out.scalar_type())).sum().backward();
    return {out.detach(), rows.grad(), weightGrad ? weight.grad() : at::Tensor()};
}

} // namespace

// Which products take oneDNN: all three dimensions at least kDenseLinearMinSize, CPU float32.
TEST(DenseLinear, TakesOneDnnOnlyForLargeFloatProducts)
{
    const auto n = mp::kDenseLinearMinSize;
    const auto rows = torch::randn({n, n});
    const auto weight = torch::randn({n, n});
    EXPECT_EQ(mp::denseLinearUsesOneDnn(rows, weight), mp::denseLinearHasOneDnn());
    EXPECT_FALSE(mp::denseLinearUsesOneDnn(rows.narrow(0, 0, n - 1), weight));
    EXPECT_FALSE(mp::denseLinearUsesOneDnn(rows, weight.narrow(0, 0, n - 1)));
    EXPECT_FALSE(mp::denseLinearUsesOneDnn(rows.narrow(1, 0, n - 1), weight.narrow(1, 0, n - 1)));
    EXPECT_FALSE(mp::denseLinearUsesOneDnn(rows.to(torch::kDouble), weight.to(torch::kDouble)));
}

// The forward and both gradients (LoRA's frozen weight: rows only; full fine-tuning: both)
// within float rounding of the float64 product, at sizes on either side of the threshold and
// with non-contiguous rows (a transposed view).
TEST(DenseLinear, MatchesFloat64ProductAndGradients)
{
    torch::manual_seed(5);
    struct Case {
        std::int64_t rows, in, out;
        bool transposedRows;
    };
    for (const Case c : {Case{300, 256, 1024, false}, Case{517, 1024, 256, false},
                         Case{200, 160, 144, true}, Case{40, 256, 256, false}}) {
        for (const bool weightGrad : {false, true}) {
            const auto rows =
                c.transposedRows ? torch::randn({c.in, c.rows}).t() : torch::randn({c.rows, c.in});
            const auto weight = torch::randn({c.out, c.in}) * 0.05;
            const auto upstream = torch::randn({c.rows, c.out});
            const auto dense = run(rows, weight, upstream, weightGrad, true);
            const auto exact = run(rows.to(torch::kDouble), weight.to(torch::kDouble), upstream,
                                   weightGrad, false);
            const std::string what = std::to_string(c.rows) + "x" + std::to_string(c.in) + " by " +
                                     std::to_string(c.out) +
                                     (weightGrad ? ", weight grad" : ", frozen weight");
            EXPECT_EQ(dense.out.scalar_type(), torch::kFloat) << what;
            EXPECT_LT(maxAbsDiff(dense.out, exact.out), 1e-5 * scaleOf(exact.out)) << what;
            EXPECT_LT(maxAbsDiff(dense.rows, exact.rows), 1e-5 * scaleOf(exact.rows)) << what;
            if (weightGrad)
                EXPECT_LT(maxAbsDiff(dense.weight, exact.weight), 1e-5 * scaleOf(exact.weight))
                    << what;
        }
    }
}

// No autograd record where no gradient is wanted (a reference pass, generation), and the same
// values as with one.
TEST(DenseLinear, WithoutGradModeReturnsAPlainTensor)
{
    torch::manual_seed(6);
    const auto rows = torch::randn({256, 256}).requires_grad_(true);
    const auto weight = torch::randn({512, 256});
    at::Tensor plain;
    {
        torch::NoGradGuard noGrad;
        plain = mp::denseLinear(rows, weight);
    }
    EXPECT_FALSE(plain.requires_grad());
    const auto tracked = mp::denseLinear(rows, weight);
    EXPECT_TRUE(tracked.requires_grad());
    EXPECT_TRUE(torch::equal(plain, tracked.detach()));
}

// A gradient that reaches the product as a view into a wider buffer (cat's backward: row stride
// above its width) and rows that are a column slice of a wider matrix: both read in place with
// their leading dimension, and the same values as LibTorch's product.
TEST(DenseLinear, ReadsStridedOperandsInPlace)
{
    torch::manual_seed(7);
    const auto wide = torch::randn({300, 400});
    const auto weightInit = torch::randn({256, 200}) * 0.05;
    const auto upstream = torch::randn({300, 256 + 64});
    const auto extra = torch::randn({300, 64});
    const auto gradients = [&](bool dense) {
        const auto source = wide.clone().requires_grad_(true);
        const auto weight = weightInit.clone().requires_grad_(true);
        const auto rows = source.narrow(1, 100, 200); // strides (400, 1)
        const auto out = dense ? mp::denseLinear(rows, weight) : at::mm(rows, weight.t());
        (torch::cat({out, extra}, 1) * upstream).sum().backward();
        return std::make_pair(source.grad(), weight.grad());
    };
    const auto [denseRows, denseWeight] = gradients(true);
    const auto [plainRows, plainWeight] = gradients(false);
    EXPECT_LT(maxAbsDiff(denseRows, plainRows), 1e-5 * scaleOf(plainRows));
    EXPECT_LT(maxAbsDiff(denseWeight, plainWeight), 1e-5 * scaleOf(plainWeight));
    EXPECT_GT(scaleOf(denseRows.narrow(1, 100, 200)), 0.0);
    EXPECT_EQ(scaleOf(denseRows.narrow(1, 0, 100)), 0.0);
}

// A LoRA layer with a frozen weight (the adapter folded into it on the oneDNN path) against
// PEFT's unmerged form in float64: the output and the gradients of the rows, A and B.
TEST(DenseLinear, LoraMatchesUnmergedFormInFloat64)
{
    torch::manual_seed(8);
    const double scaling = 2.0;
    const auto rowsInit = torch::randn({300, 256});
    const auto weight = torch::randn({512, 256}) * 0.05;
    const auto aInit = torch::randn({8, 256}) * 0.1;
    const auto bInit = torch::randn({512, 8}) * 0.1;
    const auto upstream = torch::randn({300, 512});
    struct Result {
        at::Tensor out, rows, a, b;
    };
    const auto run = [&](bool dense) {
        const auto dtype = dense ? torch::kFloat : torch::kDouble;
        const auto rows = rowsInit.to(dtype).clone().requires_grad_(true);
        const auto a = aInit.to(dtype).clone().requires_grad_(true);
        const auto b = bInit.to(dtype).clone().requires_grad_(true);
        const auto frozen = weight.to(dtype);
        const auto out =
            dense ? mp::loraDenseLinear(rows, frozen, a, b, scaling)
                  : at::mm(rows, frozen.t()) + at::mm(at::mm(rows, a.t()), b.t()) * scaling;
        (out * upstream.to(dtype)).sum().backward();
        return Result{out.detach(), rows.grad(), a.grad(), b.grad()};
    };
    const auto dense = run(true);
    const auto exact = run(false);
    EXPECT_LT(maxAbsDiff(dense.out, exact.out), 1e-5 * scaleOf(exact.out));
    EXPECT_LT(maxAbsDiff(dense.rows, exact.rows), 1e-5 * scaleOf(exact.rows));
    EXPECT_LT(maxAbsDiff(dense.a, exact.a), 1e-5 * scaleOf(exact.a));
    EXPECT_LT(maxAbsDiff(dense.b, exact.b), 1e-5 * scaleOf(exact.b));
    torch::NoGradGuard noGrad;
    EXPECT_LT(maxAbsDiff(mp::loraDenseLinear(rowsInit, weight, aInit, bInit, scaling), exact.out),
              1e-5 * scaleOf(exact.out));
}
