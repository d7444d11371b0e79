// Locomotion: walk, jog, run, walk backward, sidestep, walk in a circle, turn, spin. The legs
// move through joint-angle cycles; the root's travel comes from the planted foot (root_solver).

#include "ml/data/corpus/actions_common.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mp::corpus::detail {
namespace {

// Seconds per gait cycle (two steps) at normal speed.
constexpr float kWalkCycleS = 1.1f;
constexpr float kJogCycleS = 0.74f;
constexpr float kRunCycleS = 0.64f;

// A cyclic gait: ramps in from standing, `steps` steps, ramps out. direction -1 walks backwards
// (the walking cycle played in reverse). Heading changes by headingRad over the steps.
PoseTrack gaitTrack(const GaitStyle &style, float cycleS, int steps, float direction,
                    float headingRad, Variation &var)
{
    const int rampIn = var.frames(0.35f);
    const int rampOut = var.frames(0.45f);
    const int cycleFrames = std::max(8, var.frames(cycleS));
    const int walkFrames = std::max(cycleFrames / 2, steps * cycleFrames / 2);
    const int total = rampIn + walkFrames + rampOut;
    PoseTrack track(total);
    const Pose stand = standingPose();
    // Start at the phase where the left leg lifts off (just after right heel strike) so the
    // first motion is a step, not a jolt.
    const float phase0 = 0.55f + float(var.rng.uniform(-0.03, 0.03));
    for (int t = 0; t < total; ++t) {
        const float weight = ramp(float(t), 0.0f, float(rampIn)) *
                             (1.0f - ramp(float(t), float(rampIn + walkFrames), float(total - 1)));
        const float phase = phase0 + direction * float(t) / float(cycleFrames);
        Pose pose = stand;
        gaitPose(pose, phase, style, weight);
        setPose(track, t, pose);
        track.heading[std::size_t(t)] =
            headingRad * ramp(float(t), float(rampIn) * 0.5f, float(rampIn + walkFrames));
        if (style.running && weight > 0.9f) {
            // Both feet are off the floor between one toe-off (0.38) and the next heel strike.
            float local = phase - std::floor(phase);
            local = local >= 0.5f ? local - 0.5f : local;
            if (local > 0.39f && local < 0.49f) {
                track.airborne[std::size_t(t)] = 1;
                track.momentum[std::size_t(t)] = 1;
                const float s = (local - 0.38f) / 0.12f;
                track.lift[std::size_t(t)] = 0.05f * style.hipScale * 4.0f * s * (1.0f - s);
            }
        }
    }
    addIdle(track, var, 0.5f);
    return track;
}

// Sideways steps: the lead leg abducts and lands, the weight moves over, the trailing leg
// follows. Left-side convention: hip z > 0 abducts outward.
PoseTrack sidestepTrack(const ActionParams &p, Variation &var)
{
    using namespace joint;
    const Side lead = p.side;
    const int leadHip = sideJoint(LHip, lead), trailHip = sideJoint(LHip, otherSide(lead));
    const int leadKnee = sideJoint(LKnee, lead), trailKnee = sideJoint(LKnee, otherSide(lead));
    const float abduct = 17 * kDeg * p.amplitude * var.amplitude;
    const int stepFrames = var.frames(0.72f * speedFactor(p.speed));
    const int settle = var.frames(0.3f);
    const int total = p.repetitions * stepFrames + settle;
    PoseTrack track(total);
    const Pose stand = standingPose();
    for (int t = 0; t < total; ++t) {
        Pose pose = stand;
        const int step = std::min(t / stepFrames, p.repetitions - 1);
        const float u = std::min(1.0f, float(t - step * stepFrames) / float(stepFrames));
        // 0..0.4 lead leg out, 0.4..0.65 weight shift, 0.65..1 trailing leg in.
        const float leadOut = ramp(u, 0.0f, 0.4f) * (1.0f - ramp(u, 0.4f, 0.65f));
        const float trailOut = ramp(u, 0.4f, 0.65f) * (1.0f - ramp(u, 0.65f, 1.0f));
        pose[std::size_t(leadHip)].z += abduct * leadOut;
        pose[std::size_t(trailHip)].z += abduct * trailOut;
        const float leadLift = bump(u, 0.0f, 0.2f, 0.4f), trailLift = bump(u, 0.65f, 0.82f, 1.0f);
        pose[std::size_t(leadHip)].x -= 28 * kDeg * leadLift;
        pose[std::size_t(leadKnee)].x += 58 * kDeg * leadLift;
        pose[std::size_t(trailHip)].x -= 28 * kDeg * trailLift;
        pose[std::size_t(trailKnee)].x += 58 * kDeg * trailLift;
        // Arms lift a little out to the sides for balance.
        pose[LShoulder].z += 10 * kDeg * (leadLift + trailLift);
        pose[RShoulder].z += 10 * kDeg * (leadLift + trailLift);
        if (t >= p.repetitions * stepFrames)
            pose = stand;
        setPose(track, t, pose);
    }
    addIdle(track, var, 0.5f);
    return track;
}

// Small steps in place while the heading turns: used by turn. Each step lifts one foot; the
// heading changes mostly while one foot is up, so the planted foot pivots instead of sliding.
PoseTrack stepTurnTrack(float angleRad, int steps, float stepS, Side firstFoot, Variation &var)
{
    using namespace joint;
    const int stepFrames = var.frames(stepS);
    const int settle = var.frames(0.25f);
    const int total = steps * stepFrames + settle;
    PoseTrack track(total);
    const Pose stand = standingPose();
    float heading = 0.0f;
    std::vector<float> rate(std::size_t(total), 0.0f);
    float rateSum = 0.0f;
    for (int t = 0; t < total; ++t) {
        Pose pose = stand;
        const int step = t / stepFrames;
        if (step < steps) {
            const float u = float(t - step * stepFrames) / float(stepFrames);
            const Side foot = (step % 2 == 0) ? firstFoot : otherSide(firstFoot);
            const float lift = bump(u, 0.05f, 0.45f, 0.9f);
            pose[std::size_t(sideJoint(LHip, foot))].x -= 30 * kDeg * lift;
            pose[std::size_t(sideJoint(LKnee, foot))].x += 60 * kDeg * lift;
            pose[std::size_t(sideJoint(LAnkle, foot))].x += 10 * kDeg * lift;
            rate[std::size_t(t)] = 0.1f + lift;
            rateSum += rate[std::size_t(t)];
        }
        setPose(track, t, pose);
    }
    for (int t = 0; t < total; ++t) {
        heading += angleRad * rate[std::size_t(t)] / std::max(rateSum, 1e-6f);
        track.heading[std::size_t(t)] = heading;
    }
    addIdle(track, var, 0.5f);
    return track;
}

// A spin on one foot: the other leg tucks up, the arms come in, the heading sweeps.
PoseTrack spinTrack(const ActionParams &p, Variation &var)
{
    using namespace joint;
    const float angle = sideSign(p.side) * float(p.angleDeg) * kDeg;
    const int prep = var.frames(0.35f);
    const int spin = var.frames(1.1f * speedFactor(p.speed) * float(p.angleDeg) / 360.0f);
    const int recover = var.frames(0.4f);
    const int total = prep + spin + recover;
    PoseTrack track(total);
    Pose stand = standingPose();
    Pose tuck = stand;
    // Spinning left, the body pivots on the left foot and lifts the right.
    const Side free = otherSide(p.side);
    tuck[std::size_t(sideJoint(LHip, free))] = {-35 * kDeg, 0, 6 * kDeg};
    tuck[std::size_t(sideJoint(LKnee, free))] = {75 * kDeg, 0, 0};
    tuck[std::size_t(sideJoint(LAnkle, free))] = {20 * kDeg, 0, 0};
    tuck[LShoulder] = tuck[RShoulder] = {0.0f, -50 * kDeg, -55 * kDeg};
    tuck[LElbow] = tuck[RElbow] = {0.0f, -95 * kDeg, 0.0f};
    tuck[std::size_t(sideJoint(LAnkle, p.side))].x = 18 * kDeg; // up on the ball of the foot
    blendSpan(track, 0, prep, stand, tuck);
    for (int t = prep; t < prep + spin; ++t)
        setPose(track, t, tuck);
    blendSpan(track, prep + spin, total, tuck, stand);
    for (int t = 0; t < total; ++t)
        track.heading[std::size_t(t)] =
            angle * ramp(float(t), float(prep) * 0.6f, float(prep + spin));
    addIdle(track, var, 0.3f);
    return track;
}

} // namespace

PoseTrack locomotionTrack(const Segment &segment, Variation &var)
{
    const ActionParams &p = segment.params;
    const float amp = p.amplitude * var.amplitude;
    const float speed = speedFactor(p.speed);
    switch (segment.action) {
    case Action::Walk: {
        // Faster walking takes longer steps as well as quicker ones.
        const GaitStyle style{.hipScale = std::clamp(amp * (1.35f - 0.35f * speed), 0.6f, 1.3f),
                              .kneeScale = 1.0f,
                              .armSwing = 0.6f};
        const float heading = p.side == Side::None ? 0.0f : sideSign(p.side) * p.angleDeg * kDeg;
        return gaitTrack(style, kWalkCycleS * speed, p.repetitions, 1.0f, heading, var);
    }
    case Action::Jog:
    case Action::Run: {
        const bool run = segment.action == Action::Run;
        const GaitStyle style{.hipScale = std::clamp((run ? 1.0f : 0.72f) * amp, 0.55f, 1.25f),
                              .kneeScale = run ? 1.0f : 0.85f,
                              .armSwing = 0.8f,
                              .elbowFlex = 80 * kDeg,
                              .lean = (run ? 10 : 6) * kDeg,
                              .running = true};
        const float cycle = (run ? kRunCycleS : kJogCycleS) * std::sqrt(speed);
        return gaitTrack(style, cycle, p.repetitions, 1.0f, 0.0f, var);
    }
    case Action::WalkBackward: {
        const GaitStyle style{.hipScale = std::clamp(0.65f * amp, 0.5f, 0.9f),
                              .kneeScale = 1.3f,
                              .armSwing = 0.4f,
                              .lean = 2 * kDeg,
                              .backward = true};
        return gaitTrack(style, kWalkCycleS * 1.1f * speed, p.repetitions, 1.0f, 0.0f, var);
    }
    case Action::WalkCircle: {
        const GaitStyle style{
            .hipScale = std::clamp(0.85f * amp, 0.6f, 1.1f), .kneeScale = 1.15f, .armSwing = 0.55f};
        // About eight steps per full circle at this stride: a circle of roughly 2 m across.
        const int steps = std::max(4, p.angleDeg / 45);
        return gaitTrack(style, kWalkCycleS * speed, steps, 1.0f,
                         sideSign(p.side) * float(p.angleDeg) * kDeg, var);
    }
    case Action::Sidestep:
        return sidestepTrack(p, var);
    case Action::Turn: {
        const int steps = p.angleDeg >= 150 ? 4 : 2;
        return stepTurnTrack(sideSign(p.side) * float(p.angleDeg) * kDeg, steps, 0.55f * speed,
                             p.side, var);
    }
    case Action::Spin:
        return spinTrack(p, var);
    default:
        throw std::runtime_error("locomotionTrack: not a locomotion action");
    }
}

} // namespace mp::corpus::detail
