#include "app/study/label_write_queue.h"

#include "app/core/error_text.h"
#include "app/study/study_store.h"

namespace mp {

LabelWriteQueue::LabelWriteQueue(QObject *parent) : QObject(parent)
{
    m_retry.setInterval(kRetryMs);
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, &LabelWriteQueue::retry);
}

LabelWriteQueue::~LabelWriteQueue()
{
    if (!m_pending.empty() && m_store && m_store->isOpen())
        flush(m_store->busyTimeoutMs());
}

void LabelWriteQueue::setStore(StudyStore *store)
{
    if (store == m_store)
        return;
    if (!m_pending.empty()) {
        if (m_store && m_store->isOpen())
            flush(m_store->busyTimeoutMs());
        if (!m_pending.empty()) {
            const int lost = discard();
            emit failed(tr("%n label(s) of the previous study could not be stored: it stayed "
                           "locked by another program.",
                           nullptr, lost));
        }
    }
    m_store = store;
    emit pendingChanged();
}

qint64 LabelWriteQueue::store(const Write &write)
{
    if (!m_store || !m_store->isOpen())
        throw std::runtime_error(tr("no study is open").toStdString());
    if (write.kind == Write::Kind::Retraction)
        return m_store->retractLabel(write.pairId, write.labeler);
    return m_store->addLabel(write.pairId, write.labeler, write.input);
}

qint64 LabelWriteQueue::submit(const Write &write)
{
    if (m_pending.empty()) {
        try {
            return store(write);
        } catch (const StudyBusyError &error) {
            m_lockMessage = errorText(error);
        }
    }
    m_pending.push_back(write);
    if (!m_retry.isActive())
        m_retry.start();
    emit pendingChanged();
    return 0;
}

bool LabelWriteQueue::flush(int waitMs)
{
    if (m_pending.empty())
        return true;
    if (!m_store || !m_store->isOpen())
        return false;
    const int busyTimeout = m_store->busyTimeoutMs();
    if (waitMs != busyTimeout)
        m_store->setBusyTimeoutMs(waitMs);
    bool changed = false;
    while (!m_pending.empty()) {
        const Write write = m_pending.front();
        try {
            const qint64 id = store(write);
            m_pending.pop_front();
            changed = true;
            emit written(id, write);
        } catch (const StudyBusyError &error) {
            m_lockMessage = errorText(error);
            break;
        } catch (const std::exception &error) {
            m_pending.pop_front();
            changed = true;
            QString message = tr("A queued label of pair %1 could not be stored: %2")
                                  .arg(write.pairId)
                                  .arg(errorText(error));
            if (write.kind == Write::Kind::Label && dropUndoOf(write))
                message += tr(" Its undo was dropped too, so the label before it stays.");
            emit failed(message);
        }
    }
    if (waitMs != busyTimeout && m_store)
        m_store->setBusyTimeoutMs(busyTimeout);
    if (!m_pending.empty() && !m_retry.isActive())
        m_retry.start();
    if (changed)
        emit pendingChanged();
    return m_pending.empty();
}

int LabelWriteQueue::discard()
{
    const int dropped = int(m_pending.size());
    m_pending.clear();
    m_retry.stop();
    if (dropped > 0)
        emit pendingChanged();
    return dropped;
}

bool LabelWriteQueue::dropUndoOf(const Write &label)
{
    for (auto it = m_pending.begin(); it != m_pending.end(); ++it) {
        if (it->pairId != label.pairId || it->labeler != label.labeler)
            continue;
        if (it->kind != Write::Kind::Retraction)
            return false; // the next write of that pair is a new label: it stands on its own
        m_pending.erase(it);
        return true;
    }
    return false;
}

void LabelWriteQueue::retry()
{
    if (!m_store)
        return;
    flush(m_store->busyTimeoutMs());
}

QString LabelWriteQueue::statusText() const
{
    if (m_pending.empty())
        return {};
    return tr("Not saved yet: %n label(s) wait, the study is locked by another program; "
              "retrying.",
              nullptr, int(m_pending.size()));
}

} // namespace mp
