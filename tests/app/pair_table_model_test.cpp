#include "app/study/pair_table_model.h"
#include "app/study/study_store.h"

#include <QTemporaryDir>
#include <QTest>

using namespace mp;

class PairTableModelTest : public QObject {
    Q_OBJECT
private:
    qint64 makePair(StudyStore &store, const QString &prompt)
    {
        const qint64 promptId = store.addPrompt(prompt, PromptSource::Typed);
        SampleInfo a{.promptId = promptId, .seed = 1, .tokens = {1, 2, 3}};
        SampleInfo b{.promptId = promptId, .seed = 2, .tokens = {4, 5}};
        return store.addPair(promptId, store.addSample(a), store.addSample(b), 2);
    }

private slots:
    void rowsFollowLabelsAndRevisions()
    {
        QTemporaryDir dir;
        StudyStore store;
        store.open(dir.filePath("s.db"), true);
        const qint64 first = makePair(store, "a person walks");
        makePair(store, "someone jumps");

        PairTableModel model;
        model.setStore(&store);
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.index(0, PairTableModel::LabelerColumn).data().toString(),
                 QStringLiteral("unlabeled"));
        QCOMPARE(model.index(0, 0).data(PairTableModel::DegreeRole).toInt(), -1);

        // Left was sample_2 for these pairs: pressing Left prefers sample_2.
        store.addShownLabel(first, "ana", ShownChoice::Left, PreferenceDegree::MuchBetter,
                            SkipReason::None, 4200);
        QCOMPARE(model.rowCount(), 2); // reloaded by the store's signal
        QCOMPARE(model.index(0, PairTableModel::ChoiceColumn).data().toString(),
                 QStringLiteral("sample_2"));
        QCOMPARE(model.index(0, PairTableModel::DegreeColumn).data().toString(),
                 QStringLiteral("Much better"));
        QCOMPARE(model.index(0, PairTableModel::TimeColumn).data().toString(),
                 QStringLiteral("4.2"));
        QCOMPARE(model.index(0, 0).data(PairTableModel::LabelerRole).toString(),
                 QStringLiteral("ana"));

        // A second labeler adds a row; a revision replaces the labeler's row, not adds one.
        store.addShownLabel(first, "ben", ShownChoice::Right, PreferenceDegree::SlightlyBetter);
        QCOMPARE(model.rowCount(), 3);
        store.addShownLabel(first, "ana", ShownChoice::Right, PreferenceDegree::Better);
        QCOMPARE(model.rowCount(), 3);
        store.retractLabel(first, "ben");
        QCOMPARE(model.rowCount(), 2);
    }

    void splitColumnShowsMembership()
    {
        QTemporaryDir dir;
        StudyStore store;
        store.open(dir.filePath("s.db"), true);
        const qint64 a = makePair(store, "wave");
        const qint64 b = makePair(store, "kick");
        store.saveSplit(
            {.name = "default", .seed = 1, .testFraction = 0.5, .train = {a}, .test = {b}});
        PairTableModel model;
        model.setStore(&store);
        QCOMPARE(model.index(0, PairTableModel::SplitColumn).data().toString(),
                 QStringLiteral("train"));
        QCOMPARE(model.index(1, 0).data(PairTableModel::SplitRole).toString(),
                 QStringLiteral("test"));
    }

    void closedOrNoStoreIsEmpty()
    {
        PairTableModel model;
        model.setStore(nullptr);
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(model.columnCount(), int(PairTableModel::ColumnCount));
    }
};

QTEST_GUILESS_MAIN(PairTableModelTest)
#include "pair_table_model_test.moc"
