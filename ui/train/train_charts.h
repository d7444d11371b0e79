#pragma once
// Live charts of training runs, drawn from their events: loss, KL, rewards (with spikes marked),
// reward accuracy, and the HumanML3D metrics per epoch (motion_metrics events) with their 95%
// intervals as whiskers: R-precision (R@1, R@3) and one chosen metric (FID by default). Several
// runs are overlaid: the colour tells the runs apart (runColour, for the list that names them),
// the line style the metrics, and each chart's legend names each metric once. Hovering a line
// shows its run, metric and value. Redrawn a few times a second at most, whatever the event rate,
// with whole-series replace().

#include <QHash>
#include <QStringList>
#include <QTimer>
#include <QWidget>

#include <vector>

class QColor;
class QComboBox;
class QXYSeries;
class QChart;
class QLabel;
class QGridLayout;
class QStackedWidget;
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
    // The colour of a charted run; kept when the run is removed and added again. Invalid for a
    // follower never added.
    QColor runColour(const RunFollower *follower) const;
    int runCount() const { return static_cast<int>(m_runs.size()); }
    QStringList chartTitles() const;
    // Points in a chart's series named "<run label> <metric>" (tests and the status line).
    int pointCount(const QString &chartTitle, const QString &seriesName) const;
    int spikeCount(const QString &chartTitle) const;
    // What the HumanML3D area says instead of its charts (no run has metrics yet); empty when
    // the charts are shown.
    QString motionMetricsMessage() const;
    // The metric of the second HumanML3D chart ("FID", "Diversity", ...).
    void setMotionMetric(const QString &metric);
    void redrawNow();

private:
    struct ChartSlot {
        QString title;
        QStringList stepKeys;   // metrics of step events drawn against the step
        QStringList motionKeys; // metrics of motion_metrics events against the epoch; empty:
                                // the metric chosen in m_motionMetric
        bool fromMotionMetrics = false;
        QChart *chart = nullptr;
        QChartView *view = nullptr;
        QValueAxis *xAxis = nullptr;
        QValueAxis *yAxis = nullptr;
    };
    struct Run {
        RunFollower *follower = nullptr;
        QString label;
        int colourIndex = 0;
        int motionEveryEpochs = -1; // from the run's config once read; 0: off; -1: not yet
    };

    ChartSlot &addChart(const QString &title, const QStringList &stepKeys);
    // Adds a series to the slot's chart and axes; a named series out of the legend shows its name
    // and nearest value on hover.
    void addSeries(ChartSlot &slot, QXYSeries *series, bool inLegend);
    // A legend entry with no points: a metric's line style in grey, standing for every run.
    void addLegendEntry(ChartSlot &slot, const QString &name, Qt::PenStyle style);
    void scheduleRedraw();
    void redrawChart(ChartSlot &slot);
    void redrawMotionChart(ChartSlot &slot, bool &anyPoint);
    QString emptyMotionMessage();
    // Shows the no-metrics sentence in a strip, or the HumanML3D charts at full share.
    void showMotionMessage(bool message);

    std::vector<ChartSlot> m_charts;
    std::vector<Run> m_runs;
    QComboBox *m_motionMetric = nullptr;
    QGridLayout *m_grid = nullptr;
    QStackedWidget *m_motionStack = nullptr;
    QLabel *m_motionMessage = nullptr;
    QTimer m_redrawTimer;
    QHash<const RunFollower *, int> m_colourIndex;
};

} // namespace mp
