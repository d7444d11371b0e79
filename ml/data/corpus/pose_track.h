#pragma once
// An action's motion before kinematics: per frame, the local rotation of each SMPL-22 joint as
// three angles, the heading of the body, and the flight phases of jumps. The root's translation
// is not here: the root solver (root_solver.h) derives it from the planted feet.
//
// Angles are relative to the SMPL rest pose (T-pose: facing +Z, left arm along +X, Y up) and
// compose as R = Ry(y) * Rz(z) * Rx(x) in the parent's frame. They are written in the LEFT
// side's convention; a right-side joint stores the mirror image (x, -y, -z), so one description
// of "raise the arm" serves both sides. For the left side:
//   hip: x < 0 flexes (thigh forward), z > 0 abducts;  knee: x > 0 flexes;
//   ankle: x > 0 points the toes down;  spine, neck: x > 0 bends forward, z sideways, y twists;
//   shoulder: z = elevation (-pi/2 arm down, 0 horizontal, +pi/2 up), y < 0 swings the arm
//   forward, x twists it;  elbow: y < 0 flexes.

#include "ml/data/corpus/action.h"

#include <array>
#include <cstdint>
#include <vector>

namespace mp::corpus {

inline constexpr int kNumJoints = 22;

// SMPL joint order, as HumanML3D stores it.
namespace joint {
enum : int {
    Pelvis = 0,
    LHip = 1,
    RHip = 2,
    Spine1 = 3,
    LKnee = 4,
    RKnee = 5,
    Spine2 = 6,
    LAnkle = 7,
    RAnkle = 8,
    Spine3 = 9,
    LFoot = 10,
    RFoot = 11,
    Neck = 12,
    LCollar = 13,
    RCollar = 14,
    Head = 15,
    LShoulder = 16,
    RShoulder = 17,
    LElbow = 18,
    RElbow = 19,
    LWrist = 20,
    RWrist = 21,
};
} // namespace joint

struct Euler {
    float x = 0, y = 0, z = 0;
};

// Per-joint range of each angle in the left-side convention, radians.
struct JointLimit {
    Euler lo;
    Euler hi;
};
const std::array<JointLimit, kNumJoints> &jointLimits();
// True for joints on the right side (stored mirrored).
bool isRightJoint(int j);
// The left-side joint of a limb for side Left, the right one for Right (e.g. LHip -> RHip).
int sideJoint(int leftJoint, Side side);

struct PoseTrack {
    int numFrames = 0;
    std::vector<Euler> angles;          // numFrames * kNumJoints, left-side convention
    std::vector<float> heading;         // yaw about +Y per frame, radians, from the track start
    std::vector<float> lift;            // height above the take-off/landing line while airborne
    std::vector<std::uint8_t> airborne; // 1 = no foot touches the floor this frame
    std::vector<float> driftZ;          // forward travel per airborne frame (heading frame), m
    std::vector<std::uint8_t> momentum; // 1 = an airborne frame keeps the take-off velocity (runs)

    explicit PoseTrack(int frames = 0);
    Euler &at(int frame, int joint) { return angles[std::size_t(frame) * kNumJoints + joint]; }
    const Euler &at(int frame, int joint) const
    {
        return angles[std::size_t(frame) * kNumJoints + joint];
    }
    // Keeps the first frames (or pads with copies of the last frame).
    void resize(int frames);
    // Appends other's frames; its heading continues from this track's last heading.
    void append(const PoseTrack &other);
};

// Clamps every angle of every frame to jointLimits(). Returns how many values it changed.
int clampToLimits(PoseTrack &track);

// Base postures, one frame's 22 angles.
using Pose = std::array<Euler, kNumJoints>;
Pose standingPose();
Pose seatedPose();
Pose kneelingPose(Side downKnee);

void setPose(PoseTrack &track, int frame, const Pose &pose);
Pose poseAt(const PoseTrack &track, int frame);
// a + (b - a) * w per angle.
Pose mixPoses(const Pose &a, const Pose &b, float w);

// Small helpers for building curves.
float smoothstep(float x);                               // 0..1 -> 0..1, flat ends
float ramp(float t, float start, float end);             // smoothstep of (t-start)/(end-start)
float bump(float t, float start, float peak, float end); // 0 -> 1 at peak -> 0, smooth
// A periodic curve through (phase, value) keys (phases in [0,1), ascending), cubic (Catmull-Rom).
float periodicCurve(const std::vector<std::array<float, 2>> &keys, float phase);

inline constexpr float kDeg = 0.017453292519943295f; // degrees to radians

} // namespace mp::corpus
