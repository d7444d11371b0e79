// readRunEnding: what the Train panel says when a job's process is gone, from the run
// directory alone: finished, failed (the NaN guard's reason), stopped, killed (the events just
// stop), or the directory deleted.

#include "app/jobs/run_ending.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace mp;

class RunEndingTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    QString runWith(const QString &name, const QStringList &lines)
    {
        const QString runDir = m_dir.filePath(name);
        QDir().mkpath(runDir);
        QFile events(QDir(runDir).filePath(QStringLiteral("events.jsonl")));
        if (events.open(QIODevice::WriteOnly))
            for (const QString &line : lines)
                events.write(line.toUtf8() + '\n');
        return runDir;
    }

    static QString step(int n)
    {
        return QStringLiteral("{\"type\":\"step\",\"step\":%1,\"epoch\":0,\"time\":1,\"loss\":0.5}")
            .arg(n);
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void tellsHowARunEnded_data()
    {
        QTest::addColumn<QStringList>("lines");
        QTest::addColumn<int>("kind");
        QTest::addColumn<QString>("words");
        QTest::newRow("finished") << QStringList{step(1), step(2),
                                                 "{\"type\":\"done\",\"step\":2,\"epoch\":1,"
                                                 "\"time\":1}"}
                                  << int(RunEnding::Kind::Finished) << "has finished";
        QTest::newRow("failed on NaN")
            << QStringList{step(1), "{\"type\":\"failed\",\"step\":7,\"epoch\":0,\"time\":1,"
                                    "\"reason\":\"the loss is NaN\"}"}
            << int(RunEnding::Kind::Failed) << "failed at step 7: the loss is NaN";
        QTest::newRow("stopped")
            << QStringList{step(1), "{\"type\":\"warning\",\"step\":4,\"epoch\":0,\"time\":1,"
                                    "\"message\":\"stopped by request; --resume continues\"}"}
            << int(RunEnding::Kind::Stopped) << "stopped at step 4";
        QTest::newRow("killed") << QStringList{step(1), step(2), step(3)}
                                << int(RunEnding::Kind::Killed) << "killed";
        QTest::newRow("killed, a warning last")
            << QStringList{step(5), "{\"type\":\"warning\",\"step\":5,\"epoch\":0,\"time\":1,"
                                    "\"message\":\"KL is large\"}"}
            << int(RunEnding::Kind::Killed) << "after step 5";
        QTest::newRow("killed mid-line") << QStringList{step(1), "{\"type\":\"st"}
                                         << int(RunEnding::Kind::Killed) << "after step 1";
        QTest::newRow("no events") << QStringList{} << int(RunEnding::Kind::Killed) << "killed";
    }

    void tellsHowARunEnded()
    {
        QFETCH(QStringList, lines);
        QFETCH(int, kind);
        QFETCH(QString, words);
        const QString runDir = runWith(QString::fromLatin1(QTest::currentDataTag()), lines);
        const RunEnding ending = readRunEnding(runDir);
        QCOMPARE(int(ending.kind), kind);
        QVERIFY2(ending.message.contains(words), qPrintable(ending.message));
        QVERIFY(ending.message.contains(runDir));
    }

    void aDeletedRunDirectoryIsGone()
    {
        const QString runDir = runWith(QStringLiteral("deleted"), {step(1)});
        QVERIFY(QDir(runDir).removeRecursively());
        const RunEnding ending = readRunEnding(runDir);
        QCOMPARE(ending.kind, RunEnding::Kind::Missing);
        QVERIFY(ending.message.contains(QStringLiteral("is gone")));
        QVERIFY(ending.message.contains(runDir));
    }
};

QTEST_GUILESS_MAIN(RunEndingTest)
#include "run_ending_test.moc"
