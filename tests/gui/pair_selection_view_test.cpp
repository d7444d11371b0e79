// Issue 21 in the GUI: the Dataset panel's Labelers tab sets the study's pair selection (rule,
// candidates, diversity, β), shows its online round, and "Next round" trains one as a
// background job (motionpref-cli study next-round on the embedded default model). MP_SCREENSHOT_DIR
// saves dataset-pair-selection.png.

#include "app/core/settings.h"
#include "app/jobs/job_runner.h"
#include "app/study/active_pairs.h"
#include "app/study/study_store.h"
#include "ui/dataset/dataset_panel.h"
#include "ui/dataset/labeler_view.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace mp;

class PairSelectionViewTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;

private slots:
    void nextRoundRunsAsABackgroundJob();
    void setsTheRuleAndShowsTheRound()
    {
        QVERIFY(m_dir.isValid());
        StudyStore store;
        store.open(m_dir.filePath(QStringLiteral("s.mpstudy")), true);
        Settings settings(m_dir.filePath(QStringLiteral("table.ini")));
        DatasetPanel panel(settings);
        panel.setStore(&store);
        panel.tabs()->setCurrentIndex(1);
        panel.resize(1400, 600);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        LabelerView *view = panel.labelers();
        QCOMPARE(view->pairRule()->currentData().toString(), QStringLiteral("random"));
        QCOMPARE(view->candidates()->value(), 2);
        QVERIFY2(view->roundLabel()->text().startsWith(QStringLiteral("0 (base), 0 new")),
                 qPrintable(view->roundLabel()->text()));

        view->pairRule()->setCurrentIndex(view->pairRule()->findData(QStringLiteral("margin")));
        view->candidates()->setValue(5);
        view->diversity()->setValue(0.5);
        const PairSelectionSettings stored = pairSelectionSettings(store);
        QCOMPARE(stored.rule, PairRule::Margin);
        QCOMPARE(stored.candidates, 5);
        QCOMPARE(stored.diversity, 0.5);
        // The ensemble rule is offered and stored as the others are.
        QCOMPARE(view->pairRule()->count(), 3);
        view->pairRule()->setCurrentIndex(view->pairRule()->findData(QStringLiteral("ensemble")));
        QCOMPARE(view->pairRule()->currentText(), QStringLiteral("Reward-ensemble disagreement"));
        QCOMPARE(pairSelectionSettings(store).rule, PairRule::Ensemble);
        QCOMPARE(pairSelectionSettings(store).candidates, 5);

        // A round recorded elsewhere (motionpref-cli study next-round) shows after a refresh.
        const QDir adapter(m_dir.filePath(QStringLiteral("adapter")));
        QVERIFY(QDir().mkpath(adapter.path()));
        const qint64 adapterId = store.addAdapter(std::nullopt, QStringLiteral("round-1"),
                                                  adapter.path(), QStringLiteral("h"));
        store.addRound({.round = 1, .adapterId = adapterId, .trainedLabels = 12});
        view->refresh();
        QVERIFY2(view->roundLabel()->text().startsWith(QStringLiteral("1 (12 trained)")),
                 qPrintable(view->roundLabel()->text()));
        QCOMPARE(view->candidates()->value(), 5); // refilled from the study

        const QByteArray shots = qgetenv("MP_SCREENSHOT_DIR");
        if (!shots.isEmpty())
            QVERIFY(panel.grab().save(QDir(QString::fromLocal8Bit(shots))
                                          .filePath(QStringLiteral("dataset-pair-selection.png"))));
    }
};

void PairSelectionViewTest::nextRoundRunsAsABackgroundJob()
{
    StudyStore store;
    store.open(m_dir.filePath(QStringLiteral("rounds.mpstudy")), true);
    for (int i = 0; i < 4; ++i) {
        const qint64 prompt =
            store.addPrompt(QStringLiteral("a person walks %1 steps").arg(i), PromptSource::Typed);
        const qint64 a = store.addSample({.promptId = prompt, .seed = i, .tokens = {i, 7, 9}});
        const qint64 b = store.addSample({.promptId = prompt, .seed = 100 + i, .tokens = {30, 31}});
        const qint64 pair = store.addPair(prompt, a, b, 1);
        store.addLabel(pair, QStringLiteral("ana"),
                       {.choice = Choice::Sample1, .degree = PreferenceDegree::Better});
    }
    qputenv("MOTIONPREF_CLI", QDir(QCoreApplication::applicationDirPath())
                                  .filePath(QStringLiteral("../app/motionpref-cli"))
                                  .toUtf8());
    Settings settings(m_dir.filePath(QStringLiteral("rounds.ini")));
    DatasetPanel panel(settings);
    panel.setStore(&store);
    panel.tabs()->setCurrentIndex(1);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    LabelerView *view = panel.labelers();
    QTest::mouseClick(view->nextRoundButton(), Qt::LeftButton);
    QVERIFY(!view->nextRoundButton()->isEnabled()); // one round at a time
    QTRY_VERIFY_WITH_TIMEOUT(view->roundJob()->state() == JobRunner::State::Finished, 90000);
    QVERIFY(view->nextRoundButton()->isEnabled());
    QCOMPARE(store.rounds().size(), std::size_t(1));
    QCOMPARE(store.rounds().front().trainedLabels, 4);
    QVERIFY2(view->roundLabel()->text().startsWith(QStringLiteral("1 (4 trained), 0 new")),
             qPrintable(view->roundLabel()->text()));
    qunsetenv("MOTIONPREF_CLI");
}

QTEST_MAIN(PairSelectionViewTest)
#include "pair_selection_view_test.moc"
