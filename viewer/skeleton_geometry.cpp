#include "viewer/skeleton_geometry.h"

#include "ml/motion/motion_clip.h"

#include <QtMath>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>

namespace mp {

namespace {
// A clip whose lowest point is further than this from y = 0 was not floor-normalised (a BVH with
// the hips at the origin, say): the floor is then put under its lowest point instead.
constexpr float kFloorSnapM = 0.25f;
constexpr float kGridMarginM = 0.75f;
// Beyond this floor size half-metre cells turn into a grey carpet; use metres instead.
constexpr float kFineGridLimitM = 16.0f;

bool containsAny(std::string name, std::initializer_list<const char *> words)
{
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return std::any_of(words.begin(), words.end(),
                       [&](const char *word) { return name.find(word) != std::string::npos; });
}
} // namespace

bool isDrawable(const MotionClip &clip)
{
    if (clip.numFrames <= 0 || clip.numJoints <= 0)
        return false;
    const auto expected = static_cast<std::size_t>(clip.numFrames) * clip.numJoints * 3;
    if (clip.positions.size() != expected || clip.parents.size() != std::size_t(clip.numJoints))
        return false;
    for (int j = 0; j < clip.numJoints; ++j) {
        const int parent = clip.parents[j];
        if (parent < -1 || parent >= clip.numJoints || parent == j)
            return false;
    }
    return std::all_of(clip.positions.begin(), clip.positions.end(),
                       [](float v) { return std::isfinite(v); });
}

QVector3D jointPosition(const MotionClip &clip, int frame, int joint)
{
    const auto p = clip.position(frame, joint);
    return {p[0], p[1], p[2]};
}

BoneTransform boneTransform(const QVector3D &from, const QVector3D &to)
{
    BoneTransform bone;
    bone.center = (from + to) * 0.5f;
    const QVector3D along = to - from;
    bone.lengthM = along.length();
    if (bone.lengthM > 1e-6f)
        bone.rotation = QQuaternion::rotationTo(QVector3D(0, 1, 0), along / bone.lengthM);
    return bone;
}

MotionBounds motionBounds(const MotionClip &clip)
{
    MotionBounds bounds;
    if (!isDrawable(clip)) {
        bounds.min = QVector3D(-1, 0, -1);
        bounds.max = QVector3D(1, 1.7f, 1);
        return bounds;
    }
    constexpr float kInf = std::numeric_limits<float>::infinity();
    QVector3D lo(kInf, kInf, kInf), hi(-kInf, -kInf, -kInf);
    for (std::size_t i = 0; i < clip.positions.size(); i += 3) {
        const QVector3D p(clip.positions[i], clip.positions[i + 1], clip.positions[i + 2]);
        lo = QVector3D(std::min(lo.x(), p.x()), std::min(lo.y(), p.y()), std::min(lo.z(), p.z()));
        hi = QVector3D(std::max(hi.x(), p.x()), std::max(hi.y(), p.y()), std::max(hi.z(), p.z()));
    }
    bounds.min = lo;
    bounds.max = hi;
    bounds.floorY = std::abs(lo.y()) > kFloorSnapM ? lo.y() : 0.0f;

    float firstLo = kInf, firstHi = -kInf;
    for (int j = 0; j < clip.numJoints; ++j) {
        const float y = clip.position(0, j)[1];
        firstLo = std::min(firstLo, y);
        firstHi = std::max(firstHi, y);
    }
    float height = firstHi - firstLo;
    if (height < 0.1f) // a lying or degenerate pose: fall back on the largest extent
        height = std::max({hi.x() - lo.x(), hi.y() - lo.y(), hi.z() - lo.z()});
    bounds.bodyHeightM = std::max(height, 0.05f);
    return bounds;
}

GroundGrid groundGridFor(const MotionBounds &bounds)
{
    GroundGrid grid;
    grid.y = bounds.floorY;
    const float margin = std::max(kGridMarginM, bounds.bodyHeightM * 0.4f);
    float minX = bounds.min.x() - margin, maxX = bounds.max.x() + margin;
    float minZ = bounds.min.z() - margin, maxZ = bounds.max.z() + margin;
    const float extent = std::max(maxX - minX, maxZ - minZ);
    grid.cellM =
        extent > kFineGridLimitM ? std::pow(10.0f, std::ceil(std::log10(extent / 32.0f))) : 0.5f;
    grid.minX = std::floor(minX / grid.cellM) * grid.cellM;
    grid.maxX = std::ceil(maxX / grid.cellM) * grid.cellM;
    grid.minZ = std::floor(minZ / grid.cellM) * grid.cellM;
    grid.maxZ = std::ceil(maxZ / grid.cellM) * grid.cellM;
    return grid;
}

std::vector<QVector3D> gridLines(const GroundGrid &grid)
{
    std::vector<QVector3D> points;
    const int columns = static_cast<int>(std::lround((grid.maxX - grid.minX) / grid.cellM));
    const int rows = static_cast<int>(std::lround((grid.maxZ - grid.minZ) / grid.cellM));
    points.reserve(2 * static_cast<std::size_t>(columns + rows + 2));
    for (int i = 0; i <= columns; ++i) {
        const float x = grid.minX + i * grid.cellM;
        points.emplace_back(x, grid.y, grid.minZ);
        points.emplace_back(x, grid.y, grid.maxZ);
    }
    for (int i = 0; i <= rows; ++i) {
        const float z = grid.minZ + i * grid.cellM;
        points.emplace_back(grid.minX, grid.y, z);
        points.emplace_back(grid.maxX, grid.y, z);
    }
    return points;
}

std::vector<QVector3D> rootTrace(const MotionClip &clip, float floorY, float liftM)
{
    std::vector<QVector3D> points;
    if (!isDrawable(clip))
        return points;
    const auto root = std::find(clip.parents.begin(), clip.parents.end(), -1);
    const int rootJoint = root == clip.parents.end() ? 0 : int(root - clip.parents.begin());
    points.reserve(clip.numFrames);
    for (int f = 0; f < clip.numFrames; ++f) {
        const QVector3D p = jointPosition(clip, f, rootJoint);
        points.emplace_back(p.x(), floorY + liftM, p.z());
    }
    return points;
}

std::vector<QVector3D> floorRibbon(const std::vector<QVector3D> &path, float widthM)
{
    std::vector<QVector3D> strip;
    if (path.size() < 2)
        return strip;
    strip.reserve(path.size() * 2);
    QVector3D side(1, 0, 0); // kept from the last moving step while the root stands still
    for (std::size_t i = 0; i < path.size(); ++i) {
        const QVector3D &before = path[i > 0 ? i - 1 : 0];
        const QVector3D &after = path[std::min(i + 1, path.size() - 1)];
        QVector3D along = after - before;
        along.setY(0);
        if (along.lengthSquared() > 1e-10f)
            side = QVector3D(-along.z(), 0, along.x()).normalized();
        strip.push_back(path[i] - side * (widthM * 0.5f));
        strip.push_back(path[i] + side * (widthM * 0.5f));
    }
    return strip;
}

float homeYawDeg(const MotionClip &clip, float bodyHeightM)
{
    constexpr float kInPlaceYawDeg = 30.0f;
    constexpr float kOffTravelDeg = 65.0f;
    const std::vector<QVector3D> trace = rootTrace(clip, 0.0f);
    if (trace.size() < 2)
        return kInPlaceYawDeg;
    // The farthest point from the start: a walk there and back still has a direction.
    QVector3D travel;
    for (const QVector3D &p : trace) {
        if ((p - trace.front()).lengthSquared() > travel.lengthSquared())
            travel = p - trace.front();
    }
    if (travel.length() < 0.5f * bodyHeightM)
        return kInPlaceYawDeg;
    const float travelYaw = qRadiansToDegrees(std::atan2(travel.x(), travel.z()));
    // Of the two sides, the one nearer +Z: HumanML3D motions start facing +Z.
    const float a = travelYaw + kOffTravelDeg, b = travelYaw - kOffTravelDeg;
    const float za = std::cos(qDegreesToRadians(a)), zb = std::cos(qDegreesToRadians(b));
    return std::fmod(za >= zb - 1e-4f ? a : b, 360.0f);
}

std::vector<int> footJoints(const MotionClip &clip)
{
    std::vector<int> joints;
    if (!isDrawable(clip))
        return joints;
    if (clip.jointNames.size() == std::size_t(clip.numJoints)) {
        for (int j = 0; j < clip.numJoints; ++j) {
            if (containsAny(clip.jointNames[j], {"foot", "toe", "ankle", "heel"}))
                joints.push_back(j);
        }
        if (!joints.empty())
            return joints;
    }
    static const std::vector<int> kSmpl22Parents = {-1, 0, 0, 0, 1,  2,  3,  4,  5,  6,  7,
                                                    8,  9, 9, 9, 12, 13, 14, 16, 17, 18, 19};
    if (clip.parents == kSmpl22Parents)
        return {7, 8, 10, 11}; // ankles and feet
    std::vector<bool> hasChild(clip.numJoints, false);
    for (int parent : clip.parents) {
        if (parent >= 0)
            hasChild[parent] = true;
    }
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    for (int j = 0; j < clip.numJoints; ++j) {
        lo = std::min(lo, clip.position(0, j)[1]);
        hi = std::max(hi, clip.position(0, j)[1]);
    }
    for (int j = 0; j < clip.numJoints; ++j) {
        if (!hasChild[j] && clip.position(0, j)[1] <= lo + 0.25f * (hi - lo))
            joints.push_back(j);
    }
    return joints;
}

std::vector<std::uint8_t> footContacts(const MotionClip &clip, const std::vector<int> &joints,
                                       float floorY, const ContactOptions &options)
{
    std::vector<std::uint8_t> flags;
    if (!isDrawable(clip) || joints.empty())
        return flags;
    flags.assign(static_cast<std::size_t>(clip.numFrames) * joints.size(), 0);
    const float fps = clip.fps > 0 ? static_cast<float>(clip.fps) : 20.0f;
    for (int f = 0; f < clip.numFrames; ++f) {
        for (std::size_t i = 0; i < joints.size(); ++i) {
            const QVector3D p = jointPosition(clip, f, joints[i]);
            if (p.y() - floorY > options.maxHeightM)
                continue;
            float speed = 0.0f;
            if (clip.numFrames > 1) {
                // Forward difference, backward on the last frame: a foot is planted when it stays.
                const int a = f + 1 < clip.numFrames ? f : f - 1;
                QVector3D step =
                    jointPosition(clip, a + 1, joints[i]) - jointPosition(clip, a, joints[i]);
                step.setY(0);
                speed = step.length() * fps;
            }
            if (speed <= options.maxSpeedMps)
                flags[f * joints.size() + i] = 1;
        }
    }
    return flags;
}

QVector3D OrbitCamera::eye() const
{
    const float yaw = qDegreesToRadians(yawDeg), pitch = qDegreesToRadians(pitchDeg);
    const QVector3D offset(std::cos(pitch) * std::sin(yaw), std::sin(pitch),
                           std::cos(pitch) * std::cos(yaw));
    return target + offset * distanceM;
}

QVector3D OrbitCamera::right() const
{
    const float yaw = qDegreesToRadians(yawDeg);
    return {std::cos(yaw), 0.0f, -std::sin(yaw)};
}

QVector3D OrbitCamera::up() const
{
    const QVector3D forward = (target - eye()).normalized();
    return QVector3D::crossProduct(right(), forward).normalized();
}

void OrbitCamera::orbit(float dxPixels, float dyPixels)
{
    constexpr float kDegPerPixel = 0.4f;
    yawDeg = std::fmod(yawDeg - dxPixels * kDegPerPixel, 360.0f);
    // Short of the poles, where the up vector would flip.
    pitchDeg = std::clamp(pitchDeg + dyPixels * kDegPerPixel, -85.0f, 85.0f);
}

void OrbitCamera::pan(float dxPixels, float dyPixels, int viewportHeightPx)
{
    const float pixels = static_cast<float>(std::max(1, viewportHeightPx));
    const float metresPerPixel =
        2.0f * distanceM * std::tan(qDegreesToRadians(fovDeg) * 0.5f) / pixels;
    target += (-dxPixels * right() + dyPixels * up()) * metresPerPixel;
}

void OrbitCamera::zoom(float steps)
{
    constexpr float kStepFactor = 0.87f;
    distanceM = std::clamp(distanceM * std::pow(kStepFactor, steps), kMinDistanceM, kMaxDistanceM);
}

void OrbitCamera::frameSphere(const QVector3D &center, float radiusM)
{
    target = center;
    const float halfFov = qDegreesToRadians(fovDeg) * 0.5f;
    distanceM =
        std::clamp(std::max(radiusM, 0.1f) / std::sin(halfFov), kMinDistanceM, kMaxDistanceM);
}

void OrbitCamera::frameBox(const QVector3D &min, const QVector3D &max, float aspect, float margin)
{
    target = (min + max) * 0.5f;
    distanceM = 1.0f; // only the direction matters below
    const QVector3D toRight = right(), toUp = up(), forward = (target - eye()).normalized();
    const float tanV = std::tan(qDegreesToRadians(fovDeg) * 0.5f);
    const float tanH = tanV * std::max(aspect, 0.05f);
    float needed = 0.1f;
    for (int corner = 0; corner < 8; ++corner) {
        const QVector3D c(corner & 1 ? max.x() : min.x(), corner & 2 ? max.y() : min.y(),
                          corner & 4 ? max.z() : min.z());
        const QVector3D v = c - target;
        const float depth = QVector3D::dotProduct(v, forward); // > 0: beyond the target
        const float across = std::max(std::abs(QVector3D::dotProduct(v, toRight)) / tanH,
                                      std::abs(QVector3D::dotProduct(v, toUp)) / tanV);
        needed = std::max({needed, across * margin - depth, 0.05f - depth});
    }
    distanceM = std::clamp(needed, kMinDistanceM, kMaxDistanceM);
}

} // namespace mp
