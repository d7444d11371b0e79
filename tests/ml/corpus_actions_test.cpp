// Would a person recognise each action? Checks on joint heights and travel over time, in the
// canonical frame (facing +Z at frame 0, left = +X, floor y = 0), for every action of the
// library; and a BVH round trip of one clip per family through the exporter.

#include "app/export/bvh_reader.h"
#include "app/export/bvh_writer.h"
#include "ml/data/corpus/clip_kinematics.h"
#include "ml/data/corpus/composer.h"
#include "ml/motion/features.h"
#include "ml/motion/motion_clip.h"
#include "ml/motion/skeleton.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <random>

using namespace mp::corpus;
namespace fs = std::filesystem;

namespace {

struct Clip {
    ComposedClip composed;
    at::Tensor joints; // canonical (T, 22, 3)
    const Segment &segment() const { return composed.plan.segments.front(); }
    float y(int t, int j) const { return joints[t][j][1].item<float>(); }
    float x(int t, int j) const { return joints[t][j][0].item<float>(); }
    float z(int t, int j) const { return joints[t][j][2].item<float>(); }
    int frames() const { return static_cast<int>(joints.size(0)); }
    at::Tensor track(int j, int axis) const { return joints.select(1, j).select(1, axis); }
};

Clip make(Action action, int index)
{
    Clip c{composeAction(77, index, action), {}};
    c.joints = mp::canonicalizeJoints(solveJoints(c.composed, bodySkeleton(c.composed.plan.body)));
    return c;
}

// Facing angle about +Y per frame from the hips (0 = +Z, positive = turned left), unwrapped.
std::vector<float> facing(const Clip &c)
{
    std::vector<float> yaw;
    for (int t = 0; t < c.frames(); ++t) {
        const float ax = c.x(t, 1) - c.x(t, 2), az = c.z(t, 1) - c.z(t, 2);
        // forward = (L - R) x up = (-az, 0, ax)... with left +X and forward +Z: (az', ax').
        float a = std::atan2(-az, ax);
        if (!yaw.empty())
            while (a - yaw.back() > 3.14159f)
                a -= 6.28318f;
        if (!yaw.empty())
            while (a - yaw.back() < -3.14159f)
                a += 6.28318f;
        yaw.push_back(a);
    }
    return yaw;
}

float maxOf(const at::Tensor &t)
{
    return t.max().item<float>();
}
float minOf(const at::Tensor &t)
{
    return t.min().item<float>();
}

constexpr int kPelvis = 0, kLKnee = 4, kRKnee = 5, kLFoot = 10, kRFoot = 11, kNeck = 12, kHead = 15,
              kLWrist = 20, kRWrist = 21;

int wristOf(Side s)
{
    return s == Side::Left ? kLWrist : kRWrist;
}
int footOf(Side s)
{
    return s == Side::Left ? kLFoot : kRFoot;
}

} // namespace

class CorpusActionShape : public ::testing::TestWithParam<int> {};

TEST_P(CorpusActionShape, LooksLikeItsName)
{
    const Action action = Action(GetParam());
    for (int index = 0; index < 3; ++index) {
        const Clip c = make(action, index);
        const Segment &seg = c.segment();
        const ActionParams &p = seg.params;
        SCOPED_TRACE(std::string(actionName(action)) + " #" + std::to_string(index) + " side " +
                     std::string(sideName(p.side)) + " reps " + std::to_string(p.repetitions));
        const int last = c.frames() - 1;
        const float dz = c.z(last, kPelvis) - c.z(0, kPelvis);
        const float dx = c.x(last, kPelvis) - c.x(0, kPelvis);
        const auto yaw = facing(c);
        const float turned = (yaw.back() - yaw.front()) * 180.0f / 3.14159f;
        const auto pelvisY = c.track(kPelvis, 1);
        const float standPelvis = c.y(0, kPelvis);
        const auto lowestFoot = torch::minimum(c.track(kLFoot, 1), c.track(kRFoot, 1));
        const auto headY = c.track(kHead, 1);
        const float sideSign = p.side == Side::Right ? -1.0f : 1.0f;
        switch (action) {
        case Action::Walk:
        case Action::Jog:
        case Action::Run:
            EXPECT_GT(std::hypot(dx, dz), action == Action::Walk ? 1.0f : 1.5f);
            EXPECT_GT(dz, 0.5f); // forward, even when veering
            break;
        case Action::WalkBackward:
            EXPECT_LT(dz, -0.4f);
            break;
        case Action::Sidestep:
            EXPECT_GT(sideSign * dx, 0.15f);
            EXPECT_LT(std::abs(dz), 0.25f);
            break;
        case Action::WalkCircle:
        case Action::Turn:
        case Action::Spin:
            EXPECT_NEAR(turned, sideSign * float(p.angleDeg), 40.0f);
            break;
        case Action::JumpInPlace:
            EXPECT_GT(maxOf(lowestFoot), 0.08f); // both feet off the floor
            EXPECT_LT(std::hypot(dx, dz), 0.5f);
            break;
        case Action::JumpForward:
            EXPECT_GT(maxOf(lowestFoot), 0.08f);
            EXPECT_GT(dz, 0.3f);
            break;
        case Action::Hop: {
            const Side free = p.side == Side::Left ? Side::Right : Side::Left;
            EXPECT_GT(maxOf(lowestFoot), 0.03f);
            // The free foot stays up for most of the clip.
            const auto up = (c.track(footOf(free), 1) > 0.12f).to(torch::kFloat32).mean();
            EXPECT_GT(up.item<float>(), 0.4f);
            break;
        }
        case Action::JumpingJacks:
            EXPECT_GT(maxOf(lowestFoot), 0.04f);
            EXPECT_GT(maxOf(c.track(kLWrist, 1) - headY), 0.05f);
            EXPECT_GT(maxOf(c.track(kLFoot, 0) - c.track(kRFoot, 0)), 0.4f); // legs apart
            break;
        case Action::Squat:
        case Action::Crouch:
            EXPECT_LT(minOf(pelvisY), standPelvis - 0.2f);
            EXPECT_NEAR(c.y(last, kPelvis), standPelvis, 0.06f);
            break;
        case Action::SitDown:
            EXPECT_LT(c.y(last, kPelvis), standPelvis - 0.3f);
            break;
        case Action::StandUp:
            EXPECT_GT(c.y(last, kPelvis), standPelvis + 0.3f);
            break;
        case Action::Kneel: {
            const int knee = p.side == Side::Left ? kLKnee : kRKnee;
            EXPECT_LT(c.y(last, knee), 0.15f);
            EXPECT_LT(c.y(last, kPelvis), standPelvis - 0.3f);
            break;
        }
        case Action::Kick: {
            const auto foot = c.track(footOf(p.side), 1);
            EXPECT_GT(maxOf(foot), 0.45f);
            EXPECT_GT(maxOf(c.track(footOf(p.side), 2) - c.track(kPelvis, 2)), 0.4f);
            break;
        }
        case Action::Balance: {
            const Side free = p.side == Side::Left ? Side::Right : Side::Left;
            const auto up = (c.track(footOf(free), 1) > 0.15f).to(torch::kFloat32).sum();
            EXPECT_GT(up.item<float>(), 20.0f);
            EXPECT_LT(maxOf(c.track(footOf(p.side), 1)), 0.05f); // the standing foot stays down
            break;
        }
        case Action::Bow:
            EXPECT_LT(minOf(headY), headY[0].item<float>() - 0.2f);
            EXPECT_GT(maxOf(c.track(kHead, 2) - c.track(kPelvis, 2)), 0.25f);
            break;
        case Action::Wave:
            for (Side s : p.side == Side::Both ? std::vector<Side>{Side::Left, Side::Right}
                                               : std::vector<Side>{p.side}) {
                const auto wrist = c.track(wristOf(s), 1);
                EXPECT_GT(maxOf(wrist - c.track(kNeck, 1)), 0.1f);
                // Side to side while up: the wrist's x moves back and forth.
                const auto upFrames = wrist > c.track(kNeck, 1);
                const auto wx = c.track(wristOf(s), 0) - c.track(kNeck, 0);
                const auto sel = wx.masked_select(upFrames);
                ASSERT_GT(sel.numel(), 0);
                EXPECT_GT(maxOf(sel) - minOf(sel), 0.1f);
            }
            break;
        case Action::Clap: {
            const auto gap = (c.joints.select(1, kLWrist) - c.joints.select(1, kRWrist)).norm(2, 1);
            EXPECT_LT(minOf(gap), 0.12f);
            EXPECT_GT(maxOf(gap), 0.25f);
            break;
        }
        case Action::Punch:
            for (Side s : p.side == Side::Both ? std::vector<Side>{Side::Left, Side::Right}
                                               : std::vector<Side>{p.side})
                EXPECT_GT(maxOf(c.track(wristOf(s), 2) - c.track(kPelvis, 2)), 0.45f);
            break;
        case Action::RaiseArms:
            for (Side s : p.side == Side::Both ? std::vector<Side>{Side::Left, Side::Right}
                                               : std::vector<Side>{p.side})
                EXPECT_GT(maxOf(c.track(wristOf(s), 1) - headY), 0.1f);
            break;
        case Action::Stretch:
            EXPECT_GT(maxOf(c.track(kLWrist, 1) - headY), 0.1f);
            EXPECT_GT(maxOf(c.track(kRWrist, 1) - headY), 0.1f);
            break;
        case Action::Throw: {
            const auto rel = c.track(wristOf(p.side), 2) - c.track(kPelvis, 2);
            EXPECT_LT(minOf(rel), -0.1f); // wound back
            EXPECT_GT(maxOf(rel), 0.3f);  // thrown forward
            EXPECT_GT(maxOf(c.track(wristOf(p.side), 1) - c.track(kNeck, 1)), 0.0f);
            break;
        }
        case Action::DanceSway: {
            const auto px = c.track(kPelvis, 0);
            EXPECT_GT(maxOf(px) - minOf(px), 0.05f);
            break;
        }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(AllActions, CorpusActionShape, ::testing::Range(0, kNumActions),
                         [](const testing::TestParamInfo<int> &info) {
                             return std::string(actionName(Action(info.param)));
                         });

TEST(CorpusBvh, ClipsSurviveTheBvhRoundTrip)
{
    std::random_device rd;
    const fs::path dir = fs::temp_directory_path() / ("mp_corpus_bvh_" + std::to_string(rd()));
    fs::create_directories(dir);
    for (Action action : {Action::Walk, Action::JumpForward, Action::SitDown, Action::Wave}) {
        const Clip c = make(action, 0);
        const mp::MotionClip clip = mp::toMotionClip(c.joints, mp::smpl22(), 20.0);
        const fs::path file = dir / (std::string(actionName(action)) + ".bvh");
        mp::writeJointsAsBvh(file, clip);
        const mp::MotionClip back = mp::readBvhClip(file);
        ASSERT_EQ(back.numFrames, clip.numFrames);
        // Joints by name: the exporter may order them differently (or add end sites).
        float worst = 0;
        int matched = 0;
        for (int j = 0; j < clip.numJoints; ++j) {
            const auto it = std::find(back.jointNames.begin(), back.jointNames.end(),
                                      clip.jointNames[std::size_t(j)]);
            if (it == back.jointNames.end())
                continue;
            ++matched;
            const int k = static_cast<int>(it - back.jointNames.begin());
            for (int t = 0; t < clip.numFrames; ++t)
                for (int a = 0; a < 3; ++a)
                    worst = std::max(worst, std::abs(clip.position(t, j)[std::size_t(a)] -
                                                     back.position(t, k)[std::size_t(a)]));
        }
        EXPECT_GE(matched, 20) << actionName(action);
        EXPECT_LT(worst, 0.01f) << actionName(action);
    }
    fs::remove_all(dir);
}
