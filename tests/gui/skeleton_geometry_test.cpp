// The renderer-free geometry of the skeleton view: bones, bounds, grid, root trace, planted
// feet and the orbit camera, on hand-made clips. No GL involved.

#include "ml/motion/motion_clip.h"
#include "viewer/skeleton_geometry.h"

#include <QMatrix4x4>
#include <QTest>

#include <cmath>

namespace {

// numFrames copies of the same joints, each then moved by `step` per frame.
mp::MotionClip clipOf(const std::vector<QVector3D> &joints, const std::vector<int> &parents,
                      int numFrames = 1, QVector3D step = {})
{
    mp::MotionClip clip;
    clip.numFrames = numFrames;
    clip.numJoints = int(joints.size());
    clip.parents = parents;
    for (int f = 0; f < numFrames; ++f) {
        for (const QVector3D &joint : joints) {
            const QVector3D p = joint + step * float(f);
            clip.positions.insert(clip.positions.end(), {p.x(), p.y(), p.z()});
        }
    }
    return clip;
}

bool near(const QVector3D &a, const QVector3D &b, float tolerance = 1e-4f)
{
    return (a - b).length() < tolerance;
}

} // namespace

class SkeletonGeometryTest : public QObject {
    Q_OBJECT
private slots:
    void boneTurnsUnitCylinderOntoTheBone_data()
    {
        QTest::addColumn<QVector3D>("from");
        QTest::addColumn<QVector3D>("to");
        QTest::newRow("up") << QVector3D(0, 1, 0) << QVector3D(0, 1.5f, 0);
        QTest::newRow("down (antiparallel)")
            << QVector3D(0.1f, 0.9f, 0) << QVector3D(0.1f, 0.5f, 0);
        QTest::newRow("sideways") << QVector3D(0, 1.4f, 0) << QVector3D(0.5f, 1.4f, 0);
        QTest::newRow("oblique") << QVector3D(1, 2, 3) << QVector3D(0.5f, 1.2f, 3.4f);
    }

    void boneTurnsUnitCylinderOntoTheBone()
    {
        QFETCH(QVector3D, from);
        QFETCH(QVector3D, to);
        const mp::BoneTransform bone = mp::boneTransform(from, to);
        QVERIFY(near(bone.center, (from + to) / 2));
        QCOMPARE(bone.lengthM, (to - from).length());
        // The cylinder's ends (0, +-0.5, 0), scaled by the length, land on the joints.
        const QVector3D top =
            bone.center + bone.rotation.rotatedVector({0, 0.5f * bone.lengthM, 0});
        const QVector3D bottom =
            bone.center + bone.rotation.rotatedVector({0, -0.5f * bone.lengthM, 0});
        QVERIFY(near(top, to));
        QVERIFY(near(bottom, from));
    }

    void zeroLengthBoneIsHarmless()
    {
        const mp::BoneTransform bone = mp::boneTransform({1, 1, 1}, {1, 1, 1});
        QCOMPARE(bone.lengthM, 0.0f);
        QVERIFY(bone.rotation.isIdentity());
    }

    void drawableChecksTheArrays()
    {
        mp::MotionClip clip = clipOf({{0, 1, 0}, {0, 1.5f, 0}}, {-1, 0}, 3);
        QVERIFY(mp::isDrawable(clip));
        QVERIFY(!mp::isDrawable(mp::MotionClip{}));
        mp::MotionClip shortPositions = clip;
        shortPositions.positions.pop_back();
        QVERIFY(!mp::isDrawable(shortPositions));
        mp::MotionClip badParent = clip;
        badParent.parents = {-1, 2};
        QVERIFY(!mp::isDrawable(badParent));
        mp::MotionClip selfParent = clip;
        selfParent.parents = {-1, 1};
        QVERIFY(!mp::isDrawable(selfParent));
        mp::MotionClip nan = clip;
        nan.positions[4] = std::nanf("");
        QVERIFY(!mp::isDrawable(nan));
    }

    void boundsAndFloor()
    {
        // Standing on y = 0 and walking 2 m along +Z.
        const mp::MotionClip walk =
            clipOf({{0, 0.9f, 0}, {0, 0.02f, 0}, {0, 1.7f, 0}}, {-1, 0, 0}, 11, {0, 0, 0.2f});
        const mp::MotionBounds bounds = mp::motionBounds(walk);
        QVERIFY(near(bounds.min, {0, 0.02f, 0}));
        QVERIFY(near(bounds.max, {0, 1.7f, 2.0f}));
        QCOMPARE(bounds.floorY, 0.0f);
        QVERIFY(std::abs(bounds.bodyHeightM - 1.68f) < 1e-5f);

        // Hips at the origin (a raw BVH): the floor goes under the feet instead.
        const mp::MotionClip raw = clipOf({{0, 0, 0}, {0, -0.9f, 0}, {0, 0.7f, 0}}, {-1, 0, 0});
        QCOMPARE(mp::motionBounds(raw).floorY, -0.9f);
    }

    void gridCoversTheMotion()
    {
        const mp::MotionClip walk =
            clipOf({{0, 0.9f, 0}, {0, 0.02f, 0}, {0, 1.7f, 0}}, {-1, 0, 0}, 11, {0.1f, 0, 0.3f});
        const mp::MotionBounds bounds = mp::motionBounds(walk);
        const mp::GroundGrid grid = mp::groundGridFor(bounds);
        QCOMPARE(grid.cellM, 0.5f);
        QVERIFY(grid.minX <= bounds.min.x() - 0.5f && grid.maxX >= bounds.max.x() + 0.5f);
        QVERIFY(grid.minZ <= bounds.min.z() - 0.5f && grid.maxZ >= bounds.max.z() + 0.5f);
        // Snapped to whole cells, so the lines through the origin exist.
        QCOMPARE(std::fmod(grid.minX, 0.5f), 0.0f);
        const std::vector<QVector3D> lines = mp::gridLines(grid);
        const int columns = int(std::lround((grid.maxX - grid.minX) / 0.5f)) + 1;
        const int rows = int(std::lround((grid.maxZ - grid.minZ) / 0.5f)) + 1;
        QCOMPARE(int(lines.size()), 2 * (columns + rows));
        for (const QVector3D &p : lines)
            QCOMPARE(p.y(), 0.0f);

        // A 100 m walk gets coarser cells, not thousands of lines.
        mp::MotionBounds far = bounds;
        far.max.setZ(100.0f);
        const mp::GroundGrid coarse = mp::groundGridFor(far);
        QVERIFY(coarse.cellM >= 1.0f);
        QVERIFY(mp::gridLines(coarse).size() < 400);
    }

    void traceFollowsTheRootOnTheFloor()
    {
        const mp::MotionClip walk =
            clipOf({{0.3f, 0.9f, 0}, {0, 0.02f, 0}}, {-1, 0}, 5, {0, 0.01f, 0.25f});
        const std::vector<QVector3D> trace = mp::rootTrace(walk, 0.0f);
        QCOMPARE(int(trace.size()), 5);
        for (int f = 0; f < 5; ++f) {
            QCOMPARE(trace[f].x(), 0.3f);
            QVERIFY(trace[f].y() > 0.0f && trace[f].y() < 0.01f); // just above the grid
            QCOMPARE(trace[f].z(), 0.25f * f);
        }
    }

    void ribbonStraddlesThePath()
    {
        // Along +Z, standing still at the end: the ribbon keeps its last direction there.
        const std::vector<QVector3D> path = {{0, 0, 0}, {0, 0, 1}, {0, 0, 2}, {0, 0, 2}};
        const std::vector<QVector3D> strip = mp::floorRibbon(path, 0.1f);
        QCOMPARE(int(strip.size()), 8);
        for (std::size_t i = 0; i < path.size(); ++i) {
            QVERIFY(near((strip[2 * i] + strip[2 * i + 1]) / 2, path[i]));
            QVERIFY(std::abs((strip[2 * i] - strip[2 * i + 1]).length() - 0.1f) < 1e-5f);
            QCOMPARE(strip[2 * i].z(), path[i].z()); // across the path, not along it
        }
        QVERIFY(mp::floorRibbon({{0, 0, 0}}, 0.1f).empty());
    }

    void homeViewLooksAcrossTheTravel()
    {
        const std::vector<QVector3D> body = {{0, 0.9f, 0}, {0, 1.7f, 0}};
        QCOMPARE(mp::homeYawDeg(clipOf(body, {-1, 0}, 10), 1.7f), 30.0f); // in place
        // Walking along +Z: seen from 65 degrees off it.
        QCOMPARE(mp::homeYawDeg(clipOf(body, {-1, 0}, 10, {0, 0, 0.3f}), 1.7f), 65.0f);
        // Walking along +X: the side towards +Z is the front.
        const float yaw = mp::homeYawDeg(clipOf(body, {-1, 0}, 10, {0.3f, 0, 0}), 1.7f);
        QVERIFY(std::abs(yaw - 25.0f) < 1e-3f);
    }

    void footJointsByNameBySmplOrByShape()
    {
        mp::MotionClip named = clipOf({{0, 1, 0}, {0.1f, 0.05f, 0}, {0, 1.6f, 0}}, {-1, 0, 0});
        named.jointNames = {"Hips", "LeftToeBase", "Head"};
        QCOMPARE(mp::footJoints(named), (std::vector<int>{1}));

        std::vector<QVector3D> smpl(22, QVector3D(0, 1, 0));
        const mp::MotionClip smplClip = clipOf(
            smpl, {-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19});
        QCOMPARE(mp::footJoints(smplClip), (std::vector<int>{7, 8, 10, 11}));

        // Unnamed: the leaves low in the first pose (two feet), not the head or the hands.
        const mp::MotionClip toy =
            clipOf({{0, 1, 0}, {0.1f, 0.0f, 0}, {-0.1f, 0.0f, 0}, {0, 1.7f, 0}, {0.6f, 1.4f, 0}},
                   {-1, 0, 0, 0, 0});
        QCOMPARE(mp::footJoints(toy), (std::vector<int>{1, 2}));
    }

    void plantedMeansLowAndStill_data()
    {
        QTest::addColumn<float>("heightM");
        QTest::addColumn<float>("stepM"); // per frame, at 20 fps
        QTest::addColumn<bool>("planted");
        QTest::newRow("on the floor, still") << 0.02f << 0.0f << true;
        QTest::newRow("on the floor, creeping 1 cm/frame") << 0.02f << 0.01f << true;
        QTest::newRow("on the floor, sliding 5 cm/frame") << 0.02f << 0.05f << false;
        QTest::newRow("lifted 20 cm") << 0.2f << 0.0f << false;
    }

    void plantedMeansLowAndStill()
    {
        QFETCH(float, heightM);
        QFETCH(float, stepM);
        QFETCH(bool, planted);
        const mp::MotionClip clip =
            clipOf({{0, 0.9f, 0}, {0.1f, heightM, 0}}, {-1, 0}, 4, {stepM, 0, 0});
        const std::vector<std::uint8_t> flags = mp::footContacts(clip, {1}, 0.0f);
        QCOMPARE(int(flags.size()), 4);
        for (std::uint8_t flag : flags)
            QCOMPARE(flag != 0, planted);
    }

    void orbitCameraLooksAtItsTarget()
    {
        mp::OrbitCamera camera{.target = {1, 1, 0}, .yawDeg = 0, .pitchDeg = 0, .distanceM = 3};
        QVERIFY(near(camera.eye(), {1, 1, 3})); // yaw 0: the front, on +Z
        QVERIFY(near(camera.right(), {1, 0, 0}));
        QVERIFY(near(camera.up(), {0, 1, 0}));

        camera.yawDeg = 90;
        QVERIFY(near(camera.eye(), {4, 1, 0}));
        QVERIFY(near(camera.right(), {0, 0, -1}));

        camera.orbit(0, 10000); // far past the pole
        QCOMPARE(camera.pitchDeg, 85.0f);
        QVERIFY(camera.eye().y() > 3.9f);

        camera.zoom(1);
        QVERIFY(std::abs(camera.distanceM - 3 * 0.87f) < 1e-5f);
        camera.zoom(-1000);
        QCOMPARE(camera.distanceM, mp::OrbitCamera::kMaxDistanceM);
    }

    void panMovesTheTargetAcrossTheView()
    {
        mp::OrbitCamera camera{.target = {0, 1, 0}, .yawDeg = 0, .pitchDeg = 0, .distanceM = 2};
        // Dragging right by the full view height moves the world right by the view's height
        // at the target: 2 d tan(fov/2).
        camera.pan(500, 0, 500);
        const float span = 2 * 2 * std::tan(qDegreesToRadians(20.0f));
        QVERIFY(near(camera.target, {-span, 1, 0}));
        camera.pan(0, 500, 500);
        QVERIFY(near(camera.target, {-span, 1 + span, 0}));
    }

    void frameSphereFitsTheView()
    {
        mp::OrbitCamera camera;
        camera.frameSphere({0, 1, 2}, 1.0f);
        QVERIFY(near(camera.target, {0, 1, 2}));
        // The sphere is tangent to the view cone: sin(fov/2) = r / d.
        QVERIFY(std::abs(std::sin(qDegreesToRadians(camera.fovDeg / 2)) * camera.distanceM - 1.0f) <
                1e-4f);
    }

    void frameBoxKeepsEveryCornerInView_data()
    {
        QTest::addColumn<float>("aspect");
        QTest::addColumn<float>("yawDeg");
        QTest::newRow("wide, front-right") << 1.6f << 30.0f;
        QTest::newRow("tall, side") << 0.6f << 90.0f;
    }

    void frameBoxKeepsEveryCornerInView()
    {
        QFETCH(float, aspect);
        QFETCH(float, yawDeg);
        // A 4 m walk: long and low.
        const QVector3D lo(-0.4f, 0, -0.2f), hi(0.4f, 1.7f, 4.0f);
        mp::OrbitCamera camera{.yawDeg = yawDeg, .pitchDeg = 18};
        camera.frameBox(lo, hi, aspect);
        QMatrix4x4 projection, view;
        projection.perspective(camera.fovDeg, aspect, 0.05f, 1000.0f);
        view.lookAt(camera.eye(), camera.target, {0, 1, 0});
        float widest = 0;
        for (int corner = 0; corner < 8; ++corner) {
            const QVector3D c(corner & 1 ? hi.x() : lo.x(), corner & 2 ? hi.y() : lo.y(),
                              corner & 4 ? hi.z() : lo.z());
            const QVector3D ndc = (projection * view).map(c);
            QVERIFY2(
                std::abs(ndc.x()) <= 1.0f && std::abs(ndc.y()) <= 1.0f,
                qPrintable(
                    QStringLiteral("corner %1 at %2, %3").arg(corner).arg(ndc.x()).arg(ndc.y())));
            widest = std::max({widest, std::abs(ndc.x()), std::abs(ndc.y())});
        }
        QVERIFY2(widest > 0.8f, qPrintable(QString::number(widest))); // and not far too loose
    }
};

QTEST_MAIN(SkeletonGeometryTest)
#include "skeleton_geometry_test.moc"
