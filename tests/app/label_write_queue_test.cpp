// LabelWriteQueue when a queued label fails for a reason other than the lock: the label is
// dropped and reported, and the undo queued after it goes with it, so the labeler's previous
// label stays current (an undo left alone would retract that older label instead).

#include "app/study/label_write_queue.h"
#include "app/study/study_store.h"

#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace mp;

class LabelWriteQueueTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    static LabelInput preferFirst(const QString &comment)
    {
        LabelInput input;
        input.choice = Choice::Sample1;
        input.degree = PreferenceDegree::Better;
        input.comment = comment;
        return input;
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void aFailedQueuedLabelTakesItsUndoAlong()
    {
        const QString path = m_dir.filePath(QStringLiteral("queue.mpstudy"));
        StudyStore store;
        store.open(path, true);
        const qint64 prompt =
            store.addPrompt(QStringLiteral("a person waves"), PromptSource::Typed);
        const qint64 pair = store.addPair(
            prompt, store.addSample(SampleInfo{.promptId = prompt, .seed = 1, .tokens = {1, 2}}),
            store.addSample(SampleInfo{.promptId = prompt, .seed = 2, .tokens = {3}}), 1);
        const qint64 first = store.addLabel(pair, QStringLiteral("ana"), preferFirst("kept"));

        // Another program: a trigger that refuses one label (a non-lock error, as a full disk
        // would give), then an exclusive lock so that the next writes queue.
        QSqlDatabase other = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), "other");
        other.setDatabaseName(path);
        QVERIFY(other.open());
        {
            QSqlQuery query(other);
            QVERIFY2(query.exec(QStringLiteral(
                         "CREATE TRIGGER refuse BEFORE INSERT ON labels WHEN NEW.comment = 'boom' "
                         "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")),
                     qPrintable(query.lastError().text()));
            QVERIFY(query.exec(QStringLiteral("BEGIN EXCLUSIVE")));
        }
        store.setBusyTimeoutMs(20);

        LabelWriteQueue queue;
        queue.setStore(&store);
        QSignalSpy failed(&queue, &LabelWriteQueue::failed);
        using Kind = LabelWriteQueue::Write::Kind;
        const QString ana = QStringLiteral("ana");
        QCOMPARE(queue.submit({Kind::Label, pair, ana, preferFirst("boom")}), 0);
        QCOMPARE(queue.submit({Kind::Retraction, pair, ana, {}}), 0);
        QCOMPARE(queue.pendingCount(), 2);

        QVERIFY(QSqlQuery(other).exec(QStringLiteral("COMMIT")));
        QVERIFY(queue.flush(1000));
        QCOMPARE(failed.count(), 1);
        const QString message = failed.front().front().toString();
        QVERIFY2(message.contains(QStringLiteral("refused by the test")), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("undo was dropped")), qPrintable(message));

        const auto current = store.currentLabel(pair, ana);
        QVERIFY(current);
        QCOMPARE(current->id, first);
        QCOMPARE(current->comment, QStringLiteral("kept"));
    }

    void anUndoAfterAStoredLabelStillRetractsIt()
    {
        const QString path = m_dir.filePath(QStringLiteral("undo.mpstudy"));
        StudyStore store;
        store.open(path, true);
        const qint64 prompt = store.addPrompt(QStringLiteral("a person sits"), PromptSource::Typed);
        const qint64 pair = store.addPair(
            prompt, store.addSample(SampleInfo{.promptId = prompt, .seed = 1, .tokens = {1}}),
            store.addSample(SampleInfo{.promptId = prompt, .seed = 2, .tokens = {2}}), 2);
        LabelWriteQueue queue;
        queue.setStore(&store);
        using Kind = LabelWriteQueue::Write::Kind;
        const QString bo = QStringLiteral("bo");
        QVERIFY(queue.submit({Kind::Label, pair, bo, preferFirst("first")}) > 0);
        QVERIFY(queue.submit({Kind::Retraction, pair, bo, {}}) > 0);
        QVERIFY(!store.currentLabel(pair, bo));
    }
};

QTEST_GUILESS_MAIN(LabelWriteQueueTest)
#include "label_write_queue_test.moc"
