#include "ml/core/error.h"
#include "ml/motion/features.h"
#include "ml/motion/quaternion.h"
#include "ml/motion/skeleton.h"

#include "near.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

namespace q = mp::quat;

namespace {

torch::Tensor axisAngle(double x, double y, double z, const torch::Tensor &angle)
{
    return q::fromAxisAngle(torch::tensor({x, y, z}, torch::kFloat64), angle);
}

// A walking-like pose sequence: legs and arms swing with phase (T), arms lowered from the T-pose.
torch::Tensor walkingLimbs(const torch::Tensor &phase)
{
    const int64_t frames = phase.size(0);
    auto local = q::identity({frames, 22}, torch::kFloat64);
    const auto swing = 0.5 * torch::sin(phase);
    local.select(1, 1).copy_(axisAngle(1, 0, 0, -swing));
    local.select(1, 2).copy_(axisAngle(1, 0, 0, swing));
    local.select(1, 4).copy_(axisAngle(1, 0, 0, 0.6 * torch::relu(torch::sin(phase))));
    local.select(1, 5).copy_(axisAngle(1, 0, 0, 0.6 * torch::relu(-torch::sin(phase))));
    const auto down = torch::full({frames}, 1.2, torch::kFloat64);
    local.select(1, 16).copy_(q::multiply(axisAngle(1, 0, 0, swing), axisAngle(0, 0, 1, -down)));
    local.select(1, 17).copy_(q::multiply(axisAngle(1, 0, 0, -swing), axisAngle(0, 0, 1, down)));
    local.select(1, 18).copy_(axisAngle(0, 1, 0, 0.3 + 0.0 * phase));
    return local;
}

torch::Tensor rootHeight(int64_t frames)
{
    return torch::full({frames}, mp::smpl22().restRootHeightM(), torch::kFloat64);
}

torch::Tensor joints(const torch::Tensor &root, const torch::Tensor &local)
{
    return mp::forwardKinematics(mp::smpl22(), root, local).to(torch::kFloat32);
}

// Straight along +Z at speedM per frame.
torch::Tensor straightWalk(int64_t frames, double speedM)
{
    const auto t = torch::arange(frames, torch::kFloat64);
    const auto root = torch::stack({torch::zeros_like(t), rootHeight(frames), speedM * t}, -1);
    return joints(root, walkingLimbs(t * 0.4));
}

// Around a circle of radius 1.5 m, 1.5 turns, facing along the path (crosses 180 degrees).
torch::Tensor circleWalk(int64_t frames)
{
    const auto t = torch::arange(frames, torch::kFloat64);
    const auto angle = t / (frames - 1) * 3.0 * std::numbers::pi;
    const auto root =
        torch::stack({1.5 * torch::sin(angle), rootHeight(frames) + 0.02 * torch::sin(t),
                      1.5 * torch::cos(angle)},
                     -1);
    auto local = walkingLimbs(t * 0.4);
    const auto yaw = q::fromYaw(angle + std::numbers::pi / 2);
    local.select(1, 0).copy_(q::multiply(yaw, local.select(1, 0)));
    return joints(root, local);
}

// In place, holding still, then turning yawRad over frames [start, start + 20), then holding.
torch::Tensor turnInPlace(int64_t frames, int64_t start, double yawRad)
{
    const auto t = torch::arange(frames, torch::kFloat64);
    const auto yaw = yawRad * ((t - start) / 20.0).clamp(0.0, 1.0);
    const auto root =
        torch::stack({torch::full_like(t, 0.3), rootHeight(frames), torch::full_like(t, -0.2)}, -1);
    auto local = walkingLimbs(torch::zeros_like(t));
    local.select(1, 0).copy_(q::fromYaw(yaw));
    return joints(root, local);
}

// Crouch, jump 0.4 m high between frames 20 and 40, land.
torch::Tensor jump(int64_t frames)
{
    const auto t = torch::arange(frames, torch::kFloat64);
    const auto s = ((t - 20) / 20.0).clamp(0.0, 1.0);
    const auto height = rootHeight(frames) + 1.6 * s * (1 - s);
    const auto root = torch::stack({torch::zeros_like(t), height, 0.01 * t}, -1);
    auto local = walkingLimbs(torch::zeros_like(t));
    return joints(root, local);
}

using mp::test::maxDiff;

void expectRoundTrip(const torch::Tensor &motion, const mp::FeatureOptions &options = {})
{
    const auto features = mp::extractFeatures(motion, options);
    ASSERT_EQ(features.sizes(), (std::vector<int64_t>{motion.size(0) - 1, 263}));
    ASSERT_EQ(features.scalar_type(), torch::kFloat32);
    const auto recovered = mp::recoverFromRic(features);
    const auto expected = mp::canonicalizeJoints(motion).slice(0, 0, -1);
    EXPECT_LT(maxDiff(recovered, expected), 2e-5);
}

} // namespace

TEST(Features, CanonicalizeFloorOriginFacing)
{
    // The circle walk starts facing +X at (0, h, 1.5): after preprocessing, frame 0 faces +Z.
    const auto c = mp::canonicalizeJoints(circleWalk(120));
    EXPECT_NEAR(c.select(-1, 1).min().item<double>(), 0.0, 1e-6);
    EXPECT_NEAR(c[0][0][0].item<double>(), 0.0, 1e-6);
    EXPECT_NEAR(c[0][0][2].item<double>(), 0.0, 1e-6);
    // Right hip minus left hip points -X when facing +Z.
    EXPECT_LT((c[0][2] - c[0][1])[0].item<double>(), -0.1);
    EXPECT_NEAR((c[0][2] - c[0][1])[2].item<double>(), 0.0, 1e-5);
}

TEST(Features, RoundTripIsExactOnWalkingInCircles)
{
    const auto motion = circleWalk(197);
    expectRoundTrip(motion);
    expectRoundTrip(motion, {.smoothForward = false});
    expectRoundTrip(motion, {.humanMl3dIkFacing = false});
}

TEST(Features, RoundTripIsExactOnTurningAndJumping)
{
    expectRoundTrip(turnInPlace(120, 40, std::numbers::pi / 2));
    expectRoundTrip(turnInPlace(60, 10, -2.5));
    expectRoundTrip(jump(60));
    expectRoundTrip(straightWalk(40, 0.06));
}

TEST(Features, StraightWalkRootVelocity)
{
    const double speed = 0.07; // 1.4 m/s at 20 fps
    const auto f = mp::extractFeatures(straightWalk(80, speed));
    EXPECT_LT(f.select(1, 0).abs().max().item<double>(), 1e-6);                // no turning
    EXPECT_LT(f.select(1, 1).abs().max().item<double>(), 1e-6);                // no sideways
    EXPECT_LT((f.select(1, 2) - speed).abs().max().item<double>(), 1e-6);      // forward
    EXPECT_NEAR(f[0][3].item<double>(), mp::smpl22().restRootHeightM(), 0.05); // height
    // Local velocity of the root equals the root velocity, in the facing frame.
    EXPECT_LT((f.select(1, 193 + 2) - speed).abs().max().item<double>(), 1e-6);
}

TEST(Features, QuarterTurnYawSum)
{
    // Turning +90 degrees about Y: HumanML3D's feature 0 holds half of the root rotation that
    // brings the body back to +Z, so it sums to -pi/4.
    for (bool smooth : {false, true}) {
        const auto f = mp::extractFeatures(turnInPlace(200, 90, std::numbers::pi / 2),
                                           {.smoothForward = smooth});
        EXPECT_NEAR(f.select(1, 0).sum().item<double>(), -std::numbers::pi / 4, 1e-5)
            << "smooth " << smooth;
        // The pose relative to the facing is the same before and after the turn.
        EXPECT_LT(maxDiff(f[0].slice(0, 4, 67), f[198].slice(0, 4, 67)), 1e-5);
        EXPECT_LT(f.select(1, 0).slice(0, 0, 80).abs().max().item<double>(), smooth ? 1e-2 : 1e-7);
    }
    // Without smoothing the turn happens exactly in its 20 frames.
    const auto f =
        mp::extractFeatures(turnInPlace(200, 90, std::numbers::pi / 2), {.smoothForward = false});
    EXPECT_NEAR(f[100][0].item<double>(), -std::numbers::pi / 80, 1e-6);
}

TEST(Features, FootContacts)
{
    // Standing still: every foot joint planted.
    const auto still = mp::extractFeatures(turnInPlace(30, 100, 0.0));
    EXPECT_TRUE((still.slice(1, 259) == 1).all().item<bool>());
    // Mid-air in a jump: no contact; before take-off: contact.
    const auto j = mp::extractFeatures(jump(60));
    // (At the apex the feet hardly move, so HumanML3D's rule counts contact there.)
    EXPECT_TRUE((j.slice(0, 20, 25).slice(1, 259) == 0).all().item<bool>());
    EXPECT_TRUE((j.slice(0, 36, 40).slice(1, 259) == 0).all().item<bool>());
    EXPECT_TRUE((j.slice(0, 0, 15).slice(1, 259) == 1).all().item<bool>());
    // The threshold is on the squared displacement per frame: 0.04 m (0.0016) is contact,
    // 0.05 m (0.0025) is not.
    const auto slide = [](double step) {
        const auto t = torch::arange(10, torch::kFloat64);
        const auto root = torch::stack({torch::zeros_like(t), rootHeight(10), step * t}, -1);
        return mp::extractFeatures(joints(root, walkingLimbs(torch::zeros_like(t))));
    };
    EXPECT_TRUE((slide(0.04).slice(1, 259) == 1).all().item<bool>());
    EXPECT_TRUE((slide(0.05).slice(1, 259) == 0).all().item<bool>());
    EXPECT_TRUE((mp::extractFeatures(
                     joints(torch::stack({torch::zeros({10}, torch::kFloat64), rootHeight(10),
                                          0.05 * torch::arange(10, torch::kFloat64)},
                                         -1),
                            walkingLimbs(torch::zeros({10}, torch::kFloat64))),
                     {.footContactThreshold = 0.003})
                     .slice(1, 259) == 1)
                    .all()
                    .item<bool>());
}

TEST(Features, InvariantToWhereTheClipStartsAndFaces)
{
    const auto motion = circleWalk(60).to(torch::kFloat64);
    const auto turn = q::fromYaw(torch::tensor(1.1, torch::kFloat64));
    const auto moved = q::rotate(turn.expand({60, 22, 4}), motion) +
                       torch::tensor({3.0, 0.25, -7.0}, torch::kFloat64);
    EXPECT_LT(maxDiff(mp::extractFeatures(motion), mp::extractFeatures(moved)), 1e-9);
}

TEST(Features, RotationsMatchTheReferenceBoneDirections)
{
    // A joint's 6D is relative to its parent bone's arc from the reference direction: near identity
    // for the shin (knee -> ankle) of a straight standing leg, whose thigh also points down.
    const auto f = mp::extractFeatures(turnInPlace(10, 100, 0.0), {.smoothForward = false});
    const auto identity6d = torch::tensor({1.0f, 0.f, 0.f, 0.f, 1.f, 0.f});
    // Joint j's 6D sits at 67 + 6 (j - 1); the left ankle is joint 7.
    const auto ankle = f[0].slice(0, 67 + 6 * 6, 67 + 6 * 7);
    EXPECT_LT(maxDiff(ankle, identity6d), 0.2);
    // The hip is relative to the root: far from identity (its bone is not along +X).
    EXPECT_GT(maxDiff(f[0].slice(0, 67, 73), identity6d), 0.3);
    // Every 6D block is two orthonormal columns.
    const auto blocks = f.slice(1, 67, 193).reshape({-1, 6});
    EXPECT_LT((blocks.slice(1, 0, 3).norm(2, -1) - 1).abs().max().item<double>(), 1e-5);
    EXPECT_LT((blocks.slice(1, 0, 3) * blocks.slice(1, 3, 6)).sum(-1).abs().max().item<double>(),
              1e-5);
}

TEST(Features, RecoverFollowsTheSpecFormulaOnHandMadeFeatures)
{
    // x_t[0] = 0.1, root velocity (0.02, 0.05), height 0.9, one ric joint at (0, 0, 0.3).
    const int64_t frames = 5;
    auto x = torch::zeros({frames, 263}, torch::kFloat64);
    x.select(1, 0).fill_(0.1);
    x.select(1, 1).fill_(0.02);
    x.select(1, 2).fill_(0.05);
    x.select(1, 3).fill_(0.9);
    x.select(1, 4 + 2).fill_(0.3);
    const auto j = mp::recoverFromRic(x);
    ASSERT_EQ(j.sizes(), (std::vector<int64_t>{frames, 22, 3}));
    double theta = 0, px = 0, pz = 0;
    for (int64_t t = 0; t < frames; ++t) {
        if (t > 0) {
            theta += 0.1;
            // rot(q^-1, v) with q = (cos th, 0, sin th, 0): a yaw of -2 th.
            const double a = -2 * theta;
            px += std::cos(a) * 0.02 + std::sin(a) * 0.05;
            pz += -std::sin(a) * 0.02 + std::cos(a) * 0.05;
        }
        EXPECT_NEAR(j[t][0][0].item<double>(), px, 1e-12);
        EXPECT_NEAR(j[t][0][1].item<double>(), 0.9, 1e-12);
        EXPECT_NEAR(j[t][0][2].item<double>(), pz, 1e-12);
        const double a = -2 * theta;
        EXPECT_NEAR(j[t][1][0].item<double>(), px + std::sin(a) * 0.3, 1e-12);
        EXPECT_NEAR(j[t][1][2].item<double>(), pz + std::cos(a) * 0.3, 1e-12);
    }
    // Batched input gives the same as one clip at a time.
    const auto batch = torch::stack({x, x * 0.5});
    EXPECT_LT(maxDiff(mp::recoverFromRic(batch)[0], j), 1e-12);
    EXPECT_LT(maxDiff(mp::recoverFromRic(batch)[1], mp::recoverFromRic(x * 0.5)), 1e-12);
}

TEST(Features, BadInputIsAUserError)
{
    EXPECT_THROW(mp::extractFeatures(torch::zeros({10, 21, 3})), mp::InputError);
    EXPECT_THROW(mp::extractFeatures(torch::zeros({1, 22, 3})), mp::InputError);
    auto nan = straightWalk(10, 0.05);
    nan[3][4][1] = std::nan("");
    EXPECT_THROW(mp::extractFeatures(nan), mp::InputError);
    EXPECT_THROW(mp::recoverFromRic(torch::zeros({10, 262})), mp::InputError);
}
