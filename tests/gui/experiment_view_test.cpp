// The Train panel's experiment window (ui/train/experiment_view.h) on a hand-made experiment
// directory: the table holds mean ± interval and the paired difference per configuration, the
// bar chart one bar and one whisker per configuration, the difference mode leaves the baseline
// out, a broken directory is an error in the panel's message. MP_SCREENSHOT_DIR=DIR saves
// experiment-view.png there.
#include "ml/run/experiment.h"

#include "app/core/settings.h"
#include "ui/train/experiment_view.h"
#include "ui/train/train_panel.h"

#include <QDir>
#include <QFile>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <fstream>

using namespace mp;

namespace {

void writeMetrics(const std::filesystem::path &path, const QList<double> &r1,
                  const QList<double> &fid)
{
    std::filesystem::create_directories(path.parent_path());
    const auto list = [](const QList<double> &values) {
        QStringList text;
        for (double v : values)
            text << QString::number(v, 'g', 10);
        return text.join(QStringLiteral(", "));
    };
    std::ofstream(path) << QStringLiteral(R"({"R_precision_top_1": {"mean": 0, "conf_interval": 0,
  "values": [%1]}, "FID": {"mean": 0, "conf_interval": 0, "values": [%2]},
  "meta": {"replications": 3}})")
                               .arg(list(r1), list(fid))
                               .toStdString();
}

// Baseline and two configurations of two seeds each; one run of the second failed.
void writeExperiment(const QString &dir)
{
    const auto sweep = parseSweep(
        R"({"base": {"data": {"pairs": "p.jsonl"}}, "grid": {"loss": ["sigmoid", "ipo"]},
            "seeds": [1, 2], "eval": {"dataset": "corpus", "replications": 3, "max_clips": 64}})",
        "sweep.json");
    const ExperimentLayout layout{dir.toStdString()};
    std::vector<ExperimentRunStatus> status;
    for (const auto &run : sweep.runs)
        status.push_back({.id = run.id, .state = ExperimentRunState::Evaluated, .message = {}});
    status[3].state = ExperimentRunState::Failed;
    status[3].message = "the loss is NaN";
    writeExperimentState(layout, sweep, status, ExperimentRunState::Evaluated);
    writeMetrics(layout.baselineMetrics(), {0.40, 0.42, 0.44}, {16, 17, 18});
    writeMetrics(layout.runMetrics(sweep.runs[0]), {0.45, 0.46, 0.50}, {15, 16, 17});
    writeMetrics(layout.runMetrics(sweep.runs[1]), {0.43, 0.47, 0.47}, {16.5, 17, 18});
    writeMetrics(layout.runMetrics(sweep.runs[2]), {0.39, 0.42, 0.45}, {17, 18, 19});
}

} // namespace

class ExperimentViewTest : public QObject {
    Q_OBJECT
private slots:
    void tableAndChart()
    {
        QTemporaryDir dir;
        writeExperiment(dir.path());
        ExperimentView view;
        QVERIFY2(view.open(dir.path()), qPrintable(view.errorString()));
        QTableWidget *table = view.table();
        QCOMPARE(table->rowCount(), 3); // baseline, sigmoid, ipo
        QCOMPARE(table->columnCount(), 4);
        QCOMPARE(table->horizontalHeaderItem(2)->text(), QStringLiteral("R_precision_top_1"));
        QCOMPARE(table->item(0, 0)->text(), QStringLiteral("baseline (untrained)"));
        QCOMPARE(table->item(1, 1)->text(), QStringLiteral("2"));
        // Pooled 0.4633 ± 0.0171; paired difference +0.0433 ± 0.0088, excluding zero.
        QCOMPARE(table->item(1, 2)->text(), QStringLiteral("0.463 ± 0.017\nΔ +0.043 ± 0.009 *"));
        QCOMPARE(table->item(2, 1)->text(), QStringLiteral("1"));
        QVERIFY(!table->item(2, 2)->text().endsWith(QStringLiteral("*"))); // +0.000: no marker
        QVERIFY(view.findChild<QLabel *>()->text().contains(QStringLiteral("the loss is NaN")));

        view.setChartMetric(QStringLiteral("R_precision_top_1"));
        QCOMPARE(view.barCount(), 3);
        QCOMPARE(view.whiskerCount(), 3);
        view.setShowDifferences(true);
        QCOMPARE(view.barCount(), 2); // no bar for the baseline against itself
        QCOMPARE(view.whiskerCount(), 2);

        if (const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR"); !shots.isEmpty()) {
            view.setShowDifferences(false);
            view.resize(900, 640);
            view.show();
            QVERIFY(QTest::qWaitForWindowExposed(&view));
            QTest::qWait(200);
            QVERIFY(view.grab().save(QDir(shots).filePath(QStringLiteral("experiment-view.png"))));
        }
    }

    void reloadSeesNewRuns()
    {
        QTemporaryDir dir;
        writeExperiment(dir.path());
        ExperimentView view;
        QVERIFY(view.open(dir.path()));
        QFile::remove(QDir(dir.path()).filePath(QStringLiteral("baseline/metrics.json")));
        QVERIFY(view.reload());
        QCOMPARE(view.table()->rowCount(), 2); // the baseline's row is gone
        view.setShowDifferences(true);
        QCOMPARE(view.barCount(), 0);
    }

    void panelOpensAndReportsErrors()
    {
        QTemporaryDir dir;
        Settings settings(QDir(dir.path()).filePath(QStringLiteral("s.ini")));
        TrainPanel panel(settings);
        QVERIFY(panel.findChild<QPushButton *>(QStringLiteral("openExperiment")));
        QVERIFY(!panel.openExperiment(QDir(dir.path()).filePath(QStringLiteral("none"))));
        QVERIFY(panel.findChild<QLabel *>(QStringLiteral("trainMessage"))
                    ->text()
                    .contains(QStringLiteral("experiment.json")));
        const QString experiment = QDir(dir.path()).filePath(QStringLiteral("exp"));
        QDir().mkpath(experiment);
        writeExperiment(experiment);
        ExperimentView *view = panel.openExperiment(experiment);
        QVERIFY(view);
        QVERIFY(view->isVisible());
        QCOMPARE(view->table()->rowCount(), 3);
        if (const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR"); !shots.isEmpty()) {
            panel.resize(1280, 800);
            panel.show();
            QVERIFY(QTest::qWaitForWindowExposed(&panel));
            QTest::qWait(200);
            QVERIFY(
                panel.grab().save(QDir(shots).filePath(QStringLiteral("train-panel-buttons.png"))));
            view->setShowDifferences(true);
            QTest::qWait(100);
            QVERIFY(view->grab().save(QDir(shots).filePath(QStringLiteral("experiment-diff.png"))));
        }
        view->close();
    }
};

QTEST_MAIN(ExperimentViewTest)
#include "experiment_view_test.moc"
