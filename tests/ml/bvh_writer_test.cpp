// BVH export of SMPL-22 joint positions: IK, write, read back -> the input positions (mean error
// below 1 mm) on walking, jumping and turning motions made by forward kinematics, facing +Z, away
// (yaw 180) and sideways (yaw 90); also Assimp's BVH import and the FBX path, 1e-4 m.

#include "app/export/bvh_format.h"
#include "app/export/bvh_motion.h"
#include "app/export/bvh_reader.h"
#include "app/export/bvh_writer.h"
#include "app/export/fbx_writer.h"
#include "app/export/save_file.h"
#include "app/export/smpl_ik.h"
#include "ml/core/error.h"
#include "ml/motion/motion_clip.h"
#include "ml/motion/quaternion.h"
#include "ml/motion/skeleton.h"

#include "assimp_fk.h"

#include "temp_dir.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <locale>
#include <numbers>

namespace {

namespace fs = std::filesystem;

using mp::test::TempDir;

enum class SynthAction { Walk, Jump, Turn };

// Local rotations (T, 22, 4) and root path (T, 3) of a synthetic action, forward kinematics on
// a (possibly rescaled) SMPL-22 skeleton, plus smooth random wobble on every joint.
mp::MotionClip synthesize(SynthAction action, double yawDegrees, unsigned seed, int frames = 60,
                          float bodyScale = 1.0f)
{
    torch::manual_seed(seed);
    const mp::Skeleton skeleton = mp::smpl22().scaled(bodyScale);
    const double fps = 20.0;
    const auto t = torch::arange(frames, torch::kFloat64) / fps;
    const auto phase = 2 * std::numbers::pi * 1.0 * t; // one stride per second
    auto axisAngles = torch::zeros({frames, 22, 3}, torch::kFloat64);

    // Smooth random wobble (up to about 12 degrees) on every joint: a few low sines.
    for (int k = 1; k <= 3; ++k) {
        const auto amp = torch::rand({1, 22, 3}, torch::kFloat64) * 0.07;
        const auto freq = torch::rand({1, 22, 3}, torch::kFloat64) * 2 + 0.2;
        const auto off = torch::rand({1, 22, 3}, torch::kFloat64) * 2 * std::numbers::pi;
        axisAngles += amp * torch::sin(2 * std::numbers::pi * freq * t.view({-1, 1, 1}) + off);
    }
    const auto set = [&](int joint, int axis, const torch::Tensor &angle) {
        axisAngles.select(1, joint).select(1, axis) += angle;
    };
    auto root = torch::zeros({frames, 3}, torch::kFloat64);
    auto yaw = torch::full({frames}, yawDegrees * std::numbers::pi / 180.0, torch::kFloat64);
    const float height = skeleton.restRootHeightM();
    if (action == SynthAction::Walk || action == SynthAction::Turn) {
        set(1, 0, -0.5 * torch::sin(phase));            // left hip flexion
        set(2, 0, 0.5 * torch::sin(phase));             // right hip
        set(4, 0, 0.6 * (1 + torch::sin(phase + 1.5))); // knees bend backwards (+X here)
        set(5, 0, 0.6 * (1 + torch::sin(phase + 1.5 + std::numbers::pi)));
        set(16, 2, -torch::full({frames}, 1.2, torch::kFloat64)); // arms down from the T-pose
        set(17, 2, torch::full({frames}, 1.2, torch::kFloat64));
        set(16, 1, 0.4 * torch::sin(phase)); // arm swing
        set(17, 1, 0.4 * torch::sin(phase));
        set(18, 1, torch::full({frames}, -0.5, torch::kFloat64)); // elbows bent
        set(19, 1, torch::full({frames}, 0.5, torch::kFloat64));
        set(0, 1, 0.15 * torch::sin(phase)); // pelvis sway
        if (action == SynthAction::Turn)
            yaw = yaw + t * (2 * std::numbers::pi / (frames / fps)); // a full turn over the clip
        const auto speed = 1.2 * t;
        root.select(1, 0) = torch::sin(yaw) * speed;
        root.select(1, 2) = torch::cos(yaw) * speed;
        root.select(1, 1) = height + 0.03 * torch::sin(2 * phase);
    } else {
        // Crouch, take off, fly on a parabola, land: three jumps over the clip.
        const auto cycle = torch::fmod(t, 1.0);
        const auto crouch = torch::relu(torch::sin(2 * std::numbers::pi * cycle)) * 0.9;
        set(1, 0, -crouch);
        set(2, 0, -crouch);
        set(4, 0, 2 * crouch);
        set(5, 0, 2 * crouch);
        set(7, 0, -crouch);
        set(8, 0, -crouch);
        set(16, 2, 1.3 * torch::sin(2 * std::numbers::pi * cycle)); // arms up and down
        set(17, 2, -1.3 * torch::sin(2 * std::numbers::pi * cycle));
        set(3, 0, 0.4 * crouch); // lean forward
        const auto flight = torch::relu(-torch::sin(2 * std::numbers::pi * cycle));
        root.select(1, 1) = height - 0.3 * crouch + 0.5 * flight;
        root.select(1, 2) = 0.4 * t;
    }
    // Heading: yaw about +Y applied to the pelvis (on top of its own rotation).
    auto local = mp::quat::fromAxisAngle(axisAngles + 1e-12, axisAngles.norm(2, -1));
    local.select(1, 0) = mp::quat::multiply(mp::quat::fromYaw(yaw), local.select(1, 0));
    const auto joints =
        mp::forwardKinematics(skeleton, root.to(torch::kFloat32), local.to(torch::kFloat32));
    return mp::toMotionClip(joints, skeleton, fps);
}

// Mean and max per-joint position error (metres) between two clips, matched by joint name.
std::pair<double, double> positionError(const mp::MotionClip &expected,
                                        const mp::MotionClip &actual)
{
    EXPECT_EQ(actual.numFrames, expected.numFrames);
    double sum = 0, worst = 0;
    int count = 0;
    for (int j = 0; j < expected.numJoints; ++j) {
        const auto it =
            std::find(actual.jointNames.begin(), actual.jointNames.end(), expected.jointNames[j]);
        if (it == actual.jointNames.end()) {
            ADD_FAILURE() << "joint " << expected.jointNames[j] << " missing";
            continue;
        }
        const int a = static_cast<int>(it - actual.jointNames.begin());
        for (int f = 0; f < std::min(expected.numFrames, actual.numFrames); ++f) {
            const auto p = expected.position(f, j), q = actual.position(f, a);
            const double d = std::hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
            sum += d;
            worst = std::max(worst, d);
            ++count;
        }
    }
    return {count ? sum / count : 0.0, worst};
}

struct BvhCase {
    const char *name;
    SynthAction action;
    double yaw;
};

const BvhCase kBvhCases[] = {
    {"walk facing +Z", SynthAction::Walk, 0},     {"walk facing away", SynthAction::Walk, 180},
    {"walk sideways", SynthAction::Walk, 90},     {"walk facing -X", SynthAction::Walk, -90},
    {"jump facing away", SynthAction::Jump, 180}, {"jump sideways", SynthAction::Jump, 90},
    {"turn a full circle", SynthAction::Turn, 0}, {"turn from behind", SynthAction::Turn, 170},
};

// Largest rotation angle (degrees) between consecutive frames of any joint's local rotation.
double largestFrameToFrameTurn(const mp::SmplIkResult &ik)
{
    double worst = 0;
    for (int f = 1; f < ik.numFrames; ++f)
        for (int j = 0; j < 22; ++j) {
            const mp::Mat3 delta = ik.local(f - 1, j).transposed() * ik.local(f, j);
            const double c = (delta.m[0][0] + delta.m[1][1] + delta.m[2][2] - 1) / 2;
            worst = std::max(worst, std::acos(std::clamp(c, -1.0, 1.0)) * 180 / std::numbers::pi);
        }
    return worst;
}

} // namespace

TEST(SmplIk, ReproducesPositionsAndStaysSmooth)
{
    for (const BvhCase &c : kBvhCases) {
        SCOPED_TRACE(c.name);
        const mp::MotionClip clip = synthesize(c.action, c.yaw, 5);
        const mp::SmplIkResult ik = mp::solveSmplIk(clip);
        const auto positions = mp::smplIkPositions(ik);
        double worst = 0;
        for (int f = 0; f < clip.numFrames; ++f)
            for (int j = 0; j < 22; ++j) {
                const auto p = clip.position(f, j);
                const auto &q = positions[static_cast<std::size_t>(f) * 22 + j];
                worst = std::max(worst, std::hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
            }
        EXPECT_LT(worst, 1e-5);
        // Twist-stable: no joint flips between frames (the motion turns at most ~40 deg/frame).
        EXPECT_LT(largestFrameToFrameTurn(ik), 45.0);
    }
}

TEST(SmplIk, SpineSharesTheTorsoTwist)
{
    // 20 degrees of twist about Y at each spine joint: 60 degrees between pelvis and chest.
    const mp::Skeleton &skeleton = mp::smpl22();
    auto axisAngles = torch::zeros({2, 22, 3});
    for (const int j : {3, 6, 9})
        axisAngles[1][j][1] = 20.0 * std::numbers::pi / 180.0;
    const auto local = mp::quat::fromAxisAngle(axisAngles + 1e-12f, axisAngles.norm(2, -1));
    const auto joints = mp::forwardKinematics(skeleton, torch::zeros({2, 3}), local);
    const mp::SmplIkResult ik = mp::solveSmplIk(mp::toMotionClip(joints, skeleton, 20.0));
    for (const int j : {3, 6, 9}) {
        const mp::Mat3 &r = ik.local(1, j);
        const double degrees =
            std::acos(std::clamp((r.m[0][0] + r.m[1][1] + r.m[2][2] - 1) / 2, -1.0, 1.0)) * 180 /
            std::numbers::pi;
        EXPECT_GT(degrees, 12.0) << "joint " << j;
        EXPECT_LT(degrees, 28.0) << "joint " << j;
    }
}

TEST(SmplIk, RestPoseGivesIdentityRotations)
{
    const mp::Skeleton &skeleton = mp::smpl22();
    auto joints = skeleton.restPositions(torch::kFloat32).unsqueeze(0).repeat({3, 1, 1});
    const mp::SmplIkResult ik = mp::solveSmplIk(mp::toMotionClip(joints, skeleton, 20.0));
    for (int j = 0; j < 22; ++j)
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b)
                EXPECT_NEAR(ik.local(1, j).m[a][b], a == b ? 1.0 : 0.0, 1e-5) << "joint " << j;
}

TEST(SmplIk, RejectsOtherSkeletonsAndNaN)
{
    mp::MotionClip clip = synthesize(SynthAction::Walk, 0, 1, 4);
    clip.positions[40] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_THROW(mp::solveSmplIk(clip), mp::InputError);
    mp::MotionClip other;
    other.numJoints = 24;
    other.numFrames = 1;
    other.positions.resize(72);
    EXPECT_THROW(mp::solveSmplIk(other), mp::InputError);
}

TEST(BvhWriter, RoundTripBelowOneMillimetre)
{
    TempDir dir;
    for (const BvhCase &c : kBvhCases) {
        SCOPED_TRACE(c.name);
        const mp::MotionClip clip = synthesize(c.action, c.yaw, 9, 60, 1.1f); // a taller person
        const auto path = dir / "motion.bvh";
        mp::writeJointsAsBvh(path, clip);
        const mp::MotionClip back = mp::readBvhClip(path);
        const auto [mean, worst] = positionError(clip, back);
        std::cout << c.name << ": mean " << mean * 1e3 << " mm, max " << worst * 1e3 << " mm\n";
        EXPECT_LT(mean, 1e-3);
        EXPECT_LT(worst, 1e-4);
        EXPECT_DOUBLE_EQ(back.fps, 20.0);
    }
}

TEST(BvhWriter, CentimetresAndFileLayout)
{
    TempDir dir;
    const mp::MotionClip clip = synthesize(SynthAction::Walk, 180, 3, 20);
    const auto path = dir / "cm.bvh";
    mp::writeJointsAsBvh(path, clip, {.units = mp::LengthUnit::Centimetres, .fps = 30});
    const mp::BvhMotion m = mp::readBvh(path);
    EXPECT_NEAR(m.frameTimeS, 1.0 / 30, 1e-12);
    ASSERT_EQ(m.numJoints(), 22);
    EXPECT_EQ(m.numChannels, 6 + 21 * 3);
    ASSERT_EQ(m.joints[0].channels.size(), 6u);
    EXPECT_EQ(m.joints[0].channels[3], mp::BvhChannel::Yrotation); // heading first
    int endSites = 0;
    for (const auto &joint : m.joints) {
        endSites += joint.hasEndSite;
        if (joint.parent >= 0) {
            EXPECT_EQ(joint.channels.size(), 3u);
            EXPECT_GE(joint.channels[0], mp::BvhChannel::Xrotation);
        }
        if (joint.hasEndSite) // a short stub, not a zero-length bone
            EXPECT_GT(
                std::hypot(joint.endSiteOffset[0], joint.endSiteOffset[1], joint.endSiteOffset[2]),
                3.0);
    }
    EXPECT_EQ(endSites, 5);
    // Read as centimetres (the size guess) the positions match the metre input.
    const auto [mean, worst] = positionError(clip, mp::bvhToMotionClip(m));
    EXPECT_LT(worst, 1e-4);
}

TEST(BvhWriter, EulerAnglesAreUnwrapped)
{
    // A full turn: the root's rotation passes +-180 degrees and must not jump by 360.
    const mp::BvhMotion m = mp::jointsToBvh(synthesize(SynthAction::Turn, 0, 2, 80));
    double worstStep = 0;
    for (int f = 1; f < m.numFrames; ++f)
        for (int c = 0; c < m.numChannels; ++c)
            if (c >= 3) { // rotation channels
                worstStep = std::max(worstStep, std::abs(m.value(f, c) - m.value(f - 1, c)));
            }
    EXPECT_LT(worstStep, 30.0);
    // The root yaw (its first rotation channel) accumulates the whole turn.
    double low = 1e9, high = -1e9;
    for (int f = 0; f < m.numFrames; ++f) {
        low = std::min(low, m.value(f, 3));
        high = std::max(high, m.value(f, 3));
    }
    EXPECT_GT(high - low, 300.0);
}

TEST(BvhWriter, EulerNearPicksTheContinuousSolutionInEveryOrder)
{
    const mp::Mat3 r = mp::Mat3::axisRotation(2, 3.0) * mp::Mat3::axisRotation(1, 0.4) *
                       mp::Mat3::axisRotation(0, -2.5);
    constexpr std::array<int, 3> kZyx{2, 1, 0};
    const mp::Vec3 e = mp::eulerNear(r, kZyx, {3.0 + 2 * std::numbers::pi, 0.4, -2.5});
    EXPECT_NEAR(e[0], 3.0 + 2 * std::numbers::pi, 1e-9);
    EXPECT_NEAR(e[1], 0.4, 1e-9);
    EXPECT_NEAR(e[2], -2.5, 1e-9);
    // The other triple of the same rotation when it is the nearer one.
    const mp::Vec3 other = mp::eulerNear(
        r, kZyx, {3.0 + std::numbers::pi, std::numbers::pi - 0.4, -2.5 + std::numbers::pi});
    const mp::Mat3 back = mp::Mat3::axisRotation(2, other[0]) *
                          mp::Mat3::axisRotation(1, other[1]) * mp::Mat3::axisRotation(0, other[2]);
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b)
            EXPECT_NEAR(back.m[a][b], r.m[a][b], 1e-9);
    EXPECT_NEAR(other[1], std::numbers::pi - 0.4, 1e-9);
    // Gimbal lock keeps the previous Z and still reproduces the matrix.
    const mp::Mat3 locked = mp::Mat3::axisRotation(2, 0.3) *
                            mp::Mat3::axisRotation(1, std::numbers::pi / 2) *
                            mp::Mat3::axisRotation(0, 0.2);
    const mp::Vec3 g = mp::eulerNear(locked, kZyx, {0.5, 1.5, 0});
    const mp::Mat3 again = mp::Mat3::axisRotation(2, g[0]) * mp::Mat3::axisRotation(1, g[1]) *
                           mp::Mat3::axisRotation(0, g[2]);
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b)
            EXPECT_NEAR(again.m[a][b], locked.m[a][b], 1e-9);
    // All six orders reproduce a random rotation.
    const mp::Mat3 any = mp::Mat3::axisRotation(0, 0.7) * mp::Mat3::axisRotation(2, -1.1) *
                         mp::Mat3::axisRotation(1, 2.9);
    const std::array<int, 3> orders[] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                         {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (const auto &order : orders) {
        const mp::Vec3 angles = mp::eulerNear(any, order, {0, 0, 0});
        const mp::Mat3 rebuilt = mp::Mat3::axisRotation(order[0], angles[0]) *
                                 mp::Mat3::axisRotation(order[1], angles[1]) *
                                 mp::Mat3::axisRotation(order[2], angles[2]);
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b)
                EXPECT_NEAR(rebuilt.m[a][b], any.m[a][b], 1e-9) << order[0] << order[1] << order[2];
    }
}

namespace {
struct CommaDecimal : std::numpunct<char> {
    char do_decimal_point() const override { return ','; }
};
} // namespace

TEST(BvhWriter, PointDecimalsWhateverTheLocale)
{
    const std::locale saved =
        std::locale::global(std::locale(std::locale::classic(), new CommaDecimal));
    const std::string text =
        mp::formatBvh(mp::jointsToBvh(synthesize(SynthAction::Walk, 90, 4, 5)));
    std::locale::global(saved);
    EXPECT_EQ(text.find(','), std::string::npos);
    EXPECT_NE(text.find("Frame Time: 0.05\n"), std::string::npos);
    EXPECT_EQ(text.find("nan"), std::string::npos);
}

TEST(BvhWriter, ZeroAndOneFrame)
{
    mp::MotionClip clip = synthesize(SynthAction::Walk, 0, 1, 1);
    mp::BvhMotion m = mp::parseBvh(mp::formatBvh(mp::jointsToBvh(clip)), "one.bvh");
    EXPECT_EQ(m.numFrames, 1);
    EXPECT_LT(positionError(clip, mp::bvhToMotionClip(m)).second, 1e-4);
    clip.numFrames = 0;
    clip.positions.clear();
    m = mp::parseBvh(mp::formatBvh(mp::jointsToBvh(clip)), "zero.bvh");
    EXPECT_EQ(m.numFrames, 0);
    EXPECT_EQ(m.numJoints(), 22);
}

TEST(BvhWriter, AssimpImportReproducesPositions)
{
    TempDir dir;
    const mp::MotionClip clip = synthesize(SynthAction::Turn, 180, 12, 40);
    const auto path = dir / "motion.bvh";
    mp::writeJointsAsBvh(path, clip);
    const auto imported =
        mp::test::importWithAssimp(path.string(), clip.jointNames, clip.numFrames, clip.fps);
    double worst = 0;
    for (int j = 0; j < clip.numJoints; ++j)
        for (int f = 0; f < clip.numFrames; ++f) {
            const auto p = clip.position(f, j);
            const auto &q = imported.positions.at(clip.jointNames[j])[f];
            worst = std::max(worst, std::hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
        }
    EXPECT_LT(worst, 1e-4);
    EXPECT_NEAR(imported.ticksPerSecond, 20.0, 1e-6);
}

TEST(BvhWriter, FbxFromJointsThroughAssimpReproducesPositions)
{
    TempDir dir;
    const mp::MotionClip clip = synthesize(SynthAction::Jump, 90, 13, 30);
    const auto path = dir / "motion.fbxa";
    mp::writeFbx(path, mp::jointsToBvh(clip), {.format = mp::FbxFormat::Ascii});
    const auto imported =
        mp::test::importWithAssimp(path.string(), clip.jointNames, clip.numFrames, clip.fps);
    double worst = 0;
    for (int j = 0; j < clip.numJoints; ++j)
        for (int f = 0; f < clip.numFrames; ++f) {
            const auto p = clip.position(f, j);
            const auto &q = imported.positions.at(clip.jointNames[j])[f];
            worst = std::max(worst, std::hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
        }
    EXPECT_LT(worst, 1e-4);
}
