// The Train panel's window for a `motionpref-cli study experiment` directory (issue 21,
// ui/train/study_experiment_view.h) on a hand-made results.csv: the table holds a row per arm and
// budget (plus the untrained model) with mean ± interval and the paired difference, the chart a
// line per arm with one point and one whisker per budget, the difference mode leaves out the
// metrics without a difference (the labeler's A/B rates), and a missing or broken results.csv is
// an error in the panel's message naming the file (and the line). A running experiment's partial
// results.csv (10 columns, the labeler's rates with their Wilson ends) is read, and the open
// window shows the rows of a newer file renamed into the directory. MP_SCREENSHOT_DIR=DIR saves
// study-experiment-view.png and study-experiment-running.png there.
#include "ml/run/study_experiment_results.h"

#include "app/core/settings.h"
#include "ui/train/study_experiment_view.h"
#include "ui/train/train_panel.h"

#include <QChart>
#include <QDir>
#include <QLabel>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <cstdio>

#include <fstream>

using namespace mp;

namespace {

// Two arms over budgets 250, 500, 1000: offline flat, online_margin rising (its last R@1
// difference excludes 0); the labeler's win rate without a difference column.
void writeResults(const QString &dir)
{
    std::ofstream csv(QDir(dir).filePath(QStringLiteral("results.csv")).toStdString());
    csv << "arm,labels,metric,mean,ci95,n,diff_vs_untrained,diff_ci95\n"
           "untrained,0,R_precision_top_1,0.44,0.05,6,,\n"
           "untrained,0,FID,15.5,2.7,6,,\n";
    const double budgets[] = {250, 500, 1000};
    for (int b = 0; b < 3; ++b) {
        const int labels = static_cast<int>(budgets[b]);
        csv << "offline," << labels << ",R_precision_top_1,0.445,0.05,6,0.005,0.03\n"
            << "offline," << labels << ",FID," << 16 + b << ",2.5,6," << 0.5 + b << ",2\n"
            << "offline," << labels << ",labeler_win_rate,0.4,0.1,200,,\n";
        csv << "online_margin," << labels << ",R_precision_top_1," << 0.45 + 0.02 * b << ",0.04,6,"
            << 0.01 + 0.02 * b << ",0.03\n"
            << "online_margin," << labels << ",FID,15,2.6,6,-0.5,2\n"
            << "online_margin," << labels << ",labeler_win_rate," << 0.45 + 0.05 * b
            << ",0.1,200,,\n";
    }
    std::ofstream(QDir(dir).filePath(QStringLiteral("results.md")).toStdString())
        << "# study experiment: one labeling budget, arms offline, online_margin\n\n"
           "Simulated labeler: kinematic + pose-error intents (no text-motion judge).\n";
}

// results.csv as `study experiment` writes it while running (10 columns): the untrained model and
// the offline arm at the given budgets, each with R@1 and the labeler's win rate (Wilson ends),
// written to a temporary file and renamed into DIR, as the experiment does.
void writeRunningResults(const QString &dir, const std::vector<int> &budgets)
{
    const QString temporary = QDir(dir).filePath(QStringLiteral("results.csv.tmp"));
    {
        std::ofstream csv(temporary.toStdString());
        csv << "arm,labels,metric,mean,ci95,n,diff_vs_untrained,diff_ci95,low,high\n"
               "untrained,0,R_precision_top_1,0.44,0.05,3,,,,\n";
        for (const int labels : budgets)
            csv << "offline," << labels << ",R_precision_top_1,0.46,0.04,3,0.02,0.03,,\n"
                << "offline," << labels << ",labeler_win_rate,0.4,0.13,50,,,0.276,0.538\n";
    }
    std::rename(temporary.toStdString().c_str(),
                QDir(dir).filePath(QStringLiteral("results.csv")).toStdString().c_str());
}

} // namespace

class StudyExperimentViewTest : public QObject {
    Q_OBJECT
private slots:
    void tableAndChartByBudget()
    {
        QTemporaryDir dir;
        writeResults(dir.path());
        QVERIFY(isStudyExperimentDirectory(dir.path().toStdString()));
        Settings settings(QDir(dir.path()).filePath(QStringLiteral("s.ini")));
        TrainPanel panel(settings);
        StudyExperimentView *view = panel.openStudyExperiment(dir.path());
        QVERIFY(view);
        QVERIFY(view->isVisible());
        QTableWidget *table = view->table();
        QCOMPARE(table->rowCount(), 7); // untrained + 2 arms x 3 budgets
        QCOMPARE(table->columnCount(), 5);
        QCOMPARE(table->horizontalHeaderItem(2)->text(), QStringLiteral("R_precision_top_1"));
        QCOMPARE(table->item(0, 0)->text(), QStringLiteral("untrained"));
        QCOMPARE(table->item(0, 2)->text(), QStringLiteral("0.440 ± 0.050"));
        QCOMPARE(table->item(0, 4)->text(), QStringLiteral("–")); // no untrained A/B
        QCOMPARE(table->item(6, 0)->text(), QStringLiteral("online_margin"));
        QCOMPARE(table->item(6, 1)->text(), QStringLiteral("1000"));
        QCOMPARE(table->item(6, 2)->text(), QStringLiteral("0.490 ± 0.040\nΔ +0.050 ± 0.030 *"));
        QCOMPARE(table->item(1, 2)->text(), QStringLiteral("0.445 ± 0.050\nΔ +0.005 ± 0.030"));

        view->setChartMetric(QStringLiteral("R_precision_top_1"));
        view->setShowDifferences(false);
        QCOMPARE(view->armLineCount(), 2);
        QCOMPARE(view->pointCount(), 6);
        QCOMPARE(view->whiskerCount(), 6);
        view->setShowDifferences(true);
        QCOMPARE(view->armLineCount(), 2);
        QCOMPARE(view->whiskerCount(), 6);
        // The labeler's rates are against the untrained model already: no differences to draw.
        view->setChartMetric(QStringLiteral("labeler_win_rate"));
        QCOMPARE(view->armLineCount(), 0);
        QVERIFY2(view->chart()->title().contains(QStringLiteral("no paired differences")),
                 qPrintable(view->chart()->title()));
        view->setShowDifferences(false);
        QCOMPARE(view->armLineCount(), 2);
        QCOMPARE(view->pointCount(), 6);

        if (const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR"); !shots.isEmpty()) {
            view->setChartMetric(QStringLiteral("R_precision_top_1"));
            QVERIFY(QTest::qWaitForWindowExposed(view));
            QTest::qWait(200);
            QVERIFY(view->grab().save(
                QDir(shots).filePath(QStringLiteral("study-experiment-view.png"))));
        }
        view->close();
    }

    void runningExperimentRowsAppear()
    {
        QTemporaryDir dir;
        writeRunningResults(dir.path(), {250});
        QVERIFY(isStudyExperimentDirectory(dir.path().toStdString()));
        const StudyExperimentResults read = readStudyExperimentResults(dir.path().toStdString());
        QCOMPARE(read.budgets, std::vector<std::int64_t>{250});
        const StudyExperimentPoint &rate = read.series.at("offline").at("labeler_win_rate")[0];
        QVERIFY(rate.bounds);
        QCOMPARE(rate.bounds->low, 0.276);
        QCOMPARE(rate.bounds->high, 0.538);
        QVERIFY(!read.series.at("offline").at("R_precision_top_1")[0].bounds);

        Settings settings(QDir(dir.path()).filePath(QStringLiteral("s.ini")));
        TrainPanel panel(settings);
        StudyExperimentView *view = panel.openStudyExperiment(dir.path());
        QVERIFY(view);
        QTableWidget *table = view->table();
        QCOMPARE(table->rowCount(), 2); // untrained + offline at 250
        QCOMPARE(table->item(1, 3)->text(), QStringLiteral("0.400 [0.276, 0.538]"));
        // The whisker of a rate spans its Wilson ends, not mean ± ci95.
        view->setChartMetric(QStringLiteral("labeler_win_rate"));
        view->setShowDifferences(false);
        QCOMPARE(view->whiskerCount(), 1);

        // The experiment finishes the next step: the open window reads the new file by itself
        // (its directory watcher sees the rename).
        QTest::qWait(1100); // a file time of its own, on file systems with 1 s resolution
        writeRunningResults(dir.path(), {250, 500});
        QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), 3, 3000);
        QCOMPARE(table->item(2, 1)->text(), QStringLiteral("500"));
        view->reloadIfChanged(); // nothing new: the table stays
        QCOMPARE(table->rowCount(), 3);
        QVERIFY2(view->chart()->title().contains(QStringLiteral("labeler_win_rate")),
                 qPrintable(view->chart()->title()));
        QCOMPARE(view->whiskerCount(), 2);
        if (const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR"); !shots.isEmpty()) {
            QVERIFY(QTest::qWaitForWindowExposed(view));
            QTest::qWait(200);
            QVERIFY(view->grab().save(
                QDir(shots).filePath(QStringLiteral("study-experiment-running.png"))));
        }
        view->close();
    }

    void missingOrBrokenResultsAreNamed()
    {
        QTemporaryDir dir;
        Settings settings(QDir(dir.path()).filePath(QStringLiteral("s.ini")));
        TrainPanel panel(settings);
        auto *message = panel.findChild<QLabel *>(QStringLiteral("trainMessage"));
        QVERIFY(message);
        QVERIFY(!isStudyExperimentDirectory(dir.path().toStdString()));
        QVERIFY(!panel.openStudyExperiment(dir.path()));
        QVERIFY2(message->text().contains(QStringLiteral("results.csv: missing")),
                 qPrintable(message->text()));
        std::ofstream(QDir(dir.path()).filePath(QStringLiteral("results.csv")).toStdString())
            << "arm,labels,metric,mean,ci95,n,diff_vs_untrained,diff_ci95\n"
               "online,250,FID,high,1,6,,\n";
        QVERIFY(!panel.openStudyExperiment(dir.path()));
        QVERIFY2(message->text().contains(QStringLiteral("results.csv: line 2: 'high' is not a "
                                                         "number")),
                 qPrintable(message->text()));
    }
};

QTEST_MAIN(StudyExperimentViewTest)
#include "study_experiment_view_test.moc"
