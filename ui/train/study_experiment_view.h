#pragma once
// A `motionpref-cli study experiment` directory (issue 21) in a window of the Train panel: the
// table of every arm and labeling budget (mean ± 95% and the paired difference against the
// untrained model, as results.md), and a chart of one metric against the labeling budget, one
// line per arm with a 95% whisker at each point (QtCharts has no error bars: each whisker is a
// line series of three strokes) and the untrained model as a dashed line. The chart shows the
// values or the differences against the untrained model. Read from OUT/results.csv, which the
// experiment rewrites (temp file + rename) after every budget step: the window watches the
// directory and reads the file again when it changed, so a running experiment's rows appear as
// its steps finish; Reload reads it again by hand.

#include "ui/train/experiment_window.h"

#include <QDateTime>

#include <memory>

class QFileSystemWatcher;

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
    // Reads results.csv again when its time or size changed since it was read (the directory
    // watcher's slot; public for tests, where the watcher's signal may come late).
    void reloadIfChanged();

private:
    QString read(const QString &dir) override;
    std::vector<std::string> metrics() const override;
    void fillTable() override;
    void redrawChart() override;

    std::unique_ptr<StudyExperimentResults> m_results;
    QFileSystemWatcher *m_watcher = nullptr;
    QDateTime m_readTime; // results.csv's time and size when read
    qint64 m_readSize = -1;
};

} // namespace mp
