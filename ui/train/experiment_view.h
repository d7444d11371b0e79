#pragma once
// An experiment directory (`motionpref-cli experiment run`, ml/run/experiment.h) in a window of
// the Train panel: the runs' states, the table of mean ± 95% interval per configuration and
// metric (seeds pooled) and the paired difference against the untrained baseline, and a bar
// chart of one metric with 95% whiskers (QtCharts has no error bars: each whisker is a line
// series of three strokes). The chart shows the values or the differences against the baseline.
// Read from disk, as `experiment report` does; Reload reads again while the sweep runs.

#include <QWidget>

#include <memory>

class QChart;
class QChartView;
class QComboBox;
class QLabel;
class QTableWidget;

namespace mp {

struct ExperimentResults;

class ExperimentView : public QWidget {
    Q_OBJECT
public:
    explicit ExperimentView(QWidget *parent = nullptr);
    ~ExperimentView() override;

    // False with errorString() when DIR is no experiment directory or a file in it is broken.
    bool open(const QString &dir);
    bool reload();
    QString errorString() const { return m_error; }
    QString directory() const { return m_dir; }

    QTableWidget *table() const { return m_table; }
    QChart *chart() const { return m_chart; }
    // The metric charted ("R_precision_top_1", ...) and whether differences are shown.
    void setChartMetric(const QString &metric);
    void setShowDifferences(bool differences);
    // Bars in the chart and whisker series (one per bar), for tests.
    int barCount() const;
    int whiskerCount() const;

private:
    void fillTable();
    void redrawChart();

    QString m_dir;
    QString m_error;
    QLabel *m_summary = nullptr;
    QTableWidget *m_table = nullptr;
    QComboBox *m_metric = nullptr;
    QComboBox *m_mode = nullptr;
    QChart *m_chart = nullptr;
    QChartView *m_chartView = nullptr;
    std::unique_ptr<ExperimentResults> m_results;
};

} // namespace mp
