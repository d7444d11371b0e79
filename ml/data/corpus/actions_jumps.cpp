// Jumps: jump in place, jump forward, hop on one leg, jumping jacks. Each jump is crouch,
// push-off onto the toes, a ballistic flight (height and duration tied by g), and a landing that
// absorbs into a crouch. The flight's height and forward travel go to the root solver through
// PoseTrack::lift/airborne/driftZ.

#include "ml/data/corpus/actions_common.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mp::corpus::detail {
namespace {

constexpr float kGravity = 9.81f;

// Frames in the air for a flight apex of heightM: t = 2 sqrt(2h/g).
int flightFrames(float heightM)
{
    return std::max(
        2, static_cast<int>(std::lround(2.0f * std::sqrt(2.0f * heightM / kGravity) * kFps)));
}

struct JumpPoses {
    Pose crouch, push, air, land;
};

// Appends one jump to track (frames from `at`), returns the frame after it.
int addJump(PoseTrack &track, int at, const Pose &from, const JumpPoses &poses, float heightM,
            float travelM, Variation &var, float tempo)
{
    const int down = var.frames(0.3f * tempo);
    const int push = std::max(2, var.frames(0.12f * tempo));
    const int air = flightFrames(heightM);
    const int absorb = var.frames(0.18f * tempo);
    blendSpan(track, at, at + down, from, poses.crouch);
    at += down;
    blendSpan(track, at, at + push, poses.crouch, poses.push);
    at += push;
    for (int k = 0; k < air; ++k) {
        const int t = at + k;
        const float s = float(k + 1) / float(air + 1);
        // Up into the air pose, then towards the landing pose before touching down (legs that
        // spread or close do it in the air, not sliding on the floor).
        setPose(track, t,
                s < 0.5f ? mixPoses(poses.push, poses.air, smoothstep(2.0f * s))
                         : mixPoses(poses.air, poses.land, smoothstep(2.0f * s - 1.0f)));
        track.airborne[std::size_t(t)] = 1;
        track.lift[std::size_t(t)] = 4.0f * heightM * s * (1.0f - s);
        track.driftZ[std::size_t(t)] = travelM / float(air);
    }
    at += air;
    // Absorb the landing a little deeper in the knees, then back to the landing pose.
    Pose deeper = poses.land;
    for (int leg : {joint::LKnee, joint::RKnee})
        deeper[std::size_t(leg)].x += 10 * kDeg;
    for (int k = 0; k < absorb; ++k)
        setPose(
            track, at + k,
            mixPoses(poses.land, deeper, bump(float(k + 1) / float(absorb + 1), 0.0f, 0.4f, 1.0f)));
    return at + absorb;
}

JumpPoses twoFootJump(float lean, float amp)
{
    using namespace joint;
    JumpPoses p{standingPose(), standingPose(), standingPose(), standingPose()};
    for (int side = 0; side < 2; ++side) {
        const Side s = side == 0 ? Side::Left : Side::Right;
        const auto hip = std::size_t(sideJoint(LHip, s)), knee = std::size_t(sideJoint(LKnee, s));
        const auto ankle = std::size_t(sideJoint(LAnkle, s));
        const auto shoulder = std::size_t(sideJoint(LShoulder, s));
        const auto elbow = std::size_t(sideJoint(LElbow, s));
        p.crouch[hip].x = -(55 + 25 * lean) * kDeg * amp;
        p.crouch[knee].x = 80 * kDeg * amp;
        p.crouch[ankle].x = -22 * kDeg * amp;
        p.crouch[shoulder] = {0.0f, 35 * kDeg, -70 * kDeg};
        p.push[hip].x = -5 * kDeg;
        p.push[knee].x = 4 * kDeg;
        p.push[ankle].x = 35 * kDeg;
        p.push[shoulder] = {0.0f, -80 * kDeg, 10 * kDeg};
        p.air[hip].x = -(20 + 20 * lean) * kDeg;
        p.air[knee].x = 35 * kDeg;
        p.air[ankle].x = 20 * kDeg;
        p.air[shoulder] = {0.0f, -70 * kDeg, 25 * kDeg};
        p.land[hip].x = -(40 + 20 * lean) * kDeg;
        p.land[knee].x = 55 * kDeg;
        p.land[ankle].x = -14 * kDeg;
        p.land[shoulder] = {0.0f, -45 * kDeg, -40 * kDeg};
        p.land[elbow].y = p.air[elbow].y = -25 * kDeg;
    }
    p.crouch[joint::Spine1].x = (12 + 25 * lean) * kDeg;
    p.crouch[joint::Spine2].x = (5 + 10 * lean) * kDeg;
    p.air[joint::Spine1].x = 5 * lean * kDeg;
    p.land[joint::Spine1].x = (10 + 15 * lean) * kDeg;
    return p;
}

PoseTrack repeatedJumps(const ActionParams &p, Variation &var, float lean, float heightM,
                        float travelM)
{
    const JumpPoses poses = twoFootJump(lean, std::clamp(p.amplitude, 0.8f, 1.2f));
    const int perJump = var.frames(1.2f) + flightFrames(heightM) + 4;
    const int settle = var.frames(0.45f);
    PoseTrack track(p.repetitions * perJump + settle + 4);
    const Pose stand = standingPose();
    int at = 0;
    Pose from = stand;
    for (int r = 0; r < p.repetitions; ++r) {
        at = addJump(track, at, from, poses, heightM, travelM, var, 1.0f);
        from = poses.land;
    }
    blendSpan(track, at, at + settle, from, stand);
    at += settle;
    track.resize(at);
    addIdle(track, var, 0.3f);
    return track;
}

PoseTrack hopTrack(const ActionParams &p, Variation &var)
{
    using namespace joint;
    const Side stance = p.side, free = otherSide(p.side);
    Pose base = standingPose();
    base[std::size_t(sideJoint(LHip, free))] = {-45 * kDeg, 0, 5 * kDeg};
    base[std::size_t(sideJoint(LKnee, free))] = {92 * kDeg, 0, 0};
    base[std::size_t(sideJoint(LAnkle, free))] = {20 * kDeg, 0, 0};
    base[LShoulder] = base[RShoulder] = {0.0f, -15 * kDeg, -55 * kDeg};
    base[LElbow] = base[RElbow] = {0.0f, -40 * kDeg, 0.0f};
    JumpPoses poses{base, base, base, base};
    const auto hip = std::size_t(sideJoint(LHip, stance));
    const auto knee = std::size_t(sideJoint(LKnee, stance));
    const auto ankle = std::size_t(sideJoint(LAnkle, stance));
    poses.crouch[hip].x = -28 * kDeg;
    poses.crouch[knee].x = 38 * kDeg;
    poses.crouch[ankle].x = -14 * kDeg;
    poses.push[ankle].x = 30 * kDeg;
    poses.air[ankle].x = 18 * kDeg;
    poses.air[knee].x = 12 * kDeg;
    poses.land = poses.crouch;
    const float height = 0.1f * std::clamp(p.amplitude, 0.8f, 1.3f) * var.amplitude;
    const Pose stand = standingPose();
    PoseTrack track(var.frames(0.5f) * 2 + p.repetitions * (var.frames(0.7f) + 12) + 10);
    int at = 0;
    blendSpan(track, at, at + var.frames(0.4f), stand, base);
    at += var.frames(0.4f);
    Pose from = base;
    for (int r = 0; r < p.repetitions; ++r) {
        at = addJump(track, at, from, poses, height, 0.05f, var, 0.75f);
        from = poses.land;
    }
    const int end = var.frames(0.45f);
    blendSpan(track, at, at + end, from, stand);
    at += end;
    track.resize(at);
    addIdle(track, var, 0.3f);
    return track;
}

PoseTrack jumpingJacksTrack(const ActionParams &p, Variation &var)
{
    using namespace joint;
    const float tempo = speedFactor(p.speed) * 0.45f;
    Pose closed = standingPose(), open = standingPose();
    for (Side s : {Side::Left, Side::Right}) {
        open[std::size_t(sideJoint(LHip, s))].z = 15 * kDeg;
        open[std::size_t(sideJoint(LShoulder, s))] = {0.0f, -5 * kDeg, 75 * kDeg};
        open[std::size_t(sideJoint(LElbow, s))].y = -10 * kDeg;
    }
    JumpPoses out{closed, closed, open, open};
    JumpPoses in{open, open, closed, closed};
    for (Pose *pose : {&out.crouch, &in.crouch, &out.land, &in.land})
        for (Side s : {Side::Left, Side::Right}) {
            (*pose)[std::size_t(sideJoint(LKnee, s))].x = 22 * kDeg;
            (*pose)[std::size_t(sideJoint(LHip, s))].x = -12 * kDeg;
            (*pose)[std::size_t(sideJoint(LAnkle, s))].x = -8 * kDeg;
        }
    for (Pose *pose : {&out.push, &in.push})
        for (Side s : {Side::Left, Side::Right})
            (*pose)[std::size_t(sideJoint(LAnkle, s))].x = 25 * kDeg;
    PoseTrack track(p.repetitions * 2 * (var.frames(0.6f) + 8) + 20);
    int at = 0;
    Pose from = closed;
    for (int r = 0; r < p.repetitions; ++r) {
        at = addJump(track, at, from, out, 0.11f, 0.0f, var, tempo);
        at = addJump(track, at, out.land, in, 0.11f, 0.0f, var, tempo);
        from = in.land;
    }
    const int end = var.frames(0.4f);
    blendSpan(track, at, at + end, from, closed);
    at += end;
    track.resize(at);
    addIdle(track, var, 0.3f);
    return track;
}

} // namespace

PoseTrack jumpTrack(const Segment &segment, Variation &var)
{
    const ActionParams &p = segment.params;
    switch (segment.action) {
    case Action::JumpInPlace:
        return repeatedJumps(p, var, 0.0f, 0.17f * p.amplitude * var.amplitude, 0.0f);
    case Action::JumpForward:
        return repeatedJumps(p, var, 1.0f, 0.14f * p.amplitude * var.amplitude,
                             0.6f * p.amplitude * var.amplitude);
    case Action::Hop:
        return hopTrack(p, var);
    case Action::JumpingJacks:
        return jumpingJacksTrack(p, var);
    default:
        throw std::runtime_error("jumpTrack: not a jump");
    }
}

} // namespace mp::corpus::detail
