#pragma once
// The geometry behind a skeleton view, free of any renderer: bone placement, motion bounds, the
// ground grid, the root trace, planted-foot detection and an orbit camera. Qt Gui math types
// only, so all of it is unit-tested without a GL context.

#include <QQuaternion>
#include <QVector3D>

#include <cstdint>
#include <vector>

namespace mp {

struct MotionClip;

// True when the clip's arrays agree with numFrames/numJoints and the parents form a forest.
bool isDrawable(const MotionClip &clip);
QVector3D jointPosition(const MotionClip &clip, int frame, int joint);

// A unit cylinder along +Y, centred at the origin, placed between two joints.
struct BoneTransform {
    QVector3D center;
    QQuaternion rotation;
    float lengthM = 0.0f;
};
BoneTransform boneTransform(const QVector3D &from, const QVector3D &to);

struct MotionBounds {
    QVector3D min;
    QVector3D max;
    float floorY = 0.0f;      // where the grid goes; 0 unless the clip clearly stands elsewhere
    float bodyHeightM = 1.7f; // extent of the first pose, for sizing joints and the follow view
    QVector3D center() const { return (min + max) * 0.5f; }
    float radius() const { return (max - min).length() * 0.5f; }
};
MotionBounds motionBounds(const MotionClip &clip);

// Line segments (pairs of points) of a square grid on the floor covering the motion plus a margin.
struct GroundGrid {
    float minX = -1.0f, maxX = 1.0f, minZ = -1.0f, maxZ = 1.0f;
    float cellM = 0.5f;
    float y = 0.0f;
};
GroundGrid groundGridFor(const MotionBounds &bounds);
std::vector<QVector3D> gridLines(const GroundGrid &grid);

// The root joint's path projected onto the floor (liftM above it), one point per frame.
std::vector<QVector3D> rootTrace(const MotionClip &clip, float floorY, float liftM = 0.003f);

// A flat ribbon along a floor path, as triangle-strip vertices (two per point): a 1-pixel line
// is hard to see, and GL line widths above 1 are not portable.
std::vector<QVector3D> floorRibbon(const std::vector<QVector3D> &path, float widthM);

// The yaw to look at a whole clip from: front-right (30 degrees) for motions that stay in place;
// for ones that travel, about 65 degrees off the travel direction on its front side, so the path
// runs across the view instead of into it.
float homeYawDeg(const MotionClip &clip, float bodyHeightM);

// Joints that touch the ground when standing: named feet/toes/ankles/heels, else the SMPL-22
// ankles and feet, else the leaves in the lowest quarter of the first pose.
std::vector<int> footJoints(const MotionClip &clip);

struct ContactOptions {
    float maxHeightM = 0.05f; // the foot-skating convention: within 5 cm of the floor...
    float maxSpeedMps = 0.5f; // ...and moving less than 2.5 cm per frame at 20 fps
};
// numFrames x joints.size() flags, row-major [frame][i]: joint joints[i] is planted at frame.
std::vector<std::uint8_t> footContacts(const MotionClip &clip, const std::vector<int> &joints,
                                       float floorY, const ContactOptions &options = {});

// A camera orbiting a target: yaw 0 looks from +Z (HumanML3D motions start facing +Z, so this
// is the front view), positive pitch looks down.
struct OrbitCamera {
    QVector3D target;
    float yawDeg = 30.0f;
    float pitchDeg = 18.0f;
    float distanceM = 4.0f;
    float fovDeg = 40.0f;

    QVector3D eye() const;
    QVector3D right() const;
    QVector3D up() const;
    void orbit(float dxPixels, float dyPixels);
    // Moves the target so that the point under the cursor follows it.
    void pan(float dxPixels, float dyPixels, int viewportHeightPx);
    static constexpr float kMinDistanceM = 0.05f;
    static constexpr float kMaxDistanceM = 1e5f; // a 170-unit BVH in centimetres seen whole

    // Positive steps come closer; one step is one mouse-wheel notch.
    void zoom(float steps);
    // Distance at which a sphere of this radius fills the view's height.
    void frameSphere(const QVector3D &center, float radiusM);
    // Aims at the box's centre from the current direction, at the smallest distance that keeps
    // all its corners in a view of this width/height ratio, plus a margin.
    void frameBox(const QVector3D &min, const QVector3D &max, float aspect, float margin = 1.06f);
};

} // namespace mp
