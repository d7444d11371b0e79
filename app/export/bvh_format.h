#pragma once
// Serialises a BvhMotion as BVH text the way strict importers (Blender, Assimp, Python parsers)
// want it: '{', OFFSET and CHANNELS each on their own line, "Frames: N" and "Frame Time: dt",
// '.' decimals whatever the locale (std::to_chars), no NaN, one motion line per frame.

#include <filesystem>
#include <string>

#include "app/export/mat3.h"

namespace mp {

struct BvhMotion;

struct BvhFormatOptions {
    int decimals = 6; // digits after the point for offsets and channel values
};

std::string formatBvh(const BvhMotion &motion, const BvhFormatOptions &options = {});
// formatBvh + an atomic write; InputError naming the path on failure.
void writeBvhFile(const std::filesystem::path &path, const BvhMotion &motion,
                  const BvhFormatOptions &options = {});

// Euler angles (radians) for R = R(order[0], a) * R(order[1], b) * R(order[2], c) (axes 0 = X,
// 1 = Y, 2 = Z, all three different), returned as {a, b, c}: of the two solutions and their
// 2*pi shifts the one nearest to previous, so curves stay continuous frame to frame; at gimbal
// lock (b = +-90 degrees) a keeps its previous value.
Vec3 eulerNear(const Mat3 &rotation, const std::array<int, 3> &order, const Vec3 &previous);

} // namespace mp
