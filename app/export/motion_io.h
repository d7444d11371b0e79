#pragma once
// Motion files by extension, for the CLI's `motion convert`, the GUI's Export panel and the
// viewer's open dialog:
//   .npy   HumanML3D joints (T, 22, 3) (also (T, 66)) or 263-d features (T, 263); any other
//          skeleton's joints (T, J, 3) when written from a BVH
//   .bvh   any skeleton in; SMPL-22 out through IK, or an imported BVH written back as it is
//   .fbx   binary FBX out (Blender, Maya, Unity, Unreal); .fbxa the ASCII variant
// FBX is write-only: Assimp 5.2 loses the animation of its own binary files on import.

#include "app/export/bvh_motion.h"
#include "app/export/bvh_writer.h"
#include "ml/motion/motion_clip.h"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace mp {

enum class MotionFormat { Npy, Bvh, Fbx, FbxAscii };

struct MotionFormatInfo {
    MotionFormat format;
    std::string_view suffix; // the extension, lower case, without the dot
    std::string_view label;  // what the Export panel offers
    std::string_view help;   // the CLI's one line about it
    bool readable;           // readMotion takes it (FBX is write-only, see above)
};
// Every motion format, in the order the Export panel offers them: the one table that
// motionFormatOf, the CLI's help and the Export panel read.
inline constexpr MotionFormatInfo kMotionFormats[] = {
    {MotionFormat::Bvh, "bvh", "BVH (Blender, MotionBuilder, retargeting)",
     "any skeleton in; SMPL-22 joints out by inverse kinematics", true},
    {MotionFormat::Fbx, "fbx", "FBX binary (Blender, Maya, Unity, Unreal)",
     "binary FBX out (Blender, Maya, Unity, Unreal)", false},
    {MotionFormat::FbxAscii, "fbxa", "FBX ASCII", "ASCII FBX out", false},
    {MotionFormat::Npy, "npy", "NumPy .npy (HumanML3D joints or features)",
     "joints (T, 22, 3) or HumanML3D features (T, 263), in and out", true},
};

// From the extension (case-insensitive); InputError naming the path for anything else.
MotionFormat motionFormatOf(const std::filesystem::path &path);
// "  .bvh   any skeleton in; ...\n" for each format: the CLI's help lines.
std::string motionFormatsHelp();

enum class NpyContent {
    Joints,   // (T, J, 3) global positions, metres
    Features, // HumanML3D (T - 1, 263), SMPL-22 only
};

struct LoadedMotion {
    MotionClip clip;              // global joint positions, metres
    std::optional<BvhMotion> bvh; // the file's own hierarchy and channels when read from BVH
    bool isSmpl22 = false;        // clip is in SMPL-22 joint order (IK, features possible)
};

struct MotionReadOptions {
    double fps = 0.0; // frame rate of .npy input (which has none); 0 = HumanML3D's 20
};

// InputError naming the file for unreadable files, wrong shapes and NaN.
LoadedMotion readMotion(const std::filesystem::path &path, const MotionReadOptions &options = {});

struct MotionWriteOptions {
    LengthUnit units = LengthUnit::Metres; // BVH and FBX; .npy is always metres
    double fps = 0.0;                      // relabel the frame rate (no resampling); 0 = keep
    NpyContent npyContent = NpyContent::Joints;
};

void writeMotion(const std::filesystem::path &path, const LoadedMotion &motion,
                 const MotionWriteOptions &options = {});

// A clip with the 22 SMPL joint names (any order, extra joints ignored) in SMPL-22 order, or
// nullopt when some are missing: lets a BVH written by this app go back to features.
std::optional<MotionClip> asSmpl22(const MotionClip &clip);

struct ConvertOptions {
    MotionReadOptions read;
    MotionWriteOptions write;
};

// readMotion + writeMotion; returns the written clip's summary, e.g.
// "out.bvh: 120 frames, 22 joints, 20 fps".
std::string convertMotion(const std::filesystem::path &input, const std::filesystem::path &output,
                          const ConvertOptions &options = {});

} // namespace mp
