// Physical checks on generated clips: constant bone lengths, feet on (not in) the floor, planted
// feet that do not slide, joint angles inside their limits, and jumps that leave the floor.

#include "ml/data/corpus/clip_kinematics.h"
#include "ml/data/corpus/composer.h"
#include "ml/motion/quaternion.h"
#include "ml/motion/skeleton.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <map>

using namespace mp::corpus;

namespace {

struct Figures {
    double skatingFrames = 0, footFrames = 0;
    float minHeight = 1e9f;
    float boneError = 0;
    float maxRootHeight = 0;
};

void measure(const at::Tensor &joints, const mp::Skeleton &skeleton, Figures &f)
{
    auto p = joints.accessor<float, 3>();
    const int frames = static_cast<int>(joints.size(0));
    for (int t = 0; t < frames; ++t) {
        for (int j = 0; j < kNumJoints; ++j) {
            f.minHeight = std::min(f.minHeight, p[t][j][1]);
            const int parent = skeleton.parents[std::size_t(j)];
            if (parent < 0)
                continue;
            const auto &o = skeleton.offsets[std::size_t(j)];
            const float rest = std::sqrt(o[0] * o[0] + o[1] * o[1] + o[2] * o[2]);
            const float dx = p[t][j][0] - p[t][parent][0], dy = p[t][j][1] - p[t][parent][1],
                        dz = p[t][j][2] - p[t][parent][2];
            f.boneError =
                std::max(f.boneError, std::abs(std::sqrt(dx * dx + dy * dy + dz * dz) - rest));
        }
        f.maxRootHeight = std::max(f.maxRootHeight, p[t][0][1]);
    }
    // GMD's skating: a foot within 5 cm of the floor in two consecutive frames that moves more
    // than 2.5 cm horizontally between them.
    for (int foot : {joint::LFoot, joint::RFoot})
        for (int t = 0; t + 1 < frames; ++t) {
            f.footFrames += 1;
            const bool low = p[t][foot][1] < 0.05f && p[t + 1][foot][1] < 0.05f;
            const float dx = p[t + 1][foot][0] - p[t][foot][0],
                        dz = p[t + 1][foot][2] - p[t][foot][2];
            if (low && std::sqrt(dx * dx + dz * dz) > 0.025f)
                f.skatingFrames += 1;
        }
}

} // namespace

TEST(CorpusMotion, EveryActionIsPhysicallyPlausible)
{
    Figures all;
    for (int a = 0; a < kNumActions; ++a) {
        Figures f;
        for (int i = 0; i < 8; ++i) {
            const ComposedClip clip = composeAction(42, i, Action(a));
            const mp::Skeleton skeleton = bodySkeleton(clip.plan.body);
            const at::Tensor joints = solveJoints(clip, skeleton);
            ASSERT_EQ(joints.size(0), clip.plan.numFrames);
            ASSERT_TRUE(torch::isfinite(joints).all().item<bool>());
            measure(joints, skeleton, f);
            measure(joints, skeleton, all);
        }
        std::printf("%-14s skating %.3f  min height %+.3f  bone error %.1e  max root %.2f\n",
                    std::string(actionName(Action(a))).c_str(), f.skatingFrames / f.footFrames,
                    f.minHeight, f.boneError, f.maxRootHeight);
        EXPECT_GT(f.minHeight, -0.01f) << actionName(Action(a));
        EXPECT_LT(f.boneError, 1e-5f) << actionName(Action(a));
        EXPECT_LT(f.skatingFrames / f.footFrames, 0.2) << actionName(Action(a));
    }
    std::printf("all actions: skating %.3f\n", all.skatingFrames / all.footFrames);
    EXPECT_LT(all.skatingFrames / all.footFrames, 0.05);
}

TEST(CorpusMotion, SlerpInterpolatesOnTheShortArc)
{
    const auto a = mp::quat::fromYaw(torch::tensor({0.0f}));
    const auto b = mp::quat::fromYaw(torch::tensor({1.0f}));
    const auto mid = slerp(a, -b, torch::tensor({0.5f})); // -b is the same rotation as b
    const auto expect = mp::quat::fromYaw(torch::tensor({0.5f}));
    EXPECT_NEAR(std::abs((mid * expect).sum().item<float>()), 1.0f, 1e-6f);
    const auto same = slerp(a, a, torch::tensor({0.3f}));
    EXPECT_TRUE(torch::allclose(same, a));
}

TEST(CorpusMotion, JumpsLeaveTheFloorAndWalksTravel)
{
    const ComposedClip jump = composeAction(3, 0, Action::JumpInPlace);
    const at::Tensor jumpJoints = solveJoints(jump, bodySkeleton(jump.plan.body));
    // Both feet above the floor at some frame.
    const auto feetY = jumpJoints.index({torch::indexing::Slice(), torch::tensor({10, 11}), 1});
    EXPECT_GT(std::get<0>(feetY.min(1)).max().item<float>(), 0.05f);

    const ComposedClip walk = composeAction(3, 1, Action::Walk);
    const at::Tensor walkJoints = solveJoints(walk, bodySkeleton(walk.plan.body));
    const auto start = walkJoints[0][0], end = walkJoints[-1][0];
    const float travel =
        torch::norm(end.index({torch::tensor({0, 2})}) - start.index({torch::tensor({0, 2})}))
            .item<float>();
    const int steps = walk.plan.segments[0].params.repetitions;
    EXPECT_GT(travel, 0.3f * float(steps));
    EXPECT_LT(travel, 1.0f * float(steps));
}
