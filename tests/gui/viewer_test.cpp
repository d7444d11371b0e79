// The skeleton viewport under Xvfb: shared-clock sync, rendering with left/right colours for
// SMPL-22 and another skeleton, the empty-clip message, drops, the transport bar and the follow
// camera. With MP_SCREENSHOT_DIR set, saves what it rendered there for a person to look at.

// Before any Qt header: Qt's `slots` macro breaks LibTorch's headers.
#include <torch/torch.h>

#include "app/export/motion_io.h"
#include "ml/motion/motion_clip.h"
#include "ml/motion/skeleton.h"
#include "viewer/motion_viewport.h"
#include "viewer/playback_bar.h"
#include "viewer/playback_clock.h"
#include "viewer/qt3d_skeleton_view.h"
#include "viewer/skeleton_geometry.h"
#include "viewer/skeleton_style.h"

#include <QComboBox>
#include <QDir>
#include <QHBoxLayout>
#include <QLabel>
#include <QMimeData>
#include <QQuaternion>
#include <QScreen>
#include <QSignalSpy>
#include <QSlider>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>
#include <QWheelEvent>
#include <QWindow>

#include <cmath>

namespace {

using mp::BodySide;

// A small SMPL-22-like body (metres, Y up, facing +Z, left = +X) that stands still for
// `standFrames`, then walks along +Z swinging its legs and arms.
mp::MotionClip smplLikeClip(int numFrames, int standFrames = 10)
{
    const std::vector<int> parents = {-1, 0, 0, 0, 1,  2,  3,  4,  5,  6,  7,
                                      8,  9, 9, 9, 12, 13, 14, 16, 17, 18, 19};
    const QVector3D offsets[22] = {
        {0, 0.93f, 0},       {0.06f, -0.09f, 0},  {-0.06f, -0.09f, 0}, {0, 0.11f, 0},
        {0.04f, -0.38f, 0},  {-0.04f, -0.38f, 0}, {0, 0.13f, 0},       {0, -0.40f, -0.03f},
        {0, -0.40f, -0.03f}, {0, 0.05f, 0.02f},   {0, -0.05f, 0.12f},  {0, -0.05f, 0.12f},
        {0, 0.21f, -0.02f},  {0.08f, 0.11f, 0},   {-0.08f, 0.11f, 0},  {0, 0.10f, 0.05f},
        {0.12f, 0.03f, 0},   {-0.12f, 0.03f, 0},  {0.25f, -0.10f, 0},  {-0.25f, -0.10f, 0},
        {0.24f, -0.04f, 0},  {-0.24f, -0.04f, 0}};
    const char *names[22] = {"pelvis",        "left_hip",       "right_hip",    "spine1",
                             "left_knee",     "right_knee",     "spine2",       "left_ankle",
                             "right_ankle",   "spine3",         "left_foot",    "right_foot",
                             "neck",          "left_collar",    "right_collar", "head",
                             "left_shoulder", "right_shoulder", "left_elbow",   "right_elbow",
                             "left_wrist",    "right_wrist"};
    mp::MotionClip clip;
    clip.numFrames = numFrames;
    clip.numJoints = 22;
    clip.parents = parents;
    clip.fps = 20.0;
    for (int j = 0; j < 22; ++j) {
        clip.jointNames.emplace_back(names[j]);
        const std::string name = names[j];
        clip.sides.push_back(name.rfind("left", 0) == 0    ? BodySide::Left
                             : name.rfind("right", 0) == 0 ? BodySide::Right
                                                           : BodySide::Center);
    }
    clip.positions.resize(std::size_t(numFrames) * 22 * 3);
    for (int f = 0; f < numFrames; ++f) {
        const float t = std::max(0, f - standFrames) / 20.0f;
        const float swing = f < standFrames ? 0.0f : 30.0f * std::sin(2.0f * float(M_PI) * t);
        float localX[22] = {};
        localX[1] = swing; // hips swing opposite ways
        localX[2] = -swing;
        localX[4] = std::max(0.0f, -swing); // knees bend on the back swing
        localX[5] = std::max(0.0f, swing);
        localX[16] = -swing * 0.6f; // arms counter-swing
        localX[17] = swing * 0.6f;
        QVector3D global[22];
        QQuaternion rotation[22];
        for (int j = 0; j < 22; ++j) {
            const QQuaternion local = QQuaternion::fromAxisAndAngle(1, 0, 0, localX[j]);
            if (parents[j] < 0) {
                global[j] = offsets[j] + QVector3D(0, 0, 1.2f * t);
                rotation[j] = local;
            } else {
                global[j] = global[parents[j]] + rotation[parents[j]].rotatedVector(offsets[j]);
                rotation[j] = rotation[parents[j]] * local;
            }
            float *out = &clip.positions[(std::size_t(f) * 22 + j) * 3];
            out[0] = global[j].x();
            out[1] = global[j].y();
            out[2] = global[j].z();
        }
    }
    return clip;
}

// A 5-joint toy: root, neck and head in the middle, one arm per side.
mp::MotionClip fiveJointClip(int numFrames)
{
    mp::MotionClip clip;
    clip.numFrames = numFrames;
    clip.numJoints = 5;
    clip.parents = {-1, 0, 1, 1, 1};
    clip.sides = {BodySide::Center, BodySide::Center, BodySide::Center, BodySide::Left,
                  BodySide::Right};
    clip.fps = 30.0;
    for (int f = 0; f < numFrames; ++f) {
        const float wave = 0.2f * std::sin(f * 0.3f);
        const float joints[5][3] = {{0, 0.9f, 0},
                                    {0, 1.4f, 0},
                                    {0, 1.7f, 0},
                                    {0.55f, 1.4f + wave, 0.05f},
                                    {-0.55f, 1.4f - wave, 0.05f}};
        for (const auto &joint : joints)
            clip.positions.insert(clip.positions.end(), joint, joint + 3);
    }
    return clip;
}

// The real SMPL-22 definition from ml/motion, posed by its own FK: arms lowered, one knee and
// one elbow bent.
mp::MotionClip posedSmpl22Clip()
{
    const mp::Skeleton &smpl = mp::smpl22();
    constexpr int kFrames = 20;
    const auto options = torch::TensorOptions().dtype(torch::kFloat32);
    torch::Tensor local = torch::zeros({kFrames, smpl.numJoints(), 4}, options);
    local.select(2, 0).fill_(1.0f); // identity quaternions (w, x, y, z)
    const auto turn = [&](int joint, float x, float y, float z, float degrees) {
        const float half = degrees * float(M_PI) / 360.0f;
        const float q[4] = {std::cos(half), x * std::sin(half), y * std::sin(half),
                            z * std::sin(half)};
        for (int c = 0; c < 4; ++c)
            local.select(1, joint).select(1, c).fill_(q[c]);
    };
    turn(smpl.indexOf("left_shoulder"), 0, 0, 1, -65);
    turn(smpl.indexOf("right_shoulder"), 0, 0, 1, 65);
    turn(smpl.indexOf("left_elbow"), 0, 1, 0, -70);
    turn(smpl.indexOf("right_hip"), 1, 0, 0, -35);
    turn(smpl.indexOf("right_knee"), 1, 0, 0, 50);
    torch::Tensor root = torch::zeros({kFrames, 3}, options);
    root.select(1, 1).fill_(smpl.restRootHeightM());
    return mp::toMotionClip(mp::forwardKinematics(smpl, root, local), smpl, 20.0);
}

// Pixels whose hue is that of `color` (within 14 degrees) and clearly saturated: shading changes
// brightness, not hue, while the background and grid are grey.
int countColour(const QImage &image, const QColor &color)
{
    const float hue = color.hsvHueF() * 360.0f;
    int count = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            const QColor pixel = image.pixelColor(x, y);
            if (pixel.hsvSaturationF() < 0.35f || pixel.valueF() < 0.25f)
                continue;
            const float diff = std::abs(pixel.hsvHueF() * 360.0f - hue);
            if (std::min(diff, 360.0f - diff) < 14.0f)
                ++count;
        }
    }
    return count;
}

// Mean row of the pixels of `color`, as a fraction of the height (0 = top).
double meanRow(const QImage &image, const QColor &color)
{
    const float hue = color.hsvHueF() * 360.0f;
    double sum = 0;
    int count = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            const QColor pixel = image.pixelColor(x, y);
            const float diff = std::abs(pixel.hsvHueF() * 360.0f - hue);
            if (pixel.hsvSaturationF() >= 0.35f && pixel.valueF() >= 0.25f &&
                std::min(diff, 360.0f - diff) < 14.0f) {
                sum += y;
                ++count;
            }
        }
    }
    return count ? sum / count / image.height() : -1.0;
}

QImage grabFromScreen(QWidget *widget)
{
    const QPoint at = widget->mapToGlobal(QPoint(0, 0));
    return widget->screen()
        ->grabWindow(0, at.x(), at.y(), widget->width(), widget->height())
        .toImage();
}

void saveScreenshot(const QImage &image, const QString &name)
{
    const QString dir = qEnvironmentVariable("MP_SCREENSHOT_DIR");
    if (dir.isEmpty() || image.isNull())
        return;
    QDir().mkpath(dir);
    QVERIFY(image.save(QDir(dir).filePath(name)));
}

// Waits until the view has drawn the current scene: Qt 3D renders on its own thread.
QImage settledCapture(mp::SkeletonView *view)
{
    QTest::qWait(200);
    view->captureFrame();
    return view->captureFrame();
}

} // namespace

class ViewerTest : public QObject {
    Q_OBJECT
private slots:
    void viewportsShareOneClock()
    {
        mp::PlaybackClock clock;
        QWidget window;
        auto *layout = new QHBoxLayout(&window);
        auto *a = new mp::MotionViewport(&window);
        auto *b = new mp::MotionViewport(&window);
        layout->addWidget(a);
        layout->addWidget(b);
        a->setClock(&clock);
        b->setClock(&clock);
        a->setMotion(smplLikeClip(40));
        b->setMotion(fiveJointClip(30));
        QCOMPARE(clock.frameCount(), 40); // the longer clip sets the length

        clock.seek(12);
        QCOMPARE(a->frame(), 12);
        QCOMPARE(b->frame(), 12);
        clock.stepForward();
        QCOMPARE(a->frame(), 13);
        QCOMPARE(b->frame(), 13);
        clock.seek(0);
        clock.stepBackward(); // looping: wraps to the end
        QCOMPARE(a->frame(), 39);
        QCOMPARE(b->frame(), 39); // the shorter clip holds its last pose meanwhile

        clock.seek(0);
        clock.setSpeed(4.0);
        QSignalSpy frames(&clock, &mp::PlaybackClock::frameChanged);
        clock.play();
        QTRY_VERIFY(frames.count() >= 5);
        clock.pause();
        QVERIFY(clock.frame() > 0);
        QCOMPARE(a->frame(), clock.frame());
        QCOMPARE(b->frame(), clock.frame());

        delete a; // its length leaves the clock with it
        QCOMPARE(clock.frameCount(), 30);
        b->setClock(nullptr);
        QCOMPARE(clock.frameCount(), 0);
    }

    void rendersSmplSkeletonWithSideColours()
    {
        mp::PlaybackClock clock;
        QWidget window;
        window.resize(1000, 520);
        auto *column = new QVBoxLayout(&window);
        auto *row = new QHBoxLayout;
        auto *a = new mp::MotionViewport(&window);
        auto *b = new mp::MotionViewport(&window);
        a->setTitle(QStringLiteral("A"));
        b->setTitle(QStringLiteral("B"));
        row->addWidget(a);
        row->addWidget(b);
        auto *bar = new mp::PlaybackBar(&window);
        column->addLayout(row, 1);
        column->addWidget(bar);
        a->setClock(&clock);
        b->setClock(&clock);
        bar->setClock(&clock);
        const mp::MotionClip walk = smplLikeClip(80);
        a->setMotion(walk);
        b->setMotion(walk);
        b->setFollowCamera(true);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        clock.seek(4);

        const QImage image = settledCapture(a->view());
        QVERIFY2(!image.isNull(), "no frame came back from the renderer");
        QVERIFY(image.width() > 100 && image.height() > 100);
        const int left = countColour(image, mp::sideColor(BodySide::Left));
        const int right = countColour(image, mp::sideColor(BodySide::Right));
        const int contact = countColour(image, mp::contactColor()); // both feet planted
        qInfo("left %d, right %d, contact %d pixels of %lld", left, right, contact,
              qint64(image.width()) * image.height());
        QVERIFY2(left > 50, qPrintable(QString::number(left)));
        QVERIFY2(right > 50, qPrintable(QString::number(right)));
        QVERIFY2(contact > 10, qPrintable(QString::number(contact)));

        // Upright like the screen: the arms (above the middle) against the screen's own pixels.
        const QImage screen = grabFromScreen(a->view()->widget());
        const double rowCapture = meanRow(image, mp::sideColor(BodySide::Left));
        const double rowScreen = meanRow(screen, mp::sideColor(BodySide::Left));
        QVERIFY2(rowScreen > 0, "the screen grab shows no skeleton");
        QVERIFY2(
            std::abs(rowCapture - rowScreen) < 0.1,
            qPrintable(
                QStringLiteral("capture row %1, screen row %2").arg(rowCapture).arg(rowScreen)));
        QVERIFY(rowCapture < 0.75); // a standing body: most of the limb pixels above the floor

        saveScreenshot(image, QStringLiteral("viewer_smpl_capture.png"));
        clock.seek(45); // mid-stride
        QTest::qWait(300);
        saveScreenshot(grabFromScreen(&window), QStringLiteral("viewer_pair.png"));
    }

    // The real SMPL-22 definition from ml/motion, posed by its own FK: arms lowered, one knee
    // and one elbow bent, as a person would see a generated motion.
    void rendersTheMlSmpl22Skeleton()
    {
        const mp::MotionClip clip = posedSmpl22Clip();
        mp::MotionViewport viewport;
        viewport.setTitle(QStringLiteral("SMPL-22"));
        viewport.resize(520, 480);
        viewport.setMotion(clip);
        viewport.show();
        QVERIFY(QTest::qWaitForWindowExposed(&viewport));
        const QImage image = settledCapture(viewport.view());
        QVERIFY(!image.isNull());
        QVERIFY(countColour(image, mp::sideColor(BodySide::Left)) > 100);
        QVERIFY(countColour(image, mp::sideColor(BodySide::Right)) > 100);
        saveScreenshot(grabFromScreen(&viewport), QStringLiteral("viewer_smpl22_ml.png"));
    }

    // How a panel wires drops: the viewport announces the path, app/export reads it.
    void droppedBvhLoadsThroughMotionIo()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("posed.bvh"));
        mp::writeMotion(path.toStdString(),
                        mp::LoadedMotion{.clip = posedSmpl22Clip(), .isSmpl22 = true});

        mp::MotionViewport viewport;
        viewport.resize(480, 420);
        connect(&viewport, &mp::MotionViewport::fileDropped, &viewport, [&](const QString &file) {
            viewport.setMotion(mp::readMotion(file.toStdString()).clip);
        });
        viewport.show();
        QVERIFY(QTest::qWaitForWindowExposed(&viewport));
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(path)});
        QDragEnterEvent enter(QPoint(30, 30), Qt::CopyAction, &mime, Qt::LeftButton,
                              Qt::NoModifier);
        QCoreApplication::sendEvent(&viewport, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(30, 30), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QSignalSpy dropped(&viewport, &mp::MotionViewport::fileDropped);
        QCoreApplication::sendEvent(&viewport, &drop);
        QCOMPARE(dropped.count(), 1);
        QVERIFY2(viewport.hasMotion(), qPrintable(viewport.message()));
        QVERIFY(viewport.motion().numJoints >= 22);
        const mp::MotionBounds bounds = mp::motionBounds(viewport.motion());
        QVERIFY2(bounds.bodyHeightM > 1.2f && bounds.bodyHeightM < 2.2f, "not in metres");
        const QImage image = settledCapture(viewport.view());
        QVERIFY(countColour(image, mp::sideColor(BodySide::Left)) > 100);
        QVERIFY(countColour(image, mp::sideColor(BodySide::Right)) > 100);
        saveScreenshot(image, QStringLiteral("viewer_dropped_bvh.png"));
    }

    void rendersAnotherSkeleton()
    {
        mp::MotionViewport viewport;
        viewport.resize(480, 400);
        viewport.setMotion(fiveJointClip(25));
        viewport.show();
        QVERIFY(QTest::qWaitForWindowExposed(&viewport));
        QVERIFY(!viewport.isShowingMessage());
        viewport.setFrame(7);
        const QImage image = settledCapture(viewport.view());
        QVERIFY(!image.isNull());
        QVERIFY(countColour(image, mp::sideColor(BodySide::Left)) > 30);
        QVERIFY(countColour(image, mp::sideColor(BodySide::Right)) > 30);
        saveScreenshot(image, QStringLiteral("viewer_five_joints.png"));
    }

    void rendersABvhInCentimetres()
    {
        mp::MotionClip giant = fiveJointClip(10);
        for (float &v : giant.positions)
            v *= 100.0f; // a 170-unit body: a BVH whose units were never converted
        mp::MotionViewport viewport;
        viewport.resize(400, 360);
        viewport.setMotion(giant);
        viewport.show();
        QVERIFY(QTest::qWaitForWindowExposed(&viewport));
        const QImage image = settledCapture(viewport.view());
        QVERIFY(!image.isNull());
        QVERIFY(countColour(image, mp::sideColor(BodySide::Left)) > 30);
        QVERIFY(countColour(image, mp::sideColor(BodySide::Right)) > 30);
        saveScreenshot(image, QStringLiteral("viewer_centimetres.png"));
    }

    void emptyClipShowsMessage()
    {
        mp::PlaybackClock clock;
        mp::MotionViewport viewport;
        viewport.setClock(&clock);
        viewport.resize(400, 300);
        viewport.show();
        QVERIFY(QTest::qWaitForWindowExposed(&viewport));
        QVERIFY(viewport.isShowingMessage());
        QVERIFY(viewport.message().contains(QStringLiteral("No motion")));

        viewport.setMotion(smplLikeClip(10));
        QVERIFY(!viewport.isShowingMessage());
        QCOMPARE(clock.frameCount(), 10);
        viewport.setMotion(mp::MotionClip{});
        QVERIFY(viewport.isShowingMessage());
        QVERIFY(!viewport.hasMotion());
        QCOMPARE(clock.frameCount(), 0);
        viewport.setFrame(5); // nothing to move, nothing to crash

        mp::MotionClip broken = smplLikeClip(10);
        broken.positions.resize(broken.positions.size() - 3);
        viewport.setMotion(broken);
        QVERIFY(viewport.isShowingMessage());
        QVERIFY2(viewport.message().contains(QStringLiteral("inconsistent")),
                 qPrintable(viewport.message()));
        broken = smplLikeClip(10);
        broken.parents[3] = 40;
        viewport.setMotion(broken);
        QVERIFY(viewport.isShowingMessage());
        saveScreenshot(grabFromScreen(&viewport), QStringLiteral("viewer_empty.png"));
    }

    void dropAnnouncesMotionFiles_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<bool>("accepted");
        QTest::newRow("bvh") << QStringLiteral("/tmp/walk.bvh") << true;
        QTest::newRow("npy upper case") << QStringLiteral("/tmp/run.NPY") << true;
        QTest::newRow("text") << QStringLiteral("/tmp/notes.txt") << false;
    }

    void dropAnnouncesMotionFiles()
    {
        QFETCH(QString, file);
        QFETCH(bool, accepted);
        mp::MotionViewport viewport;
        QVERIFY(viewport.acceptDrops());
        QSignalSpy dropped(&viewport, &mp::MotionViewport::fileDropped);
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(file)});
        QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton,
                              Qt::NoModifier);
        enter.setAccepted(false);
        QCoreApplication::sendEvent(&viewport, &enter);
        QCOMPARE(enter.isAccepted(), accepted);
        QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        drop.setAccepted(false);
        QCoreApplication::sendEvent(&viewport, &drop);
        QCOMPARE(dropped.count(), accepted ? 1 : 0);
        if (accepted)
            QCOMPARE(dropped.at(0).at(0).toString(), file);
    }

    void dropOnTheNativeViewReachesTheViewport()
    {
        mp::MotionViewport viewport;
        viewport.setMotion(fiveJointClip(5));
        auto *view = dynamic_cast<mp::Qt3DSkeletonView *>(viewport.view());
        QVERIFY(view && view->window());
        QSignalSpy dropped(&viewport, &mp::MotionViewport::fileDropped);
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(QStringLiteral("/tmp/jump.bvh"))});
        QDragEnterEvent enter(QPoint(5, 5), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        enter.setAccepted(false);
        QCoreApplication::sendEvent(view->window(), &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(5, 5), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(view->window(), &drop);
        QCOMPARE(dropped.count(), 1);
        QCOMPARE(dropped.at(0).at(0).toString(), QStringLiteral("/tmp/jump.bvh"));
    }

    void mouseOrbitsPansZoomsAndResets()
    {
        mp::MotionViewport viewport;
        viewport.resize(400, 300);
        viewport.setMotion(smplLikeClip(20));
        viewport.show();
        QVERIFY(QTest::qWaitForWindowExposed(&viewport));
        auto *view = dynamic_cast<mp::Qt3DSkeletonView *>(viewport.view());
        QWindow *window = view->window();
        const mp::OrbitCamera home = view->camera();

        QTest::mousePress(window, Qt::LeftButton, {}, QPoint(100, 100));
        QTest::mouseMove(window, QPoint(150, 120));
        QTest::mouseRelease(window, Qt::LeftButton, {}, QPoint(150, 120));
        QVERIFY(view->camera().yawDeg != home.yawDeg);
        QVERIFY(view->camera().pitchDeg > home.pitchDeg);
        QCOMPARE(view->camera().target, home.target);

        QTest::mousePress(window, Qt::RightButton, {}, QPoint(100, 100));
        QTest::mouseMove(window, QPoint(160, 100));
        QTest::mouseRelease(window, Qt::RightButton, {}, QPoint(160, 100));
        QVERIFY(view->camera().target != home.target);

        QWheelEvent wheel(QPointF(100, 100), window->mapToGlobal(QPointF(100, 100)), QPoint(),
                          QPoint(0, 120), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
        QCoreApplication::sendEvent(window, &wheel);
        QVERIFY(view->camera().distanceM < home.distanceM);

        viewport.resetCamera();
        QCOMPARE(view->camera().target, home.target);
        QCOMPARE(view->camera().distanceM, home.distanceM);
        QCOMPARE(view->camera().yawDeg, home.yawDeg);
    }

    void barDrivesTheClock()
    {
        mp::PlaybackClock clock;
        mp::MotionViewport viewport;
        viewport.setClock(&clock);
        viewport.setMotion(smplLikeClip(80));
        mp::PlaybackBar bar;
        bar.setClock(&clock);
        auto *counter = bar.findChild<QLabel *>(QStringLiteral("frameCounter"));
        QVERIFY(counter);
        QCOMPARE(counter->text(), QStringLiteral("1 / 80  0.00 s"));

        bar.findChild<QToolButton *>(QStringLiteral("stepForwardButton"))->click();
        QCOMPARE(clock.frame(), 1);
        QCOMPARE(viewport.frame(), 1);
        clock.seek(12);
        QCOMPARE(counter->text(), QStringLiteral("13 / 80  0.60 s"));
        auto *slider = bar.findChild<QSlider *>(QStringLiteral("scrubSlider"));
        QCOMPARE(slider->maximum(), 79);
        QCOMPARE(slider->value(), 12);
        slider->setValue(40); // as a drag would
        QCOMPARE(clock.frame(), 40);
        QCOMPARE(viewport.frame(), 40);

        auto *speed = bar.findChild<QComboBox *>(QStringLiteral("speedCombo"));
        QCOMPARE(speed->count(), 6);
        QCOMPARE(speed->currentText(), QStringLiteral("1x"));
        speed->setCurrentIndex(0);
        QCOMPARE(clock.speed(), 0.25);
        clock.setSpeed(2.0);
        QCOMPARE(speed->currentText(), QStringLiteral("2x"));

        auto *loop = bar.findChild<QToolButton *>(QStringLiteral("loopButton"));
        QVERIFY(loop->isChecked());
        loop->click();
        QVERIFY(!clock.looping());
        clock.setLooping(true);
        QVERIFY(loop->isChecked());

        auto *play = bar.findChild<QToolButton *>(QStringLiteral("playButton"));
        play->click();
        QVERIFY(clock.isPlaying());
        play->click();
        QVERIFY(!clock.isPlaying());
    }

    void keysDriveTheVisibleBarOnly()
    {
        mp::PlaybackClock clock;
        clock.setFrameCount(50);
        QWidget window;
        auto *layout = new QVBoxLayout(&window);
        auto *bar = new mp::PlaybackBar(&window);
        bar->setClock(&clock);
        layout->addWidget(bar);
        window.show();
        window.activateWindow(); // no window manager under Xvfb to do it
        QVERIFY(QTest::qWaitForWindowActive(&window));

        QTest::keyClick(&window, Qt::Key_Right);
        QTest::keyClick(&window, Qt::Key_Right);
        QCOMPARE(clock.frame(), 2);
        QTest::keyClick(&window, Qt::Key_Left);
        QCOMPARE(clock.frame(), 1);
        QTest::keyClick(&window, Qt::Key_Space);
        QVERIFY(clock.isPlaying());
        QTest::keyClick(&window, Qt::Key_Space);
        QVERIFY(!clock.isPlaying());
        QTest::keyClick(&window, Qt::Key_Home);
        QCOMPARE(clock.frame(), 0);

        // With the focus inside a 3D view (a native child window), the keys still work.
        auto *viewport = new mp::MotionViewport(&window);
        layout->addWidget(viewport);
        viewport->setMotion(fiveJointClip(50));
        QWindow *native = dynamic_cast<mp::Qt3DSkeletonView *>(viewport->view())->window();
        QVERIFY(QTest::qWaitForWindowExposed(native));
        QTest::mouseClick(native, Qt::LeftButton, {}, QPoint(20, 20));
        QTest::keyClick(native, Qt::Key_Right);
        QCOMPARE(clock.frame(), 1);
        clock.seek(0);

        bar->setKeyboardShortcuts(false);
        QTest::keyClick(&window, Qt::Key_Right);
        QCOMPARE(clock.frame(), 0);
        bar->setKeyboardShortcuts(true);
        bar->hide(); // a bar in a hidden tab leaves the keys alone
        QTest::keyClick(&window, Qt::Key_Right);
        QCOMPARE(clock.frame(), 0);
    }

    void followCameraKeepsRootCentred()
    {
        mp::MotionViewport viewport;
        const mp::MotionClip walk = smplLikeClip(60);
        viewport.setMotion(walk);
        auto *view = dynamic_cast<mp::Qt3DSkeletonView *>(viewport.view());
        QVERIFY(view);
        const QVector3D home = view->camera().target;
        viewport.setFollowCamera(true);
        QVERIFY(viewport.findChild<QToolButton *>(QStringLiteral("followToggle"))->isChecked());
        for (int frame : {0, 30, 59}) {
            viewport.setFrame(frame);
            const auto root = walk.position(frame, 0);
            QCOMPARE(view->camera().target.x(), root[0]);
            QCOMPARE(view->camera().target.z(), root[2]);
        }
        viewport.setFollowCamera(false);
        QCOMPARE(view->camera().target, home);
    }
};

QTEST_MAIN(ViewerTest)
#include "viewer_test.moc"
