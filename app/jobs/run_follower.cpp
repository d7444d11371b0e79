#include "app/jobs/run_follower.h"

#include <QDir>
#include <QFileInfo>

namespace mp {

namespace {
constexpr int kDefaultPollMs = 250; // charts repaint a few times a second; events arrive per step
}

RunFollower::RunFollower(QObject *parent) : QObject(parent)
{
    m_timer.setInterval(kDefaultPollMs);
    connect(&m_timer, &QTimer::timeout, this, &RunFollower::poll);
}

RunFollower::~RunFollower() = default;

bool RunFollower::follow(const QString &runDir)
{
    stopFollowing();
    if (!QFileInfo(runDir).isDir()) {
        m_error = tr("%1: not a run directory").arg(runDir);
        return false;
    }
    m_runDir = QDir(runDir).absolutePath();
    m_events.clear();
    m_status = Status::Empty;
    m_failureReason.clear();
    m_reader = std::make_unique<EventReader>(
        QDir(m_runDir).filePath(QStringLiteral("events.jsonl")).toStdString());
    poll();
    if (m_status != Status::Done && m_status != Status::Failed)
        m_timer.start();
    return true;
}

void RunFollower::stopFollowing()
{
    m_timer.stop();
}

void RunFollower::poll()
{
    if (!m_reader)
        return;
    std::vector<Event> fresh = m_reader->poll();
    if (fresh.empty())
        return;
    const int first = static_cast<int>(m_events.size());
    Status status = m_status == Status::Empty ? Status::Running : m_status;
    for (Event &event : fresh) {
        if (event.type == EventType::Done) {
            status = Status::Done;
        } else if (event.type == EventType::Failed) {
            status = Status::Failed;
            const auto reason = event.text.find("reason");
            m_failureReason = reason != event.text.end() ? QString::fromStdString(reason->second)
                                                         : tr("the job reported a failure");
        }
        m_events.push_back(std::move(event));
    }
    emit eventsAppended(first);
    if (status != m_status) {
        m_status = status;
        if (status == Status::Done || status == Status::Failed)
            m_timer.stop();
        emit statusChanged(status);
    }
}

} // namespace mp
