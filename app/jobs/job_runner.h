#pragma once
// Runs a training or evaluation job as a separate process (motionpref-cli train|eval ...) and
// follows it. The run directory is the source of truth: the process is started detached, so it
// survives the GUI closing, and a later session re-attaches to it from the directory alone.
// A crash or an out-of-memory in training never takes the labeling session down.

#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>

namespace mp {

class JobRunner : public QObject {
    Q_OBJECT
public:
    enum class State { Idle, Running, Stopping, Finished };
    Q_ENUM(State)

    explicit JobRunner(QObject *parent = nullptr);
    ~JobRunner() override; // leaves a running job running: it belongs to its run directory

    // Starts `program arguments` with its output in runDir/job.log and its pid in runDir/job.pid.
    // Returns false with errorString() set when the directory or the process cannot be made.
    bool start(const QString &program, const QStringList &arguments, const QString &runDir);
    // Follows a job started earlier (by this or another session) from its run directory.
    // Returns false when the directory has no job.pid.
    bool attach(const QString &runDir);
    // Asks the job to stop at its next step boundary (SIGTERM); kills it if it has not stopped
    // within graceMs.
    void stop(int graceMs = 15000);

    State state() const { return m_state; }
    QString runDir() const { return m_runDir; }
    qint64 pid() const { return m_pid; }
    QString errorString() const { return m_error; }
    QString logPath() const;

    // The motionpref-cli next to the running executable (or $MOTIONPREF_CLI).
    static QString defaultCliPath();

signals:
    void stateChanged(mp::JobRunner::State state);
    void logAppended(const QString &text);

private:
    void poll();
    void setState(State state);
    bool processAlive() const;

    QTimer m_pollTimer;
    QTimer m_killTimer;
    QString m_runDir;
    QString m_error;
    qint64 m_pid = 0;
    qint64 m_logOffset = 0;
    State m_state = State::Idle;
};

} // namespace mp
