#pragma once
// A motion read from a HumanML3D-style .npy (features (T,263) or joints (T,22,3), told apart by
// shape) with both representations at hand, and the summary `motion info` prints. Writing and
// the other formats (.bvh, .fbx) are app/export/motion_io's.

#include "ml/motion/motion_checks.h"
#include "ml/motion/quality.h"

#include <ATen/core/Tensor.h>

#include <array>
#include <filesystem>
#include <string>

namespace mp {

struct MotionData {
    at::Tensor joints;   // (T, J, 3) float32, metres, Y up: always set (J = 22 for SMPL-22)
    at::Tensor features; // (T, 263) float32 when the source was features, else undefined
    MotionKind source = MotionKind::Joints;
    double fps = 20.0;
};

// Features are recovered to joints (recoverFromRic). InputError naming the file for a bad shape,
// NaN/Inf, or a bad .npy.
MotionData readMotionNpy(const std::filesystem::path &path, double fps = 20.0);
// From a tensor in memory (name is used in error messages).
MotionData motionFromTensor(const at::Tensor &tensor, const std::string &name, double fps = 20.0);

struct MotionSummary {
    int64_t numFrames = 0;
    int64_t numJoints = 0;
    double fps = 20.0;
    double durationS = 0.0;
    std::array<double, 3> boundsMinM{};
    std::array<double, 3> boundsMaxM{};
    double rootPathLengthM = 0.0; // horizontal distance travelled by joint 0
    double heightM = 0.0;         // largest vertical extent of the body in any frame
    bool hasQuality = false;      // SMPL-22 with at least 2 frames: quality is set
    MotionQuality quality;
};

// joints (T, J, 3); foot skating and the other quality measures need SMPL-22.
MotionSummary summarizeMotion(const MotionData &motion);

} // namespace mp
