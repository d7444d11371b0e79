#include "app/export/bvh_motion.h"

#include "ml/motion/motion_clip.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <numbers>

namespace mp {

namespace {

constexpr double kRadiansPerDegree = std::numbers::pi / 180.0;

std::string lowered(const std::string &text)
{
    std::string out = text;
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// Left/right from the naming schemes of CMU, MotionBuilder, 3ds Max biped, Mixamo and SMPL.
BodySide sideFromName(const std::string &name)
{
    std::string base = name;
    if (const auto colon = base.rfind(':'); colon != std::string::npos)
        base = base.substr(colon + 1); // "mixamorig:LeftArm"
    const std::string low = lowered(base);
    if (low.find("left") != std::string::npos)
        return BodySide::Left;
    if (low.find("right") != std::string::npos)
        return BodySide::Right;
    for (const char *tag : {" l ", "_l_", ".l", "_l"}) {
        const std::string t(tag);
        if (low.size() >= t.size() && low.compare(low.size() - t.size(), t.size(), t) == 0)
            return BodySide::Left;
    }
    for (const char *tag : {" r ", "_r_", ".r", "_r"}) {
        const std::string t(tag);
        if (low.size() >= t.size() && low.compare(low.size() - t.size(), t.size(), t) == 0)
            return BodySide::Right;
    }
    // Prefixes: "l_hip", "L_Knee", "lShldr", "LHipJoint", "Bip01 L Thigh".
    if (base.size() >= 2) {
        const char first = base[0], second = base[1];
        const bool prefixBreak = second == '_' || std::isupper(static_cast<unsigned char>(second));
        if ((first == 'l' || first == 'L') && prefixBreak)
            return BodySide::Left;
        if ((first == 'r' || first == 'R') && prefixBreak)
            return BodySide::Right;
    }
    if (low.find(" l ") != std::string::npos)
        return BodySide::Left;
    if (low.find(" r ") != std::string::npos)
        return BodySide::Right;
    return BodySide::Center;
}

} // namespace

const char *bvhChannelName(BvhChannel channel)
{
    switch (channel) {
    case BvhChannel::Xposition:
        return "Xposition";
    case BvhChannel::Yposition:
        return "Yposition";
    case BvhChannel::Zposition:
        return "Zposition";
    case BvhChannel::Xrotation:
        return "Xrotation";
    case BvhChannel::Yrotation:
        return "Yrotation";
    case BvhChannel::Zrotation:
        return "Zrotation";
    }
    return "?";
}

Mat3 bvhLocalRotation(const BvhMotion &motion, int joint, int frame)
{
    const BvhJoint &j = motion.joints[joint];
    Mat3 rotation;
    for (std::size_t c = 0; c < j.channels.size(); ++c) {
        const auto channel = j.channels[c];
        if (channel < BvhChannel::Xrotation)
            continue;
        const int axis = static_cast<int>(channel) - static_cast<int>(BvhChannel::Xrotation);
        const double angle = motion.value(frame, j.firstChannel + static_cast<int>(c));
        rotation = rotation * Mat3::axisRotation(axis, angle * kRadiansPerDegree);
    }
    return rotation;
}

Vec3 bvhLocalTranslation(const BvhMotion &motion, int joint, int frame)
{
    const BvhJoint &j = motion.joints[joint];
    Vec3 translation = j.offset;
    for (std::size_t c = 0; c < j.channels.size(); ++c) {
        const auto channel = j.channels[c];
        if (channel >= BvhChannel::Xrotation)
            continue;
        translation[static_cast<int>(channel)] =
            motion.value(frame, j.firstChannel + static_cast<int>(c));
    }
    return translation;
}

BvhPose bvhGlobalPose(const BvhMotion &motion, int frame)
{
    const int n = motion.numJoints();
    BvhPose pose;
    pose.rotations.resize(n);
    pose.positions.resize(n);
    for (int j = 0; j < n; ++j) {
        const Mat3 local = bvhLocalRotation(motion, j, frame);
        const Vec3 translation = bvhLocalTranslation(motion, j, frame);
        const int parent = motion.joints[j].parent;
        if (parent < 0) {
            pose.rotations[j] = local;
            pose.positions[j] = translation;
        } else {
            pose.rotations[j] = pose.rotations[parent] * local;
            pose.positions[j] = pose.positions[parent] + pose.rotations[parent] * translation;
        }
    }
    return pose;
}

double guessBvhMetresPerUnit(const BvhMotion &motion)
{
    // Height of the rest pose (offsets only, end sites included).
    const int n = motion.numJoints();
    std::vector<Vec3> rest(n);
    double low = std::numeric_limits<double>::max(), high = std::numeric_limits<double>::lowest();
    const auto extend = [&](const Vec3 &p) {
        low = std::min(low, p[1]);
        high = std::max(high, p[1]);
    };
    for (int j = 0; j < n; ++j) {
        const BvhJoint &joint = motion.joints[j];
        rest[j] = joint.parent < 0 ? joint.offset : rest[joint.parent] + joint.offset;
        extend(rest[j]);
        if (joint.hasEndSite)
            extend(rest[j] + joint.endSiteOffset);
    }
    const double height = n > 0 ? high - low : 0.0;
    if (height > 300.0)
        return 0.001;
    if (height > 3.0)
        return 0.01;
    return 1.0;
}

MotionClip bvhToMotionClip(const BvhMotion &motion, const BvhToClipOptions &options)
{
    const double scale = options.metresPerUnit > 0  ? options.metresPerUnit
                         : motion.metresPerUnit > 0 ? motion.metresPerUnit
                                                    : guessBvhMetresPerUnit(motion);
    MotionClip clip;
    clip.fps = motion.fps() > 0 ? motion.fps() : 30.0;
    clip.numFrames = motion.numFrames;

    // Output joints: every BVH joint, then (optionally) one per End Site.
    std::vector<int> endSiteOf; // BVH joint index owning each extra end-site joint
    for (int j = 0; j < motion.numJoints(); ++j) {
        const BvhJoint &joint = motion.joints[j];
        clip.jointNames.push_back(joint.name);
        clip.parents.push_back(joint.parent);
        clip.sides.push_back(sideFromName(joint.name));
    }
    if (options.includeEndSites) {
        for (int j = 0; j < motion.numJoints(); ++j) {
            if (!motion.joints[j].hasEndSite)
                continue;
            endSiteOf.push_back(j);
            clip.jointNames.push_back(motion.joints[j].name + "_end");
            clip.parents.push_back(j);
            clip.sides.push_back(clip.sides[j]);
        }
    }
    clip.numJoints = static_cast<int>(clip.jointNames.size());
    clip.positions.resize(static_cast<std::size_t>(clip.numFrames) * clip.numJoints * 3);

    for (int f = 0; f < motion.numFrames; ++f) {
        const BvhPose pose = bvhGlobalPose(motion, f);
        float *out = clip.positions.data() + static_cast<std::size_t>(f) * clip.numJoints * 3;
        for (int j = 0; j < motion.numJoints(); ++j)
            for (int k = 0; k < 3; ++k)
                *out++ = static_cast<float>(pose.positions[j][k] * scale);
        for (const int j : endSiteOf) {
            const Vec3 p = pose.positions[j] + pose.rotations[j] * motion.joints[j].endSiteOffset;
            for (int k = 0; k < 3; ++k)
                *out++ = static_cast<float>(p[k] * scale);
        }
    }
    return clip;
}

} // namespace mp
