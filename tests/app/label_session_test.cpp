// The labeling session without widgets, on a tiny random bundle: typed prompts reuse one prompt
// row and prefetch one pair; a prompt list ends; the study queue shows stored pairs from their
// features, a .npy file or codes decoded by the model; undo shows a pair again; a model that
// cannot load is named.

// LibTorch before Qt: Qt's `slots` keyword macro breaks torch's jit headers.
#include "tiny_bundle.h"

#include "app/study/label_session.h"
#include "app/study/pair_generation.h"
#include "app/study/study_store.h"
#include "ml/core/error.h"
#include "ml/data/npy.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace mp;

class LabelSessionTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_bundle;
    int m_counter = 0;

    QString freshStudy() { return m_dir.filePath(QStringLiteral("s%1.mpstudy").arg(++m_counter)); }
    static bool waitForPair(LabelSession &session, qint64 notPairId = -1)
    {
        return QTest::qWaitFor(
            [&] { return session.current() && session.current()->pairId != notPairId; }, 20000);
    }
    static bool waitIdle(LabelSession &session)
    {
        return QTest::qWaitFor([&] { return !session.isBusy(); }, 20000);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_bundle = QString::fromStdString(
            test::writeTinyBundle(m_dir.filePath(QStringLiteral("tiny")).toStdString()).string());
    }

    void typedPromptPrefetchesAndReusesItsRow()
    {
        StudyStore store;
        store.open(freshStudy(), true);
        LabelSession session;
        session.setStore(&store);
        session.setLabeler(QStringLiteral("ana"));
        session.setModelDir(m_bundle);
        QVERIFY(!session.current());
        session.startTyped(QStringLiteral("  a person   waves  "));
        QVERIFY(waitForPair(session));
        QVERIFY(waitIdle(session));
        // One pair on screen and stored; the next one generated but not stored yet.
        QCOMPARE(store.counts().pairs, qint64(1));
        QCOMPARE(session.current()->prompt, QStringLiteral("a person waves"));
        QCOMPARE(session.current()->leftClip().numJoints, 22);
        QVERIFY(session.current()->leftClip().numFrames > 0);

        QSignalSpy stored(&session, &LabelSession::labelStored);
        for (int i = 0; i < 3; ++i) {
            const qint64 pairId = session.current()->pairId;
            QVERIFY(session.labelCurrent(ShownChoice::Left, PreferenceDegree::Better) > 0);
            QVERIFY(waitForPair(session, pairId));
        }
        QCOMPARE(stored.count(), 3);
        QVERIFY(stored.at(0).at(2).toString().contains(QStringLiteral("left was sample_")));
        QVERIFY(stored.at(0).at(2).toString().contains(QStringLiteral("model bundle, seed")));
        QCOMPARE(store.counts().prompts, qint64(1)); // one row for the typed prompt
        QCOMPARE(store.counts().pairs, qint64(4));
        for (const LabelRecord &label : store.currentLabels()) {
            const PairInfo pair = store.pair(label.pairId);
            QCOMPARE(label.choice, std::optional<Choice>(pair.leftSample == 1 ? Choice::Sample1
                                                                              : Choice::Sample2));
            QCOMPARE(label.labeler, QStringLiteral("ana"));
        }
        const LabelSession::Progress progress = session.progress();
        QCOMPARE(progress.labeledThisSession, 3);
        QCOMPARE(progress.total, 0);
    }

    void promptListEnds()
    {
        StudyStore store;
        store.open(freshStudy(), true);
        LabelSession session;
        session.setStore(&store);
        session.setLabeler(QStringLiteral("ben"));
        session.setModelDir(m_bundle);
        session.startList({QStringLiteral("a person runs"), QStringLiteral("a person sits")},
                          QStringLiteral("two"));
        QVERIFY(waitForPair(session));
        QCOMPARE(session.progress().position, 1);
        QCOMPARE(session.progress().total, 2);
        const qint64 first = session.current()->pairId;
        session.labelCurrent(ShownChoice::Unsure, std::nullopt);
        QVERIFY(waitForPair(session, first));
        QCOMPARE(session.current()->prompt, QStringLiteral("a person sits"));
        QCOMPARE(session.progress().position, 2);
        session.labelCurrent(ShownChoice::Skip, std::nullopt, SkipReason::PromptUnclear);
        QVERIFY(waitIdle(session));
        QVERIFY(!session.current());
        QVERIFY2(session.waitingMessage().contains(QStringLiteral("done")),
                 qPrintable(session.waitingMessage()));
        QCOMPARE(store.counts().pairs, qint64(2));
        QCOMPARE(store.counts().skippedPairs, qint64(1));
    }

    void newSamplingRemakesThePairPreparedAhead()
    {
        StudyStore store;
        store.open(freshStudy(), true);
        LabelSession session;
        session.setStore(&store);
        session.setLabeler(QStringLiteral("fay"));
        session.setModelDir(m_bundle);
        session.startList({QStringLiteral("one"), QStringLiteral("two"), QStringLiteral("three")},
                          QStringLiteral("three"));
        QVERIFY(waitForPair(session));
        QVERIFY(waitIdle(session)); // "two" is ready, made at temperature 1
        session.setSampling({.temperature = 0.5, .topK = 5, .topP = 0.9});
        QStringList shown;
        while (waitForPair(session, shown.isEmpty() ? -1 : store.pairs().back().id)) {
            shown << session.current()->prompt;
            const PairInfo pair = store.pair(session.current()->pairId);
            const double expected = shown.size() == 1 ? 1.0 : 0.5;
            QCOMPARE(store.sample(pair.sample1Id).temperature, expected);
            QCOMPARE(store.sample(pair.sample2Id).topK, shown.size() == 1 ? 50 : 5);
            session.labelCurrent(ShownChoice::Right, PreferenceDegree::SlightlyBetter);
            if (shown.size() == 3)
                break;
        }
        QCOMPARE(shown, (QStringList{QStringLiteral("one"), QStringLiteral("two"),
                                     QStringLiteral("three")}));
    }

    void readsPromptListsAndNamesBadOnes()
    {
        const QString path = m_dir.filePath(QStringLiteral("list.txt"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("# prompts\n\n  a person   jumps \nsomeone waves\n");
        file.close();
        QCOMPARE(LabelSession::readPromptList(path),
                 (QStringList{QStringLiteral("a person jumps"), QStringLiteral("someone waves")}));
        const QString empty = m_dir.filePath(QStringLiteral("empty.txt"));
        QFile(empty).open(QIODevice::WriteOnly);
        for (const QString &bad : {empty, m_dir.filePath(QStringLiteral("missing.txt"))}) {
            try {
                LabelSession::readPromptList(bad);
                QFAIL("no error");
            } catch (const InputError &e) {
                QVERIFY2(QString::fromUtf8(e.what()).contains(bad), e.what());
            }
        }
    }

    void studyQueueShowsStoredPairsAndUndoRevisits()
    {
        const QString study = freshStudy();
        StudyStore store;
        store.open(study, true);
        {
            ModelBundle bundle(m_bundle.toStdString());
            const ModelIdentity model = ModelIdentity::ofDirectory(m_bundle);
            for (int i = 0; i < 3; ++i) {
                PairRequest request;
                request.prompt = QStringLiteral("a person kicks %1").arg(i);
                request.seeds = {std::uint64_t(2 * i), std::uint64_t(2 * i + 1)};
                GeneratedPair pair = generatePair(bundle, request);
                if (i == 1) { // features in .npy files, as the paper's dataset has them
                    const qint64 prompt = store.addPrompt(request.prompt, PromptSource::Imported);
                    qint64 ids[2];
                    for (int s = 0; s < 2; ++s) {
                        const QString path =
                            m_dir.filePath(QStringLiteral("f%1_%2.npy").arg(m_counter).arg(s));
                        npy::write(path.toStdString(), pair.samples[s].features);
                        ids[s] = store.addSample(
                            {.promptId = prompt, .seed = s, .featuresPath = path, .origin = "x"});
                    }
                    store.addPair(prompt, ids[0], ids[1], 2);
                    continue;
                }
                if (i == 2)
                    pair.featuresNpy = {}; // codes only: the model decodes them
                storePair(store, pair, model, 2);
            }
        }
        LabelSession session;
        session.setStore(&store);
        session.setLabeler(QStringLiteral("cho"));
        session.setModelDir(m_bundle);
        session.startStudy();
        QVERIFY(waitForPair(session));
        QCOMPARE(session.current()->pairId, qint64(1));
        QCOMPARE(store.pair(1).assignedTo, QStringLiteral("cho"));
        QCOMPARE(session.modelState(), LabelSession::ModelState::NotLoaded); // features suffice
        QCOMPARE(session.current()->leftClip().numJoints, 22);
        session.labelCurrent(ShownChoice::Right,
                             PreferenceDegree::MuchBetter); // left is sample 2: right = 1
        QCOMPARE(store.currentLabel(1)->choice, std::optional<Choice>(Choice::Sample1));
        QVERIFY(waitForPair(session, 1));
        QCOMPARE(session.current()->pairId, qint64(2));
        session.labelCurrent(ShownChoice::Left, PreferenceDegree::SlightlyBetter);
        QVERIFY(waitForPair(session, 2));
        QCOMPARE(session.current()->pairId, qint64(3));
        QCOMPARE(session.modelState(), LabelSession::ModelState::Ready); // decoded pair 3
        QVERIFY(session.current()->leftClip().numFrames > 0);
        QCOMPARE(session.progress().position, 2);
        QCOMPARE(session.progress().total, 3);

        // Undo of pair 2's label: retracted in the store, shown again; pair 3 comes next.
        store.retractLabel(2, QStringLiteral("cho"));
        session.revisit(2);
        QVERIFY(waitForPair(session, 3));
        QCOMPARE(session.current()->pairId, qint64(2));
        session.labelCurrent(ShownChoice::Left, PreferenceDegree::MuchBetter);
        QVERIFY(waitForPair(session, 2));
        QCOMPARE(session.current()->pairId, qint64(3));
        session.labelCurrent(ShownChoice::Skip, std::nullopt, SkipReason::Identical);
        QVERIFY(waitIdle(session));
        QVERIFY(!session.current());
        QVERIFY(session.waitingMessage().contains(QStringLiteral("Every pair")));
        QCOMPARE(store.counts().labeledPairs, qint64(3));
        QCOMPARE(store.currentLabel(2)->degree,
                 std::optional<PreferenceDegree>(PreferenceDegree::MuchBetter));
    }

    void changingTheLabelerHandsTheStudyPairOver()
    {
        StudyStore store;
        store.open(freshStudy(), true);
        {
            ModelBundle bundle(m_bundle.toStdString());
            const ModelIdentity model = ModelIdentity::ofDirectory(m_bundle);
            PairRequest request;
            request.prompt = QStringLiteral("a person squats");
            storePair(store, generatePair(bundle, request), model, 1);
        }
        LabelSession session;
        session.setStore(&store);
        session.setLabeler(QStringLiteral("dan"));
        session.startStudy();
        QVERIFY(waitForPair(session));
        QCOMPARE(store.pair(1).assignedTo, QStringLiteral("dan"));
        session.setLabeler(QStringLiteral("eve"));
        QVERIFY(waitForPair(session));
        QCOMPARE(store.pair(1).assignedTo, QStringLiteral("eve"));
        session.labelCurrent(ShownChoice::Left, PreferenceDegree::Unsure);
        QCOMPARE(store.currentLabel(1)->labeler, QStringLiteral("eve"));
    }

    void aModelThatCannotLoadIsNamed()
    {
        StudyStore store;
        store.open(freshStudy(), true);
        LabelSession session;
        session.setStore(&store);
        const QString missing = m_dir.filePath(QStringLiteral("nowhere"));
        session.setModelDir(missing);
        session.startTyped(QStringLiteral("a person walks"));
        QTRY_COMPARE(session.modelState(), LabelSession::ModelState::Failed);
        QVERIFY(session.modelMessage().contains(missing));
        QVERIFY(session.waitingMessage().contains(missing));
        QVERIFY(!session.current());
        QCOMPARE(session.labelCurrent(ShownChoice::Left, PreferenceDegree::MuchBetter), qint64(0));
        // Pointing it at a good bundle recovers.
        session.setModelDir(m_bundle);
        QVERIFY(waitForPair(session));
    }
};

QTEST_GUILESS_MAIN(LabelSessionTest)
#include "label_session_test.moc"
