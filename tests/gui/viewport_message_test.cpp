// Two viewports on one clock; one shows a message (its 3D window hidden) while the other plays,
// then both show motions again, as the Compare and Label panels do between generations. Under
// Mesa llvmpipe with Qt 3D's RHI renderer this crashed in 3 of 3 runs until the unlit geometry
// got its normal attribute.

#include "ml/motion/motion_clip.h"
#include "viewer/motion_viewport.h"
#include "viewer/playback_clock.h"

#include <QHBoxLayout>
#include <QTest>

using namespace mp;

namespace {
// A two-joint figure sliding along +Z.
MotionClip slidingClip()
{
    MotionClip clip;
    clip.numFrames = 40;
    clip.numJoints = 2;
    clip.parents = {-1, 0};
    clip.sides = {BodySide::Center, BodySide::Left};
    clip.jointNames = {"root", "head"};
    for (int f = 0; f < clip.numFrames; ++f)
        clip.positions.insert(clip.positions.end(), {0.0f, 1.0f, 0.01f * f, 0.2f, 1.5f, 0.01f * f});
    return clip;
}
} // namespace

class ViewportMessageTest : public QObject {
    Q_OBJECT
private slots:
    void hideAndShowOneOfTwoViews()
    {
        QWidget window;
        auto *layout = new QHBoxLayout(&window);
        PlaybackClock clock;
        MotionViewport left(&window), right(&window);
        for (MotionViewport *view : {&left, &right}) {
            view->setClock(&clock);
            layout->addWidget(view);
        }
        window.resize(900, 500);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        for (int round = 0; round < 2; ++round) {
            left.setMotion(slidingClip());
            right.setMotion(slidingClip());
            clock.play();
            QTest::qWait(400);
            left.showMessage(QStringLiteral("Generating..."));
            QVERIFY(left.isShowingMessage());
            QTest::qWait(600);
        }
        left.setMotion(slidingClip());
        QTest::qWait(600);
        QVERIFY(!left.isShowingMessage());
        QVERIFY(clock.frame() > 0);
    }
};

QTEST_MAIN(ViewportMessageTest)
#include "viewport_message_test.moc"
