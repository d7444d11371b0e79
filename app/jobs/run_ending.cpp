#include "app/jobs/run_ending.h"

#include "ml/run/events.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace mp {

namespace {
QString tr(const char *text)
{
    return QCoreApplication::translate("RunEnding", text);
}

QString textOf(const Event &event, const char *key)
{
    const auto it = event.text.find(key);
    return it == event.text.end() ? QString() : QString::fromStdString(it->second);
}
} // namespace

RunEnding readRunEnding(const QString &runDir)
{
    if (!QFileInfo(runDir).isDir())
        return {RunEnding::Kind::Missing,
                tr("The run directory %1 is gone (deleted or moved while the job ran): its "
                   "events and checkpoints went with it. Start the run again in a new directory.")
                    .arg(runDir)};
    const QString eventsPath = QDir(runDir).filePath(QStringLiteral("events.jsonl"));
    std::vector<Event> events;
    try {
        EventReader reader(eventsPath.toStdString());
        events = reader.poll();
    } catch (const std::exception &) {
        // Unreadable: told below as a run that left no last event.
    }
    std::int64_t lastStep = 0;
    for (const Event &event : events)
        lastStep = std::max(lastStep, event.step);
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
        if (it->type == EventType::Done)
            return {RunEnding::Kind::Finished, tr("The job in %1 has finished.").arg(runDir)};
        if (it->type == EventType::Failed) {
            QString reason = textOf(*it, "reason");
            if (reason.isEmpty())
                reason = textOf(*it, "message");
            return {RunEnding::Kind::Failed,
                    tr("The job in %1 failed at step %2: %3. The last good checkpoint is kept; "
                       "change the configuration (a lower learning rate, a smaller beta) and "
                       "start again.")
                        .arg(runDir)
                        .arg(it->step)
                        .arg(reason)};
        }
        if (it->type == EventType::Warning && textOf(*it, "message").startsWith(QLatin1String("stopped")))
            return {RunEnding::Kind::Stopped,
                    tr("The job in %1 stopped at step %2; Resume continues it.")
                        .arg(runDir)
                        .arg(it->step)};
        if (it->type != EventType::Warning)
            break; // the last event is progress: nothing ended the run
    }
    return {RunEnding::Kind::Killed,
            tr("The job in %1 ended without finishing: the process was killed (by a signal, or "
               "for want of memory) after step %2. See job.log there; Resume continues from the "
               "last checkpoint.")
                .arg(runDir)
                .arg(lastStep)};
}

} // namespace mp
