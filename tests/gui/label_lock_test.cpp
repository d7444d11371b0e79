// The Label panel on a study that another program holds locked (BEGIN EXCLUSIVE on a second
// connection): every key press returns at once, a timer of the GUI thread keeps firing, the
// panel says that the labels are not saved yet and why; once the lock is gone, the label, its
// undo and the label given after it are stored in that order, each once, and the next pair
// comes.

// LibTorch before Qt: Qt's `slots` keyword macro breaks torch's jit headers.
#include "../app/tiny_bundle.h"

#include "app/core/settings.h"
#include "app/study/label_session.h"
#include "app/study/label_write_queue.h"
#include "app/study/pair_generation.h"
#include "app/study/study_store.h"
#include "ui/label/label_panel.h"
#include "ui/main_window.h"

#include <QAbstractButton>
#include <QApplication>
#include <QElapsedTimer>
#include <QMessageBox>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QUndoStack>

#include <functional>
#include <memory>

using namespace mp;

class LabelLockTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_bundle;

    // A study of two generated pairs at PATH.
    void writeStudy(const QString &path)
    {
        StudyStore store;
        store.open(path, true);
        ModelBundle bundle(m_bundle.toStdString());
        const ModelIdentity model = ModelIdentity::ofDirectory(m_bundle);
        for (int i = 0; i < 2; ++i) {
            PairRequest request;
            request.prompt = QStringLiteral("a person jumps %1").arg(i);
            request.seeds = {std::uint64_t(i), std::uint64_t(i + 10)};
            storePair(store, generatePair(bundle, request), model, 1);
        }
    }

    // Answers the next message box with BUTTON after running BEFORE; keeps its text.
    static void answerNextMessageBox(QMessageBox::StandardButton button, QString *text,
                                     std::function<void()> before = {})
    {
        auto *poll = new QTimer;
        poll->setInterval(20);
        QObject::connect(poll, &QTimer::timeout, [=] {
            auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
            if (!box)
                return;
            poll->stop();
            poll->deleteLater();
            *text = box->text();
            if (before)
                before();
            box->button(button)->click();
        });
        poll->start();
    }

    // A key press on the panel; returns how long the GUI thread was away.
    static qint64 press(QWidget *widget, Qt::Key key, Qt::KeyboardModifiers modifiers = {})
    {
        QElapsedTimer clock;
        clock.start();
        QTest::keyClick(widget, key, modifiers);
        return clock.elapsed();
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_bundle = QString::fromStdString(
            test::writeTinyBundle(m_dir.filePath(QStringLiteral("tiny")).toStdString()).string());
    }

    void labelsWhileTheStudyIsLockedAreStoredInOrderAfterwards()
    {
        const QString studyPath = m_dir.filePath(QStringLiteral("locked.mpstudy"));
        writeStudy(studyPath);
        Settings settings(m_dir.filePath(QStringLiteral("locked.ini")));
        settings.setModelDir(m_bundle);
        settings.setLabelerName(QStringLiteral("ana"));
        StudyStore store;
        store.open(studyPath);
        QUndoStack undo;
        LabelPanel panel(settings, &undo);
        panel.setStore(&store);
        QCOMPARE(store.busyTimeoutMs(), LabelSession::kBusyTimeoutMs);
        panel.resize(1000, 700);
        panel.show();
        panel.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&panel));
        panel.labelStudyPairs();
        QTRY_VERIFY_WITH_TIMEOUT(panel.session()->current(), 30000);
        QCOMPARE(panel.session()->current()->pairId, qint64(1));

        // Another program takes the write lock and keeps it.
        QSqlDatabase locker =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("locker"));
        locker.setDatabaseName(studyPath);
        QVERIFY(locker.open());
        QSqlQuery lock(locker);
        QVERIFY2(lock.exec(QStringLiteral("BEGIN EXCLUSIVE")), qPrintable(lock.lastError().text()));

        int ticks = 0;
        QTimer heartbeat;
        heartbeat.setInterval(20);
        connect(&heartbeat, &QTimer::timeout, [&] { ++ticks; });
        heartbeat.start();
        QElapsedTimer lockedFor;
        lockedFor.start();

        // Right much better (9), undo (Ctrl+Z), left better (2): three writes, all queued.
        QVERIFY2(press(&panel, Qt::Key_9) < 200, "the key press waited for the lock");
        LabelWriteQueue *queue = panel.session()->writeQueue();
        QCOMPARE(queue->pendingCount(), 1);
        QVERIFY(panel.statusText().contains(QStringLiteral("not saved yet"), Qt::CaseInsensitive));
        QVERIFY(panel.statusText().contains(QStringLiteral("locked by another program")));
        QElapsedTimer undoClock;
        undoClock.start();
        undo.undo();
        QVERIFY2(undoClock.elapsed() < 200, "undo waited for the lock");
        QTRY_VERIFY(panel.session()->current() && panel.session()->current()->pairId == 1);
        QVERIFY2(press(&panel, Qt::Key_2) < 200, "the key press waited for the lock");
        QCOMPARE(queue->pendingCount(), 3);
        // The next pair cannot be handed out while the study is locked: the panel says so.
        QTRY_VERIFY(panel.session()->waitingMessage().contains(QStringLiteral("locked")));

        // The GUI thread stays free: the heartbeat keeps its pace over a second of lock.
        QTest::qWait(1000);
        const double expected = lockedFor.elapsed() / 20.0;
        QVERIFY2(ticks > expected / 3,
                 qPrintable(
                     QStringLiteral("%1 heartbeats in %2 ms").arg(ticks).arg(lockedFor.elapsed())));
        QCOMPARE(store.labelHistory(1).size(), std::size_t(0)); // nothing got through the lock

        QVERIFY(lock.exec(QStringLiteral("COMMIT")));
        lock.finish();
        locker.close();
        QTRY_COMPARE_WITH_TIMEOUT(queue->pendingCount(), 0, 5000);
        const std::vector<LabelRecord> rows = store.labelHistory(1);
        QCOMPARE(rows.size(), std::size_t(3));
        QCOMPARE(rows[0].choice, std::optional<Choice>(Choice::Sample2)); // right, left sample 1
        QCOMPARE(rows[0].degree, std::optional<PreferenceDegree>(PreferenceDegree::MuchBetter));
        QVERIFY(rows[1].retracted);
        QCOMPARE(rows[1].supersedes, std::optional<qint64>(rows[0].id));
        QCOMPARE(rows[2].choice, std::optional<Choice>(Choice::Sample1));
        QCOMPARE(rows[2].degree, std::optional<PreferenceDegree>(PreferenceDegree::Better));
        QCOMPARE(store.currentLabel(1, QStringLiteral("ana"))->id, rows[2].id);
        QTRY_VERIFY(
            !panel.statusText().contains(QStringLiteral("not saved yet"), Qt::CaseInsensitive));
        // The session goes on by itself: the next pair of the study.
        QTRY_VERIFY_WITH_TIMEOUT(
            panel.session()->current() && panel.session()->current()->pairId == 2, 10000);
        QVERIFY(press(&panel, Qt::Key_1) < 200);
        QCOMPARE(store.counts().labeledPairs, qint64(2));
        QSqlDatabase::removeDatabase(QStringLiteral("locker"));
    }

    // Opening another study while a label waits for the lock: the window waits a few seconds,
    // then asks; Cancel keeps the study open with its label queued; Retry once the lock is gone
    // stores the label in its own study, then the other study opens (never 15 s frozen, never
    // a label written into the wrong study).
    void switchingStudiesWithAQueuedLabelAsksFirst()
    {
        const QString studyPath = m_dir.filePath(QStringLiteral("switch.mpstudy"));
        writeStudy(studyPath);
        const QString otherPath = m_dir.filePath(QStringLiteral("other.mpstudy"));
        writeStudy(otherPath);
        Settings settings(m_dir.filePath(QStringLiteral("switch.ini")));
        settings.setModelDir(m_bundle);
        settings.setLabelerName(QStringLiteral("ana"));
        MainWindow window(settings);
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QVERIFY(window.openStudy(studyPath, false));
        auto *panel = window.findChild<LabelPanel *>();
        QVERIFY(panel);
        window.panels()->setCurrentWidget(panel);
        panel->labelStudyPairs();
        QTRY_VERIFY_WITH_TIMEOUT(panel->session()->current(), 30000);

        QSqlDatabase locker =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("switcher"));
        locker.setDatabaseName(studyPath);
        QVERIFY(locker.open());
        auto lock = std::make_unique<QSqlQuery>(locker);
        QVERIFY(lock->exec(QStringLiteral("BEGIN EXCLUSIVE")));
        QVERIFY(press(panel, Qt::Key_9) < 200);
        LabelWriteQueue *queue = panel->session()->writeQueue();
        QCOMPARE(queue->pendingCount(), 1);

        QString asked;
        answerNextMessageBox(QMessageBox::Cancel, &asked);
        QElapsedTimer clock;
        clock.start();
        QVERIFY(!window.openStudy(otherPath, false));
        QVERIFY2(clock.elapsed() < 10000, qPrintable(QString::number(clock.elapsed())));
        QVERIFY2(asked.contains(QStringLiteral("not saved yet")), qPrintable(asked));
        QVERIFY2(asked.contains(studyPath), qPrintable(asked));
        QCOMPARE(window.store()->location(), studyPath);
        QCOMPARE(queue->pendingCount(), 1);

        // The other program lets go while the question is on screen; Retry saves the label.
        answerNextMessageBox(QMessageBox::Retry, &asked, [&] {
            QVERIFY(lock->exec(QStringLiteral("COMMIT")));
            lock.reset();
            locker.close();
        });
        QVERIFY(window.openStudy(otherPath, false));
        QCOMPARE(window.store()->location(), otherPath);
        QCOMPARE(queue->pendingCount(), 0);
        QCOMPARE(window.store()->counts().labeledPairs, qint64(0)); // not written here
        StudyStore first;
        first.open(studyPath);
        QCOMPARE(first.counts().labeledPairs, qint64(1));
        QCOMPARE(first.labelHistory(1).size(), std::size_t(1));
        first.close();
        QSqlDatabase::removeDatabase(QStringLiteral("switcher"));
    }
};

QTEST_MAIN(LabelLockTest)
#include "label_lock_test.moc"
