#pragma once
// Reads BVH motion capture files of any skeleton: CMU, MotionBuilder, 3ds Max, rigs with 100 or
// more joints, 6 channels on every joint, any rotation order per joint, position channels on any
// joint. Tolerant of tabs, CRLF line ends and blank lines. Every problem is an InputError naming
// the file and the line ("walk.bvh:212: expected 69 values, found 68"). A file claiming more than
// 10,000 joints, joints nested deeper than 256 levels, or more frames than its text holds is
// refused or read without allocating for the claim.

#include <filesystem>
#include <string>
#include <string_view>

namespace mp {

struct BvhMotion;
struct MotionClip;
struct BvhToClipOptions;

// Parses BVH text; sourceName names it in error messages.
BvhMotion parseBvh(std::string_view text, const std::string &sourceName);
BvhMotion readBvh(const std::filesystem::path &path);

// readBvh + bvhToMotionClip: global joint positions in metres, by forward kinematics.
MotionClip readBvhClip(const std::filesystem::path &path);
MotionClip readBvhClip(const std::filesystem::path &path, const BvhToClipOptions &options);

} // namespace mp
