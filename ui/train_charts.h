#pragma once
// Live charts of training runs, drawn from their events: loss, KL, rewards (with spikes marked),
// reward accuracy, and the HumanML3D metrics per evaluation with their confidence intervals.
// Several runs are overlaid, one colour per run. Redrawn a few times a second at most, whatever
// the event rate, with whole-series replace().

#include <QHash>
#include <QStringList>
#include <QTimer>
#include <QWidget>

#include <vector>

class QComboBox;
class QChart;
class QChartView;
class QValueAxis;

namespace mp {

class RunFollower;

class TrainCharts : public QWidget {
    Q_OBJECT
public:
    explicit TrainCharts(QWidget *parent = nullptr);

    // The follower stays owned by the caller; its events are drawn as they arrive.
    void addRun(RunFollower *follower, const QString &label);
    void removeRun(RunFollower *follower);
    int runCount() const { return static_cast<int>(m_runs.size()); }
    QStringList chartTitles() const;
    // Points in a chart's series named "<run label>: <metric>" (tests and the status line).
    int pointCount(const QString &chartTitle, const QString &seriesName) const;
    int spikeCount(const QString &chartTitle) const;
    void redrawNow();

private:
    struct ChartSlot {
        QString title;
        QStringList stepKeys; // metrics of step events drawn against the step
        bool fromEvaluations = false;
        QChart *chart = nullptr;
        QChartView *view = nullptr;
        QValueAxis *xAxis = nullptr;
        QValueAxis *yAxis = nullptr;
    };
    struct Run {
        RunFollower *follower = nullptr;
        QString label;
        int colourIndex = 0;
    };

    ChartSlot &addChart(const QString &title, const QStringList &stepKeys);
    void scheduleRedraw();
    void redrawChart(ChartSlot &slot);
    void redrawEvaluationChart(ChartSlot &slot);

    std::vector<ChartSlot> m_charts;
    std::vector<Run> m_runs;
    QComboBox *m_evalMetric = nullptr;
    QTimer m_redrawTimer;
    int m_nextColour = 0;
};

} // namespace mp
