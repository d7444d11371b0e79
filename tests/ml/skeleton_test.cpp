#include "ml/core/error.h"
#include "ml/motion/quaternion.h"
#include "ml/motion/skeleton.h"

#include "near.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

namespace {

torch::Tensor identityRotations(int64_t frames, int64_t joints)
{
    return mp::quat::identity({frames, joints}, torch::kFloat32);
}

using mp::test::maxDiff;

} // namespace

TEST(Skeleton, Smpl22LayoutMatchesHumanML3D)
{
    const auto &s = mp::smpl22();
    ASSERT_EQ(s.numJoints(), 22);
    EXPECT_EQ(s.jointNames[0], "pelvis");
    EXPECT_EQ(s.jointNames[10], "left_foot");
    EXPECT_EQ(s.jointNames[17], "right_shoulder");
    EXPECT_EQ(s.indexOf("right_wrist"), 21);
    EXPECT_EQ(s.indexOf("tail"), -1);
    // Every chain link is a parent-child edge.
    for (const auto &chain : s.chains)
        for (std::size_t i = 1; i < chain.size(); ++i)
            EXPECT_EQ(s.parents[chain[i]], chain[i - 1]);
    EXPECT_EQ(s.sides[7], mp::BodySide::Left);
    EXPECT_EQ(s.sides[8], mp::BodySide::Right);
    EXPECT_EQ(s.sides[12], mp::BodySide::Center);
    const auto mirror = s.mirrorIndex();
    EXPECT_EQ(mirror[16], 17);
    EXPECT_EQ(mirror[17], 16);
    EXPECT_EQ(mirror[15], 15);
}

TEST(Skeleton, RestPoseIsAnUprightAdultFacingPlusZWithArmsOut)
{
    const auto &s = mp::smpl22();
    const auto rest = s.restPositions(torch::kFloat32);
    const auto y = rest.select(1, 1);
    const double headAboveFeet = y[15].item<double>() - y.min().item<double>();
    EXPECT_GT(headAboveFeet, 1.35);
    EXPECT_LT(headAboveFeet, 1.75);
    EXPECT_NEAR(s.restRootHeightM(), -y.min().item<double>(), 1e-6);
    EXPECT_GT(s.restRootHeightM(), 0.8);
    // Left is +X, arms out sideways at about shoulder height.
    EXPECT_GT(rest[20][0].item<double>(), 0.5);
    EXPECT_LT(rest[21][0].item<double>(), -0.5);
    EXPECT_NEAR(rest[20][1].item<double>(), rest[16][1].item<double>(), 0.05);
    // Toes point forward (+Z) from the ankles.
    EXPECT_GT(rest[10][2].item<double>(), rest[7][2].item<double>() + 0.05);
    // Left/right symmetric.
    for (const auto &[l, r] : s.leftRightPairs) {
        EXPECT_NEAR(rest[l][0].item<double>(), -rest[r][0].item<double>(), 1e-6);
        EXPECT_NEAR(rest[l][1].item<double>(), rest[r][1].item<double>(), 1e-6);
    }
}

TEST(Skeleton, IdentityRotationsGiveTheRestPoseAtTheRoot)
{
    const auto &s = mp::smpl22();
    const auto root = torch::tensor({{0.0f, 0.9f, 0.0f}, {1.0f, 0.9f, 2.0f}});
    const auto joints = mp::forwardKinematics(s, root, identityRotations(2, 22));
    ASSERT_EQ(joints.sizes(), (std::vector<int64_t>{2, 22, 3}));
    const auto rest = s.restPositions(torch::kFloat32);
    EXPECT_LT(maxDiff(joints[0], rest + root[0]), 1e-6);
    EXPECT_LT(maxDiff(joints[1], rest + root[1]), 1e-6);
}

TEST(Skeleton, RootYawTurnsTheWholeBody)
{
    const auto &s = mp::smpl22();
    auto rotations = identityRotations(1, 22);
    rotations.select(1, 0).copy_(mp::quat::fromYaw(torch::tensor({float(std::numbers::pi / 2)})));
    const auto joints = mp::forwardKinematics(s, torch::zeros({1, 3}), rotations);
    // Facing +Z turned by +90 degrees about Y faces +X; the left hand goes to -Z.
    EXPECT_GT(joints[0][10][0].item<double>(), joints[0][7][0].item<double>() + 0.05);
    EXPECT_LT(joints[0][20][2].item<double>(), -0.5);
}

TEST(Skeleton, KneeRotationMovesOnlyTheLowerLeg)
{
    const auto &s = mp::smpl22();
    auto rotations = identityRotations(1, 22);
    // Bend the left knee 90 degrees about X: the shin swings backwards (to -Z).
    rotations.select(1, 4).copy_(mp::quat::fromAxisAngle(
        torch::tensor({1.0f, 0.0f, 0.0f}), torch::tensor(float(std::numbers::pi / 2))));
    const auto rest = mp::forwardKinematics(s, torch::zeros({1, 3}), identityRotations(1, 22));
    const auto bent = mp::forwardKinematics(s, torch::zeros({1, 3}), rotations);
    for (int j : {0, 1, 2, 4, 5, 8, 11, 15, 20})
        EXPECT_LT(maxDiff(bent[0][j], rest[0][j]), 1e-6) << "joint " << j;
    EXPECT_LT(bent[0][7][2].item<double>(), rest[0][4][2].item<double>() - 0.3);
    EXPECT_NEAR(bent[0][7][1].item<double>(), rest[0][4][1].item<double>(), 0.05);
}

TEST(Skeleton, BoneLengthsSurviveRandomRotationsAndBatches)
{
    const auto &s = mp::smpl22();
    torch::manual_seed(11);
    const auto rotations = mp::quat::normalize(torch::randn({3, 5, 22, 4}));
    const auto root = torch::randn({3, 5, 3});
    torch::Tensor global;
    const auto joints = mp::forwardKinematics(s, root, rotations, &global);
    ASSERT_EQ(joints.sizes(), (std::vector<int64_t>{3, 5, 22, 3}));
    ASSERT_EQ(global.sizes(), (std::vector<int64_t>{3, 5, 22, 4}));
    const auto offsets = s.offsetTensor(torch::kFloat32);
    for (int j = 1; j < 22; ++j) {
        const auto bone = (joints.select(2, j) - joints.select(2, s.parents[j])).norm(2, -1);
        EXPECT_LT((bone - offsets[j].norm()).abs().max().item<double>(), 1e-5) << "joint " << j;
    }
    // Global rotation of a joint = parent global * local.
    EXPECT_LT(maxDiff(global.select(2, 4),
                      mp::quat::multiply(global.select(2, 1), rotations.select(2, 4))),
              1e-6);
}

TEST(Skeleton, ScaledCopiesScaleTheRestPose)
{
    const auto &s = mp::smpl22();
    const auto tall = s.scaled(1.1f);
    EXPECT_LT(maxDiff(tall.restPositions(torch::kFloat32), s.restPositions(torch::kFloat32) * 1.1),
              1e-6);
    std::vector<float> legs(22, 1.0f);
    legs[4] = legs[5] = 1.2f;
    const auto longShins = s.scaledBones(legs);
    EXPECT_NEAR(longShins.restRootHeightM(), s.restRootHeightM() + 0.2 * 0.3758, 1e-4);
    EXPECT_THROW(s.scaledBones({1.0f}), std::runtime_error);
}

TEST(Skeleton, ToMotionClipCopiesFramesAndHierarchy)
{
    const auto &s = mp::smpl22();
    const auto joints = torch::arange(4 * 22 * 3, torch::kFloat32).reshape({4, 22, 3});
    const auto clip = mp::toMotionClip(joints, s, 20.0);
    EXPECT_EQ(clip.numFrames, 4);
    EXPECT_EQ(clip.numJoints, 22);
    EXPECT_DOUBLE_EQ(clip.durationS(), 0.2);
    EXPECT_EQ(clip.position(2, 5)[1], joints[2][5][1].item<float>());
    EXPECT_EQ(clip.parents[21], 19);
    EXPECT_EQ(clip.sides[1], mp::BodySide::Left);
    EXPECT_THROW(mp::toMotionClip(torch::zeros({4, 21, 3}), s, 20.0), mp::InputError);
}
