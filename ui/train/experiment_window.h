#pragma once
// What the Train panel's two experiment windows share (ExperimentView: `experiment run`;
// StudyExperimentView: `study experiment`): a summary line, the results table, a chart with the
// choice of metric and of values or differences against the untrained model, Reload, the
// reading of the directory with its error shown in place, and the 95% interval texts and
// whiskers (QtCharts has no error bars: a whisker is a line series of three strokes).

#include "ml/run/experiment_report.h"

#include <QWidget>

#include <optional>
#include <string>
#include <vector>

class QAbstractAxis;
class QChart;
class QComboBox;
class QLabel;
class QLineSeries;
class QPen;
class QTableWidget;

namespace mp {

class ExperimentWindow : public QWidget {
    Q_OBJECT
public:
    ~ExperimentWindow() override;

    // False with errorString() when DIR cannot be read.
    bool open(const QString &dir);
    bool reload();
    QString errorString() const { return m_error; }
    QString directory() const { return m_dir; }

    QTableWidget *table() const { return m_table; }
    QChart *chart() const { return m_chart; }
    // The metric charted ("R_precision_top_1", ...) and whether differences are shown.
    void setChartMetric(const QString &metric);
    void setShowDifferences(bool differences);

    // "0.445 ± 0.050", and "\nΔ +0.005 ± 0.030" (with " *" where it excludes zero) when given.
    static QString estimateText(const IntervalEstimate &value,
                                const std::optional<IntervalEstimate> &difference = {});
    static QString number(double value, bool sign = false);

protected:
    struct Texts {
        QString objectPrefix; // "experiment": experimentTable, experimentMetric, ...
        QString tableTip;
        QString metricTip;
        QString differenceMode; // the mode combo's second entry
        QString modeTip;
        QString reloadTip;
        int chartMinimumHeight = 220;
    };
    ExperimentWindow(const Texts &texts, QWidget *parent);

    // Reads the directory (throws with the file and problem) and returns the window title; the
    // metrics offered by the chart come from metrics() afterwards.
    virtual QString read(const QString &dir) = 0;
    virtual std::vector<std::string> metrics() const = 0;
    virtual void fillTable() = 0;
    virtual void redrawChart() = 0;

    QLabel *summary() const { return m_summary; }
    QString chartMetric() const;
    bool showDifferences() const;
    // Removes every series and axis before a chart is drawn again.
    void clearChart();
    // A whisker at x from bottom to top, caps capHalfWidth to each side, on the chart's axes.
    QLineSeries *addWhisker(double x, double top, double bottom, double capHalfWidth,
                            const QPen &pen, QAbstractAxis *xAxis, QAbstractAxis *yAxis);

private:
    QString m_dir;
    QString m_error;
    QLabel *m_summary = nullptr;
    QTableWidget *m_table = nullptr;
    QComboBox *m_metric = nullptr;
    QComboBox *m_mode = nullptr;
    QChart *m_chart = nullptr;
};

} // namespace mp
