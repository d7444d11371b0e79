// LibTorch before Qt: Qt's keyword macros clash with names in torch headers.
#include "../app/tiny_bundle.h"
#include "ml/train/preference_data.h"

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

    // The real motionpref-cli on a tiny random bundle: a short DPO run started from the panel
    // puts its loss and reward points on the charts and finishes with an adapter.
    void trainsWithTheRealCli()
    {
        const QString cli = qEnvironmentVariable("MP_CLI");
        if (cli.isEmpty() || !QFile::exists(cli))
            QSKIP("MP_CLI does not name a built motionpref-cli");
        QTemporaryDir dir;
        const auto bundle = mp::test::writeTinyBundle(dir.filePath("bundle").toStdString());
        std::vector<PreferencePair> pairs;
        for (int i = 0; i < 12; ++i)
            pairs.push_back(
                {.pairId = i + 1,
                 .prompt = i % 2 ? "a person walks forward" : "someone jumps twice",
                 .chosen = {1, 2, 3, 4},
                 .rejected = {5, 5, 6},
                 .degree = i % 3 ? PreferenceDegree::Better : PreferenceDegree::MuchBetter});
        writePreferencePairs(pairs, dir.filePath("pairs.jsonl").toStdString());

        qputenv("MOTIONPREF_CLI", cli.toUtf8());
        qputenv("OMP_NUM_THREADS", "1");
        Settings settings(dir.filePath("s.ini"));
        TrainPanel panel(settings);
        QSignalSpy known(&panel, &TrainPanel::trainingAvailabilityKnown);
        QVERIFY(known.wait(10000));
        QVERIFY(panel.trainingAvailable());
        RunConfig config = panel.form()->config();
        config.model = bundle.string();
        config.device = "cpu";
        config.epochs = 3;
        config.batchSize = 2;
        config.warmupSteps = 2;
        config.eval.logEverySteps = 1;
        config.data.pairs = dir.filePath("pairs.jsonl").toStdString();
        config.data.evalFraction = 0.25;
        panel.form()->setConfig(config);
        const QString runDir = dir.filePath("real");
        QVERIFY(panel.startRun(runDir));
        QTRY_VERIFY_WITH_TIMEOUT(panel.charts()->pointCount("Loss", "real (ipo) loss") > 0, 60000);
        QTRY_COMPARE_WITH_TIMEOUT(panel.job()->state(), JobRunner::State::Finished, 120000);
        panel.charts()->redrawNow();
        QCOMPARE(panel.charts()->pointCount("Loss", "real (ipo) loss"), 15); // 5 steps x 3 epochs
        QVERIFY(QFile::exists(QDir(runDir).filePath("adapter/adapter_model.safetensors")));
        QVERIFY(QFile::exists(QDir(runDir).filePath("best/best.json")));
        qunsetenv("MOTIONPREF_CLI");
        qunsetenv("OMP_NUM_THREADS");
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
