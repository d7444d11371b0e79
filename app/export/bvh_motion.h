#pragma once
// A BVH file in memory: the joint hierarchy with its channels and the per-frame channel values,
// plus forward kinematics to global joint positions. Shared by the BVH reader and writer.
//
// Semantics (as Blender's importer and Assimp's BVH loader read them): a joint's local transform
// is T(translation) * R(ch1) * R(ch2) * R(ch3), rotations in the order the channels are listed,
// degrees, for column vectors. Position channels replace the matching OFFSET component (they hold
// the full local translation, as on a root or on the 6-channel joints of MotionBuilder exports).

#include "app/export/mat3.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mp {

struct MotionClip;

enum class BvhChannel : std::uint8_t {
    Xposition,
    Yposition,
    Zposition,
    Xrotation,
    Yrotation,
    Zrotation
};

// "Xposition", ..., "Zrotation".
const char *bvhChannelName(BvhChannel channel);

struct BvhJoint {
    std::string name;
    int parent = -1;      // index into BvhMotion::joints, -1 for a root
    Vec3 offset{0, 0, 0}; // rest position in the parent's frame, file units
    std::vector<BvhChannel> channels;
    int firstChannel = 0; // column of channels[0] on a motion line
    bool hasEndSite = false;
    Vec3 endSiteOffset{0, 0, 0};
};

struct BvhMotion {
    std::vector<BvhJoint> joints; // depth-first file order: a parent always precedes its children
    int numFrames = 0;
    double frameTimeS = 1.0 / 30.0;
    int numChannels = 0;        // values per motion line
    std::vector<double> values; // numFrames * numChannels, as in the file (degrees, file units)
    double metresPerUnit = 0.0; // 0 = unknown: BVH has no units field (see guessBvhMetresPerUnit)

    double value(int frame, int column) const
    {
        return values[static_cast<std::size_t>(frame) * numChannels + column];
    }
    int numJoints() const { return static_cast<int>(joints.size()); }
    double fps() const { return frameTimeS > 0 ? 1.0 / frameTimeS : 0.0; }
};

// Local rotation of one joint at one frame from its rotation channels (identity without them).
Mat3 bvhLocalRotation(const BvhMotion &motion, int joint, int frame);
// Local translation of one joint at one frame: OFFSET with position channels substituted.
Vec3 bvhLocalTranslation(const BvhMotion &motion, int joint, int frame);

// Global rotations and positions of every joint at one frame, by forward kinematics.
struct BvhPose {
    std::vector<Mat3> rotations;
    std::vector<Vec3> positions;
};
BvhPose bvhGlobalPose(const BvhMotion &motion, int frame);

struct BvhToClipOptions {
    // Multiplies file units into metres; 0 = the motion's metresPerUnit when known, else a guess
    // from the rest skeleton's size (taller than 3 units: centimetres, than 300: millimetres).
    double metresPerUnit = 0.0;
    bool includeEndSites = false; // End Sites become extra joints named "<parent>_end"
};

// The scale guessed by metresPerUnit = 0: 1, 0.01 or 0.001.
double guessBvhMetresPerUnit(const BvhMotion &motion);

// Per-frame global joint positions in metres as a MotionClip (fps from Frame Time, body sides
// guessed from joint names such as "LeftArm", "l_hip", "RShoulder").
MotionClip bvhToMotionClip(const BvhMotion &motion, const BvhToClipOptions &options = {});

} // namespace mp
