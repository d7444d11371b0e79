#include "app/jobs/run_follower.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace mp;

class RunFollowerTest : public QObject {
    Q_OBJECT
private slots:
    void followsAGrowingRunUntilDone()
    {
        QTemporaryDir dir;
        const std::string path = QDir(dir.path()).filePath("events.jsonl").toStdString();
        EventWriter writer(path);
        writer.write({.type = EventType::Step, .step = 1, .metrics = {{"loss", 0.7}}});

        RunFollower follower;
        follower.setPollInterval(20);
        QSignalSpy appended(&follower, &RunFollower::eventsAppended);
        QVERIFY(follower.follow(dir.path()));
        QCOMPARE(follower.events().size(), std::size_t(1));
        QCOMPARE(follower.status(), RunFollower::Status::Running);

        writer.write({.type = EventType::Step, .step = 2, .metrics = {{"loss", 0.6}}});
        QTRY_COMPARE(follower.events().size(), std::size_t(2));
        QCOMPARE(appended.last().first().toInt(), 1);

        // A partial line waits for its newline.
        {
            QFile raw(QString::fromStdString(path));
            QVERIFY(raw.open(QIODevice::Append));
            raw.write("{\"type\":\"step\",\"step\":3,");
        }
        follower.poll();
        QCOMPARE(follower.events().size(), std::size_t(2));
        {
            QFile raw(QString::fromStdString(path));
            QVERIFY(raw.open(QIODevice::Append));
            raw.write("\"loss\":0.5}\n");
        }
        QTRY_COMPARE(follower.events().size(), std::size_t(3));
        QCOMPARE(follower.events().back().metrics.at("loss"), 0.5);

        writer.write({.type = EventType::Done, .step = 3});
        QTRY_COMPARE(follower.status(), RunFollower::Status::Done);
    }

    void failedRunCarriesItsReason()
    {
        QTemporaryDir dir;
        EventWriter writer(QDir(dir.path()).filePath("events.jsonl").toStdString());
        writer.write({.type = EventType::Failed, .step = 9, .text = {{"reason", "loss is NaN"}}});
        RunFollower follower;
        QVERIFY(follower.follow(dir.path()));
        QCOMPARE(follower.status(), RunFollower::Status::Failed);
        QCOMPARE(follower.failureReason(), QStringLiteral("loss is NaN"));
    }

    void notADirectory()
    {
        RunFollower follower;
        QVERIFY(!follower.follow(QStringLiteral("/nonexistent/run")));
        QVERIFY(follower.errorString().contains(QStringLiteral("/nonexistent/run")));
    }
};

QTEST_GUILESS_MAIN(RunFollowerTest)
#include "run_follower_test.moc"
