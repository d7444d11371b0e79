#include "app/core/settings.h"
#include "app/jobs/job_runner.h"
#include "ml/train/events.h"
#include "ml/train/run_config.h"
#include "ui/panels/train_panel.h"
#include "ui/train_charts.h"
#include "ui/train_form.h"

#include <QDir>
#include <QFile>
#include <QLabel>
#include <QListWidget>
#include <QScreen>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace mp;

namespace {
// A stand-in for motionpref-cli: answers `train --help`, and for `train --config C --out D`
// checks that C parses as a RunConfig dump and appends step events to D/events.jsonl.
QString writeFakeCli(const QString &dir)
{
    const QString path = QDir(dir).filePath("fake-cli");
    QFile script(path);
    script.open(QIODevice::WriteOnly);
    // Plain literals, not a raw string: moc reads a "#!" line inside one as a directive.
    script.write(
        "#!/bin/sh\n"
        "[ \"$1\" = train ] || exit 1\n"
        "[ \"$2\" = --help ] && exit 0\n"
        "config=$3; out=$5\n"
        "grep -q '\"method\"' \"$config\" || exit 3\n"
        "cp \"$config\" \"$out/config.json\"\n"
        "i=1\n"
        "while [ $i -le 30 ]; do\n"
        "  echo "
        "\"{\\\"type\\\":\\\"step\\\",\\\"step\\\":$i,\\\"epoch\\\":0,\\\"time\\\":0,\\\"loss\\\":"
        "0.$((99 - i))}\" >> \"$out/events.jsonl\"\n"
        "  echo \"step $i\"\n"
        "  i=$((i + 1)); sleep 0.02\n"
        "done\n"
        "echo '{\"type\":\"done\",\"step\":30,\"epoch\":1,\"time\":0}' >> \"$out/events.jsonl\"\n");
    script.close();
    QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    return path;
}
} // namespace

class TrainPanelTest : public QObject {
    Q_OBJECT
private slots:
    void formWritesTheConfigTheCliReads()
    {
        TrainForm form;
        RunConfig config = defaultRunConfig(TrainMethod::Dpo);
        config.dpo.loss = DpoLossType::Sigmoid;
        config.dpo.beta = 0.25;
        config.dpo.labelSmoothingMode = LabelSmoothingMode::PerDegree;
        config.lora.r = 16;
        config.data.pairs = "/data/pairs.jsonl";
        config.data.degrees = {PreferenceDegree::MuchBetter, PreferenceDegree::Better};
        config.data.percent = 0.5;
        config.epochs = 7;
        form.setConfig(config);
        const RunConfig back = form.config();
        QCOMPARE(back, config);
        // And through run.json text, as the CLI reads it.
        QCOMPARE(parseRunConfig(runConfigToJson(back)), config);
    }

    void startsAJobAndChartsIt()
    {
        QTemporaryDir dir;
        qputenv("MOTIONPREF_CLI", writeFakeCli(dir.path()).toUtf8());
        Settings settings(dir.filePath("s.ini"));
        TrainPanel panel(settings);
        QSignalSpy known(&panel, &TrainPanel::trainingAvailabilityKnown);
        QVERIFY(known.wait(10000));
        QVERIFY(panel.trainingAvailable());

        RunConfig config = panel.form()->config();
        config.data.pairs = dir.filePath("pairs.jsonl").toStdString();
        panel.form()->setConfig(config);
        const QString runDir = dir.filePath("run1");
        QVERIFY(panel.startRun(runDir));
        QVERIFY(QFile::exists(QDir(runDir).filePath("run.json")));
        QTRY_VERIFY_WITH_TIMEOUT(panel.charts()->pointCount("Loss", "run1 (ipo) loss") > 0, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(panel.job()->state(), JobRunner::State::Finished, 15000);
        QTRY_COMPARE_WITH_TIMEOUT(panel.charts()->pointCount("Loss", "run1 (ipo) loss"), 30, 5000);
        qunsetenv("MOTIONPREF_CLI");
    }

    void reopensAFinishedRunAndSaysWhenTrainingIsMissing()
    {
        QTemporaryDir dir;
        qputenv("MOTIONPREF_CLI", QByteArray("/nonexistent/motionpref-cli"));
        const QString runDir = dir.filePath("old-run");
        QDir().mkpath(runDir);
        {
            EventWriter writer(QDir(runDir).filePath("events.jsonl").toStdString());
            for (int step = 1; step <= 12; ++step)
                writer.write(
                    {.type = EventType::Step, .step = step, .metrics = {{"loss", 1.0 / step}}});
            writer.write({.type = EventType::Done, .step = 12});
        }
        Settings settings(dir.filePath("s.ini"));
        TrainPanel panel(settings);
        QSignalSpy known(&panel, &TrainPanel::trainingAvailabilityKnown);
        QVERIFY(known.wait(10000));
        QVERIFY(!panel.trainingAvailable());
        QVERIFY(panel.findChild<QLabel *>("trainMessage")->text().contains("not available"));
        QVERIFY(panel.openRun(runDir));
        panel.charts()->redrawNow();
        QCOMPARE(panel.charts()->pointCount("Loss", "old-run loss"), 12);
        QVERIFY(!panel.openRun(dir.filePath("missing")));
        qunsetenv("MOTIONPREF_CLI");
        if (const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR"); !shots.isEmpty()) {
            panel.resize(1280, 800);
            panel.show();
            QVERIFY(QTest::qWaitForWindowExposed(&panel));
            QTest::qWait(400);
            panel.screen()->grabWindow(0).save(shots + "/train-panel.png");
        }
    }
};

QTEST_MAIN(TrainPanelTest)
#include "train_panel_test.moc"
