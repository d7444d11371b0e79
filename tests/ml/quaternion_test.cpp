#include "ml/motion/quaternion.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

namespace q = mp::quat;

namespace {

torch::Tensor vec(std::initializer_list<double> values)
{
    return torch::tensor(std::vector<double>(values), torch::kFloat64);
}

torch::Tensor randomUnit(int64_t n, int64_t seed)
{
    torch::manual_seed(seed);
    return q::normalize(torch::randn({n, 4}, torch::kFloat64));
}

void expectClose(const torch::Tensor &a, const torch::Tensor &b, double tol = 1e-9)
{
    ASSERT_EQ(a.sizes(), b.sizes());
    EXPECT_LT((a - b).abs().max().item<double>(), tol) << a << "\nvs\n" << b;
}

} // namespace

TEST(Quaternion, QuarterTurnAboutYTakesXToMinusZ)
{
    const auto r =
        q::fromAxisAngle(vec({0, 1, 0}), torch::tensor(std::numbers::pi / 2, torch::kFloat64));
    expectClose(q::rotate(r, vec({1, 0, 0})), vec({0, 0, -1}));
    expectClose(q::fromYaw(torch::tensor(std::numbers::pi / 2, torch::kFloat64)), r);
}

TEST(Quaternion, MultiplyComposesRightToLeft)
{
    const auto a = randomUnit(16, 1), b = randomUnit(16, 2);
    const auto v = torch::randn({16, 3}, torch::kFloat64);
    expectClose(q::rotate(q::multiply(a, b), v), q::rotate(a, q::rotate(b, v)));
}

TEST(Quaternion, InverseUndoesAndHandlesNonUnit)
{
    const auto a = randomUnit(8, 3);
    expectClose(q::multiply(a, q::inverse(a)), q::identity({8}, torch::kFloat64));
    const auto scaled = a * 3.0;
    expectClose(q::multiply(scaled, q::inverse(scaled)), q::identity({8}, torch::kFloat64));
    expectClose(q::conjugate(a), q::inverse(a));
}

TEST(Quaternion, BetweenTakesFirstDirectionOntoSecond)
{
    torch::manual_seed(4);
    const auto v0 = torch::randn({32, 3}, torch::kFloat64);
    const auto v1 = torch::randn({32, 3}, torch::kFloat64) * 5.0;
    const auto r = q::between(v0, v1);
    const auto turned = q::rotate(r, v0 / v0.norm(2, -1, true));
    expectClose(turned, v1 / v1.norm(2, -1, true));
    // Shortest arc: the angle equals the angle between the vectors.
    const auto cosine = (v0 * v1).sum(-1) / (v0.norm(2, -1) * v1.norm(2, -1));
    expectClose(2.0 * torch::acos(r.select(-1, 0).clamp(-1, 1)), torch::acos(cosine), 1e-7);
}

TEST(Quaternion, BetweenOppositeVectorsIsAHalfTurn)
{
    for (const auto &v : {vec({1, 0, 0}), vec({0, 0, 1}), vec({0.3, -0.2, 0.9})}) {
        const auto r = q::between(v, -v);
        EXPECT_FALSE(torch::isnan(r).any().item<bool>());
        expectClose(q::rotate(r, v), -v, 1e-9);
    }
}

TEST(Quaternion, MatrixRoundTrip)
{
    const auto a = q::positiveW(randomUnit(64, 5));
    const auto m = q::toMatrix(a);
    // Orthonormal with determinant 1.
    expectClose(torch::matmul(m, m.transpose(-1, -2)),
                torch::eye(3, torch::kFloat64).expand({64, 3, 3}));
    expectClose(torch::det(m), torch::ones({64}, torch::kFloat64));
    expectClose(q::fromMatrix(m), a);
    // Half turns (w = 0) take the branch that does not divide by w.
    const auto halfTurn =
        q::fromAxisAngle(vec({0, 1, 0}), torch::tensor(std::numbers::pi, torch::kFloat64));
    expectClose(q::toMatrix(q::fromMatrix(q::toMatrix(halfTurn))), q::toMatrix(halfTurn));
}

TEST(Quaternion, MatrixOfQuarterTurnAboutZ)
{
    const auto r =
        q::fromAxisAngle(vec({0, 0, 1}), torch::tensor(std::numbers::pi / 2, torch::kFloat64));
    const auto expected =
        torch::tensor({0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0}, torch::kFloat64)
            .reshape({3, 3});
    expectClose(q::toMatrix(r), expected);
}

TEST(Quaternion, Cont6dIsFirstTwoColumnsAndRoundTrips)
{
    const auto a = q::positiveW(randomUnit(64, 6));
    const auto d6 = q::toCont6d(a);
    ASSERT_EQ(d6.size(-1), 6);
    const auto m = q::toMatrix(a);
    expectClose(d6.slice(-1, 0, 3), m.select(-1, 0));
    expectClose(d6.slice(-1, 3, 6), m.select(-1, 1));
    expectClose(q::fromCont6d(d6), a);
    // Not orthonormal input is orthonormalised (Gram-Schmidt on the first column).
    const auto noisy = d6 * 2.0 + torch::tensor({0.0, 0.0, 0.0, 0.01, 0.0, 0.0}, torch::kFloat64);
    const auto mn = q::cont6dToMatrix(noisy);
    expectClose(torch::matmul(mn, mn.transpose(-1, -2)),
                torch::eye(3, torch::kFloat64).expand({64, 3, 3}));
}

TEST(Quaternion, MakeContinuousFlipsSignRuns)
{
    auto a = q::fromYaw(torch::linspace(0, 1, 6, torch::kFloat64));
    auto flipped = a.clone();
    flipped.slice(0, 2, 4) *= -1;
    expectClose(q::makeContinuous(flipped), a);
    EXPECT_TRUE((q::positiveW(-a).select(-1, 0) >= 0).all().item<bool>());
}

TEST(Quaternion, BroadcastsOverLeadingDimensions)
{
    const auto a = randomUnit(12, 7).reshape({3, 4, 4});
    const auto v = torch::randn({3, 4, 3}, torch::kFloat64);
    expectClose(q::rotate(a, v).reshape({12, 3}),
                q::rotate(a.reshape({12, 4}), v.reshape({12, 3})));
    // One quaternion for many vectors.
    const auto one = a[0][0];
    expectClose(q::rotate(one.expand({3, 4, 4}), v), q::rotate(one, v));
}
