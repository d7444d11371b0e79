#pragma once
// SMPL-22 joint positions (T, 22, 3) to a BVH motion for Blender, Maya, MotionBuilder, Unity and
// Unreal: joint rotations by inverse kinematics (smpl_ik.h) on a rest skeleton with the clip's
// own bone lengths, so that the file read back gives the input positions; 6 channels on the
// root and 3 rotations elsewhere, in degrees, unwrapped frame to frame, in a per-joint order that
// keeps gimbal lock on rare poses (root "Yrotation Xrotation Zrotation" so any heading turns
// freely; elsewhere the bone's own axis in the middle); End Sites a few centimetres along the
// last bone of the head, hands and feet.

#include <filesystem>

namespace mp {

struct BvhMotion;
struct MotionClip;

enum class LengthUnit {
    Metres,      // as HumanML3D; Blender imports it at scale 1
    Centimetres, // what retargeting tools and most mocap libraries expect
};

struct BvhExportOptions {
    LengthUnit units = LengthUnit::Metres;
    double fps = 0.0; // Frame Time = 1 / fps; 0 = the clip's own fps (no resampling either way)
};

// InputError when the clip is not 22 joints, holds NaN, or has no usable frame rate.
BvhMotion jointsToBvh(const MotionClip &clip, const BvhExportOptions &options = {});
// jointsToBvh + formatBvh + an atomic write.
void writeJointsAsBvh(const std::filesystem::path &path, const MotionClip &clip,
                      const BvhExportOptions &options = {});

} // namespace mp
