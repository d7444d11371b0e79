#include "app/jobs/run_follower.h"
#include "ui/train_charts.h"

#include <QDir>
#include <QScreen>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace mp;

namespace {
void writeSteps(EventWriter &writer, int from, int to, double offset)
{
    for (int step = from; step < to; ++step) {
        const double t = step * 0.05;
        writer.write({.type = EventType::Step,
                      .step = step,
                      .epoch = step / 50.0,
                      .metrics = {{"loss", 0.7 * std::exp(-t) + offset},
                                  {"rewards/chosen", 0.5 * t},
                                  {"rewards/rejected", -0.3 * t},
                                  {"rewards/margins", 0.8 * t},
                                  {"rewards/accuracies", std::min(1.0, 0.5 + 0.1 * t)}}});
    }
}
} // namespace

class TrainChartsTest : public QObject {
    Q_OBJECT
private slots:
    void pointsAppearAsTheRunGrows()
    {
        QTemporaryDir dir;
        EventWriter writer(QDir(dir.path()).filePath("events.jsonl").toStdString());
        writeSteps(writer, 0, 40, 0.0);
        writer.write({.type = EventType::Spike,
                      .step = 30,
                      .metrics = {{"value", 9.0}},
                      .text = {{"metric", "rewards/chosen"}}});
        writer.write({.type = EventType::Eval,
                      .step = 40,
                      .metrics = {{"R_precision_top_1", 0.41}, {"R_precision_top_1/ci", 0.01}}});

        RunFollower follower;
        follower.setPollInterval(20);
        QVERIFY(follower.follow(dir.path()));
        TrainCharts charts;
        charts.addRun(&follower, "dpo-ipo");
        charts.redrawNow();
        QCOMPARE(charts.chartTitles().size(), 5);
        QCOMPARE(charts.pointCount("Loss", "dpo-ipo loss"), 40);
        QCOMPARE(charts.pointCount("Rewards", "dpo-ipo margins"), 40);
        QCOMPARE(charts.spikeCount("Rewards"), 1);
        QCOMPARE(charts.pointCount("HumanML3D metrics", "dpo-ipo R_precision_top_1"), 1);

        // The job appends; the charts catch up without being asked.
        writeSteps(writer, 40, 60, 0.0);
        QTRY_COMPARE(charts.pointCount("Loss", "dpo-ipo loss"), 60);
    }

    void runsAreOverlaid()
    {
        QTemporaryDir a;
        QTemporaryDir b;
        {
            EventWriter writerA(QDir(a.path()).filePath("events.jsonl").toStdString());
            writeSteps(writerA, 0, 100, 0.0);
            writerA.write(
                {.type = EventType::Eval,
                 .step = 50,
                 .metrics = {{"R_precision_top_1", 0.40}, {"R_precision_top_1/ci", 0.012}}});
            writerA.write(
                {.type = EventType::Eval,
                 .step = 100,
                 .metrics = {{"R_precision_top_1", 0.45}, {"R_precision_top_1/ci", 0.011}}});
            writerA.write({.type = EventType::Done, .step = 100});
            EventWriter writerB(QDir(b.path()).filePath("events.jsonl").toStdString());
            writeSteps(writerB, 0, 80, 0.1);
            writerB.write(
                {.type = EventType::Eval,
                 .step = 50,
                 .metrics = {{"R_precision_top_1", 0.38}, {"R_precision_top_1/ci", 0.015}}});
        }
        RunFollower first;
        RunFollower second;
        QVERIFY(first.follow(a.path()));
        QVERIFY(second.follow(b.path()));
        QCOMPARE(first.status(), RunFollower::Status::Done);
        TrainCharts charts;
        charts.addRun(&first, "ipo");
        charts.addRun(&second, "sigmoid");
        charts.redrawNow();
        QCOMPARE(charts.runCount(), 2);
        QCOMPARE(charts.pointCount("Loss", "ipo loss"), 100);
        QCOMPARE(charts.pointCount("Loss", "sigmoid loss"), 80);
        QCOMPARE(charts.pointCount("HumanML3D metrics", "ipo R_precision_top_1"), 2);
        if (const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR"); !shots.isEmpty()) {
            charts.resize(1100, 800);
            charts.show();
            QVERIFY(QTest::qWaitForWindowExposed(&charts));
            QTest::qWait(300);
            charts.screen()->grabWindow(0).save(shots + "/train-charts.png");
        }
        charts.removeRun(&second);
        charts.redrawNow();
        QCOMPARE(charts.pointCount("Loss", "sigmoid loss"), 0);
    }
};

QTEST_MAIN(TrainChartsTest)
#include "train_charts_test.moc"
