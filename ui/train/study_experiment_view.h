#pragma once
// A `motionpref-cli study experiment` directory (issue 21) in a window of the Train panel: the
// table of every arm and labeling budget (mean ± 95% and the paired difference against the
// untrained model, as results.md), and a chart of one metric against the labeling budget, one
// line per arm with a 95% whisker at each point (QtCharts has no error bars: each whisker is a
// line series of three strokes) and the untrained model as a dashed line. The chart shows the
// values or the differences against the untrained model. Read from OUT/results.csv, which the
// experiment writes when it ends; Reload reads it again.

#include <QWidget>

#include <memory>

class QChart;
class QComboBox;
class QLabel;
class QTableWidget;

namespace mp {

struct StudyExperimentResults;

class StudyExperimentView : public QWidget {
    Q_OBJECT
public:
    explicit StudyExperimentView(QWidget *parent = nullptr);
    ~StudyExperimentView() override;

    // False with errorString() when DIR has no study experiment's results.csv or it is broken.
    bool open(const QString &dir);
    bool reload();
    QString errorString() const { return m_error; }
    QString directory() const { return m_dir; }

    QTableWidget *table() const { return m_table; }
    QChart *chart() const { return m_chart; }
    void setChartMetric(const QString &metric);
    void setShowDifferences(bool differences);
    // For tests: the arms' line series, the points on them and the whisker series.
    int armLineCount() const;
    int pointCount() const;
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
    std::unique_ptr<StudyExperimentResults> m_results;
};

} // namespace mp
