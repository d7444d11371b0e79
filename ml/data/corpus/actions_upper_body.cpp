// Upper body: wave, clap, punch, raise arms, stretch, throw, dance sway. The legs stand (or, for
// the sway, shift the weight from foot to foot); the arms and trunk carry the action.

#include "ml/data/corpus/actions_common.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mp::corpus::detail {
namespace {

using namespace joint;

std::vector<Side> sidesOf(Side side)
{
    if (side == Side::Both)
        return {Side::Left, Side::Right};
    return {side == Side::None ? Side::Right : side};
}

PoseTrack waveTrack(const ActionParams &p, Variation &var)
{
    const std::vector<Side> hands = sidesOf(p.side);
    Pose up = standingPose();
    for (Side s : hands) {
        // Upper arm out and a little up; the twist turns the elbow's bend upwards so the forearm
        // stands vertical.
        up[std::size_t(sideJoint(LShoulder, s))] = {-90 * kDeg, -15 * kDeg, 25 * kDeg};
        up[std::size_t(sideJoint(LElbow, s))].y = -80 * kDeg;
    }
    const int raise = var.frames(0.5f), lower = var.frames(0.55f);
    const int waveFrames = var.frames(0.42f);
    const int total = raise + p.repetitions * waveFrames + lower + 2;
    PoseTrack track(total);
    blendSpan(track, 0, raise, standingPose(), up);
    const float amp = 28 * kDeg * std::clamp(p.amplitude * var.amplitude, 0.7f, 1.3f);
    for (int t = raise; t < raise + p.repetitions * waveFrames; ++t) {
        Pose pose = up;
        const float w = std::sin(2.0f * 3.14159265f * float(t - raise) / float(waveFrames));
        for (Side s : hands)
            pose[std::size_t(sideJoint(LElbow, s))].y += amp * w;
        setPose(track, t, pose);
    }
    blendSpan(track, raise + p.repetitions * waveFrames, total, up, standingPose());
    addIdle(track, var, 0.5f);
    return track;
}

PoseTrack clapTrack(const ActionParams &p, Variation &var)
{
    Pose open = standingPose(), shut = standingPose();
    for (Side s : {Side::Left, Side::Right}) {
        open[std::size_t(sideJoint(LShoulder, s))] = {0.0f, -55 * kDeg, -25 * kDeg};
        open[std::size_t(sideJoint(LElbow, s))].y = -75 * kDeg;
        shut[std::size_t(sideJoint(LShoulder, s))] = {0.0f, -84 * kDeg, -25 * kDeg};
        shut[std::size_t(sideJoint(LElbow, s))].y = -56 * kDeg;
    }
    const float beat = 0.45f * speedFactor(p.speed);
    std::vector<Key> keys{{open, 0.5f}};
    for (int r = 0; r < p.repetitions; ++r) {
        keys.push_back({shut, beat * 0.4f});
        keys.push_back({open, beat * 0.6f});
    }
    keys.push_back({standingPose(), 0.55f});
    PoseTrack track = keyTrack(standingPose(), keys, var);
    addIdle(track, var, 0.5f);
    return track;
}

PoseTrack punchTrack(const ActionParams &p, Variation &var)
{
    Pose guard = standingPose();
    for (Side s : {Side::Left, Side::Right}) {
        guard[std::size_t(sideJoint(LShoulder, s))] = {-70 * kDeg, -35 * kDeg, -55 * kDeg};
        guard[std::size_t(sideJoint(LElbow, s))].y = -115 * kDeg;
        guard[std::size_t(sideJoint(LKnee, s))].x = 10 * kDeg;
        guard[std::size_t(sideJoint(LHip, s))].x = -8 * kDeg;
    }
    const float speed = speedFactor(p.speed);
    std::vector<Key> keys{{guard, 0.45f}};
    for (int r = 0; r < p.repetitions; ++r) {
        const Side hand = p.side == Side::Both ? (r % 2 == 0 ? Side::Left : Side::Right) : p.side;
        Pose hit = guard;
        hit[std::size_t(sideJoint(LShoulder, hand))] = {0.0f, -85 * kDeg, -4 * kDeg};
        hit[std::size_t(sideJoint(LElbow, hand))].y = -6 * kDeg;
        // The trunk turns into the punch: the punching shoulder comes forward.
        hit[Spine2].y = -sideSign(hand) * 14 * kDeg;
        hit[Spine1].y = -sideSign(hand) * 8 * kDeg;
        keys.push_back({hit, 0.14f * speed});
        keys.push_back({hit, 0.06f});
        keys.push_back({guard, 0.3f * speed});
    }
    keys.push_back({standingPose(), 0.5f});
    PoseTrack track = keyTrack(standingPose(), keys, var);
    addIdle(track, var, 0.4f);
    return track;
}

PoseTrack raiseTrack(const ActionParams &p, Variation &var, bool stretch)
{
    Pose up = standingPose();
    const std::vector<Side> arms =
        stretch ? std::vector<Side>{Side::Left, Side::Right} : sidesOf(p.side);
    for (Side s : arms) {
        up[std::size_t(sideJoint(LShoulder, s))] = {0.0f, -12 * kDeg, 82 * kDeg};
        up[std::size_t(sideJoint(LElbow, s))].y = -6 * kDeg;
    }
    const float speed = speedFactor(p.speed);
    float holdS = 0.8f;
    if (stretch) {
        holdS = 1.4f;
        if (p.side == Side::Left || p.side == Side::Right) {
            // Bend the trunk towards the side (z < 0 tips the top towards +X, the left).
            const float bend = -sideSign(p.side) * 11 * kDeg;
            up[Spine1].z = up[Spine2].z = up[Spine3].z = bend;
        } else {
            up[Spine2].x = up[Spine3].x = -8 * kDeg;
            up[Neck].x = -15 * kDeg;
            // Up on the toes.
            up[LAnkle].x = up[RAnkle].x = 22 * kDeg;
        }
    }
    PoseTrack track = keyTrack(standingPose(),
                               {{up, 0.9f * speed},
                                {up, holdS * speed},
                                {standingPose(), 0.9f * speed},
                                {standingPose(), 0.2f}},
                               var);
    addIdle(track, var, 0.5f);
    return track;
}

PoseTrack throwTrack(const ActionParams &p, Variation &var)
{
    const Side hand = p.side == Side::Left ? Side::Left : Side::Right;
    const auto shoulder = std::size_t(sideJoint(LShoulder, hand));
    const auto elbow = std::size_t(sideJoint(LElbow, hand));
    const float twist = sideSign(hand);
    Pose windup = standingPose();
    windup[shoulder] = {-80 * kDeg, 35 * kDeg, 20 * kDeg};
    windup[elbow].y = -100 * kDeg;
    windup[Spine2].y = twist * 18 * kDeg;
    windup[Spine1].y = twist * 10 * kDeg;
    windup[Spine1].x = -5 * kDeg;
    Pose release = standingPose();
    release[shoulder] = {-40 * kDeg, -70 * kDeg, 25 * kDeg};
    release[elbow].y = -20 * kDeg;
    release[Spine2].y = -twist * 15 * kDeg;
    release[Spine1].x = 14 * kDeg;
    Pose follow = standingPose();
    follow[shoulder] = {0.0f, -100 * kDeg, -45 * kDeg};
    follow[elbow].y = -30 * kDeg;
    follow[Spine2].y = -twist * 20 * kDeg;
    follow[Spine1].x = 20 * kDeg;
    PoseTrack track = keyTrack(standingPose(),
                               {{windup, 0.7f},
                                {windup, 0.15f},
                                {release, 0.16f},
                                {follow, 0.2f},
                                {follow, 0.3f},
                                {standingPose(), 0.7f}},
                               var);
    addIdle(track, var, 0.4f);
    return track;
}

PoseTrack swayTrack(const ActionParams &p, Variation &var)
{
    const float period = 1.0f * speedFactor(p.speed);
    const int cycle = var.frames(period);
    const int total = p.repetitions * cycle + var.frames(0.3f);
    const float amp = std::clamp(p.amplitude * var.amplitude, 0.7f, 1.3f);
    PoseTrack track(total);
    for (int t = 0; t < total; ++t) {
        Pose pose = standingPose();
        const float envelope = ramp(float(t), 0.0f, float(cycle) * 0.4f) *
                               (1.0f - ramp(float(t), float(total - cycle / 2), float(total - 1)));
        const float w = 2.0f * 3.14159265f * float(t) / float(cycle);
        const float s = std::sin(w) * envelope;
        // Weight from foot to foot: both hips rotate the same way, so both feet stay put.
        pose[LHip].z += -7 * kDeg * amp * s;
        pose[RHip].z += 7 * kDeg * amp * s;
        const float bounce = 0.5f * (1.0f - std::cos(2.0f * w)) * envelope;
        for (Side side : {Side::Left, Side::Right}) {
            pose[std::size_t(sideJoint(LKnee, side))].x += 12 * kDeg * bounce;
            pose[std::size_t(sideJoint(LHip, side))].x -= 6 * kDeg * bounce;
            pose[std::size_t(sideJoint(LAnkle, side))].x -= 6 * kDeg * bounce;
            pose[std::size_t(sideJoint(LShoulder, side))] = mixPoses(
                standingPose(),
                [&] {
                    Pose arms = standingPose();
                    arms[std::size_t(sideJoint(LShoulder, side))] = {0.0f, -40 * kDeg, -45 * kDeg};
                    return arms;
                }(),
                envelope)[std::size_t(sideJoint(LShoulder, side))];
            pose[std::size_t(sideJoint(LElbow, side))].y = -12 * kDeg - 75 * kDeg * envelope;
        }
        pose[LShoulder].z += 12 * kDeg * s;
        pose[RShoulder].z -= 12 * kDeg * s;
        pose[Spine1].z += 5 * kDeg * amp * s;
        pose[Spine3].z -= 4 * kDeg * amp * s;
        pose[Neck].z -= 5 * kDeg * s;
        setPose(track, t, pose);
    }
    addIdle(track, var, 0.3f);
    return track;
}

} // namespace

PoseTrack upperBodyTrack(const Segment &segment, Variation &var)
{
    const ActionParams &p = segment.params;
    switch (segment.action) {
    case Action::Wave:
        return waveTrack(p, var);
    case Action::Clap:
        return clapTrack(p, var);
    case Action::Punch:
        return punchTrack(p, var);
    case Action::RaiseArms:
        return raiseTrack(p, var, false);
    case Action::Stretch:
        return raiseTrack(p, var, true);
    case Action::Throw:
        return throwTrack(p, var);
    case Action::DanceSway:
        return swayTrack(p, var);
    default:
        throw std::runtime_error("upperBodyTrack: not an upper-body action");
    }
}

} // namespace mp::corpus::detail
