// The Label panel in the main window: ten pairs labeled by keyboard from a prompt list with a
// tiny random bundle, found in the study with the choices mapped through each pair's left side;
// undo and redo through the main window's undo stack; the study queue; the no-study page and a
// model that cannot load. MP_LABEL_MODEL_DIR replaces the tiny bundle (screenshots with the real
// model); MP_SCREENSHOT_DIR saves label-panel.png.

// LibTorch before Qt: Qt's `slots` keyword macro breaks torch's jit headers.
#include "../app/tiny_bundle.h"

#include "app/core/settings.h"
#include "app/study/label_session.h"
#include "app/study/pair_generation.h"
#include "app/study/study_store.h"
#include "ui/label/label_panel.h"
#include "ui/main_window.h"
#include "viewer/motion_viewport.h"
#include "viewer/playback_clock.h"

#include <QCheckBox>
#include <QFile>
#include <QPushButton>
#include <QScreen>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>

#include <memory>

using namespace mp;

namespace {
struct Expected {
    qint64 pairId = 0;
    Choice choice = Choice::Skipped;
    std::optional<PreferenceDegree> degree;
    SkipReason reason = SkipReason::None;
};
} // namespace

class LabelPanelTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_bundle;

    QString writePromptList(int count)
    {
        const QString path = m_dir.filePath(QStringLiteral("prompts.txt"));
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return {};
        const char *actions[] = {
            "walks forward",           "runs in a circle",         "jumps twice",
            "waves the right hand",    "kicks with the left foot", "squats down and stands up",
            "walks backward",          "turns left and walks",     "jumps forward",
            "runs forward then stops", "waves with both hands",    "steps to the right"};
        file.write("# a comment line, skipped\n\n");
        for (int i = 0; i < count; ++i)
            file.write(QStringLiteral("a person %1\n").arg(actions[i % 12]).toUtf8());
        return path;
    }

    static bool waitForPair(LabelPanel *panel, qint64 notPairId = -1)
    {
        // The first pairs may wait for the model to load and generate (a real bundle: seconds).
        return QTest::qWaitFor(
            [&] {
                const auto *item = panel->session()->current();
                return item && item->pairId != notPairId;
            },
            60000);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_bundle = qEnvironmentVariable("MP_LABEL_MODEL_DIR");
        if (m_bundle.isEmpty())
            m_bundle = QString::fromStdString(
                test::writeTinyBundle(m_dir.filePath(QStringLiteral("tiny")).toStdString())
                    .string());
    }

    void labelsTenPairsByKeyboardThenUndoes()
    {
        Settings settings(m_dir.filePath(QStringLiteral("label.ini")));
        settings.setModelDir(m_bundle);
        settings.setLabelerName(QStringLiteral("tester"));
        MainWindow window(settings);
        const QString studyPath = m_dir.filePath(QStringLiteral("ten.mpstudy"));
        QVERIFY(window.openStudy(studyPath, true));
        auto *panel = window.findChild<LabelPanel *>();
        QVERIFY(panel);
        window.panels()->setCurrentWidget(panel);
        window.resize(1280, 800);
        window.show();
        window.activateWindow(); // no window manager under Xvfb to do it
        QVERIFY(QTest::qWaitForWindowActive(&window));

        QVERIFY(panel->openPromptList(writePromptList(12)));
        QVERIFY(waitForPair(panel));
        QCOMPARE(panel->leftViewport()->title(), QStringLiteral("Left"));
        QCOMPARE(panel->rightViewport()->title(), QStringLiteral("Right"));
        QVERIFY(panel->leftViewport()->hasMotion());
        QVERIFY(panel->rightViewport()->hasMotion());
        QCOMPARE(panel->leftViewport()->clock(), panel->rightViewport()->clock());
        QVERIFY(!panel->statusText().contains(QStringLiteral("seed"))); // models hidden
        QVERIFY(panel->statusText().contains(QStringLiteral("Prompt 1 of 12")));

        if (const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR"); !shots.isEmpty()) {
            QTest::qWait(1500); // let the motions play a little
            const QRect frame = window.frameGeometry();
            window.screen()
                ->grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
                .save(shots + QStringLiteral("/label-panel.png"));
        }

        // Keys 1-9 over both sides and all degrees, then 0 + 3 (skip: both bad).
        const int keys[10] = {1, 9, 5, 3, 7, 2, 8, 4, 6, 0};
        std::vector<Expected> expected;
        for (int key : keys) {
            QVERIFY2(waitForPair(panel, expected.empty() ? -1 : expected.back().pairId),
                     qPrintable(panel->statusText() + "\n" + panel->session()->waitingMessage()));
            const LabelSession::Item item = *panel->session()->current();
            Expected want{.pairId = item.pairId};
            const ShownChoice shown = key == 5   ? ShownChoice::Unsure
                                      : key == 0 ? ShownChoice::Skip
                                      : key < 5  ? ShownChoice::Left
                                                 : ShownChoice::Right;
            want.choice = choiceFromShown(shown, item.leftSample);
            const PreferenceDegree degrees[10] = {
                PreferenceDegree::Unsure, PreferenceDegree::MuchBetter,
                PreferenceDegree::Better, PreferenceDegree::SlightlyBetter,
                PreferenceDegree::Unsure, PreferenceDegree::Unsure,
                PreferenceDegree::Unsure, PreferenceDegree::SlightlyBetter,
                PreferenceDegree::Better, PreferenceDegree::MuchBetter};
            if (key != 0)
                want.degree = degrees[key];
            QTest::qWait(20); // some time on task
            QTest::keyClick(&window, static_cast<Qt::Key>(Qt::Key_0 + key));
            if (key == 0) {
                QVERIFY(panel->isChoosingSkipReason());
                QTest::keyClick(&window, Qt::Key_3);
                want.reason = SkipReason::BothBad;
            }
            expected.push_back(want);
        }

        QVERIFY(waitForPair(panel, expected.back().pairId));
        StudyStore *store = window.store();
        const auto labels = store->currentLabels();
        QCOMPARE(labels.size(), std::size_t(10));
        for (const Expected &want : expected) {
            const auto label = store->currentLabel(want.pairId, QStringLiteral("tester"));
            QVERIFY2(label, qPrintable(QStringLiteral("pair %1 has no label").arg(want.pairId)));
            QCOMPARE(label->choice, std::optional<Choice>(want.choice));
            QCOMPARE(label->degree, want.degree);
            QCOMPARE(label->skipReason, want.reason);
            QVERIFY(label->timeOnTaskMs >= 20);
        }
        QCOMPARE(store->counts().pairs, qint64(11)); // ten labeled, the eleventh on screen
        QVERIFY2(panel->statusText().contains(QStringLiteral("10 labeled this session")),
                 qPrintable(panel->statusText()));
        QVERIFY(panel->statusText().contains(QStringLiteral("Prompt 11 of 12")));
        QVERIFY(panel->statusText().contains(QStringLiteral("left was sample_"))); // revealed

        // Ctrl+Z retracts the last label (appends a row) and shows that pair again.
        const qint64 last = expected.back().pairId;
        const qint64 onScreen = panel->session()->current()->pairId;
        QCOMPARE(window.undoStack()->count(), 10);
        QTest::keyClick(&window, Qt::Key_Z, Qt::ControlModifier);
        QVERIFY(!store->currentLabel(last, QStringLiteral("tester")));
        const auto history = store->labelHistory(last);
        QCOMPARE(history.size(), std::size_t(2));
        QVERIFY(history.back().retracted);
        QTRY_COMPARE(panel->session()->current()->pairId, last);

        // Redo stores it again; undo once more, then a new label, and the waiting pair returns.
        window.undoStack()->redo();
        QCOMPARE(store->currentLabel(last, QStringLiteral("tester"))->skipReason,
                 SkipReason::BothBad);
        QTRY_COMPARE(panel->session()->current()->pairId, onScreen);
        window.undoStack()->undo();
        QTRY_COMPARE(panel->session()->current()->pairId, last);
        QTest::keyClick(&window, Qt::Key_1);
        const auto relabeled = store->currentLabel(last, QStringLiteral("tester"));
        QVERIFY(relabeled && relabeled->degree == PreferenceDegree::MuchBetter);
        QTRY_COMPARE(panel->session()->current()->pairId, onScreen);
        QCOMPARE(store->labelHistory(last).size(), std::size_t(5));
        window.close();
    }

    void theInt8SwitchReachesTheSession()
    {
        Settings settings(m_dir.filePath(QStringLiteral("int8.ini")));
        settings.setModelDir(m_bundle);
        settings.setLabelerName(QStringLiteral("tester"));
        MainWindow window(settings);
        QVERIFY(window.openStudy(m_dir.filePath(QStringLiteral("int8.mpstudy")), true));
        auto *panel = window.findChild<LabelPanel *>();
        QVERIFY(panel);
        window.panels()->setCurrentWidget(panel);
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QVERIFY(panel->openPromptList(writePromptList(3)));
        QVERIFY(waitForPair(panel));
        auto *int8 = panel->findChild<QCheckBox *>(QStringLiteral("int8Sampling"));
        QVERIFY(int8);
        QVERIFY(!int8->isChecked()); // float32 unless asked for
        QVERIFY(!panel->session()->sampling().int8Weights);
        int8->click();
        QVERIFY(panel->session()->sampling().int8Weights);
        // The next pair is sampled with int8 weights and arrives like any other.
        const qint64 first = panel->session()->current()->pairId;
        QTest::keyClick(&window, Qt::Key_1);
        QVERIFY2(waitForPair(panel, first), qPrintable(panel->session()->waitingMessage()));
        window.close();
    }

    void labelsTheStudysOwnPairs()
    {
        const QString studyPath = m_dir.filePath(QStringLiteral("queue.mpstudy"));
        {
            StudyStore store;
            store.open(studyPath, true);
            ModelBundle bundle(m_bundle.toStdString());
            const ModelIdentity model = ModelIdentity::ofDirectory(m_bundle);
            for (int i = 0; i < 3; ++i) {
                PairRequest request;
                request.prompt = QStringLiteral("a person jumps %1").arg(i);
                request.seeds = {std::uint64_t(i), std::uint64_t(i + 10)};
                GeneratedPair pair = generatePair(bundle, request);
                if (i == 2) // codes only, as an import without features: the model decodes them
                    pair.featuresNpy = {};
                storePair(store, pair, model, 1);
            }
        }
        Settings settings(m_dir.filePath(QStringLiteral("queue.ini")));
        settings.setModelDir(m_bundle);
        settings.setLabelerName(QStringLiteral("ana"));
        StudyStore store;
        store.open(studyPath);
        QUndoStack undo;
        LabelPanel panel(settings, &undo);
        panel.setStore(&store);
        panel.resize(1000, 700);
        panel.show();
        panel.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&panel));
        panel.labelStudyPairs();
        for (int i = 0; i < 3; ++i) {
            QVERIFY(waitForPair(&panel, i == 0 ? -1 : qint64(i)));
            QCOMPARE(panel.session()->current()->pairId, qint64(i + 1));
            QVERIFY(panel.leftViewport()->hasMotion());
            QTest::keyClick(&panel, Qt::Key_8);
        }
        QTRY_VERIFY(!panel.session()->current());
        QVERIFY(panel.session()->waitingMessage().contains(QStringLiteral("Every pair")));
        QCOMPARE(store.counts().labeledPairs, qint64(3));
        QCOMPARE(store.currentLabel(1, QStringLiteral("ana"))->choice,
                 std::optional<Choice>(Choice::Sample2)); // left is sample 1: right = sample 2
        QVERIFY(panel.statusText().contains(QStringLiteral("3 of 3 pairs labeled")));
    }

    void withoutAStudyOffersNewAndOpen()
    {
        Settings settings(m_dir.filePath(QStringLiteral("none.ini")));
        QUndoStack undo;
        LabelPanel panel(settings, &undo);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        auto *newStudy = panel.findChild<QPushButton *>(QStringLiteral("newStudyButton"));
        auto *openStudy = panel.findChild<QPushButton *>(QStringLiteral("openStudyButton"));
        QVERIFY(newStudy && newStudy->isVisible() && openStudy && openStudy->isVisible());
        QSignalSpy wantsNew(&panel, &LabelPanel::newStudyRequested);
        QSignalSpy wantsOpen(&panel, &LabelPanel::openStudyRequested);
        QTest::mouseClick(newStudy, Qt::LeftButton);
        QTest::mouseClick(openStudy, Qt::LeftButton);
        QCOMPARE(wantsNew.count(), 1);
        QCOMPARE(wantsOpen.count(), 1);
        QTest::keyClick(&panel, Qt::Key_1); // no pair: nothing happens, nothing crashes
        QVERIFY(!panel.leftViewport()->isVisible());
    }

    void aModelThatCannotLoadIsNamed()
    {
        Settings settings(m_dir.filePath(QStringLiteral("bad.ini")));
        const QString missing = m_dir.filePath(QStringLiteral("no-such-bundle"));
        settings.setModelDir(missing);
        StudyStore store;
        store.open(m_dir.filePath(QStringLiteral("bad.mpstudy")), true);
        QUndoStack undo;
        LabelPanel panel(settings, &undo);
        panel.setStore(&store);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.generateForPrompt(QStringLiteral("a person walks"));
        QTRY_COMPARE(panel.session()->modelState(), LabelSession::ModelState::Failed);
        QVERIFY2(panel.session()->modelMessage().contains(missing),
                 qPrintable(panel.session()->modelMessage()));
        QVERIFY(panel.leftViewport()->message().contains(missing));
        QCOMPARE(store.counts().pairs, qint64(0));
    }
};

QTEST_MAIN(LabelPanelTest)
#include "label_panel_test.moc"
