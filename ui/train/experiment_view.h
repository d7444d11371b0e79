#pragma once
// An experiment directory (`motionpref-cli experiment run`, ml/run/experiment.h) in a window of
// the Train panel: the runs' states, the table of mean ± 95% interval per configuration and
// metric (seeds pooled) and the paired difference against the untrained baseline, and a bar
// chart of one metric with 95% whiskers (QtCharts has no error bars: each whisker is a line
// series of three strokes). The chart shows the values or the differences against the baseline.
// Read from disk, as `experiment report` does; Reload reads again while the sweep runs.

#include "ui/train/experiment_window.h"

#include <memory>

namespace mp {

struct ExperimentResults;

class ExperimentView : public ExperimentWindow {
    Q_OBJECT
public:
    explicit ExperimentView(QWidget *parent = nullptr);
    ~ExperimentView() override;

    // Bars in the chart and whisker series (one per bar), for tests.
    int barCount() const;
    int whiskerCount() const;

private:
    QString read(const QString &dir) override;
    std::vector<std::string> metrics() const override;
    void fillTable() override;
    void redrawChart() override;

    std::unique_ptr<ExperimentResults> m_results;
};

} // namespace mp
