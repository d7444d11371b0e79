#pragma once
// From a composed clip to joint positions: the body's skeleton (bone lengths from the clip's
// BodyShape), joint angles to local quaternions (transitions slerped), forward kinematics on the
// SMPL-22 skeleton, and the root solver that keeps planted feet still and the lowest foot on
// the floor.

#include <ATen/core/Tensor.h>

namespace mp {
struct Skeleton;
}

namespace mp::corpus {

struct BodyShape;
struct ComposedClip;

// SMPL-22 with the clip's proportions (bone offsets scaled, so bone lengths stay constant).
Skeleton bodySkeleton(const BodyShape &body);

// (T, 22, 4) local rotations (w, x, y, z); the root's includes the heading. Transition frames
// are a slerp between the frames on either side.
at::Tensor localRotations(const ComposedClip &clip);

// Spherical interpolation of unit quaternions a, b (..., 4) with weight w (...).
at::Tensor slerp(const at::Tensor &a, const at::Tensor &b, const at::Tensor &w);

struct SolveOptions {
    float contactSoftnessM = 0.012f; // how fast a higher foot loses its share of the pinning
};

// Global joint positions (T, 22, 3), metres, Y up, float32: root translation solved so that the
// lowest foot point stays fixed on the floor while grounded and follows a ballistic arc while
// airborne; the body starts at x = z = 0 facing +Z.
at::Tensor solveJoints(const ComposedClip &clip, const Skeleton &skeleton,
                       const SolveOptions &options = {});

} // namespace mp::corpus
