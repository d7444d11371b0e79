#include "app/jobs/job_runner.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using mp::JobRunner;

class JobRunnerTest : public QObject {
    Q_OBJECT
private slots:
    void runsToCompletionAndCapturesOutput()
    {
        QTemporaryDir dir;
        JobRunner runner;
        QString log;
        connect(&runner, &JobRunner::logAppended, this,
                [&log](const QString &text) { log += text; });
        QVERIFY2(runner.start(QStringLiteral("/bin/sh"), {"-c", "echo step 1; echo oops >&2"},
                              dir.path()),
                 qPrintable(runner.errorString()));
        QCOMPARE(runner.state(), JobRunner::State::Running);
        QVERIFY(QFile::exists(QDir(dir.path()).filePath("job.pid")));
        QTRY_COMPARE_WITH_TIMEOUT(runner.state(), JobRunner::State::Finished, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(log.contains("step 1") && log.contains("oops"), 5000);
    }

    void stopSendsSigtermThenTheJobEnds()
    {
        QTemporaryDir dir;
        JobRunner runner;
        // The job records that it saw SIGTERM, as `motionpref-cli train` stops at a step boundary.
        const QString marker = QDir(dir.path()).filePath("stopped");
        QVERIFY(runner.start(QStringLiteral("/bin/sh"),
                             {"-c", QStringLiteral("trap 'touch %1; exit 0' TERM; "
                                                   "while true; do sleep 0.05; done")
                                        .arg(marker)},
                             dir.path()));
        QTest::qWait(300);
        runner.stop(5000);
        QCOMPARE(runner.state(), JobRunner::State::Stopping);
        QTRY_COMPARE_WITH_TIMEOUT(runner.state(), JobRunner::State::Finished, 8000);
        QVERIFY(QFile::exists(marker));
    }

    void stubbornJobIsKilledAfterGrace()
    {
        QTemporaryDir dir;
        JobRunner runner;
        QVERIFY(runner.start(QStringLiteral("/bin/sh"),
                             {"-c", "trap '' TERM; while true; do sleep 0.05; done"}, dir.path()));
        QTest::qWait(300);
        runner.stop(500);
        QTRY_COMPARE_WITH_TIMEOUT(runner.state(), JobRunner::State::Finished, 8000);
    }

    void jobOutlivesItsRunnerAndCanBeReattached()
    {
        QTemporaryDir dir;
        qint64 pid = 0;
        {
            JobRunner first;
            QVERIFY(first.start(QStringLiteral("/bin/sh"), {"-c", "sleep 30"}, dir.path()));
            pid = first.pid();
        } // the GUI closing does not end the job
        JobRunner second;
        QVERIFY(second.attach(dir.path()));
        QCOMPARE(second.pid(), pid);
        QCOMPARE(second.state(), JobRunner::State::Running);
        second.stop(2000);
        QTRY_COMPARE_WITH_TIMEOUT(second.state(), JobRunner::State::Finished, 8000);
    }

    void badInputIsReported()
    {
        QTemporaryDir dir;
        JobRunner runner;
        QVERIFY(!runner.start(QStringLiteral("/nonexistent/motionpref-cli"), {}, dir.path()));
        QVERIFY(runner.errorString().contains("/nonexistent/motionpref-cli"));
        QVERIFY(!runner.attach(dir.filePath("nothing-here")));
        QVERIFY(runner.errorString().contains("job.pid"));
        QCOMPARE(runner.state(), JobRunner::State::Idle);
    }
};

QTEST_GUILESS_MAIN(JobRunnerTest)
#include "job_runner_test.moc"
