// Issue 22 in the GUI: gold pairs come into the Label panel's study queue at the study's rate,
// look like any pair on screen and their answers feed the labeler's gold accuracy; a skip's
// reason tags are chosen with letter keys; the Dataset panel's Labelers tab shows the measures
// and sets the training filter and the check rates. MP_SCREENSHOT_DIR saves
// label-reason-keys.png and dataset-labelers.png.

#include "app/core/settings.h"
#include "app/study/check_pairs.h"
#include "app/study/label_session.h"
#include "app/study/labeler_quality.h"
#include "app/study/study_split.h"
#include "app/study/study_store.h"
#include "ml/data/npy.h"
#include "ui/dataset/dataset_panel.h"
#include "ui/dataset/labeler_view.h"
#include "ui/label/label_panel.h"
#include "viewer/playback_clock.h"

#include <ATen/ATen.h>

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QPushButton>
#include <QScreen>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>

#include <cmath>

using namespace mp;

namespace {

// A small motion as 263-d features: the root at 0.9 m, joints spread around it, a slow sway.
QByteArray swayFeatures(int frames, double phase)
{
    at::Tensor features = at::zeros({frames, 263}, at::kFloat);
    auto f = features.accessor<float, 2>();
    for (int t = 0; t < frames; ++t) {
        f[t][3] = 0.9f;
        for (int j = 0; j < 21; ++j) {
            f[t][4 + 3 * j] = 0.1f * static_cast<float>(std::sin(j + phase + 0.2 * t));
            f[t][5 + 3 * j] = 0.9f - 0.04f * static_cast<float>(j);
            f[t][6 + 3 * j] = 0.05f * static_cast<float>(std::cos(j + phase));
        }
    }
    const std::string bytes = npy::toBytes(features);
    return QByteArray(bytes.data(), static_cast<qsizetype>(bytes.size()));
}

void addPairs(StudyStore &store, int count)
{
    for (int i = 0; i < count; ++i) {
        const qint64 prompt =
            store.addPrompt(QStringLiteral("a person sways %1").arg(i), PromptSource::Typed);
        SampleInfo a{.promptId = prompt, .seed = 2 * i, .tokens = {1, 2, 3}};
        a.features = swayFeatures(20, i);
        SampleInfo b{.promptId = prompt, .seed = 2 * i + 1, .tokens = {4, 5, 6}};
        b.features = swayFeatures(20, i + 0.5);
        store.addPair(prompt, store.addSample(a), store.addSample(b), 1 + i % 2);
    }
}

void screenshot(QWidget &widget, const QString &name)
{
    const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR");
    if (shots.isEmpty())
        return;
    QTest::qWait(300);
    const QRect frame = widget.frameGeometry();
    widget.screen()
        ->grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
        .save(shots + QLatin1Char('/') + name);
}

} // namespace

class LabelerChecksTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    static bool waitForPair(LabelPanel &panel, qint64 notPairId)
    {
        return QTest::qWaitFor(
            [&] {
                const auto *item = panel.session()->current();
                return item && item->pairId != notPairId;
            },
            20000);
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void goldPairsComeAtTheRateUnmarked()
    {
        const QString path = m_dir.filePath(QStringLiteral("gold.mpstudy"));
        StudyStore store;
        store.open(path, true);
        addPairs(store, 24);
        setCheckRates(store, {.gold = 0.25});
        Settings settings(m_dir.filePath(QStringLiteral("gold.ini")));
        settings.setLabelerName(QStringLiteral("ana"));
        QUndoStack undo;
        LabelPanel panel(settings, &undo);
        panel.setStore(&store);
        panel.session()->setCheckSeed(7);
        panel.resize(1000, 700);
        panel.show();
        panel.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&panel));
        QSignalSpy reveals(panel.session(), &LabelSession::labelStored);
        panel.labelStudyPairs();
        int shown = 0;
        int golds = 0;
        qint64 last = -1;
        for (;;) {
            // The next pair, or the end of the queue.
            QVERIFY(QTest::qWaitFor(
                [&] {
                    const auto *item = panel.session()->current();
                    return (item && item->pairId != last) ||
                           panel.session()->waitingMessage().contains(QStringLiteral("Every pair"));
                },
                20000));
            const LabelSession::Item *item = panel.session()->current();
            if (!item || item->pairId == last)
                break;
            const PairInfo pair = store.pair(item->pairId);
            QCOMPARE(item->prompt, pair.promptText);
            for (const QString &word : {QStringLiteral("gold"), QStringLiteral("check"),
                                        QStringLiteral("repeat"), QStringLiteral("corrupt")})
                QVERIFY2(!panel.statusText().contains(word, Qt::CaseInsensitive),
                         qPrintable(panel.statusText()));
            ++shown;
            Qt::Key key = Qt::Key_1; // left, much better
            if (pair.kind == PairKind::Gold) {
                ++golds;
                const int expected = pair.goldExpected == pair.sample1Id ? 1 : 2;
                key = expected == pair.leftSample ? Qt::Key_1 : Qt::Key_9;
            }
            last = item->pairId;
            QTest::keyClick(&panel, key);
            QVERIFY(shown < 60);
        }
        for (const QList<QVariant> &reveal : reveals)
            QVERIFY2(!reveal.at(2).toString().contains(QStringLiteral("gold")),
                     qPrintable(reveal.at(2).toString()));
        QCOMPARE(store.counts().labeledPairs, qint64(24));
        // 24 normal pairs at a share of 0.25: about 8 gold ones among about 32 shown.
        QVERIFY2(golds >= 3 && golds <= 16, qPrintable(QString::number(golds)));
        QCOMPARE(shown, 24 + golds);
        const QualityReport report = computeLabelerQuality(store);
        QCOMPARE(report.labelers.size(), std::size_t(1));
        QCOMPARE(report.labelers.front().goldJudged, golds);
        QCOMPARE(report.labelers.front().goldCorrect, golds);
        QCOMPARE(trainablePairs(store).size(), std::size_t(24)); // no gold pair in training data
    }

    void reasonTagsByKeys()
    {
        StudyStore store;
        store.open(m_dir.filePath(QStringLiteral("tags.mpstudy")), true);
        addPairs(store, 2);
        Settings settings(m_dir.filePath(QStringLiteral("tags.ini")));
        settings.setLabelerName(QStringLiteral("bo"));
        QUndoStack undo;
        LabelPanel panel(settings, &undo);
        panel.setStore(&store);
        panel.resize(1100, 700);
        panel.show();
        panel.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&panel));
        panel.labelStudyPairs();
        QVERIFY(waitForPair(panel, -1));
        const qint64 pairId = panel.session()->current()->pairId;
        // Both 20-frame motions play to the end (1 s at 20 fps) before the vote.
        QTest::qWait(1500); // the clock loops: its last frame passes in 50 ms

        QTest::keyClick(&panel, Qt::Key_W); // not skipping yet: no tag
        QVERIFY(panel.checkedTags().empty());
        QTest::keyClick(&panel, Qt::Key_0);
        QVERIFY(panel.isChoosingSkipReason());
        QTest::keyClick(&panel, Qt::Key_W);
        QTest::keyClick(&panel, Qt::Key_J);
        QTest::keyClick(&panel, Qt::Key_F);
        QTest::keyClick(&panel, Qt::Key_J); // again: untagged
        QCOMPARE(panel.checkedTags(),
                 (std::vector<ReasonTag>{ReasonTag::WrongAction, ReasonTag::FootSkating}));
        auto *jitter = panel.findChild<QPushButton *>(QStringLiteral("tag_jitter"));
        QVERIFY(jitter && jitter->isVisible() && !jitter->isChecked());
        QVERIFY(jitter->text().startsWith(QStringLiteral("J")));
        screenshot(panel, QStringLiteral("label-reason-keys.png"));
        QTest::keyClick(&panel, Qt::Key_3); // both bad
        const auto label = store.currentLabel(pairId, QStringLiteral("bo"));
        QVERIFY(label);
        QCOMPARE(label->choice, std::optional<Choice>(Choice::Skipped));
        QCOMPARE(label->skipReason, SkipReason::BothBad);
        QCOMPARE(label->tags,
                 (std::vector<ReasonTag>{ReasonTag::WrongAction, ReasonTag::FootSkating}));
        QCOMPARE(label->watchedBoth, std::optional<bool>(true));
        QVERIFY(panel.checkedTags().empty()); // the next skip starts clean

        // A vote at once, before the motions ended: not watched.
        QVERIFY(waitForPair(panel, pairId));
        const qint64 second = panel.session()->current()->pairId;
        QTest::keyClick(&panel, Qt::Key_2);
        QCOMPARE(store.currentLabel(second, QStringLiteral("bo"))->watchedBoth,
                 std::optional<bool>(false));
        QVERIFY(store.currentLabel(second, QStringLiteral("bo"))->tags.empty());
    }

    void labelerTableShowsAndSetsTraining()
    {
        const QString path = m_dir.filePath(QStringLiteral("table.mpstudy"));
        StudyStore store;
        store.open(path, true);
        addPairs(store, 4);
        const auto pairs = store.pairs();
        for (const PairInfo &pair : pairs) {
            store.addLabel(pair.id, QStringLiteral("ana"),
                           {.choice = Choice::Sample1,
                            .degree = PreferenceDegree::Better,
                            .timeOnTaskMs = 3000,
                            .watchedBoth = true});
            store.addLabel(pair.id, QStringLiteral("bo"),
                           {.choice = pair.id % 2 ? Choice::Sample1 : Choice::Sample2,
                            .degree = PreferenceDegree::MuchBetter,
                            .timeOnTaskMs = 1200,
                            .watchedBoth = false});
        }
        const qint64 gold = store.addCheckPair({.kind = PairKind::Gold,
                                                .promptId = pairs[0].promptId,
                                                .sample1Id = pairs[0].sample1Id,
                                                .sample2Id = pairs[0].sample2Id,
                                                .goldExpected = pairs[0].sample1Id,
                                                .assignedTo = QStringLiteral("ana")});
        store.addLabel(gold, QStringLiteral("ana"),
                       {.choice = Choice::Sample1, .degree = PreferenceDegree::MuchBetter});
        store.addLabel(pairs[3].id, QStringLiteral("cy"),
                       {.choice = Choice::Skipped,
                        .skipReason = SkipReason::BothBad,
                        .tags = {ReasonTag::Jitter, ReasonTag::TooShort}});
        Settings settings(m_dir.filePath(QStringLiteral("table.ini")));
        DatasetPanel panel(settings);
        panel.setStore(&store);
        panel.tabs()->setCurrentIndex(1);
        panel.resize(1400, 600);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        LabelerView *view = panel.labelers();
        QTableWidget *table = view->labelers();
        QCOMPARE(table->rowCount(), 3);
        QCOMPARE(table->item(0, LabelerView::NameColumn)->text(), QStringLiteral("ana"));
        QCOMPARE(table->item(0, LabelerView::GoldColumn)->text(), QStringLiteral("100% (1/1)"));
        QCOMPARE(table->item(0, LabelerView::TimeColumn)->text(), QStringLiteral("3.0 s"));
        QCOMPARE(table->item(1, LabelerView::WatchedColumn)->text(), QStringLiteral("0% of 4"));
        QCOMPARE(view->reasons()->rowCount(), 1); // one model ("imported"), cy's skip
        QCOMPARE(view->reasons()->item(0, 2 + static_cast<int>(ReasonTag::Jitter))->text(),
                 QStringLiteral("1"));
        screenshot(panel, QStringLiteral("dataset-labelers.png"));

        table->item(1, LabelerView::TrainColumn)->setCheckState(Qt::Unchecked); // leave bo out
        view->rule()->setCurrentIndex(view->rule()->findData(QStringLiteral("majority")));
        const TrainingLabelOptions training = studyTrainingLabels(store);
        QCOMPARE(training.excludedLabelers, QStringList{QStringLiteral("bo")});
        QCOMPARE(training.rule, LabelAggregation::Majority);
        view->goldRate()->setValue(20);
        QCOMPARE(checkRates(store).gold, 0.2);
        QTRY_COMPARE(table->rowCount(), 3); // refilled after the change, still there
        QCOMPARE(table->item(1, LabelerView::TrainColumn)->checkState(), Qt::Unchecked);
    }
};

QTEST_MAIN(LabelerChecksTest)
#include "labeler_checks_test.moc"
