#pragma once
// Follows a run directory's events.jsonl as the job appends to it (or reads a finished run once)
// and hands the new events to the charts. The same EventReader the CLI uses parses the lines.

#include "ml/run/events.h"

#include <QObject>
#include <QString>
#include <QTimer>

#include <memory>
#include <vector>

namespace mp {

class RunFollower : public QObject {
    Q_OBJECT
public:
    enum class Status { Empty, Running, Done, Failed };
    Q_ENUM(Status)

    explicit RunFollower(QObject *parent = nullptr);
    ~RunFollower() override;

    // Reads what the run directory holds now and keeps polling for more until a done or failed
    // event. Returns false (errorString set) when runDir is not a directory.
    bool follow(const QString &runDir);
    void stopFollowing();
    // Reads new lines now (the timer does it every pollMs).
    void poll();
    void setPollInterval(int pollMs) { m_timer.setInterval(pollMs); }

    QString runDir() const { return m_runDir; }
    QString errorString() const { return m_error; }
    Status status() const { return m_status; }
    QString failureReason() const { return m_failureReason; }
    const std::vector<Event> &events() const { return m_events; }

signals:
    // events()[first..] are new.
    void eventsAppended(int first);
    void statusChanged(mp::RunFollower::Status status);

private:
    QTimer m_timer;
    QString m_runDir;
    QString m_error;
    QString m_failureReason;
    std::unique_ptr<EventReader> m_reader;
    std::vector<Event> m_events;
    Status m_status = Status::Empty;
};

} // namespace mp
