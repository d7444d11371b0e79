#pragma once
// The Train panel: the run settings form, the runs (started here or opened from a directory,
// overlaid on the charts when ticked), start / stop / resume of a job, and its log.

#include <QPointer>
#include <QProcess>
#include <QWidget>

class QLabel;
class QListWidget;
class QListWidgetItem;
class QPlainTextEdit;
class QPushButton;

namespace mp {

class ExperimentView;
class StudyExperimentView;
class JobRunner;
class RunFollower;
class Settings;
class TrainCharts;
class TrainForm;

class TrainPanel : public QWidget {
    Q_OBJECT
public:
    explicit TrainPanel(Settings &settings, QWidget *parent = nullptr);
    ~TrainPanel() override;

    // Adds a run directory to the list and its events to the charts (running or finished).
    bool openRun(const QString &runDir);
    // Writes RUN_DIR/run.json from the form and starts `motionpref-cli train` on it.
    bool startRun(const QString &runDir);
    // Shows an experiment directory (`motionpref-cli experiment run`) in its own window: the
    // results table and a bar chart with 95% whiskers. Null with the error in the panel's
    // message when it cannot be read.
    ExperimentView *openExperiment(const QString &dir);
    // Shows a `motionpref-cli study experiment` directory (issue 21) in its own window: the table
    // and each metric against the labeling budget, a line per arm with 95% whiskers. Null with
    // the error in the panel's message when it cannot be read.
    StudyExperimentView *openStudyExperiment(const QString &dir);
    TrainCharts *charts() const { return m_charts; }
    TrainForm *form() const { return m_form; }
    JobRunner *job() const { return m_job; }
    bool trainingAvailable() const { return m_trainingAvailable; }

signals:
    void trainingAvailabilityKnown(bool available);

private:
    // `--nproc N` when the form asks for more than one process.
    QStringList processArguments() const;
    void probeTrainingCommand();
    void startClicked();
    void resumeClicked();
    void openClicked();
    void openExperimentClicked();
    template <typename View> View *openExperimentWindow(const QString &dir, QSize size);
    void runToggled(QListWidgetItem *item);
    void updateButtons();
    void showMessage(const QString &text, bool error);
    RunFollower *followerOf(QListWidgetItem *item) const;

    Settings &m_settings;
    TrainForm *m_form = nullptr;
    TrainCharts *m_charts = nullptr;
    JobRunner *m_job = nullptr;
    QListWidget *m_runs = nullptr;
    QPlainTextEdit *m_log = nullptr;
    QLabel *m_message = nullptr;
    QPushButton *m_start = nullptr;
    QPushButton *m_stop = nullptr;
    QPushButton *m_resume = nullptr;
    QPointer<QProcess> m_probe; // asks the CLI whether it has 'train'; finished before we go
    QString m_cliPath;
    bool m_trainingAvailable = false;
};

} // namespace mp
