#include "ml/data/corpus/pose_track.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mp::corpus {

namespace {

constexpr float kPi = 3.14159265358979f;

// Ranges a healthy adult reaches (roughly the clinical ranges of motion), per angle.
JointLimit limit(Euler lo, Euler hi)
{
    return {{lo.x * kDeg, lo.y * kDeg, lo.z * kDeg}, {hi.x * kDeg, hi.y * kDeg, hi.z * kDeg}};
}

} // namespace

const std::array<JointLimit, kNumJoints> &jointLimits()
{
    static const std::array<JointLimit, kNumJoints> kLimits = [] {
        std::array<JointLimit, kNumJoints> l{};
        const JointLimit free = limit({-180, -180, -180}, {180, 180, 180});
        const JointLimit hip = limit({-125, -45, -25}, {30, 45, 50});
        const JointLimit knee = limit({0, -5, -5}, {150, 5, 5});
        const JointLimit ankle = limit({-30, -20, -20}, {50, 20, 20});
        const JointLimit spine = limit({-20, -20, -20}, {35, 20, 20});
        const JointLimit collar = limit({-15, -20, -15}, {15, 20, 25});
        const JointLimit shoulder = limit({-90, -135, -85}, {90, 60, 100});
        const JointLimit elbow = limit({-60, -150, -10}, {60, 0, 10});
        const JointLimit neck = limit({-40, -60, -35}, {45, 60, 35});
        const JointLimit leaf = limit({-10, -10, -10}, {10, 10, 10});
        using namespace joint;
        l[Pelvis] = free;
        l[LHip] = l[RHip] = hip;
        l[LKnee] = l[RKnee] = knee;
        l[LAnkle] = l[RAnkle] = ankle;
        l[Spine1] = l[Spine2] = l[Spine3] = spine;
        l[LCollar] = l[RCollar] = collar;
        l[LShoulder] = l[RShoulder] = shoulder;
        l[LElbow] = l[RElbow] = elbow;
        l[Neck] = neck;
        l[LFoot] = l[RFoot] = l[Head] = l[LWrist] = l[RWrist] = leaf;
        return l;
    }();
    return kLimits;
}

bool isRightJoint(int j)
{
    using namespace joint;
    switch (j) {
    case RHip:
    case RKnee:
    case RAnkle:
    case RFoot:
    case RCollar:
    case RShoulder:
    case RElbow:
    case RWrist:
        return true;
    default:
        return false;
    }
}

int sideJoint(int leftJoint, Side side)
{
    if (side != Side::Right)
        return leftJoint;
    using namespace joint;
    switch (leftJoint) {
    case LHip:
        return RHip;
    case LKnee:
        return RKnee;
    case LAnkle:
        return RAnkle;
    case LFoot:
        return RFoot;
    case LCollar:
        return RCollar;
    case LShoulder:
        return RShoulder;
    case LElbow:
        return RElbow;
    case LWrist:
        return RWrist;
    default:
        throw std::runtime_error("sideJoint: not a left-side joint");
    }
}

PoseTrack::PoseTrack(int frames)
    : numFrames(frames), angles(std::size_t(frames) * kNumJoints), heading(frames, 0.0f),
      lift(frames, 0.0f), airborne(frames, 0), driftZ(frames, 0.0f), momentum(frames, 0)
{
}

void PoseTrack::resize(int frames)
{
    const int old = numFrames;
    angles.resize(std::size_t(frames) * kNumJoints);
    for (int t = old; t < frames && old > 0; ++t)
        for (int j = 0; j < kNumJoints; ++j)
            at(t, j) = at(old - 1, j);
    heading.resize(std::size_t(frames), old > 0 ? heading[std::size_t(old - 1)] : 0.0f);
    lift.resize(std::size_t(frames), 0.0f);
    airborne.resize(std::size_t(frames), 0);
    driftZ.resize(std::size_t(frames), 0.0f);
    momentum.resize(std::size_t(frames), 0);
    numFrames = frames;
}

void PoseTrack::append(const PoseTrack &other)
{
    const float base = numFrames > 0 ? heading.back() : 0.0f;
    angles.insert(angles.end(), other.angles.begin(), other.angles.end());
    for (float h : other.heading)
        heading.push_back(base + h);
    lift.insert(lift.end(), other.lift.begin(), other.lift.end());
    airborne.insert(airborne.end(), other.airborne.begin(), other.airborne.end());
    driftZ.insert(driftZ.end(), other.driftZ.begin(), other.driftZ.end());
    momentum.insert(momentum.end(), other.momentum.begin(), other.momentum.end());
    numFrames += other.numFrames;
}

int clampToLimits(PoseTrack &track)
{
    const auto &limits = jointLimits();
    int changed = 0;
    const auto clampOne = [&](float &v, float lo, float hi) {
        const float c = std::clamp(v, lo, hi);
        changed += c != v;
        v = c;
    };
    for (int t = 0; t < track.numFrames; ++t)
        for (int j = 1; j < kNumJoints; ++j) {
            Euler &e = track.at(t, j);
            const JointLimit &l = limits[std::size_t(j)];
            clampOne(e.x, l.lo.x, l.hi.x);
            clampOne(e.y, l.lo.y, l.hi.y);
            clampOne(e.z, l.lo.z, l.hi.z);
        }
    return changed;
}

Pose standingPose()
{
    Pose p{};
    using namespace joint;
    // Arms hang a little away from the thighs, elbows soft: a relaxed stance, not a T-pose.
    p[LShoulder] = p[RShoulder] = {0.0f, -4 * kDeg, -78 * kDeg};
    p[LElbow] = p[RElbow] = {0.0f, -12 * kDeg, 0.0f};
    p[LKnee] = p[RKnee] = {3 * kDeg, 0, 0};
    p[LHip] = p[RHip] = {-2 * kDeg, 0, 2 * kDeg};
    return p;
}

Pose seatedPose()
{
    Pose p = standingPose();
    using namespace joint;
    p[LHip] = p[RHip] = {-88 * kDeg, 0, 6 * kDeg};
    p[LKnee] = p[RKnee] = {92 * kDeg, 0, 0};
    p[LAnkle] = p[RAnkle] = {-4 * kDeg, 0, 0};
    p[Spine1] = {6 * kDeg, 0, 0};
    // Hands rest on the thighs.
    p[LShoulder] = p[RShoulder] = {0.0f, -35 * kDeg, -70 * kDeg};
    p[LElbow] = p[RElbow] = {0.0f, -55 * kDeg, 0.0f};
    return p;
}

Pose kneelingPose(Side downKnee)
{
    Pose p = standingPose();
    using namespace joint;
    const int downHip = sideJoint(LHip, downKnee);
    const int downKneeJ = sideJoint(LKnee, downKnee);
    const int downAnkle = sideJoint(LAnkle, downKnee);
    const Side up = downKnee == Side::Left ? Side::Right : Side::Left;
    p[std::size_t(downHip)] = {5 * kDeg, 0, 4 * kDeg};
    p[std::size_t(downKneeJ)] = {100 * kDeg, 0, 0};
    p[std::size_t(downAnkle)] = {-25 * kDeg, 0, 0};
    p[std::size_t(sideJoint(LHip, up))] = {-88 * kDeg, 0, 8 * kDeg};
    p[std::size_t(sideJoint(LKnee, up))] = {95 * kDeg, 0, 0};
    p[std::size_t(sideJoint(LAnkle, up))] = {-8 * kDeg, 0, 0};
    p[Spine1] = {4 * kDeg, 0, 0};
    return p;
}

void setPose(PoseTrack &track, int frame, const Pose &pose)
{
    for (int j = 0; j < kNumJoints; ++j)
        track.at(frame, j) = pose[std::size_t(j)];
}

Pose poseAt(const PoseTrack &track, int frame)
{
    Pose p{};
    for (int j = 0; j < kNumJoints; ++j)
        p[std::size_t(j)] = track.at(frame, j);
    return p;
}

Pose mixPoses(const Pose &a, const Pose &b, float w)
{
    Pose p{};
    for (std::size_t j = 0; j < p.size(); ++j)
        p[j] = {a[j].x + (b[j].x - a[j].x) * w, a[j].y + (b[j].y - a[j].y) * w,
                a[j].z + (b[j].z - a[j].z) * w};
    return p;
}

float smoothstep(float x)
{
    x = std::clamp(x, 0.0f, 1.0f);
    return x * x * (3.0f - 2.0f * x);
}

float ramp(float t, float start, float end)
{
    if (end <= start)
        return t >= end ? 1.0f : 0.0f;
    return smoothstep((t - start) / (end - start));
}

float bump(float t, float start, float peak, float end)
{
    if (t <= start || t >= end)
        return 0.0f;
    return t < peak ? ramp(t, start, peak) : 1.0f - ramp(t, peak, end);
}

float periodicCurve(const std::vector<std::array<float, 2>> &keys, float phase)
{
    const int n = static_cast<int>(keys.size());
    phase -= std::floor(phase);
    int i = n - 1;
    for (int k = 0; k < n; ++k)
        if (keys[std::size_t(k)][0] > phase) {
            i = k - 1;
            break;
        }
    const auto key = [&](int k) {
        const int wrapped = ((k % n) + n) % n;
        const float shift = std::floor(float(k) / float(n));
        return std::array<float, 2>{keys[std::size_t(wrapped)][0] + shift,
                                    keys[std::size_t(wrapped)][1]};
    };
    if (i < 0)
        i += n, phase += 1.0f;
    const auto k0 = key(i - 1), k1 = key(i), k2 = key(i + 1), k3 = key(i + 2);
    const float span = k2[0] - k1[0];
    const float u = span > 0 ? (phase - k1[0]) / span : 0.0f;
    // Catmull-Rom tangents scaled to the non-uniform key spacing.
    const float m1 = (k2[1] - k0[1]) / (k2[0] - k0[0]) * span;
    const float m2 = (k3[1] - k1[1]) / (k3[0] - k1[0]) * span;
    const float u2 = u * u, u3 = u2 * u;
    return (2 * u3 - 3 * u2 + 1) * k1[1] + (u3 - 2 * u2 + u) * m1 + (-2 * u3 + 3 * u2) * k2[1] +
           (u3 - u2) * m2;
}

} // namespace mp::corpus
