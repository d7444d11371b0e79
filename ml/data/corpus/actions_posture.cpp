// Lower body and posture: squat, sit down (onto an invisible seat), stand up, kneel, crouch,
// kick, balance on one leg, bow. The feet stay planted; the root height follows from the legs.

#include "ml/data/corpus/actions_common.h"

#include <algorithm>
#include <stdexcept>

namespace mp::corpus::detail {
namespace {

using namespace joint;

Pose squatPose(float depth)
{
    Pose p = standingPose();
    for (Side s : {Side::Left, Side::Right}) {
        p[std::size_t(sideJoint(LHip, s))] = {-95 * kDeg * depth, 0, 12 * kDeg};
        p[std::size_t(sideJoint(LKnee, s))].x = 110 * kDeg * depth;
        p[std::size_t(sideJoint(LAnkle, s))].x = -28 * kDeg * depth;
        // Arms forward for balance.
        p[std::size_t(sideJoint(LShoulder, s))] = {0.0f, -85 * kDeg, -8 * kDeg * depth};
        p[std::size_t(sideJoint(LElbow, s))].y = -10 * kDeg;
    }
    p[Spine1].x = 22 * kDeg * depth;
    p[Spine2].x = 8 * kDeg * depth;
    p[Neck].x = -12 * kDeg * depth;
    return p;
}

Pose crouchPose(float depth)
{
    Pose p = squatPose(depth);
    for (Side s : {Side::Left, Side::Right}) {
        p[std::size_t(sideJoint(LShoulder, s))] = {0.0f, -55 * kDeg, -55 * kDeg};
        p[std::size_t(sideJoint(LElbow, s))].y = -70 * kDeg;
    }
    p[Spine1].x = 30 * kDeg;
    p[Spine2].x = 15 * kDeg;
    p[Neck].x = -20 * kDeg;
    return p;
}

// Standing on one leg, the other lifted in front with the knee bent, arms out for balance.
Pose oneLegPose(Side stance, float lift)
{
    Pose p = standingPose();
    const Side free = stance == Side::Left ? Side::Right : Side::Left;
    p[std::size_t(sideJoint(LHip, free))] = {-80 * kDeg * lift, 0, 4 * kDeg};
    p[std::size_t(sideJoint(LKnee, free))].x = 90 * kDeg;
    p[std::size_t(sideJoint(LAnkle, free))].x = 20 * kDeg;
    p[std::size_t(sideJoint(LKnee, stance))].x = 6 * kDeg;
    p[LShoulder] = p[RShoulder] = {0.0f, -10 * kDeg, -20 * kDeg};
    p[LElbow] = p[RElbow] = {0.0f, -8 * kDeg, 0.0f};
    return p;
}

PoseTrack kickTrack(const ActionParams &p, Variation &var)
{
    const Side kicker = p.side, stance = otherSide(p.side);
    const auto hip = std::size_t(sideJoint(LHip, kicker));
    const auto knee = std::size_t(sideJoint(LKnee, kicker));
    const auto ankle = std::size_t(sideJoint(LAnkle, kicker));
    Pose guard = standingPose();
    guard[LShoulder] = guard[RShoulder] = {0.0f, -55 * kDeg, -60 * kDeg};
    guard[LElbow] = guard[RElbow] = {0.0f, -100 * kDeg, 0.0f};
    guard[std::size_t(sideJoint(LKnee, stance))].x = 12 * kDeg;
    Pose chamber = guard;
    chamber[hip] = {-70 * kDeg, 0, 5 * kDeg};
    chamber[knee].x = 95 * kDeg;
    chamber[Spine1].x = -6 * kDeg;
    Pose extend = chamber;
    const float height = std::clamp(p.amplitude * var.amplitude, 0.75f, 1.3f);
    extend[hip].x = -80 * kDeg * height;
    extend[knee].x = 8 * kDeg;
    extend[ankle].x = 30 * kDeg;
    extend[Spine1].x = -12 * kDeg;
    std::vector<Key> keys{{guard, 0.35f}};
    for (int r = 0; r < p.repetitions; ++r) {
        keys.push_back({chamber, 0.25f});
        keys.push_back({extend, 0.16f});
        keys.push_back({extend, 0.08f});
        keys.push_back({chamber, 0.2f});
        keys.push_back({guard, 0.25f});
    }
    keys.push_back({standingPose(), 0.4f});
    PoseTrack track = keyTrack(standingPose(), keys, var);
    addIdle(track, var, 0.3f);
    return track;
}

PoseTrack bowTrack(const ActionParams &p, Variation &var)
{
    const float depth = std::clamp(p.amplitude * var.amplitude, 0.8f, 1.3f);
    Pose bow = standingPose();
    bow[LHip].x = bow[RHip].x = -36 * kDeg * depth;
    bow[Spine1].x = 28 * kDeg * depth;
    bow[Spine2].x = 20 * kDeg * depth;
    bow[Spine3].x = 12 * kDeg * depth;
    bow[Neck].x = 12 * kDeg;
    bow[LKnee].x = bow[RKnee].x = 6 * kDeg;
    // The arms hang towards the floor: swing them forward by the trunk's pitch.
    const float pitch = (36 + 28 + 20 + 12) * kDeg * depth;
    bow[LShoulder].y = bow[RShoulder].y = -0.8f * pitch;
    const float speed = speedFactor(p.speed);
    std::vector<Key> keys;
    for (int r = 0; r < p.repetitions; ++r) {
        keys.push_back({bow, 0.8f * speed});
        keys.push_back({bow, 0.5f * speed});
        keys.push_back({standingPose(), 0.8f * speed});
    }
    keys.push_back({standingPose(), 0.3f});
    PoseTrack track = keyTrack(standingPose(), keys, var);
    addIdle(track, var, 0.5f);
    return track;
}

} // namespace

PoseTrack lowerBodyTrack(const Segment &segment, Variation &var)
{
    const ActionParams &p = segment.params;
    const float speed = speedFactor(p.speed);
    const Pose stand = standingPose();
    PoseTrack track;
    switch (segment.action) {
    case Action::Squat: {
        const float depth = std::clamp(p.amplitude * var.amplitude, 0.6f, 1.15f);
        std::vector<Key> keys;
        for (int r = 0; r < p.repetitions; ++r) {
            keys.push_back({squatPose(depth), 0.9f * speed});
            keys.push_back({squatPose(depth), 0.2f * speed});
            keys.push_back({stand, 0.9f * speed});
        }
        keys.push_back({stand, 0.25f});
        track = keyTrack(stand, keys, var);
        break;
    }
    case Action::SitDown: {
        Pose lean = mixPoses(stand, seatedPose(), 0.6f);
        lean[Spine1].x = 28 * kDeg;
        lean[Spine2].x = 10 * kDeg;
        track = keyTrack(stand,
                         {{stand, 0.2f},
                          {lean, 0.9f * speed},
                          {seatedPose(), 0.6f * speed},
                          {seatedPose(), 0.6f}},
                         var);
        break;
    }
    case Action::StandUp: {
        Pose lean = mixPoses(seatedPose(), stand, 0.35f);
        lean[Spine1].x = 32 * kDeg;
        lean[Spine2].x = 12 * kDeg;
        track = keyTrack(
            seatedPose(),
            {{seatedPose(), 0.4f}, {lean, 0.6f * speed}, {stand, 0.9f * speed}, {stand, 0.4f}},
            var);
        break;
    }
    case Action::Kneel: {
        const Pose kneel = kneelingPose(p.side);
        Pose step = mixPoses(stand, kneel, 0.45f);
        step[Spine1].x = 12 * kDeg;
        // The kneeling leg lifts its foot off the floor on the way back and down.
        step[std::size_t(sideJoint(LKnee, p.side))].x = 75 * kDeg;
        step[std::size_t(sideJoint(LHip, p.side))].x = -10 * kDeg;
        track = keyTrack(
            stand, {{stand, 0.2f}, {step, 0.7f * speed}, {kneel, 0.8f * speed}, {kneel, 0.8f}},
            var);
        break;
    }
    case Action::Crouch: {
        const float depth = std::clamp(p.amplitude * var.amplitude, 0.7f, 1.1f);
        const Pose low = crouchPose(depth);
        track = keyTrack(
            stand, {{low, 0.8f}, {low, 0.6f + 0.8f * p.amplitude}, {stand, 0.9f}, {stand, 0.2f}},
            var);
        break;
    }
    case Action::Kick:
        return kickTrack(p, var);
    case Action::Balance: {
        const Pose up = oneLegPose(p.side, std::clamp(p.amplitude, 0.85f, 1.2f));
        track = keyTrack(
            stand, {{up, 0.8f}, {up, 1.5f + 1.0f * p.amplitude}, {stand, 0.7f}, {stand, 0.2f}},
            var);
        // Balancing wobbles: the arms and trunk correct slowly.
        for (int t = 0; t < track.numFrames; ++t) {
            const float s = float(t) / kFps;
            const float w = std::sin(2.2f * s + var.phase) * 3 * kDeg;
            track.at(t, Spine1).z += w;
            track.at(t, LShoulder).z += 2 * w;
            track.at(t, RShoulder).z -= 2 * w;
        }
        break;
    }
    case Action::Bow:
        return bowTrack(p, var);
    default:
        throw std::runtime_error("lowerBodyTrack: not a lower-body action");
    }
    addIdle(track, var, 0.4f);
    return track;
}

} // namespace mp::corpus::detail
