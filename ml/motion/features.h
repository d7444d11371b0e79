#pragma once
// HumanML3D's 263-d motion features (Guo et al. 2022, motion_representation.ipynb), both ways:
//   [0]        root yaw velocity, asin(q_y) of the per-frame root rotation: half the yaw change
//   [1:3]      root xz velocity in the facing frame
//   [3]        root height
//   [4:67]     21 joints relative to the root in xz, facing +Z ("ric")
//   [67:193]   21 local joint rotations, continuous 6D
//   [193:259]  22 joint velocities in the facing frame
//   [259:263]  foot contacts (left ankle, left foot, right ankle, right foot)
// A clip of T joint frames gives T - 1 feature frames; recovering them gives T - 1 joint frames.
// Joints are SMPL-22 (see smpl22()), metres, Y up, 20 fps.

#include <ATen/core/Tensor.h>

#include <array>

namespace mp {

constexpr int kFeatureDim = 263;
constexpr int kNumJoints = 22;
// Feature layout offsets, for slicing.
constexpr int kFeatRootYawVel = 0, kFeatRootVelXz = 1, kFeatRootHeight = 3, kFeatRic = 4,
              kFeatRot6d = 67, kFeatLocalVel = 193, kFeatFootContact = 259;
// HumanML3D's face_joint_indx: right hip, left hip, right shoulder, left shoulder.
constexpr std::array<int, 4> kFaceJoints = {2, 1, 17, 16};
constexpr std::array<int, 2> kLeftFootJoints = {7, 10};  // ankle, foot (fid_l)
constexpr std::array<int, 2> kRightFootJoints = {8, 11}; // ankle, foot (fid_r)

struct FeatureOptions {
    // Squared per-frame displacement (m^2) below which a foot joint is in contact (HumanML3D).
    double footContactThreshold = 0.002;
    // Smooth the facing direction over time (Gaussian, sigma 20 frames) before taking the root
    // rotation, as HumanML3D does for its stored features.
    bool smoothForward = true;
    // HumanML3D's inverse kinematics takes the facing from (left hip - right hip) +
    // (right shoulder - left shoulder), unlike its own preprocessing step; keeping it makes the
    // features match the published data. false uses the preprocessing's facing throughout.
    bool humanMl3dIkFacing = true;
    // Put on the floor, move the first root to xz 0 and turn frame 0 to face +Z first.
    bool canonicalize = true;
};

// HumanML3D's preprocessing of joints (T, 22, 3): lowest joint of the clip at y = 0, root of
// frame 0 at x = z = 0, frame 0 facing +Z (from hips and shoulders).
at::Tensor canonicalizeJoints(const at::Tensor &joints);

// Joints (T, 22, 3), T >= 2 -> features (T - 1, 263), in the joints' dtype. Throws InputError
// for a wrong shape or non-finite values.
at::Tensor extractFeatures(const at::Tensor &joints, const FeatureOptions &options = {});

// recover_from_ric: features (..., T, 263) -> joints (..., T, 22, 3). Only the root channels and
// the ric positions are used; the rotations, velocities and contacts are redundant.
at::Tensor recoverFromRic(const at::Tensor &features);

// The root rotation (..., T, 4) that recoverFromRic integrates: q_t = (cos a, 0, sin a, 0) with
// a the exclusive cumulative sum of feature 0.
at::Tensor recoverRootRotation(const at::Tensor &features);

} // namespace mp
