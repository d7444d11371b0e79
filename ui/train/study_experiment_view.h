#pragma once
// A `motionpref-cli study experiment` directory (issue 21) in a window of the Train panel: the
// table of every arm and labeling budget (mean ± 95% and the paired difference against the
// untrained model, as results.md), and a chart of one metric against the labeling budget, one
// line per arm with a 95% whisker at each point (QtCharts has no error bars: each whisker is a
// line series of three strokes) and the untrained model as a dashed line. The chart shows the
// values or the differences against the untrained model. Read from OUT/results.csv, which the
// experiment writes when it ends; Reload reads it again.

#include "ui/train/experiment_window.h"

#include <memory>

namespace mp {

struct StudyExperimentResults;

class StudyExperimentView : public ExperimentWindow {
    Q_OBJECT
public:
    explicit StudyExperimentView(QWidget *parent = nullptr);
    ~StudyExperimentView() override;

    // For tests: the arms' line series, the points on them and the whisker series.
    int armLineCount() const;
    int pointCount() const;
    int whiskerCount() const;

private:
    QString read(const QString &dir) override;
    std::vector<std::string> metrics() const override;
    void fillTable() override;
    void redrawChart() override;

    std::unique_ptr<StudyExperimentResults> m_results;
};

} // namespace mp
