#include "app/export/bvh_writer.h"

#include "app/export/bvh_format.h"
#include "app/export/bvh_motion.h"
#include "app/export/smpl_ik.h"
#include "ml/core/error.h"
#include "ml/motion/motion_clip.h"
#include "ml/motion/skeleton.h"

#include <cmath>
#include <numbers>

namespace mp {

namespace {

constexpr double kDegreesPerRadian = 180.0 / std::numbers::pi;

// End Site length (metres) past each end joint: a short stub instead of a zero-length bone,
// which importers warn about. Head top, fingertips and toes are roughly this far.
double endSiteLengthM(const std::string &name)
{
    if (name == "head")
        return 0.10;
    if (name.ends_with("wrist"))
        return 0.08;
    return 0.05;
}

// Rotation order of a joint, chosen so that gimbal lock (middle angle at 90 degrees) falls on
// a rare pose: the root turns about Y first (any heading, facing away included, stays
// continuous); elsewhere the middle axis is the one along the joint's bone, which twists little.
std::array<int, 3> rotationOrder(int joint, const std::vector<std::vector<int>> &children,
                                 const std::vector<Vec3> &offsets)
{
    if (joint == 0)
        return {1, 0, 2}; // Y X Z
    if (children[joint].size() != 1)
        return {2, 1, 0}; // Z Y X: end joints (identity) and the chest
    const Vec3 &bone = offsets[children[joint].front()];
    int along = 0;
    for (int k = 1; k < 3; ++k)
        if (std::abs(bone[k]) > std::abs(bone[along]))
            along = k;
    switch (along) {
    case 0:
        return {2, 0, 1}; // arms: Z X Y
    case 1:
        return {2, 1, 0}; // legs, spine, neck: Z Y X
    default:
        return {1, 2, 0}; // feet: Y Z X
    }
}

BvhChannel rotationChannel(int axis)
{
    return static_cast<BvhChannel>(static_cast<int>(BvhChannel::Xrotation) + axis);
}

void appendDepthFirst(int joint, const std::vector<std::vector<int>> &children,
                      std::vector<int> &order)
{
    order.push_back(joint);
    for (const int child : children[joint])
        appendDepthFirst(child, children, order);
}

} // namespace

BvhMotion jointsToBvh(const MotionClip &clip, const BvhExportOptions &options)
{
    const double fps = options.fps > 0 ? options.fps : clip.fps;
    if (!(fps > 0) || !std::isfinite(fps))
        throw InputError("BVH export: the frame rate must be positive, got " + std::to_string(fps));
    const SmplIkResult ik = solveSmplIk(clip);
    const double scale = options.units == LengthUnit::Centimetres ? 100.0 : 1.0;
    const Skeleton &skeleton = smpl22();
    const int n = skeleton.numJoints();

    std::vector<std::vector<int>> children(n);
    for (int j = 1; j < n; ++j)
        children[skeleton.parents[j]].push_back(j);
    std::vector<int> order; // BVH joint index -> SMPL joint index, depth first
    appendDepthFirst(0, children, order);
    std::vector<int> bvhIndex(n);
    for (int i = 0; i < n; ++i)
        bvhIndex[order[i]] = i;

    std::vector<std::array<int, 3>> orders(n); // per BVH joint
    BvhMotion motion;
    motion.numFrames = ik.numFrames;
    motion.frameTimeS = 1.0 / fps;
    motion.metresPerUnit = 1.0 / scale;
    for (int i = 0; i < n; ++i) {
        const int j = order[i];
        BvhJoint joint;
        joint.name = skeleton.jointNames[j];
        joint.parent = skeleton.parents[j] < 0 ? -1 : bvhIndex[skeleton.parents[j]];
        joint.firstChannel = motion.numChannels;
        if (j == 0) {
            joint.offset = ik.numFrames > 0 ? scale * ik.rootPositions[0] : Vec3{0, 0, 0};
            joint.channels = {BvhChannel::Xposition, BvhChannel::Yposition, BvhChannel::Zposition};
        } else {
            joint.offset = scale * ik.offsets[j];
        }
        orders[i] = rotationOrder(j, children, ik.offsets);
        for (const int axis : orders[i])
            joint.channels.push_back(rotationChannel(axis));
        if (children[j].empty()) {
            // End joints keep their parent's orientation, so the stub continues the bone.
            const double length = norm(ik.offsets[j]);
            const Vec3 direction = length > 0 ? (1.0 / length) * ik.offsets[j] : Vec3{0, 1, 0};
            joint.hasEndSite = true;
            joint.endSiteOffset = (scale * endSiteLengthM(joint.name)) * direction;
        }
        motion.numChannels += static_cast<int>(joint.channels.size());
        motion.joints.push_back(std::move(joint));
    }

    motion.values.resize(static_cast<std::size_t>(motion.numFrames) * motion.numChannels);
    std::vector<Vec3> previous(n, Vec3{0, 0, 0}); // radians, in channel order, per BVH joint
    for (int f = 0; f < motion.numFrames; ++f) {
        double *line = motion.values.data() + static_cast<std::size_t>(f) * motion.numChannels;
        for (int i = 0; i < n; ++i) {
            const int j = order[i];
            if (j == 0)
                for (int k = 0; k < 3; ++k)
                    *line++ = scale * ik.rootPositions[f][k];
            previous[i] = eulerNear(ik.local(f, j), orders[i], previous[i]);
            for (int k = 0; k < 3; ++k)
                *line++ = previous[i][k] * kDegreesPerRadian;
        }
    }
    return motion;
}

void writeJointsAsBvh(const std::filesystem::path &path, const MotionClip &clip,
                      const BvhExportOptions &options)
{
    BvhMotion motion;
    try {
        motion = jointsToBvh(clip, options);
    } catch (...) {
        rethrowWithContext(path.string());
    }
    writeBvhFile(path, motion);
}

} // namespace mp
