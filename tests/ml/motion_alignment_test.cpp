// alignedPoseError on hand-built skeletons: zero for the same motion however it is placed, timed
// or named first; a known error for a known pose difference; the order of two actions counts.
#include <cmath>
#include <numbers>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/simulate/motion_alignment.h"

namespace mp {
namespace {

// A standing pose facing +Z: hips and shoulders across X (left at +x, as HumanML3D's facing
// rule needs), the other joints stacked above the pelvis.
at::Tensor standingPose()
{
    auto pose = torch::zeros({22, 3});
    for (int j = 0; j < 22; ++j)
        pose[j][1] = 0.9 + 0.02 * j;
    pose[1][0] = 0.1;   // left hip
    pose[2][0] = -0.1;  // right hip
    pose[16][0] = 0.2;  // left shoulder
    pose[17][0] = -0.2; // right shoulder
    pose[16][1] = 1.4;
    pose[17][1] = 1.4;
    return pose;
}

// frames of the pose walking forward at speed m/frame, the right wrist raised by `raise`.
at::Tensor motion(int frames, double speed, double raise = 0.0)
{
    auto pose = standingPose();
    pose[21][1] += raise;
    auto out = pose.unsqueeze(0).repeat({frames, 1, 1});
    for (int t = 0; t < frames; ++t)
        out[t].select(1, 2) += speed * t;
    return out;
}

// Rotated by yaw about Y and moved on the floor.
at::Tensor placed(const at::Tensor &joints, double yaw, double dx, double dz)
{
    const double c = std::cos(yaw), s = std::sin(yaw);
    const auto x = joints.select(2, 0), y = joints.select(2, 1), z = joints.select(2, 2);
    return torch::stack({x * c + z * s + dx, y, -x * s + z * c + dz}, 2);
}

TEST(MotionAlignment, SameMotionAnywhereIsZero)
{
    const auto walk = motion(40, 0.05);
    EXPECT_NEAR(alignedPoseError(walk, walk), 0.0, 1e-6);
    EXPECT_NEAR(alignedPoseError(placed(walk, 1.3, 2.0, -4.0), walk), 0.0, 1e-5);
}

TEST(MotionAlignment, KnownPoseDifference)
{
    // One of 22 points 0.22 m off in every frame: a mean of 0.01 m.
    const auto a = motion(30, 0.0), b = motion(30, 0.0, 0.22);
    EXPECT_NEAR(alignedPoseError(a, b), 0.01, 1e-5);
    EXPECT_NEAR(alignedPoseError(b, a), alignedPoseError(a, b), 1e-7);
}

TEST(MotionAlignment, SlowerIsCloserThanAnotherAction)
{
    const auto walk = motion(40, 0.05);
    auto slow = torch::repeat_interleave(walk, 2, 0); // the same walk at half speed
    const auto standStill = motion(40, 0.0);
    const double slowError = alignedPoseError(slow, walk);
    EXPECT_LT(slowError, 0.02);
    EXPECT_GT(alignedPoseError(standStill, walk), 5 * slowError);
}

TEST(MotionAlignment, OrderOfActionsCounts)
{
    const auto rest = motion(20, 0.0), raised = motion(20, 0.0, 0.5);
    const auto restThenRaise = torch::cat({rest, raised});
    const auto raiseThenRest = torch::cat({raised, rest});
    EXPECT_NEAR(alignedPoseError(restThenRaise, restThenRaise), 0.0, 1e-6);
    EXPECT_GT(alignedPoseError(raiseThenRest, restThenRaise), 0.005);
}

TEST(MotionAlignment, BadShapesAndEmptyMotions)
{
    EXPECT_THROW(alignedPoseError(torch::zeros({5, 21, 3}), motion(5, 0.0)), InputError);
    EXPECT_DOUBLE_EQ(alignedPoseError(torch::zeros({0, 22, 3}), motion(5, 0.0)), 3.0);
}

} // namespace
} // namespace mp
