#include "ml/data/corpus/actions_common.h"

#include <algorithm>
#include <stdexcept>

namespace mp::corpus {
namespace detail {

Variation::Variation(ClipRng &r) : rng(r)
{
    tempo = static_cast<float>(std::clamp(rng.normal(1.0, 0.07), 0.85, 1.15));
    amplitude = static_cast<float>(std::clamp(rng.normal(1.0, 0.08), 0.8, 1.2));
    phase = static_cast<float>(rng.uniform(0.0, 6.283185307179586));
    swayHz = static_cast<float>(rng.uniform(0.15, 0.35));
}

float speedFactor(Speed speed)
{
    switch (speed) {
    case Speed::Slow:
        return 1.35f;
    case Speed::Fast:
        return 0.75f;
    case Speed::Normal:
        break;
    }
    return 1.0f;
}

float sideSign(Side side)
{
    return side == Side::Right ? -1.0f : 1.0f;
}

Side otherSide(Side side)
{
    return side == Side::Right ? Side::Left : Side::Right;
}

void addIdle(PoseTrack &track, const Variation &var, float scale)
{
    using namespace joint;
    for (int t = 0; t < track.numFrames; ++t) {
        const float s = float(t) / kFps;
        const float w = 2.0f * 3.14159265f * var.swayHz * s + var.phase;
        const float a = scale * kDeg;
        track.at(t, Spine2).x += 1.2f * a * std::sin(w);
        track.at(t, Spine1).z += 1.0f * a * std::sin(0.7f * w + 1.0f);
        track.at(t, Neck).y += 3.0f * a * std::sin(0.5f * w + 2.0f);
        track.at(t, Neck).x += 1.5f * a * std::sin(0.8f * w);
        track.at(t, LShoulder).y += 1.5f * a * std::sin(0.9f * w + 0.3f);
        track.at(t, RShoulder).y += 1.5f * a * std::sin(0.9f * w + 1.9f);
    }
}

void blendSpan(PoseTrack &track, int from, int to, const Pose &a, const Pose &b)
{
    for (int t = from; t < to && t < track.numFrames; ++t) {
        const float w = to - from > 1 ? smoothstep(float(t - from) / float(to - from - 1)) : 1.0f;
        setPose(track, t, mixPoses(a, b, w));
    }
}

PoseTrack keyTrack(const Pose &start, const std::vector<Key> &keys, const Variation &var)
{
    int total = 0;
    for (const Key &key : keys)
        total += var.frames(key.seconds);
    PoseTrack track(total);
    int at = 0;
    Pose from = start;
    for (const Key &key : keys) {
        const int n = var.frames(key.seconds);
        for (int k = 0; k < n; ++k)
            setPose(track, at + k, mixPoses(from, key.pose, smoothstep(float(k + 1) / float(n))));
        at += n;
        from = key.pose;
    }
    return track;
}

namespace {

// Walking joint curves over the left leg's cycle (heel strike at 0, toe-off near 0.6), degrees:
// hip flexion (+ forward), knee flexion, ankle plantarflexion (+ toes down). The swing knee and
// ankle lift the toes a little higher than the clinical averages, for floor clearance.
const std::vector<std::array<float, 2>> kWalkHip{{0.0f, 24},  {0.15f, 19}, {0.5f, -12},
                                                 {0.62f, -5}, {0.76f, 19}, {0.88f, 27}};
const std::vector<std::array<float, 2>> kWalkKnee{{0.0f, 4},  {0.13f, 16}, {0.4f, 4},  {0.6f, 40},
                                                  {0.7f, 64}, {0.8f, 54},  {0.9f, 10}, {0.96f, 4}};
const std::vector<std::array<float, 2>> kWalkAnkle{{0.0f, 0},    {0.08f, 6}, {0.42f, -10},
                                                   {0.6f, 14},   {0.66f, 0}, {0.74f, -16},
                                                   {0.86f, -14}, {0.94f, -8}};
// Running: stance 0..0.38, flight to 0.5.
const std::vector<std::array<float, 2>> kRunHip{{0.0f, 32}, {0.2f, 6},  {0.38f, -14},
                                                {0.5f, -4}, {0.7f, 40}, {0.86f, 46}};
const std::vector<std::array<float, 2>> kRunKnee{{0.0f, 20},  {0.14f, 38}, {0.38f, 16}, {0.55f, 80},
                                                 {0.7f, 100}, {0.86f, 50}, {0.95f, 22}};
const std::vector<std::array<float, 2>> kRunAnkle{
    {0.0f, -4}, {0.15f, -14}, {0.38f, 22}, {0.5f, 12}, {0.75f, -6}};

} // namespace

void gaitPose(Pose &pose, float phase, const GaitStyle &style, float weight)
{
    using namespace joint;
    const auto &hipKeys = style.running ? kRunHip : kWalkHip;
    const auto &kneeKeys = style.running ? kRunKnee : kWalkKnee;
    const auto &ankleKeys = style.running ? kRunAnkle : kWalkAnkle;
    float hipFlex[2];
    for (int leg = 0; leg < 2; ++leg) {
        const float ph = phase + 0.5f * float(leg);
        const int hip = leg == 0 ? LHip : RHip;
        const int knee = leg == 0 ? LKnee : RKnee;
        const int ankle = leg == 0 ? LAnkle : RAnkle;
        hipFlex[leg] = periodicCurve(hipKeys, ph) * kDeg * style.hipScale;
        const float kneeFlex = periodicCurve(kneeKeys, ph) * kDeg * style.kneeScale;
        float plantar = periodicCurve(ankleKeys, ph) * kDeg;
        if (style.backward) {
            // Mirror the hip swing: the foot lifts behind, lands toes first, and the stance
            // leg pushes the body back.
            hipFlex[leg] = -hipFlex[leg];
            plantar = -0.6f * plantar;
        }
        pose[std::size_t(hip)].x += weight * (-hipFlex[leg] - pose[std::size_t(hip)].x);
        pose[std::size_t(knee)].x += weight * (kneeFlex - pose[std::size_t(knee)].x);
        pose[std::size_t(ankle)].x += weight * (plantar - pose[std::size_t(ankle)].x);
    }
    // Arms swing against the legs; the pelvis turns and rolls with the swinging leg.
    const float armL = hipFlex[1] * style.armSwing, armR = hipFlex[0] * style.armSwing;
    pose[LShoulder].y += weight * -armL;
    pose[RShoulder].y += weight * -armR;
    pose[LElbow].y += weight * (-style.elbowFlex - pose[LElbow].y);
    pose[RElbow].y += weight * (-style.elbowFlex - pose[RElbow].y);
    const float swing = (hipFlex[0] - hipFlex[1]) * 0.5f;
    pose[Pelvis].y += weight * -0.15f * swing;
    pose[Spine2].y += weight * 0.2f * swing;
    pose[Spine1].x += weight * style.lean;
}

} // namespace detail

PoseTrack generateAction(const Segment &segment, ClipRng &rng)
{
    detail::Variation var(rng);
    PoseTrack track;
    switch (actionInfo(segment.action).family) {
    case Family::Locomotion:
        track = detail::locomotionTrack(segment, var);
        break;
    case Family::Jump:
        track = detail::jumpTrack(segment, var);
        break;
    case Family::LowerBody:
        track = detail::lowerBodyTrack(segment, var);
        break;
    case Family::UpperBody:
        track = detail::upperBodyTrack(segment, var);
        break;
    }
    clampToLimits(track);
    return track;
}

ActionParams sampleParams(Action action, ClipRng &rng)
{
    ActionParams p;
    const auto speed = [&](double slow, double fast) {
        const double u = rng.uniform();
        return u < slow ? Speed::Slow : (u < slow + fast ? Speed::Fast : Speed::Normal);
    };
    const auto leftRight = [&] { return rng.chance(0.5) ? Side::Left : Side::Right; };
    const auto amplitude = [&] { return float(std::lround(rng.uniform(0.7, 1.35) * 100)) / 100; };
    p.amplitude = amplitude();
    switch (action) {
    case Action::Walk:
        p.speed = speed(0.25, 0.25);
        p.repetitions = rng.integer(4, 10);
        p.side = rng.chance(0.25) ? leftRight() : Side::None;
        p.angleDeg = p.side == Side::None ? 0 : 60;
        break;
    case Action::Jog:
    case Action::Run:
        p.speed = speed(0.2, 0.25);
        p.repetitions = rng.integer(6, 12);
        break;
    case Action::WalkBackward:
        p.speed = speed(0.3, 0.15);
        p.repetitions = rng.integer(3, 7);
        break;
    case Action::Sidestep:
        p.speed = speed(0.25, 0.25);
        p.side = leftRight();
        p.repetitions = rng.integer(2, 5);
        break;
    case Action::WalkCircle:
        p.speed = speed(0.25, 0.2);
        p.side = leftRight();
        p.angleDeg = rng.chance(0.3) ? 180 : 360;
        break;
    case Action::Turn:
        p.speed = speed(0.25, 0.25);
        p.side = leftRight();
        p.angleDeg = rng.chance(0.3) ? 180 : 90;
        break;
    case Action::Spin:
        p.speed = speed(0.2, 0.3);
        p.side = leftRight();
        p.angleDeg = rng.chance(0.25) ? 720 : 360;
        break;
    case Action::JumpInPlace:
    case Action::JumpForward:
        p.repetitions = rng.integer(1, action == Action::JumpInPlace ? 4 : 3);
        break;
    case Action::Hop:
        p.side = leftRight();
        p.repetitions = rng.integer(2, 6);
        break;
    case Action::JumpingJacks:
        p.speed = speed(0.2, 0.3);
        p.repetitions = rng.integer(2, 6);
        break;
    case Action::Squat:
        p.speed = speed(0.3, 0.2);
        p.repetitions = rng.integer(1, 4);
        break;
    case Action::SitDown:
    case Action::StandUp:
        p.speed = speed(0.3, 0.2);
        break;
    case Action::Kneel:
        p.speed = speed(0.3, 0.2);
        p.side = leftRight();
        break;
    case Action::Crouch:
        break;
    case Action::Kick:
        p.side = leftRight();
        p.repetitions = rng.integer(1, 3);
        break;
    case Action::Balance:
        p.side = leftRight();
        break;
    case Action::Bow:
        p.speed = speed(0.3, 0.2);
        p.repetitions = rng.chance(0.2) ? 2 : 1;
        break;
    case Action::Wave:
        p.side = rng.chance(0.2) ? Side::Both : leftRight();
        p.repetitions = rng.integer(2, 5);
        break;
    case Action::Clap:
        p.speed = speed(0.2, 0.3);
        p.repetitions = rng.integer(2, 7);
        break;
    case Action::Punch:
        p.speed = speed(0.15, 0.3);
        p.side = rng.chance(0.25) ? Side::Both : leftRight();
        p.repetitions = rng.integer(1, 4);
        if (p.side == Side::Both)
            p.repetitions = std::max(p.repetitions, 2);
        break;
    case Action::RaiseArms:
        p.speed = speed(0.3, 0.2);
        p.side = rng.chance(0.5) ? Side::Both : leftRight();
        break;
    case Action::Stretch:
        p.speed = speed(0.3, 0.1);
        p.side = rng.chance(0.5) ? Side::None : leftRight();
        break;
    case Action::Throw:
        p.side = rng.chance(0.75) ? Side::Right : Side::Left;
        break;
    case Action::DanceSway:
        p.speed = speed(0.3, 0.3);
        p.repetitions = rng.integer(2, 5);
        break;
    }
    return p;
}

} // namespace mp::corpus
