// What the window does when something outside it goes wrong: a corrupt study file, a study of a
// newer schema, a broken model bundle, an export to a full disk or a read-only folder, a study
// another program holds in a write transaction, a training job killed, a job that fails on a
// NaN, a run directory deleted while the Train panel follows it. Each gives a message saying
// what happened and what to do, and the panel works afterwards.

// LibTorch before Qt: Qt's `slots` keyword macro breaks torch's jit headers.
#include "../app/tiny_bundle.h"
#include "ml/data/npy.h"

#include "app/core/settings.h"
#include "app/jobs/job_runner.h"
#include "app/study/label_session.h"
#include "app/study/study_store.h"
#include "ui/export/export_panel.h"
#include "ui/main_window.h"
#include "ui/train/train_charts.h"
#include "ui/train/train_form.h"
#include "ui/train/train_panel.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QLabel>
#include <QMessageBox>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <csignal>
#include <sys/resource.h>

using namespace mp;

namespace {

// Closes the next message box when it shows and keeps its text.
class MessageCatcher : public QObject {
public:
    MessageCatcher()
    {
        m_timer.setInterval(20);
        connect(&m_timer, &QTimer::timeout, this, [this] {
            if (auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget())) {
                text = box->text();
                box->close();
                m_timer.stop();
            }
        });
        m_timer.start();
    }
    QString text;

private:
    QTimer m_timer;
};

// A stand-in for motionpref-cli train: writes `steps` step events, then runs `ending` (shell).
QString writeFakeCli(const QString &dir, const QString &ending)
{
    const QString path = QDir(dir).filePath(QStringLiteral("fake-cli"));
    QFile script(path);
    if (!script.open(QIODevice::WriteOnly))
        return {};
    script.write(
        QStringLiteral("#!/bin/sh\n"
                       "[ \"$1\" = train ] || exit 1\n"
                       "[ \"$2\" = --help ] && exit 0\n"
                       "config=$3; out=$5\n"
                       "cp \"$config\" \"$out/config.json\"\n"
                       "for i in 1 2 3; do\n"
                       "  echo \"{\\\"type\\\":\\\"step\\\",\\\"step\\\":$i,\\\"epoch\\\":0,"
                       "\\\"time\\\":0,\\\"loss\\\":0.5}\" >> \"$out/events.jsonl\"\n"
                       "done\n"
                       "%1\n")
            .arg(ending)
            .toUtf8());
    script.close();
    QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    return path;
}

QString trainMessage(TrainPanel &panel)
{
    return panel.findChild<QLabel *>(QStringLiteral("trainMessage"))->text();
}

} // namespace

class FailureCasesTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    // Starts a run with the fake CLI and waits until its job has ended.
    void runFakeJob(TrainPanel &panel, const QString &runDir)
    {
        RunConfig config = panel.form()->config();
        config.data.pairs = m_dir.filePath(QStringLiteral("pairs.jsonl")).toStdString();
        panel.form()->setConfig(config);
        QVERIFY(panel.startRun(runDir));
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void corruptAndNewerStudiesAreRefusedAndTheWindowGoesOn()
    {
        Settings settings(m_dir.filePath(QStringLiteral("w.ini")));
        MainWindow window(settings);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));

        const QString corrupt = m_dir.filePath(QStringLiteral("corrupt.mpstudy"));
        QFile file(corrupt);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray(8192, '\x5a'));
        file.close();
        {
            MessageCatcher catcher;
            QVERIFY(!window.openStudy(corrupt, false));
            QVERIFY2(catcher.text.contains(corrupt), qPrintable(catcher.text));
        }
        QCOMPARE(QFileInfo(corrupt).size(), qint64(8192)); // left as it was

        const QString newer = m_dir.filePath(QStringLiteral("newer.mpstudy"));
        {
            StudyStore store;
            store.open(newer, true);
        }
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), "bump");
            db.setDatabaseName(newer);
            QVERIFY(db.open());
            QSqlQuery query(db);
            QVERIFY(query.exec(
                QStringLiteral("INSERT INTO schema_version (version, applied_at) VALUES (99, 0)")));
            query.finish();
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("bump"));
        {
            MessageCatcher catcher;
            QVERIFY(!window.openStudy(newer, false));
            QVERIFY2(catcher.text.contains(QStringLiteral("newer than this program")),
                     qPrintable(catcher.text));
            QVERIFY(catcher.text.contains(QStringLiteral("update MotionPref")));
        }

        // The window still opens a good study.
        QVERIFY(window.openStudy(m_dir.filePath(QStringLiteral("good.mpstudy")), true));
    }

    void aBrokenModelBundleIsNamedAndAnotherLoads()
    {
        const QString good = QString::fromStdString(
            test::writeTinyBundle(m_dir.filePath(QStringLiteral("tiny")).toStdString()).string());
        const QString broken = m_dir.filePath(QStringLiteral("broken"));
        QVERIFY(QDir().mkpath(broken));
        for (const QString &name : QDir(good).entryList(QDir::Files))
            QVERIFY(QFile::copy(QDir(good).filePath(name), QDir(broken).filePath(name)));
        QFile model(QDir(broken).filePath(QStringLiteral("model.safetensors")));
        QVERIFY(model.resize(model.size() / 2));

        LabelSession session;
        session.setModelDir(broken, QStringLiteral("cpu"), true);
        QTRY_COMPARE_WITH_TIMEOUT(session.modelState(), LabelSession::ModelState::Failed, 20000);
        QVERIFY2(session.modelMessage().contains(QStringLiteral("model.safetensors")),
                 qPrintable(session.modelMessage()));
        session.setModelDir(good, QStringLiteral("cpu"), true);
        QTRY_COMPARE_WITH_TIMEOUT(session.modelState(), LabelSession::ModelState::Ready, 20000);

        // A config.json holding a 100,000-digit number: the parser's message quotes it whole;
        // the panel shows the file's name and a kilobyte of it, not 100 KB.
        const QString huge = m_dir.filePath(QStringLiteral("huge-token"));
        QVERIFY(QDir().mkpath(huge));
        for (const QString &name : QDir(good).entryList(QDir::Files))
            QVERIFY(QFile::copy(QDir(good).filePath(name), QDir(huge).filePath(name)));
        QFile config(QDir(huge).filePath(QStringLiteral("config.json")));
        QVERIFY(config.open(QIODevice::WriteOnly | QIODevice::Truncate));
        config.write("{\"t5\": " + QByteArray(100000, '9') + "}");
        config.close();
        session.setModelDir(huge, QStringLiteral("cpu"), true);
        QTRY_COMPARE_WITH_TIMEOUT(session.modelState(), LabelSession::ModelState::Failed, 20000);
        QVERIFY2(session.modelMessage().contains(QStringLiteral("config.json")),
                 qPrintable(session.modelMessage().left(300)));
        QVERIFY2(session.modelMessage().size() < 1300,
                 qPrintable(QString::number(session.modelMessage().size())));
    }

    void anExportToAFullDiskSaysSoAndTheNextOneWorks()
    {
        const QString input = m_dir.filePath(QStringLiteral("walk.npy"));
        npy::write(input.toStdString(), torch::rand({60, 22, 3}) + 0.5);
        ExportPanel panel;
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QVERIFY(panel.openMotion(input));

        // A disk that fills up after 4 KiB: the file size limit (no tmpfs without root).
        std::signal(SIGXFSZ, SIG_IGN);
        rlimit old{};
        getrlimit(RLIMIT_FSIZE, &old);
        rlimit small = old;
        small.rlim_cur = 4096;
        QVERIFY(setrlimit(RLIMIT_FSIZE, &small) == 0);
        const QString full = m_dir.filePath(QStringLiteral("full.npy"));
        QSignalSpy finished(&panel, &ExportPanel::exportFinished);
        QVERIFY(panel.exportTo(full));
        QVERIFY(finished.wait(20000));
        setrlimit(RLIMIT_FSIZE, &old);
        QCOMPARE(finished.at(0).at(0).toBool(), false);
        const QString message = finished.at(0).at(1).toString();
        QVERIFY2(message.contains(full), qPrintable(message));
        QVERIFY(!QFile::exists(full)); // nothing half-written left behind

        // A folder that cannot be made (its parent is a file).
        const QString blocked = input + QStringLiteral("/out.bvh");
        QVERIFY(panel.exportTo(blocked));
        QVERIFY(finished.wait(20000));
        QCOMPARE(finished.at(1).at(0).toBool(), false);
        QVERIFY2(finished.at(1).at(1).toString().contains(QStringLiteral("out.bvh")),
                 qPrintable(finished.at(1).at(1).toString()));

        QVERIFY(panel.exportTo(m_dir.filePath(QStringLiteral("fine.npy"))));
        QVERIFY(finished.wait(20000));
        QCOMPARE(finished.at(2).at(0).toBool(), true);
    }

    void anExportToAReadOnlyFolderSaysSo()
    {
        // /sys/kernel refuses new files even to root (the tests run as root, which ignores
        // permission bits, so a chmod 0555 folder would not do).
        const QString readOnly = QStringLiteral("/sys/kernel/walk.bvh");
        if (QFile file(readOnly); file.open(QIODevice::WriteOnly)) {
            file.remove();
            QSKIP("/sys/kernel is writable here");
        }
        const QString input = m_dir.filePath(QStringLiteral("walk_ro.npy"));
        npy::write(input.toStdString(), torch::rand({40, 22, 3}) + 0.5);
        ExportPanel panel;
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QVERIFY(panel.openMotion(input));
        QSignalSpy finished(&panel, &ExportPanel::exportFinished);
        QVERIFY(panel.exportTo(readOnly));
        QVERIFY(finished.wait(20000));
        QCOMPARE(finished.at(0).at(0).toBool(), false);
        const QString message = finished.at(0).at(1).toString();
        QVERIFY2(message.contains(readOnly), qPrintable(message));
        QVERIFY(panel.exportTo(m_dir.filePath(QStringLiteral("fine_ro.bvh"))));
        QVERIFY(finished.wait(20000));
        QCOMPARE(finished.at(1).at(0).toBool(), true);
    }

    void aStudyLockedByAnotherProgramStillOpens()
    {
        const QString path = m_dir.filePath(QStringLiteral("held.mpstudy"));
        {
            StudyStore store;
            store.open(path, true);
        }
        // Another program in the middle of a write transaction: WAL lets us read meanwhile, so
        // opening must neither wait for it nor fail.
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), "holder");
        db.setDatabaseName(path);
        QVERIFY(db.open());
        {
            QSqlQuery query(db);
            QVERIFY(query.exec(QStringLiteral("BEGIN EXCLUSIVE")));
            QVERIFY(query.exec(QStringLiteral(
                "INSERT INTO study_meta (key, value) VALUES ('held_by', 'another program')")));
        }
        Settings settings(m_dir.filePath(QStringLiteral("held.ini")));
        MainWindow window(settings);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QElapsedTimer clock;
        clock.start();
        {
            MessageCatcher catcher;
            QVERIFY2(window.openStudy(path, false), qPrintable(catcher.text));
        }
        QVERIFY2(clock.elapsed() < 3000, qPrintable(QString::number(clock.elapsed())));
        QVERIFY(QSqlQuery(db).exec(QStringLiteral("ROLLBACK")));
        db.close();
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase(QStringLiteral("holder"));
    }

    void aKilledJobAFailedJobAndAVanishedRunAreTold()
    {
        Settings settings(m_dir.filePath(QStringLiteral("t.ini")));
        // Killed: the process dies by SIGKILL (as the kernel's out-of-memory killer does).
        qputenv("MOTIONPREF_CLI",
                writeFakeCli(m_dir.path(), QStringLiteral("kill -9 $$")).toUtf8());
        {
            TrainPanel panel(settings);
            QSignalSpy known(&panel, &TrainPanel::trainingAvailabilityKnown);
            QVERIFY(known.wait(10000));
            runFakeJob(panel, m_dir.filePath(QStringLiteral("killed")));
            QTRY_COMPARE_WITH_TIMEOUT(panel.job()->state(), JobRunner::State::Finished, 15000);
            QTRY_VERIFY(trainMessage(panel).contains(QStringLiteral("killed")));
            QVERIFY(trainMessage(panel).contains(QStringLiteral("after step 3")));
            QVERIFY(trainMessage(panel).contains(QStringLiteral("Resume")));
        }
        // Failed: the NaN guard's event.
        qputenv("MOTIONPREF_CLI",
                writeFakeCli(m_dir.path(),
                             QStringLiteral("echo '{\"type\":\"failed\",\"step\":3,\"epoch\":0,"
                                            "\"time\":0,\"reason\":\"the loss is NaN\"}' >> "
                                            "\"$out/events.jsonl\"; exit 1"))
                    .toUtf8());
        {
            TrainPanel panel(settings);
            QSignalSpy known(&panel, &TrainPanel::trainingAvailabilityKnown);
            QVERIFY(known.wait(10000));
            runFakeJob(panel, m_dir.filePath(QStringLiteral("nan")));
            QTRY_COMPARE_WITH_TIMEOUT(panel.job()->state(), JobRunner::State::Finished, 15000);
            QTRY_VERIFY(trainMessage(panel).contains(QStringLiteral("failed at step 3")));
            QVERIFY(trainMessage(panel).contains(QStringLiteral("the loss is NaN")));
        }
        // Vanished: the run directory is deleted while the job runs and the panel follows it.
        qputenv(
            "MOTIONPREF_CLI",
            writeFakeCli(m_dir.path(), QStringLiteral("while [ -d \"$out\" ]; do sleep 0.05; done"))
                .toUtf8());
        {
            TrainPanel panel(settings);
            QSignalSpy known(&panel, &TrainPanel::trainingAvailabilityKnown);
            QVERIFY(known.wait(10000));
            const QString runDir = m_dir.filePath(QStringLiteral("vanishing"));
            runFakeJob(panel, runDir);
            QTRY_VERIFY_WITH_TIMEOUT(
                QFile::exists(QDir(runDir).filePath(QStringLiteral("config.json"))), 10000);
            QTest::qWait(300);
            QVERIFY(QDir(runDir).removeRecursively());
            QTRY_COMPARE_WITH_TIMEOUT(panel.job()->state(), JobRunner::State::Finished, 15000);
            QTRY_VERIFY(trainMessage(panel).contains(QStringLiteral("is gone")));
            // The panel goes on: a finished run opens and is charted.
            QVERIFY(panel.openRun(m_dir.filePath(QStringLiteral("nan"))));
        }
        qunsetenv("MOTIONPREF_CLI");
    }
};

QTEST_MAIN(FailureCasesTest)
#include "failure_cases_test.moc"
