#pragma once
// A joint hierarchy with rest bone offsets, and forward kinematics over whole clips.
// Convention (as in BVH): joint j's local rotation is relative to its parent's frame and turns the
// bones of j's children; pos[j] = pos[parent] + G[parent] * offset[j], G[j] = G[parent] * L[j].

#include "ml/motion/motion_clip.h"

#include <ATen/core/Tensor.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace mp {

struct Skeleton {
    std::vector<std::string> jointNames;
    std::vector<int> parents;                  // -1 for the root; parents[j] < j
    std::vector<std::array<float, 3>> offsets; // rest offset from the parent, metres
    std::vector<std::vector<int>> chains;      // kinematic chains, each starting at a branch point
    std::vector<std::pair<int, int>> leftRightPairs;
    std::vector<BodySide> sides;

    int numJoints() const { return static_cast<int>(parents.size()); }
    // Index of a joint by name, or -1.
    int indexOf(const std::string &name) const;
    // The joint that mirrors each joint (itself on the centre line).
    std::vector<int> mirrorIndex() const;

    // Rest offsets as a (J, 3) tensor.
    at::Tensor offsetTensor(const at::TensorOptions &options) const;
    // Global rest positions (J, 3) with the root at the origin.
    at::Tensor restPositions(const at::TensorOptions &options) const;
    // Height of the root above the lowest joint in the rest pose: where to put the root for the
    // feet to touch the floor.
    float restRootHeightM() const;

    // A copy with every bone scaled by factor (a taller or shorter person).
    Skeleton scaled(float factor) const;
    // A copy with bone j (from parent to j) scaled by perJoint[j]; perJoint has numJoints entries.
    Skeleton scaledBones(const std::vector<float> &perJoint) const;

    // Throws std::runtime_error when the arrays disagree or parents are not topological.
    void validate() const;
};

// The 22-joint SMPL body as HumanML3D uses it: SMPL joint order, Y up, facing +Z, arms out along
// +X (left) and -X (right), an adult of about 1.7 m (SMPL neutral rest joints).
const Skeleton &smpl22();

// rootPositions (..., 3), localRotations (..., J, 4) unit quaternions (w, x, y, z); returns global
// joint positions (..., J, 3). When globalRotations is given it receives (..., J, 4).
at::Tensor forwardKinematics(const Skeleton &skeleton, const at::Tensor &rootPositions,
                             const at::Tensor &localRotations,
                             at::Tensor *globalRotations = nullptr);

// Joint positions (T, J, 3) to the torch-free clip of the viewer and exporters.
MotionClip toMotionClip(const at::Tensor &joints, const Skeleton &skeleton, double fps);

} // namespace mp
