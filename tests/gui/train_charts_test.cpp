#include "app/jobs/run_follower.h"
#include "ml/run/run_config.h"
#include "ui/train/train_charts.h"

#include <QChart>
#include <QChartView>
#include <QDir>
#include <QLegend>
#include <QLegendMarker>
#include <QScreen>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace mp;

namespace {
// A motion_metrics event as the trainer writes it (ml/run/policy_motion_eval.cpp).
Event motionEvent(int step, double epoch, double r1, double fid)
{
    Event event{.type = EventType::MotionMetrics, .step = step, .epoch = epoch};
    const auto add = [&event](const std::string &name, double mean, double ci) {
        event.metrics["motion/" + name] = mean;
        event.metrics["motion/" + name + "/ci"] = ci;
        event.lists["motion/" + name + "/values"] = {mean - ci, mean + ci};
    };
    add("R_precision_top_1", r1, 0.01);
    add("R_precision_top_3", r1 + 0.2, 0.012);
    add("FID", fid, 0.3);
    add("gt_R_precision_top_1", 0.88, 0.004);
    return event;
}

// The labels of the visible legend entries of the chart titled `title`, in order.
QStringList legendLabels(const TrainCharts &charts, const QString &title)
{
    QStringList labels;
    for (const QChartView *view : charts.findChildren<QChartView *>()) {
        if (view->chart()->title() != title)
            continue;
        for (const QLegendMarker *marker : view->chart()->legend()->markers())
            if (marker->isVisible())
                labels << marker->label();
    }
    return labels;
}

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
        writer.write(motionEvent(40, 1.0, 0.41, 3.5));

        RunFollower follower;
        follower.setPollInterval(20);
        QVERIFY(follower.follow(dir.path()));
        TrainCharts charts;
        charts.addRun(&follower, "dpo-ipo");
        charts.redrawNow();
        QCOMPARE(charts.chartTitles().size(), 6);
        QCOMPARE(charts.pointCount("Loss", "dpo-ipo loss"), 40);
        QCOMPARE(charts.pointCount("Rewards", "dpo-ipo margins"), 40);
        QCOMPARE(charts.spikeCount("Rewards"), 1);
        QCOMPARE(charts.pointCount("R-precision", "dpo-ipo R@1"), 1);
        QCOMPARE(charts.pointCount("R-precision", "dpo-ipo R@3"), 1);
        QCOMPARE(charts.pointCount("HumanML3D metric", "dpo-ipo FID"), 1);
        QCOMPARE(charts.pointCount("R-precision", "real R@1"), 2); // a reference line
        QVERIFY(charts.motionMetricsMessage().isEmpty());

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
            writerA.write(motionEvent(50, 1.0, 0.40, 4.0));
            writerA.write(motionEvent(100, 2.0, 0.45, 3.0));
            writerA.write({.type = EventType::Done, .step = 100});
            EventWriter writerB(QDir(b.path()).filePath("events.jsonl").toStdString());
            writeSteps(writerB, 0, 80, 0.1);
            writerB.write(motionEvent(40, 1.0, 0.38, 5.0));
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
        QCOMPARE(charts.pointCount("R-precision", "ipo R@1"), 2);
        QCOMPARE(charts.pointCount("R-precision", "sigmoid R@1"), 1);
        QCOMPARE(charts.pointCount("HumanML3D metric", "ipo FID"), 2);
        // The legends name each metric once, whatever the number of runs (colour is the run's);
        // a marker is visible once its chart is.
        charts.resize(1100, 800);
        charts.show();
        QVERIFY(QTest::qWaitForWindowExposed(&charts));
        QCOMPARE(legendLabels(charts, "Loss"), QStringList{"loss"});
        QCOMPARE(legendLabels(charts, "Rewards"), (QStringList{"chosen", "rejected", "margins"}));
        QCOMPARE(legendLabels(charts, "R-precision (higher is better)"),
                 (QStringList{"real R@1", "R@1", "R@3"}));
        QVERIFY(charts.runColour(&first).isValid());
        QVERIFY(charts.runColour(&first) != charts.runColour(&second));
        charts.setMotionMetric("R_precision_top_2"); // not in these events
        QCOMPARE(charts.pointCount("HumanML3D metric", "ipo FID"), 0);
        QCOMPARE(charts.pointCount("HumanML3D metric", "ipo R@2"), 0);
        charts.setMotionMetric("FID");
        QCOMPARE(charts.pointCount("HumanML3D metric", "ipo FID"), 2);
        if (const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR"); !shots.isEmpty()) {
            QTest::qWait(300);
            charts.screen()->grabWindow(0).save(shots + "/train-charts.png");
        }
        const QColor secondColour = charts.runColour(&second);
        charts.removeRun(&second);
        charts.redrawNow();
        QCOMPARE(charts.pointCount("Loss", "sigmoid loss"), 0);
        charts.addRun(&second, "sigmoid"); // ticked again: the same colour
        QCOMPARE(charts.runColour(&second), secondColour);
    }

    // Runs without motion_metrics events: the HumanML3D area says so in words, and says when
    // the first evaluation comes for a run that computes them.
    void saysWhenThereAreNoMotionMetrics()
    {
        TrainCharts charts;
        charts.redrawNow();
        QVERIFY(charts.motionMetricsMessage().contains("appear here"));
        QTemporaryDir dir;
        {
            EventWriter writer(QDir(dir.path()).filePath("events.jsonl").toStdString());
            writeSteps(writer, 0, 10, 0.0);
        }
        RunFollower follower;
        QVERIFY(follower.follow(dir.path()));
        charts.addRun(&follower, "plain");
        charts.redrawNow();
        QVERIFY2(charts.motionMetricsMessage().contains("No HumanML3D metrics in 1 shown run"),
                 qPrintable(charts.motionMetricsMessage()));
        QCOMPARE(charts.pointCount("R-precision", "plain R@1"), 0);

        QTemporaryDir live;
        RunConfig config = defaultRunConfig(TrainMethod::Dpo);
        config.eval.motionMetrics = true;
        config.eval.motionDataset = "/data/corpus";
        config.eval.motionEveryEpochs = 2;
        saveRunConfig(config, QDir(live.path()).filePath("config.json").toStdString());
        {
            EventWriter writer(QDir(live.path()).filePath("events.jsonl").toStdString());
            writeSteps(writer, 0, 5, 0.0);
        }
        RunFollower liveFollower;
        QVERIFY(liveFollower.follow(live.path()));
        charts.addRun(&liveFollower, "live");
        charts.redrawNow();
        QVERIFY2(charts.motionMetricsMessage().contains("live evaluates after every 2 epoch"),
                 qPrintable(charts.motionMetricsMessage()));
    }
};

QTEST_MAIN(TrainChartsTest)
#include "train_charts_test.moc"
