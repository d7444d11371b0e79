#pragma once
// Shared by the actions_*.cpp files only: per-clip variation and small pose helpers.

#include "ml/data/corpus/actions.h"
#include "ml/data/corpus/rng.h"

#include <cmath>

namespace mp::corpus::detail {

// Natural variation of one performance: tempo, amplitude and phase noise, and a slow idle sway.
struct Variation {
    ClipRng &rng;
    float tempo = 1.0f;     // > 1 is slower (durations are multiplied by it)
    float amplitude = 1.0f; // multiplies the action's own amplitude parameter
    float phase = 0.0f;     // random phase for the idle sway
    float swayHz = 0.25f;

    explicit Variation(ClipRng &r);
    int frames(float seconds) const
    {
        return std::max(2, static_cast<int>(std::lround(seconds * tempo * kFps)));
    }
};

// Seconds multiplier of a speed parameter.
float speedFactor(Speed speed); // slow 1.35, normal 1, fast 0.75
// +1 for Left, -1 for Right: the sign of yaw (turning left is +yaw about +Y) and of
// side-directed central angles.
float sideSign(Side side);
Side otherSide(Side side);

// Adds a slow breathing/weight-shift sway to the spine, neck and arms (a person never stands
// perfectly still). scale 0 turns it off.
void addIdle(PoseTrack &track, const Variation &var, float scale = 1.0f);

// Fills frames [from, to) of track with a blend from pose a to pose b (smoothstep in time).
void blendSpan(PoseTrack &track, int from, int to, const Pose &a, const Pose &b);

// A track that moves from start through each key pose in turn, `seconds` (times the tempo) to
// reach each; a key equal to the previous one holds.
struct Key {
    Pose pose;
    float seconds;
};
PoseTrack keyTrack(const Pose &start, const std::vector<Key> &keys, const Variation &var);

// The walking/running cycle (phase of the left leg in [0,1)).
struct GaitStyle {
    float hipScale = 1.0f;
    float kneeScale = 1.0f;
    float armSwing = 1.0f; // radians of arm swing per radian of hip swing
    float elbowFlex = 20 * kDeg;
    float lean = 3 * kDeg;
    bool running = false;
    bool backward = false; // hips swing the other way: the body travels backwards
};
void gaitPose(Pose &pose, float phase, const GaitStyle &style, float weight);

// Per-action generators, one per family file.
PoseTrack locomotionTrack(const Segment &segment, Variation &var);
PoseTrack jumpTrack(const Segment &segment, Variation &var);
PoseTrack lowerBodyTrack(const Segment &segment, Variation &var);
PoseTrack upperBodyTrack(const Segment &segment, Variation &var);

} // namespace mp::corpus::detail
