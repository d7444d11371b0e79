// PlaybackClock: stepping and wrapping, looping and stopping at the end, speed, seeking, and
// the frame count shared by several sources.

#include "viewer/playback_clock.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>

#include <memory>

class PlaybackClockTest : public QObject {
    Q_OBJECT
private slots:
    void stepWrapsOnlyWhenLooping()
    {
        mp::PlaybackClock clock;
        clock.setFrameCount(5);
        QVERIFY(clock.looping());
        clock.seek(4);
        clock.stepForward();
        QCOMPARE(clock.frame(), 0);
        clock.stepBackward();
        QCOMPARE(clock.frame(), 4);

        clock.setLooping(false);
        clock.stepForward();
        QCOMPARE(clock.frame(), 4);
        clock.seek(0);
        clock.stepBackward();
        QCOMPARE(clock.frame(), 0);
    }

    void stepPauses()
    {
        mp::PlaybackClock clock;
        clock.setFrameCount(100);
        clock.play();
        QVERIFY(clock.isPlaying());
        clock.stepForward();
        QVERIFY(!clock.isPlaying());
    }

    void seekClamps()
    {
        mp::PlaybackClock clock;
        clock.seek(3); // no frames: nothing happens
        QCOMPARE(clock.frame(), 0);
        clock.setFrameCount(10);
        QSignalSpy frames(&clock, &mp::PlaybackClock::frameChanged);
        clock.seek(25);
        QCOMPARE(clock.frame(), 9);
        clock.seek(-4);
        QCOMPARE(clock.frame(), 0);
        QCOMPARE(frames.count(), 2);
        clock.seek(0); // unchanged: no signal
        QCOMPARE(frames.count(), 2);
    }

    void nonLoopingStopsAtTheEnd()
    {
        mp::PlaybackClock clock;
        clock.setFrameCount(6);
        clock.setSpeed(4.0); // 80 frames/s: the end comes in about 75 ms
        clock.setLooping(false);
        QSignalSpy playing(&clock, &mp::PlaybackClock::playingChanged);
        clock.play();
        QTRY_VERIFY_WITH_TIMEOUT(!clock.isPlaying(), 5000);
        QCOMPARE(clock.frame(), 5);
        QCOMPARE(playing.count(), 2);
        QCOMPARE(playing.at(0).at(0).toBool(), true);
        QCOMPARE(playing.at(1).at(0).toBool(), false);

        clock.play(); // at the end, play starts over
        QVERIFY(clock.frame() < 5);
        clock.pause();
    }

    void loopingWrapsAndKeepsPlaying()
    {
        mp::PlaybackClock clock;
        clock.setFrameCount(4);
        clock.setSpeed(4.0);
        QList<int> seen;
        connect(&clock, &mp::PlaybackClock::frameChanged, this, [&](int f) { seen << f; });
        clock.play();
        QTRY_VERIFY_WITH_TIMEOUT(seen.size() >= 2 && seen.indexOf(0) > 0, 5000);
        QVERIFY(clock.isPlaying());
        for (int f : seen)
            QVERIFY(f >= 0 && f < 4);
        clock.pause();
    }

    void speedScalesTheAdvance_data()
    {
        QTest::addColumn<double>("speed");
        QTest::newRow("quarter") << 0.25;
        QTest::newRow("normal") << 1.0;
        QTest::newRow("double") << 2.0;
    }

    void speedScalesTheAdvance()
    {
        QFETCH(double, speed);
        mp::PlaybackClock clock;
        clock.setFrameCount(100000);
        clock.setFps(20.0);
        clock.setSpeed(speed);
        QElapsedTimer elapsed;
        elapsed.start();
        clock.play();
        QTest::qWait(600);
        clock.pause();
        const double expected = elapsed.elapsed() / 1000.0 * 20.0 * speed;
        // Never ahead of the wall clock; behind by at most a late tick or two (loaded machine).
        QVERIFY2(clock.frame() <= expected + 1.0,
                 qPrintable(QStringLiteral("%1 vs %2").arg(clock.frame()).arg(expected)));
        QVERIFY2(clock.frame() >= expected * 0.6 - 2.0,
                 qPrintable(QStringLiteral("%1 vs %2").arg(clock.frame()).arg(expected)));
    }

    void speedIsClampedAndAnnounced()
    {
        mp::PlaybackClock clock;
        QSignalSpy changed(&clock, &mp::PlaybackClock::speedChanged);
        clock.setSpeed(0.5);
        clock.setSpeed(0.5);
        QCOMPARE(changed.count(), 1);
        clock.setSpeed(100.0);
        QCOMPARE(clock.speed(), 8.0);
        clock.setSpeed(0.0);
        QCOMPARE(clock.speed(), 0.05);
    }

    void playNeedsTwoFrames()
    {
        mp::PlaybackClock clock;
        clock.setFrameCount(1);
        clock.play();
        QVERIFY(!clock.isPlaying());
        clock.setFrameCount(10);
        clock.play();
        QVERIFY(clock.isPlaying());
        clock.setFrameCount(0); // the motion went away
        QVERIFY(!clock.isPlaying());
    }

    void frameCountIsTheLongestSource()
    {
        mp::PlaybackClock clock;
        auto a = std::make_unique<QObject>();
        auto b = std::make_unique<QObject>();
        clock.setFrameCountFor(a.get(), 80);
        clock.setFrameCountFor(b.get(), 120);
        QCOMPARE(clock.frameCount(), 120);
        clock.seek(100);
        b.reset(); // destroyed: its frames leave with it
        QCOMPARE(clock.frameCount(), 80);
        QCOMPARE(clock.frame(), 0); // 100 is past the end now
        clock.setFrameCountFor(a.get(), 50);
        QCOMPARE(clock.frameCount(), 50);
        clock.setFrameCountFor(a.get(), 0);
        QCOMPARE(clock.frameCount(), 0);
    }

    void timeFollowsFps()
    {
        mp::PlaybackClock clock;
        clock.setFrameCount(100);
        clock.setFps(30.0);
        clock.seek(45);
        QCOMPARE(clock.timeS(), 1.5);
        clock.setFps(-1.0); // nonsense falls back to HumanML3D's 20 fps
        QCOMPARE(clock.fps(), 20.0);
    }
};

QTEST_MAIN(PlaybackClockTest)
#include "playback_clock_test.moc"
