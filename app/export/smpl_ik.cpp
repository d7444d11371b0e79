#include "app/export/smpl_ik.h"

#include "ml/core/error.h"
#include "ml/motion/motion_clip.h"
#include "ml/motion/skeleton.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace mp {

namespace {

constexpr int kJoints = 22;
constexpr int kPelvis = 0, kLeftHip = 1, kRightHip = 2, kSpine1 = 3, kSpine2 = 6;
constexpr int kSpine3 = 9, kNeck = 12, kLeftCollar = 13, kRightCollar = 14;
// Shorter than this (metres) a bone or a frame axis has no usable direction.
constexpr double kTinyLength = 1e-9;
// Between these angles from the rest direction the shortest arc hands over, smoothly, to the
// previous frame's twist, because at a half turn its axis is undefined.
constexpr double kHandoverStart = 150.0 * std::numbers::pi / 180.0;
constexpr double kHandoverEnd = 175.0 * std::numbers::pi / 180.0;

Vec3 normalized(const Vec3 &v)
{
    const double n = norm(v);
    return n > kTinyLength ? (1.0 / n) * v : Vec3{0, 0, 0};
}

Mat3 axisAngle(const Vec3 &axis, double angle)
{
    const double c = std::cos(angle), s = std::sin(angle), t = 1 - c;
    const double x = axis[0], y = axis[1], z = axis[2];
    Mat3 r;
    r.m = {{{t * x * x + c, t * x * y - s * z, t * x * z + s * y},
            {t * x * y + s * z, t * y * y + c, t * y * z - s * x},
            {t * x * z - s * y, t * y * z + s * x, t * z * z + c}}};
    return r;
}

// Orthonormal frame with y along up and x along across (made perpendicular to up); z = x cross y.
// False when the two directions are (nearly) parallel or zero.
bool bodyFrame(const Vec3 &up, const Vec3 &across, Mat3 &frame)
{
    const Vec3 y = normalized(up);
    const Vec3 x = normalized(across - dot(across, y) * y);
    if (norm(y) == 0 || norm(x) == 0)
        return false;
    frame = Mat3::fromColumns(x, y, cross(x, y));
    return true;
}

Vec3 toVec3(const std::array<float, 3> &a)
{
    return {a[0], a[1], a[2]};
}

// Angle (-pi, pi] of the swing-twist decomposition's twist of rotation about unit axis.
double twistAbout(const Mat3 &rotation, const Vec3 &axis)
{
    auto q = quaternionFromMatrix(rotation);
    if (q[0] < 0)
        for (double &c : q)
            c = -c;
    return 2.0 * std::atan2(q[1] * axis[0] + q[2] * axis[1] + q[3] * axis[2], q[0]);
}

// The rotation taking unit vector from onto unit vector to along the shortest arc; near a half
// turn, turned about to so as to stay near previous (the joint's rotation one frame earlier).
Mat3 alignBone(const Vec3 &from, const Vec3 &to, const Mat3 *previous)
{
    const double c = std::clamp(dot(from, to), -1.0, 1.0);
    Vec3 axis = cross(from, to);
    const double s = norm(axis);
    const double angle = std::atan2(s, c);
    Mat3 arc;
    if (s > 1e-12) {
        arc = axisAngle((1.0 / s) * axis, angle);
    } else if (c > 0) {
        arc = Mat3::identity();
    } else {
        // Exactly opposite: any axis perpendicular to from.
        const Vec3 helper = std::abs(from[0]) < 0.9 ? Vec3{1, 0, 0} : Vec3{0, 1, 0};
        arc = axisAngle(normalized(cross(from, helper)), std::numbers::pi);
    }
    if (!previous || angle <= kHandoverStart)
        return arc;
    // Twist about `to` that brings arc closest to previous: the rotation component of
    // previous * arc^T about `to`.
    const double twist = twistAbout(*previous * arc.transposed(), to);
    double weight =
        std::clamp((angle - kHandoverStart) / (kHandoverEnd - kHandoverStart), 0.0, 1.0);
    weight = weight * weight * (3 - 2 * weight); // smoothstep: no kink at either end
    return axisAngle(to, weight * twist) * arc;
}

} // namespace

SmplIkResult solveSmplIk(const MotionClip &clip)
{
    if (clip.numJoints != kJoints)
        throw InputError("joint positions: expected the 22-joint SMPL skeleton (T, 22, 3), got " +
                         std::to_string(clip.numJoints) + " joints");
    const int frames = clip.numFrames;
    if (clip.positions.size() != static_cast<std::size_t>(frames) * kJoints * 3)
        throw std::runtime_error("solveSmplIk: clip positions do not match its frame count");
    for (std::size_t i = 0; i < clip.positions.size(); ++i)
        if (!std::isfinite(clip.positions[i]))
            throw InputError("joint positions: frame " + std::to_string(i / (kJoints * 3)) +
                             ", joint " + std::to_string(i / 3 % kJoints) + " is not finite");

    const Skeleton &skeleton = smpl22();
    const auto &parents = skeleton.parents;
    std::vector<std::vector<int>> children(kJoints);
    for (int j = 1; j < kJoints; ++j)
        children[parents[j]].push_back(j);

    const auto position = [&](int f, int j) {
        const auto p = clip.position(f, j);
        return Vec3{p[0], p[1], p[2]};
    };
    const auto pelvisFrame = [&](int f, Mat3 &frame) {
        return bodyFrame(position(f, kSpine1) - position(f, kPelvis),
                         position(f, kLeftHip) - position(f, kRightHip), frame);
    };
    const auto chestFrame = [&](int f, Mat3 &frame) {
        return bodyFrame(position(f, kNeck) - position(f, kSpine3),
                         position(f, kLeftCollar) - position(f, kRightCollar), frame);
    };

    // Rest frames of the pelvis and chest on the SMPL-22 rest skeleton: a rest-pose input then
    // gives identity rotations.
    Mat3 pelvisRest, chestRest;
    const auto &o = skeleton.offsets;
    bodyFrame(toVec3(o[kSpine1]), toVec3(o[kLeftHip]) - toVec3(o[kRightHip]), pelvisRest);
    bodyFrame(toVec3(o[kNeck]), toVec3(o[kLeftCollar]) - toVec3(o[kRightCollar]), chestRest);

    // Per-frame body frames (the previous frame's where a frame is degenerate).
    std::vector<Mat3> pelvisFrames(frames), chestFrames(frames);
    for (int f = 0; f < frames; ++f) {
        if (!pelvisFrame(f, pelvisFrames[f]))
            pelvisFrames[f] = f > 0 ? pelvisFrames[f - 1] : pelvisRest;
        if (!chestFrame(f, chestFrames[f]))
            chestFrames[f] = f > 0 ? chestFrames[f - 1] : chestRest;
    }

    SmplIkResult result;
    result.numFrames = frames;
    result.offsets.resize(kJoints, Vec3{0, 0, 0});
    for (int j = 1; j < kJoints; ++j) {
        const int parent = parents[j];
        if (frames == 0) {
            result.offsets[j] = toVec3(o[j]);
            continue;
        }
        if (parent == kPelvis || parent == kSpine3) {
            // Mean layout of the child in the body frame, expressed in the rest frame.
            const auto &bodyFrames = parent == kPelvis ? pelvisFrames : chestFrames;
            Vec3 sum{0, 0, 0};
            for (int f = 0; f < frames; ++f)
                sum = sum + bodyFrames[f].transposed() * (position(f, j) - position(f, parent));
            result.offsets[j] =
                (parent == kPelvis ? pelvisRest : chestRest) * ((1.0 / frames) * sum);
        } else {
            double length = 0;
            for (int f = 0; f < frames; ++f)
                length += norm(position(f, j) - position(f, parent));
            result.offsets[j] = (length / frames) * normalized(toVec3(o[j]));
        }
    }

    result.rootPositions.resize(frames);
    result.localRotations.resize(static_cast<std::size_t>(frames) * kJoints);
    std::vector<Mat3> global(kJoints);
    for (int f = 0; f < frames; ++f) {
        result.rootPositions[f] = position(f, kPelvis);
        Mat3 *local = result.localRotations.data() + static_cast<std::size_t>(f) * kJoints;
        const Mat3 *previous = f > 0 ? local - kJoints : nullptr;
        for (int j = 0; j < kJoints; ++j) {
            const int parent = parents[j];
            const Mat3 parentGlobal = parent < 0 ? Mat3::identity() : global[parent];
            if (j == kPelvis) {
                global[j] = pelvisFrames[f] * pelvisRest.transposed();
                local[j] = global[j];
                continue;
            }
            if (j == kSpine3) {
                global[j] = chestFrames[f] * chestRest.transposed();
                local[j] = parentGlobal.transposed() * global[j];
                continue;
            }
            if (children[j].size() != 1) { // an end joint: keep the parent's orientation
                local[j] = Mat3::identity();
                global[j] = parentGlobal;
                continue;
            }
            const int child = children[j].front();
            const Vec3 target = parentGlobal.transposed() * (position(f, child) - position(f, j));
            const Vec3 rest = normalized(result.offsets[child]);
            if (norm(target) <= kTinyLength || norm(rest) == 0) {
                local[j] = previous ? previous[j] : Mat3::identity();
            } else {
                local[j] = alignBone(rest, normalized(target), previous ? &previous[j] : nullptr);
            }
            if (j == kSpine1 || j == kSpine2) {
                // Share the chest's twist over the spine (a third here at spine1, half of the
                // rest at spine2) instead of leaving it all to spine3: turning a bone about its
                // own axis moves no joint, and the curves look like a real spine's.
                const Mat3 chestGlobal = chestFrames[f] * chestRest.transposed();
                const double twist =
                    twistAbout((parentGlobal * local[j]).transposed() * chestGlobal, rest);
                local[j] = local[j] * axisAngle(rest, twist / (j == kSpine1 ? 3.0 : 2.0));
            }
            global[j] = parentGlobal * local[j];
        }
    }
    return result;
}

std::vector<Vec3> smplIkPositions(const SmplIkResult &result)
{
    const auto &parents = smpl22().parents;
    std::vector<Vec3> positions(static_cast<std::size_t>(result.numFrames) * kJoints);
    std::vector<Mat3> global(kJoints);
    for (int f = 0; f < result.numFrames; ++f) {
        Vec3 *p = positions.data() + static_cast<std::size_t>(f) * kJoints;
        for (int j = 0; j < kJoints; ++j) {
            const int parent = parents[j];
            if (parent < 0) {
                global[j] = result.local(f, j);
                p[j] = result.rootPositions[f];
            } else {
                global[j] = global[parent] * result.local(f, j);
                p[j] = p[parent] + global[parent] * result.offsets[j];
            }
        }
    }
    return positions;
}

} // namespace mp
