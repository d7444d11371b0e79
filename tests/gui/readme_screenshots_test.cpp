// The README's screenshots (resources/screenshots/*.png), retaken from a realistic study by
// tests/gui/retake_screenshots.sh, which makes the study first (pairs of the embedded default
// model labeled by simulated labelers, two short DPO runs on them, a generated motion) and then
// runs this binary with
//   MP_README_SHOTS  the folder the PNGs go to (without it every case is skipped: under ctest)
//   MP_DEMO_DIR      the demo folder the script made (lab.mpstudy, corpus/, runs/, walk.bvh)
//   MP_CLI           motionpref-cli, for the Train panel
// Each shot is the whole main window at 1400x900 (the Train charts alone for train-charts.png),
// grabbed from the screen so that the 3D viewports are in it.

#include "app/compare/ab_session.h"
#include "app/core/settings.h"
#include "app/study/label_session.h"
#include "app/study/study_store.h"
#include "ml/core/paths.h"
#include "ui/compare/compare_panel.h"
#include "ui/compare/model_picker.h"
#include "ui/compare/side_by_side_page.h"
#include "ui/dataset/dataset_panel.h"
#include "ui/label/label_panel.h"
#include "ui/main_window.h"
#include "ui/train/train_charts.h"
#include "ui/train/train_panel.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QScreen>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTest>

#include <memory>

using namespace mp;

namespace {
const QSize kWindowSize(1400, 900);
// The prompts a newcomer sees first: the built-in list (resources/prompts/default.txt).
const QString kComparePrompt = QStringLiteral("a person runs forward then turns left");
} // namespace

class ReadmeScreenshots : public QObject {
    Q_OBJECT
private:
    QString m_shots;
    QDir m_demo;
    std::unique_ptr<Settings> m_settings;
    std::unique_ptr<MainWindow> m_window;

    // The window as it is on screen after waitMs (a few frames of the 3D views).
    void saveWindow(const QString &name, int waitMs)
    {
        QTest::qWait(waitMs);
        const QRect frame = m_window->frameGeometry();
        const QPixmap shot =
            m_window->screen()->grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height());
        QCOMPARE(shot.size(), kWindowSize);
        QVERIFY(shot.save(QDir(m_shots).filePath(name)));
    }

    template <typename Panel> Panel *showPanel()
    {
        auto *panel = m_window->findChild<Panel *>();
        if (panel)
            m_window->panels()->setCurrentWidget(panel);
        return panel;
    }

private slots:
    void initTestCase()
    {
        m_shots = qEnvironmentVariable("MP_README_SHOTS");
        if (m_shots.isEmpty())
            QSKIP("tests/gui/retake_screenshots.sh runs this with MP_README_SHOTS");
        m_demo = QDir(qEnvironmentVariable("MP_DEMO_DIR"));
        QVERIFY2(m_demo.exists(QStringLiteral("lab.mpstudy")), qPrintable(m_demo.path()));
        QVERIFY(QDir().mkpath(m_shots));
        qputenv("MOTIONPREF_CLI", qgetenv("MP_CLI"));

        const QString ini = m_demo.filePath(QStringLiteral("screenshots.ini"));
        QFile::remove(ini);
        m_settings = std::make_unique<Settings>(ini);
        m_settings->setLabelerName(QStringLiteral("maria"));
        m_settings->setDevice(QStringLiteral("cpu"));
        m_settings->setCorpusDir(m_demo.filePath(QStringLiteral("corpus")));
        m_window = std::make_unique<MainWindow>(*m_settings);
        m_window->resize(kWindowSize);
        m_window->move(0, 0);
        m_window->show();
        m_window->activateWindow(); // no window manager under Xvfb to do it
        QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
        QVERIFY(m_window->openStudy(m_demo.filePath(QStringLiteral("lab.mpstudy")), false));
    }

    // The built-in prompt list's first pair, playing.
    void labelPanel()
    {
        auto *panel = showPanel<LabelPanel>();
        QVERIFY(panel->openPromptList(ComparePanel::defaultPromptFile()));
        QVERIFY2(QTest::qWaitFor([&] { return panel->session()->current() != nullptr; }, 120000),
                 qPrintable(panel->statusText()));
        saveWindow(QStringLiteral("label-panel.png"), 1800);
    }

    // The Dataset panel: the simulated labelers' pairs and the two just generated.
    void datasetPanel()
    {
        showPanel<DatasetPanel>();
        saveWindow(QStringLiteral("main-window.png"), 500);
    }

    void trainPanel()
    {
        auto *panel = showPanel<TrainPanel>();
        QSignalSpy known(panel, &TrainPanel::trainingAvailabilityKnown);
        known.wait(10000);
        for (const QString &run :
             {QStringLiteral("runs/dpo-sigmoid"), QStringLiteral("runs/dpo-ipo")})
            QVERIFY2(panel->openRun(m_demo.filePath(run)), qPrintable(run));
        panel->charts()->redrawNow();
        QTest::qWait(500);
        QVERIFY(panel->charts()->motionMetricsMessage().isEmpty()); // the runs have metrics
        QVERIFY(panel->charts()->grab().save(QDir(m_shots).filePath("train-charts.png")));
        saveWindow(QStringLiteral("train-panel-motion-metrics.png"), 200);
    }

    // The default model against itself with the sigmoid run's adapter, same prompt and seed.
    void comparePanel()
    {
        auto *panel = showPanel<ComparePanel>();
        const QString bundle = QString::fromStdString(defaultModelDir().string());
        panel->pickerB()->setModel(
            {bundle, m_demo.filePath(QStringLiteral("runs/dpo-sigmoid/best"))});
        SideBySidePage *page = panel->sideBySide();
        page->setPrompt(kComparePrompt);
        page->setSeed(7);
        QSignalSpy generated(page, &SideBySidePage::generated);
        QVERIFY2(page->generate(), qPrintable(page->statusText()));
        QVERIFY(generated.wait(120000));
        QVERIFY2(generated.first().at(0).toBool(), qPrintable(page->statusText()));
        saveWindow(QStringLiteral("compare-panel.png"), 2500);
    }

    void exportPanel()
    {
        QVERIFY(m_window->openPath(m_demo.filePath(QStringLiteral("walk.bvh"))));
        saveWindow(QStringLiteral("export-panel.png"), 1500);
    }

    void cleanupTestCase()
    {
        if (m_window)
            m_window->close();
        m_window.reset();
    }
};

QTEST_MAIN(ReadmeScreenshots)
#include "readme_screenshots_test.moc"
