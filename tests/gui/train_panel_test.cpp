// LibTorch before Qt: Qt's keyword macros clash with names in torch headers.
#include "../app/tiny_bundle.h"
#include "../app/tiny_eval_dataset.h"
#include "ml/train/preference_data.h"

#include "app/core/settings.h"
#include "app/jobs/job_runner.h"
#include "ml/run/events.h"
#include "ml/run/run_config.h"
#include "ui/train/train_charts.h"
#include "ui/train/train_form.h"
#include "ui/train/train_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QScreen>
#include <QSignalSpy>
#include <QSpinBox>
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
        config.dpo.rpoAlpha = 0.5;
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
        // A value typed in the form reaches the config.
        auto *rpo = form.findChild<QDoubleSpinBox *>("rpoAlpha");
        QVERIFY(rpo);
        QCOMPARE(rpo->value(), 0.5);
        rpo->setValue(1.25);
        QCOMPARE(form.config().dpo.rpoAlpha, 1.25);
    }

    // The form offers what the parser accepts: every DPO loss of the one table, and β, α and
    // dropout over run_config's bounds (a β of 50 is a valid run.json, so the form takes it).
    void formOffersWhatTheParserAccepts()
    {
        TrainForm form;
        for (const DpoLossName &loss : kDpoLossNames) {
            RunConfig config = defaultRunConfig(TrainMethod::Dpo);
            config.dpo.loss = loss.type;
            config.dpo.beta = 50;
            config.dpo.rpoAlpha = 25;
            form.setConfig(config);
            QCOMPARE(form.config().dpo.loss, loss.type);
            QCOMPARE(form.config().dpo.beta, 50.0);
            QCOMPARE(form.config().dpo.rpoAlpha, 25.0);
        }
        RunConfig config = defaultRunConfig(TrainMethod::Dpo);
        config.lora.dropout = 0.95; // in [0, 1), which the form once capped at 0.9
        form.setConfig(config);
        QCOMPARE(form.config().lora.dropout, 0.95);
    }

    // Training pairs: labeled pairs or semi-online (issue 21). Choosing semi-online enables the
    // corpus and K and disables the pairs file, degrees and share; the form writes data.source,
    // data.corpus and data.candidates as run.json reads them, with one process; a method other than
    // DPO goes back to labeled pairs.
    void formWritesTheSemiOnlineSource()
    {
        TrainForm form;
        form.show();
        RunConfig config = defaultRunConfig(TrainMethod::Dpo);
        config.data.pairs = "/data/pairs.jsonl";
        form.setConfig(config);
        auto *source = form.findChild<QComboBox *>("pairSource");
        auto *corpus = form.findChild<QLineEdit *>("semiOnlineCorpus");
        auto *candidates = form.findChild<QSpinBox *>("semiOnlineCandidates");
        QVERIFY(source && corpus && candidates);
        QVERIFY(!corpus->isEnabled());
        QVERIFY(!candidates->isEnabled());
        QCOMPARE(form.config().data.source, DataSource::Labeled);

        auto *processes = form.findChild<QSpinBox *>(QStringLiteral("processes"));
        QVERIFY(processes);
        if (processes->maximum() > 1)
            form.setProcesses(2);
        source->setCurrentIndex(1);
        QVERIFY(corpus->isEnabled());
        QVERIFY(candidates->isEnabled());
        // Semi-online pairs are sampled in one process: the count is 1 and locked.
        QCOMPARE(form.processes(), 1);
        QVERIFY(!processes->isEnabled());
        bool degreesShown = false;
        for (const QCheckBox *box : form.findChildren<QCheckBox *>())
            if (box->text() == QStringLiteral("much")) {
                degreesShown = true;
                QVERIFY(!box->isEnabled());
            }
        QVERIFY(degreesShown);
        QTest::mouseClick(corpus, Qt::LeftButton);
        QTest::keyClicks(corpus, QStringLiteral("/data/corpus"));
        candidates->setValue(6);
        if (const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR"); !shots.isEmpty())
            form.grab().save(QDir(shots).filePath(QStringLiteral("train-form-semi-online.png")));
        const RunConfig back = form.config();
        QCOMPARE(back.data.source, DataSource::SemiOnline);
        QCOMPARE(back.data.corpus, std::string("/data/corpus"));
        QCOMPARE(back.data.candidates, std::int64_t{6});
        QVERIFY(back.data.pairs.empty()); // run.json refuses a pairs file beside semi_online
        const RunConfig parsed = parseRunConfig(runConfigToJson(back));
        QCOMPARE(parsed, back);
        QVERIFY(runConfigToJson(back).find("\"source\": \"semi_online\"") != std::string::npos);
        // setConfig of the parsed config shows it again.
        form.setConfig(parsed);
        QCOMPARE(source->currentIndex(), 1);
        QCOMPARE(corpus->text(), QStringLiteral("/data/corpus"));

        config.method = TrainMethod::Rm;
        form.setConfig(config);
        QVERIFY(!source->isEnabled());
        QCOMPARE(form.config().data.source, DataSource::Labeled);
    }

    // The HumanML3D metrics option: disabled (saying why) until a dataset with the split is
    // named; then on, with its settings, in the config the CLI reads.
    void motionMetricsNeedADataset()
    {
        QTemporaryDir dir;
        TrainForm form;
        auto *box = form.findChild<QCheckBox *>("motionMetrics");
        QVERIFY(box);
        QVERIFY(!box->isEnabled());
        QVERIFY(form.findChild<QLabel *>("motionHint")->text().contains("Choose a HumanML3D"));
        QVERIFY(!form.motionMetricsBlocker().isEmpty());

        RunConfig config = form.config();
        config.eval.motionMetrics = true;
        config.eval.motionDataset = dir.path().toStdString();
        form.setConfig(config);
        QVERIFY(!box->isEnabled()); // no val.txt yet
        QVERIFY(form.motionMetricsBlocker().contains("val.txt"));
        QVERIFY(!form.config().eval.motionMetrics);

        QFile split(dir.filePath("val.txt"));
        QVERIFY(split.open(QIODevice::WriteOnly));
        split.close();
        config.eval.motionEveryEpochs = 2;
        config.eval.replications = 2;
        config.eval.motionMaxClips = 64;
        form.setConfig(config);
        QVERIFY(box->isEnabled());
        QVERIFY(box->isChecked());
        const RunConfig back = form.config();
        QCOMPARE(back, config);
        QCOMPARE(parseRunConfig(runConfigToJson(back)), config);
        form.findChild<QSpinBox *>("motionClips")->setValue(40); // typed: whole groups only
        QCOMPARE(form.config().eval.motionMaxClips, 64);

        // The panel offers the dataset of the last session.
        Settings settings(dir.filePath("s.ini"));
        settings.setCorpusDir(dir.path());
        qputenv("MOTIONPREF_CLI", QByteArray("/nonexistent/motionpref-cli"));
        TrainPanel panel(settings);
        QCOMPARE(QString::fromStdString(panel.form()->config().eval.motionDataset), dir.path());
        QVERIFY(panel.form()->motionMetricsBlocker().isEmpty());
        qunsetenv("MOTIONPREF_CLI");
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
        // The run's one configuration file, complete, and nothing beside it.
        QVERIFY(QFile::exists(QDir(runDir).filePath("config.json")));
        QVERIFY(!QFile::exists(QDir(runDir).filePath("run.json")));
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
        // HumanML3D metrics at the end of the run, on a tiny dataset with a tiny evaluator.
        mp::test::writeTinyEvalDataset(dir.filePath("eval-data").toStdString());
        mp::test::writeTinyEvaluator(dir.filePath("eval-data").toStdString(),
                                     dir.filePath("evaluator").toStdString());
        config.eval.motionMetrics = true;
        config.eval.motionDataset = dir.filePath("eval-data").toStdString();
        config.eval.motionEvaluator = dir.filePath("evaluator").toStdString();
        config.eval.motionMaxClips = 32;
        config.eval.replications = 2;
        panel.form()->setConfig(config);
        QVERIFY(panel.form()->config().eval.motionMetrics);
        const QString runDir = dir.filePath("real");
        QVERIFY(panel.startRun(runDir));
        QTRY_VERIFY_WITH_TIMEOUT(panel.charts()->pointCount("Loss", "real (ipo) loss") > 0, 60000);
        QTRY_COMPARE_WITH_TIMEOUT(panel.job()->state(), JobRunner::State::Finished, 120000);
        panel.charts()->redrawNow();
        QCOMPARE(panel.charts()->pointCount("Loss", "real (ipo) loss"), 15); // 5 steps x 3 epochs
        QCOMPARE(panel.charts()->pointCount("R-precision", "real (ipo) R@1"), 1); // the run's end
        QCOMPARE(panel.charts()->pointCount("HumanML3D metric", "real (ipo) FID"), 1);
        QVERIFY(panel.charts()->motionMetricsMessage().isEmpty());
        QVERIFY(QFile::exists(QDir(runDir).filePath("adapter/adapter_model.safetensors")));
        QVERIFY(QFile::exists(QDir(runDir).filePath("best/best.json")));
        qunsetenv("MOTIONPREF_CLI");
        qunsetenv("OMP_NUM_THREADS");
    }

    // The Processes box starts data-parallel ranks (`train --nproc 2`); the run is charted and
    // finishes like any other, rank 0 alone writing it.
    void startsALocalMultiProcessRun()
    {
        const QString cli = qEnvironmentVariable("MP_CLI");
        if (cli.isEmpty() || !QFile::exists(cli))
            QSKIP("MP_CLI does not name a built motionpref-cli");
        QTemporaryDir dir;
        const auto bundle = mp::test::writeTinyBundle(dir.filePath("bundle").toStdString());
        std::vector<PreferencePair> pairs;
        for (int i = 0; i < 12; ++i)
            pairs.push_back({.pairId = i + 1,
                             .prompt = i % 2 ? "a person walks forward" : "someone jumps twice",
                             .chosen = {1, 2, 3, 4},
                             .rejected = {5, 5, 6},
                             .degree = PreferenceDegree::Better});
        writePreferencePairs(pairs, dir.filePath("pairs.jsonl").toStdString());
        qputenv("MOTIONPREF_CLI", cli.toUtf8());
        Settings settings(dir.filePath("s.ini"));
        TrainPanel panel(settings);
        QSignalSpy known(&panel, &TrainPanel::trainingAvailabilityKnown);
        QVERIFY(known.wait(10000));
        RunConfig config = panel.form()->config();
        config.model = bundle.string();
        config.device = "cpu";
        config.epochs = 2;
        config.batchSize = 3;
        config.eval.logEverySteps = 1;
        config.data.pairs = dir.filePath("pairs.jsonl").toStdString();
        config.data.evalFraction = 0.25;
        panel.form()->setConfig(config);
        auto *processes = panel.form()->findChild<QSpinBox *>(QStringLiteral("processes"));
        QVERIFY(processes);
        QCOMPARE(processes->value(), 1);
        processes->setValue(2);
        QCOMPARE(panel.form()->processes(), 2);
        if (const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR"); !shots.isEmpty())
            panel.form()->grab().save(QDir(shots).filePath(QStringLiteral("train-form.png")));
        const QString runDir = dir.filePath("ranks");
        QVERIFY(panel.startRun(runDir));
        QTRY_COMPARE_WITH_TIMEOUT(panel.job()->state(), JobRunner::State::Finished, 60000);
        panel.charts()->redrawNow();
        QCOMPARE(panel.charts()->pointCount("Loss", "ranks (ipo) loss"), 6); // 3 steps x 2 epochs
        QFile events(QDir(runDir).filePath("events.jsonl"));
        QVERIFY(events.open(QIODevice::ReadOnly));
        const QByteArray text = events.readAll();
        QVERIFY(text.contains("2 data-parallel ranks (Gloo)"));
        QCOMPARE(text.count("\"type\":\"step\""), 6);
        QVERIFY(QFile::exists(QDir(runDir).filePath("adapter/adapter_model.safetensors")));
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

    // A reopened run with motion_metrics events: points with their intervals in the HumanML3D
    // charts. With MP_SCREENSHOT_DIR and MP_TRAIN_RUNS (run directories, ':'-separated) the
    // panel showing those runs is saved as train-panel-motion-metrics.png.
    void chartsTheMotionMetricsOfAReopenedRun()
    {
        QTemporaryDir dir;
        qputenv("MOTIONPREF_CLI", QByteArray("/nonexistent/motionpref-cli"));
        const QString runDir = dir.filePath("motion-run");
        QDir().mkpath(runDir);
        {
            EventWriter writer(QDir(runDir).filePath("events.jsonl").toStdString());
            for (int step = 1; step <= 30; ++step) {
                writer.write({.type = EventType::Step,
                              .step = step,
                              .epoch = step / 10.0,
                              .metrics = {{"loss", 1.0 / step}}});
                if (step % 10 != 0)
                    continue;
                Event motion{.type = EventType::MotionMetrics, .step = step, .epoch = step / 10.0};
                for (const auto &[name, mean] :
                     {std::pair<std::string, double>{"R_precision_top_1", 0.40 + step / 1000.0},
                      {"R_precision_top_3", 0.70},
                      {"FID", 6.0 - step / 10.0}}) {
                    motion.metrics["motion/" + name] = mean;
                    motion.metrics["motion/" + name + "/ci"] = 0.01 * mean;
                    motion.lists["motion/" + name + "/values"] = {0.99 * mean, 1.01 * mean};
                }
                writer.write(motion);
            }
            writer.write({.type = EventType::Done, .step = 30, .epoch = 3});
        }
        Settings settings(dir.filePath("s.ini"));
        TrainPanel panel(settings);
        QVERIFY(panel.openRun(runDir));
        panel.charts()->redrawNow();
        QCOMPARE(panel.charts()->pointCount("R-precision", "motion-run R@1"), 3);
        QCOMPARE(panel.charts()->pointCount("R-precision", "motion-run R@3"), 3);
        QCOMPARE(panel.charts()->pointCount("HumanML3D metric", "motion-run FID"), 3);
        QVERIFY(panel.charts()->motionMetricsMessage().isEmpty());
        qunsetenv("MOTIONPREF_CLI");

        const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR");
        const QStringList runs =
            qEnvironmentVariable("MP_TRAIN_RUNS").split(QLatin1Char(':'), Qt::SkipEmptyParts);
        if (shots.isEmpty() || runs.isEmpty())
            return;
        // As a user would have it: the real CLI and the corpus known from an earlier session.
        if (const QString cli = qEnvironmentVariable("MP_CLI"); !cli.isEmpty())
            qputenv("MOTIONPREF_CLI", cli.toUtf8());
        Settings shotSettings(dir.filePath("shot.ini"));
        shotSettings.setCorpusDir(qEnvironmentVariable("MP_CORPUS_DIR"));
        TrainPanel shown(shotSettings);
        RunConfig config = shown.form()->config();
        config.eval.motionMetrics = !config.eval.motionDataset.empty();
        config.eval.motionEveryEpochs = 1;
        shown.form()->setConfig(config);
        QSignalSpy known(&shown, &TrainPanel::trainingAvailabilityKnown);
        known.wait(10000);
        for (const QString &run : runs)
            QVERIFY2(shown.openRun(run), qPrintable(run));
        shown.resize(1600, 1000);
        shown.show();
        QVERIFY(QTest::qWaitForWindowExposed(&shown));
        shown.charts()->redrawNow();
        QTest::qWait(500);
        shown.grab().save(shots + "/train-panel-motion-metrics.png");
        qunsetenv("MOTIONPREF_CLI");
    }
};

QTEST_MAIN(TrainPanelTest)
#include "train_panel_test.moc"
