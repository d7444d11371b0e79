#include "app/jobs/job_runner.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSaveFile>

#include <csignal>
#include <sys/types.h>

namespace mp {

namespace {
constexpr int kPollMs = 250; // log and liveness checks; events are read by their own follower
const char *const kPidFile = "job.pid";
const char *const kLogFile = "job.log";
} // namespace

JobRunner::JobRunner(QObject *parent) : QObject(parent)
{
    m_pollTimer.setInterval(kPollMs);
    connect(&m_pollTimer, &QTimer::timeout, this, &JobRunner::poll);
    m_killTimer.setSingleShot(true);
    connect(&m_killTimer, &QTimer::timeout, this, [this] {
        if (processAlive())
            ::kill(static_cast<pid_t>(m_pid), SIGKILL);
    });
}

JobRunner::~JobRunner() = default;

QString JobRunner::logPath() const
{
    return QDir(m_runDir).filePath(QString::fromLatin1(kLogFile));
}

QString JobRunner::defaultCliPath()
{
    const QString fromEnv = qEnvironmentVariable("MOTIONPREF_CLI");
    if (!fromEnv.isEmpty())
        return fromEnv;
    return QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("motionpref-cli"));
}

bool JobRunner::start(const QString &program, const QStringList &arguments, const QString &runDir)
{
    if (m_state == State::Running || m_state == State::Stopping) {
        m_error = tr("a job is already running in %1").arg(m_runDir);
        return false;
    }
    if (!QDir().mkpath(runDir)) {
        m_error = tr("%1: cannot create the run directory").arg(runDir);
        return false;
    }
    if (!QFileInfo(program).isExecutable()) {
        m_error = tr("%1: not an executable program").arg(program);
        return false;
    }
    m_runDir = QDir(runDir).absolutePath();
    QProcess process;
    process.setProgram(program);
    process.setArguments(arguments);
    process.setStandardOutputFile(logPath(), QIODevice::Append);
    process.setStandardErrorFile(logPath(), QIODevice::Append);
    qint64 pid = 0;
    if (!process.startDetached(&pid)) {
        m_error = tr("%1: cannot start (%2)").arg(program, process.errorString());
        return false;
    }
    m_pid = pid;
    QSaveFile pidFile(QDir(m_runDir).filePath(QString::fromLatin1(kPidFile)));
    if (pidFile.open(QIODevice::WriteOnly)) {
        pidFile.write(QByteArray::number(pid) + '\n');
        pidFile.commit();
    }
    m_logOffset = 0;
    m_error.clear();
    setState(State::Running);
    m_pollTimer.start();
    return true;
}

bool JobRunner::attach(const QString &runDir)
{
    QFile pidFile(QDir(runDir).filePath(QString::fromLatin1(kPidFile)));
    if (!pidFile.open(QIODevice::ReadOnly)) {
        m_error =
            tr("%1: no job.pid (not a run directory started by MotionPref Studio)").arg(runDir);
        return false;
    }
    bool ok = false;
    const qint64 pid = pidFile.readAll().trimmed().toLongLong(&ok);
    if (!ok || pid <= 0) {
        m_error = tr("%1: job.pid does not hold a process id").arg(pidFile.fileName());
        return false;
    }
    m_runDir = QDir(runDir).absolutePath();
    m_pid = pid;
    m_logOffset = 0;
    m_error.clear();
    if (processAlive()) {
        setState(State::Running);
        m_pollTimer.start();
    } else {
        setState(State::Finished);
    }
    poll();
    return true;
}

void JobRunner::stop(int graceMs)
{
    if (m_state != State::Running || !processAlive())
        return;
    ::kill(static_cast<pid_t>(m_pid), SIGTERM);
    setState(State::Stopping);
    m_killTimer.start(graceMs);
}

bool JobRunner::processAlive() const
{
    // /proc tells a zombie (exited, not yet reaped) apart from a live process.
    if (m_pid <= 0 || ::kill(static_cast<pid_t>(m_pid), 0) != 0)
        return false;
    QFile status(QStringLiteral("/proc/%1/stat").arg(m_pid));
    if (status.open(QIODevice::ReadOnly)) {
        const QByteArray stat = status.readAll();
        const int close = stat.lastIndexOf(')');
        if (close > 0 && close + 2 < stat.size() && stat.at(close + 2) == 'Z')
            return false;
    }
    return true;
}

void JobRunner::poll()
{
    QFile log(logPath());
    if (log.open(QIODevice::ReadOnly) && log.size() > m_logOffset) {
        log.seek(m_logOffset);
        const QByteArray fresh = log.readAll();
        m_logOffset += fresh.size();
        emit logAppended(QString::fromUtf8(fresh));
    }
    if ((m_state == State::Running || m_state == State::Stopping) && !processAlive()) {
        m_pollTimer.stop();
        m_killTimer.stop();
        setState(State::Finished);
    }
}

void JobRunner::setState(State state)
{
    if (state == m_state)
        return;
    m_state = state;
    emit stateChanged(state);
}

} // namespace mp
