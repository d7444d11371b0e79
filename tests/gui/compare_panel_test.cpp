// The Compare panel on a tiny random bundle (A) and the same bundle with a random LoRA adapter
// (B): a side-by-side pair, a 2-prompt x 2-temperature blind session answered by keys with the
// tallies, chart and saved JSON checked, and the metrics table with and without metrics.json.

// LibTorch before Qt: Qt's `slots` keyword macro breaks torch's jit headers.
#include "../app/tiny_bundle.h"

#include "app/compare/ab_session.h"
#include "app/core/settings.h"
#include "ml/core/paths.h"
#include "ml/models/lora.h"
#include "ui/compare/ab_results_view.h"
#include "ui/compare/blind_ab_page.h"
#include "ui/compare/compare_panel.h"
#include "ui/compare/metrics_page.h"
#include "ui/compare/model_picker.h"
#include "ui/compare/side_by_side_page.h"
#include "viewer/motion_viewport.h"

#include <QApplication>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QScreen>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace mp;

namespace {
void writeFile(const QString &path, const QByteArray &content)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(content);
}

void screenshot(QWidget &window, const QString &name, int waitMs = 500)
{
    const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR");
    if (shots.isEmpty())
        return;
    QTest::qWait(waitMs); // a few frames of the 3D views
    const QRect area = window.geometry();
    window.screen()
        ->grabWindow(0, area.x(), area.y(), area.width(), area.height())
        .save(shots + QLatin1Char('/') + name);
}
} // namespace

class ComparePanelTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_bundle;
    QString m_adapter;
    std::unique_ptr<Settings> m_settings;
    std::unique_ptr<ComparePanel> m_panel;

    // Presses the key that prefers A's or B's side of the trial on screen, or tie.
    void pressFor(char preferred, bool letters)
    {
        BlindAbPage *blind = m_panel->blind();
        const AbTrial &trial = blind->session().trial(blind->currentTrial());
        Qt::Key key = letters ? Qt::Key_T : Qt::Key_2;
        if (preferred != 't') {
            const bool left = (preferred == 'a') == trial.aOnLeft;
            key = left ? (letters ? Qt::Key_L : Qt::Key_1) : (letters ? Qt::Key_R : Qt::Key_3);
        }
        QTest::keyClick(m_panel.get(), key);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const auto bundleDir = test::writeTinyBundle(m_dir.filePath("models").toStdString());
        m_bundle = QString::fromStdString(bundleDir.string());
        ModelBundle bundle(bundleDir);
        torch::manual_seed(3);
        const LoraConfig config{.rank = 2, .alpha = 4.0};
        applyLora(*bundle.t5(), config);
        {
            torch::NoGradGuard noGrad;
            for (auto &parameter : loraParameters(*bundle.t5()))
                parameter.normal_(0.0, 2.0);
        }
        m_adapter = m_dir.filePath("run/best");
        saveLoraAdapter(*bundle.t5(), config, m_adapter.toStdString());

        m_settings = std::make_unique<Settings>(m_dir.filePath("s.ini"));
        m_settings->setModelDir(m_bundle);
        m_settings->setDevice("cpu");
        m_panel = std::make_unique<ComparePanel>(*m_settings);
        m_panel->resize(1280, 800);
        m_panel->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_panel.get()));
        QCOMPARE(m_panel->pickerA()->model().bundleDir, m_bundle);
        m_panel->pickerB()->setModel({m_bundle, m_adapter});
    }

    // A picker's fields show the models' names, with the paths in their tooltips; a field being
    // edited shows the path, a typed path is taken, and the name comes back after.
    void pickerShowsNamesAndEditsPaths()
    {
        ModelPicker *picker = m_panel->pickerB();
        auto *bundle = picker->findChild<QLineEdit *>("bundleField");
        auto *adapter = picker->findChild<QLineEdit *>("adapterField");
        QVERIFY(bundle && adapter);
        QCOMPARE(bundle->text(), QDir(m_bundle).dirName());
        QCOMPARE(adapter->text(), QStringLiteral("run/best"));
        QVERIFY(bundle->toolTip().contains(QDir::toNativeSeparators(m_bundle)));
        QVERIFY(adapter->toolTip().contains(QDir::toNativeSeparators(m_adapter)));

        m_panel->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(m_panel.get()));
        QTest::mouseClick(adapter, Qt::LeftButton);
        QTRY_VERIFY(adapter->hasFocus());
        QCOMPARE(adapter->text(), QDir::toNativeSeparators(m_adapter));
        adapter->selectAll();
        const QString nowhere = m_dir.filePath("nowhere");
        QTest::keyClicks(adapter, QDir::toNativeSeparators(nowhere));
        QTest::keyClick(adapter, Qt::Key_Return);
        QCOMPARE(picker->model().adapterDir, nowhere);
        QVERIFY(picker->problem().contains("nowhere"));
        QTest::mouseClick(bundle, Qt::LeftButton); // leaves the adapter field
        QTRY_VERIFY(bundle->hasFocus());
        QCOMPARE(adapter->text(), QStringLiteral("nowhere"));
        QCOMPARE(bundle->text(), QDir::toNativeSeparators(m_bundle));
        picker->setModel({m_bundle, m_adapter});
        QCOMPARE(adapter->text(), QStringLiteral("run/best"));
        m_panel->setFocus();
        QTRY_COMPARE(bundle->text(), QDir(m_bundle).dirName());
    }

    void sideBySideSamePromptAndSeed()
    {
        SideBySidePage *page = m_panel->sideBySide();
        m_panel->modes()->setCurrentWidget(page);
        page->setPrompt("a person walks forward");
        page->setSeed(3);
        page->setTemperature(1.0);
        QSignalSpy generated(page, &SideBySidePage::generated);
        QVERIFY(page->generate());
        QVERIFY(page->isGenerating());
        QVERIFY(!page->generate()); // one at a time
        QVERIFY(generated.wait(20000));
        QVERIFY2(generated.first().at(0).toBool(), qPrintable(page->statusText()));
        QVERIFY(page->viewportA()->hasMotion());
        QVERIFY(page->viewportB()->hasMotion());
        QCOMPARE(page->viewportA()->title(), QStringLiteral("A: bundle"));
        QCOMPARE(page->viewportB()->title(), QStringLiteral("B: bundle + run/best"));
        QVERIFY(page->statusText().contains("seed 3"));
        QVERIFY(
            m_panel->pickerB()->findChild<QLabel *>("modelStatus")->text().contains("LoRA r 2"));
        screenshot(*m_panel, "compare-side-by-side.png");

        // A model that is not there is reported before anything runs.
        m_panel->pickerB()->setModel({m_bundle, m_dir.filePath("nowhere")});
        QVERIFY(!page->generate());
        QVERIFY(page->statusText().contains("adapter_config.json is missing"));
        m_panel->pickerB()->setModel({m_bundle, m_adapter});
    }

    void blindSessionAnsweredByKeys()
    {
        BlindAbPage *blind = m_panel->blind();
        m_panel->modes()->setCurrentWidget(blind);
        const QString prompts = m_dir.filePath("prompts.txt");
        writeFile(prompts, "# two prompts\na person jumps twice\nsomeone waves the right hand\n");
        QSignalSpy shown(blind, &BlindAbPage::trialShown);
        QSignalSpy completed(blind, &BlindAbPage::sessionCompleted);
        QVERIFY(!blind->startSession(prompts, "0.8, warm", 5));
        QVERIFY(blind->statusText().contains("'warm' is not a number"));
        QVERIFY(blind->startSession(prompts, "0.8, 1.2", 5));
        QCOMPARE(blind->session().size(), 4);
        QCOMPARE(blind->session().modelB().adapterDir, m_adapter);
        QVERIFY(shown.wait(20000));
        QVERIFY(blind->isTrialShown());
        QCOMPARE(blind->leftViewport()->title(), QStringLiteral("Left")); // models hidden
        QVERIFY(blind->leftViewport()->hasMotion() && blind->rightViewport()->hasMotion());
        QVERIFY(!blind->resultsVisible());

        m_panel->activateWindow(); // no window manager under Xvfb to do it
        QVERIFY(QTest::qWaitForWindowActive(m_panel.get()));
        if (QWidget *focus = QApplication::focusWidget())
            focus->clearFocus(); // a text field would keep the digit keys
        screenshot(*m_panel, "compare-blind-trial.png");

        // An answer, then Backspace takes it back and shows that trial again.
        const int first = blind->currentTrial();
        pressFor('a', false);
        QTRY_COMPARE(blind->session().answeredCount(), 1);
        QTest::keyClick(m_panel.get(), Qt::Key_Backspace);
        QCOMPARE(blind->session().answeredCount(), 0);
        QCOMPARE(blind->currentTrial(), first);

        // B preferred at 0.8; at 1.2 a tie and then A.
        const QString json = m_dir.filePath("ab.json");
        bool tiedAtHigh = false;
        for (int answered = 0; answered < 4; ++answered) {
            QTRY_VERIFY_WITH_TIMEOUT(blind->isTrialShown(), 20000);
            if (answered == 1)
                QVERIFY(blind->saveAs(json)); // and every answer after
            const AbTrial &trial = blind->session().trial(blind->currentTrial());
            const bool letters = answered % 2 == 1;
            if (sameTemperature(trial.temperature, 0.8)) {
                pressFor('b', letters);
            } else if (!tiedAtHigh) {
                pressFor('t', letters);
                tiedAtHigh = true;
            } else {
                pressFor('a', letters);
            }
            QTRY_COMPARE(blind->session().answeredCount(), answered + 1);
        }
        QCOMPARE(completed.size(), 1);
        QCOMPARE(blind->currentTrial(), -1);

        const AbTally low = blind->session().tally(0.8), high = blind->session().tally(1.2);
        QCOMPARE(low.wins, 2);
        QCOMPARE(low.ties + low.losses, 0);
        QCOMPARE(high.ties, 1);
        QCOMPARE(high.losses, 1);
        QCOMPARE(high.wins, 0);
        QVERIFY(blind->resultsVisible());
        QCOMPARE(blind->resultsView()->barValues(0), QList<double>({100.0, 0.0, 0.0}));
        QCOMPARE(blind->resultsView()->barValues(1), QList<double>({0.0, 50.0, 50.0}));
        QTableWidget *table = blind->resultsView()->table();
        QCOMPARE(table->rowCount(), 3);
        QCOMPARE(table->item(0, 1)->text(), QStringLiteral("2")); // B wins at 0.8
        QCOMPARE(table->item(2, 4)->text(), QStringLiteral("4 / 4"));
        screenshot(*m_panel, "compare-blind-results.png");

        // The saved JSON holds every trial with its sides and answer.
        QFile file(json);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonObject root = QJsonDocument::fromJson(file.readAll()).object();
        QCOMPARE(root.value("model_b").toObject().value("adapter").toString(), m_adapter);
        const QJsonArray trials = root.value("trials").toArray();
        QCOMPARE(trials.size(), 4);
        int bPreferred = 0;
        for (const QJsonValue &value : trials) {
            const QJsonObject trial = value.toObject();
            QVERIFY(trial.value("prompt").toString().contains(" "));
            QVERIFY(trial.value("seed").isDouble());
            const QString answer = trial.value("answer").toString();
            QVERIFY(answer == "left" || answer == "right" || answer == "tie");
            const QString preferred = trial.value("preferred").toString();
            if (answer != "tie")
                QCOMPARE(preferred, trial.value(answer).toString()); // "left": "A" or "B"
            if (trial.value("temperature").toDouble() == 0.8)
                QCOMPARE(preferred, QStringLiteral("B"));
            bPreferred += preferred == "B" ? 1 : 0;
        }
        QCOMPARE(bPreferred, 2);
        QCOMPARE(
            root.value("tallies_b_vs_a").toObject().value("1.2").toObject().value("tie").toInt(),
            1);

        // Reopened, it shows the same results.
        QVERIFY(blind->open(json));
        QVERIFY(blind->session().isComplete());
        QCOMPARE(blind->session().tally(1.2).losses, 1);
        QVERIFY(blind->resultsVisible());
    }

    void metricsTable()
    {
        MetricsPage *page = m_panel->metrics();
        m_panel->modes()->setCurrentWidget(page);
        page->refresh();
        QCOMPARE(page->table()->item(0, 0)->text(), QStringLiteral("no metrics yet"));
        QVERIFY(page->notesText().contains("motionpref-cli eval --model"));
        QVERIFY(page->notesText().contains("--adapter"));
        writeFile(m_adapter + "/metrics.json",
                  R"({"R_precision_top_1": {"mean": 0.412, "conf_interval": 0.004, "values": []},
                      "FID": {"mean": 1.5, "conf_interval": 0.25, "values": []},
                      "gt_R_precision_top_1": {"mean": 0.5, "conf_interval": 0.001, "values": []},
                      "meta": {"replications": 20}})");
        writeFile(m_dir.filePath("a-metrics.json"),
                  R"({"R_precision_top_1": {"mean": 0.3, "conf_interval": 0.01, "values": []},
                      "FID": {"mean": 1.2, "conf_interval": 0.1, "values": []}})");
        page->refresh();
        QCOMPARE(page->metricsFile(1), m_adapter + "/metrics.json");
        QCOMPARE(page->table()->item(0, 1)->text(), QStringLiteral("0.412 ± 0.004"));
        QCOMPARE(page->table()->item(0, 2)->text(), QStringLiteral("0.500 ± 0.001"));
        QVERIFY(page->table()->item(0, 0)->text().contains("no metrics"));
        QVERIFY(page->setMetricsFile(0, m_dir.filePath("a-metrics.json")));
        QCOMPARE(page->table()->item(0, 0)->text(), QStringLiteral("0.300 ± 0.010"));
        QVERIFY(page->table()->item(0, 1)->font().bold()); // higher R-precision
        QVERIFY(page->table()->item(3, 0)->font().bold()); // lower FID
        QVERIFY(!page->table()->item(3, 1)->font().bold());
        screenshot(*m_panel, "compare-metrics.png");
        QVERIFY(!page->setMetricsFile(0, m_dir.filePath("prompts.txt")));
        QVERIFY(page->notesText().contains("prompts.txt"));
    }

    // With MP_SCREENSHOT_DIR set and the embedded default model present: the panel as a user
    // sees it, A = the default model, B = it with MP_COMPARE_ADAPTER (when given).
    void screenshotWithTheDefaultModel()
    {
        const QString bundle = QString::fromStdString(defaultModelDir().string());
        if (qEnvironmentVariable("MP_SCREENSHOT_DIR").isEmpty() ||
            !QFileInfo::exists(bundle + "/config.json"))
            QSKIP("needs MP_SCREENSHOT_DIR and the default model bundle");
        m_panel.reset();
        Settings settings(m_dir.filePath("default.ini"));
        settings.setModelDir(bundle);
        settings.setDevice("cpu");
        ComparePanel panel(settings);
        panel.resize(1280, 800);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.pickerB()->setModel({bundle, qEnvironmentVariable("MP_COMPARE_ADAPTER")});
        SideBySidePage *page = panel.sideBySide();
        page->setPrompt(qEnvironmentVariable("MP_COMPARE_PROMPT",
                                             "a person walks forward and then turns left"));
        page->setSeed(qEnvironmentVariableIntValue("MP_COMPARE_SEED"));
        QSignalSpy generated(page, &SideBySidePage::generated);
        QVERIFY(page->generate());
        QVERIFY(generated.wait(120000));
        QVERIFY2(generated.first().at(0).toBool(), qPrintable(page->statusText()));
        screenshot(panel, "compare-panel.png", 2500);

        // A blind trial with the same models (three prompts of the built-in list).
        const QString source = qEnvironmentVariable("MP_SOURCE_DIR");
        const QString prompts = source.isEmpty() ? ComparePanel::defaultPromptFile()
                                                 : source + "/resources/prompts/default.txt";
        BlindAbPage *blind = panel.blind();
        panel.modes()->setCurrentWidget(blind);
        QSignalSpy shown(blind, &BlindAbPage::trialShown);
        QVERIFY2(blind->startSession(prompts, "0.8, 1.0, 1.2", 1, 3),
                 qPrintable(blind->statusText()));
        QVERIFY(shown.wait(120000));
        screenshot(panel, "compare-blind-default.png", 2500);
    }

    void cleanupTestCase() { m_panel.reset(); }
};

QTEST_MAIN(ComparePanelTest)
#include "compare_panel_test.moc"
