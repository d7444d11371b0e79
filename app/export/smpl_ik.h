#pragma once
// Inverse kinematics from SMPL-22 joint positions (HumanML3D's (T, 22, 3)) to local joint
// rotations on a rest skeleton built from the clip itself, such that forward kinematics gives the
// positions back (exactly when the bone lengths are constant, as in any FK-generated motion).
//
// The choices that keep it stable where per-bone "between" IK breaks (a figure facing away or
// sideways, momask #76):
//  - the pelvis frame is built from the hip line and the spine direction, the chest frame from
//    the collar line and the neck direction, so the body's heading is never guessed from a
//    single bone;
//  - every other bone turns by the shortest arc from its rest direction to its target, in its
//    parent's frame: no twist relative to the parent, decided per frame (nothing drifts); near
//    a half turn, where the shortest arc is ill-defined, the previous frame's axis decides;
//  - the chest's twist relative to the pelvis is shared by spine1, spine2 and spine3;
//  - end joints (head, wrists, feet) keep their parent's orientation.
// Rest offsets: the SMPL-22 directions with the clip's mean bone lengths; for the children of
// the pelvis and of the chest (three each, a rigid triangle) the clip's mean layout in that
// frame, so the round trip stays exact for any body proportions.

#include "app/export/mat3.h"

#include <vector>

namespace mp {

struct MotionClip;

struct SmplIkResult {
    int numFrames = 0;
    std::vector<Vec3> offsets;        // per joint (SMPL-22 order), in the parent's frame, metres
    std::vector<Vec3> rootPositions;  // per frame, metres
    std::vector<Mat3> localRotations; // numFrames * 22, joint-major within a frame

    const Mat3 &local(int frame, int joint) const
    {
        return localRotations[static_cast<std::size_t>(frame) * 22 + joint];
    }
};

// InputError when the clip is not 22 joints or holds a non-finite value.
SmplIkResult solveSmplIk(const MotionClip &clip);

// Forward kinematics of an IK result: numFrames * 22 global positions (metres), for checks.
std::vector<Vec3> smplIkPositions(const SmplIkResult &result);

} // namespace mp
