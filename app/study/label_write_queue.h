#pragma once
// LabelWriteQueue: the labels of a labeling session, and the retractions and re-stores of its
// undo and redo, written to the study in the order given, each exactly once.
//
// A write is tried at once when nothing waits before it. When the study is locked by another
// program (StudyBusyError: the store's busy timeout ran out), it stays queued with everything
// given after it, and the queue tries again every kRetryMs until the lock is gone; the caller
// never waits longer than the store's busy timeout (the GUI sets a short one). Any other error
// of a write given directly is thrown to the caller (nothing is queued); of a queued write, it
// is reported by failed() and that write is dropped (a label with the undo queued for it), so
// that the rest can follow.
//
// Lives on the thread of its store. flush() writes what is queued, waiting up to a given time
// for the lock: before the window closes, so that a queued label is stored or the user told.

#include "app/study/study_types.h"

#include <QObject>
#include <QPointer>
#include <QTimer>

#include <deque>

namespace mp {

class StudyStore;

class LabelWriteQueue : public QObject {
    Q_OBJECT
public:
    static constexpr int kRetryMs = 500;

    struct Write {
        enum class Kind { Label, Retraction };
        Kind kind = Kind::Label;
        qint64 pairId = 0;
        QString labeler;
        LabelInput input; // the label in the pair's own terms (Label only)
    };

    explicit LabelWriteQueue(QObject *parent = nullptr);
    ~LabelWriteQueue() override;

    // Queued writes belong to their study: they are tried there first (flush with the old
    // store's busy timeout, short in the GUI: ask the user before, as MainWindow does), and
    // whatever is left is reported by failed() as not stored.
    void setStore(StudyStore *store);

    // Stores the write now if nothing waits, else queues it. Returns the label or retraction
    // id, or 0 when it is queued. Errors other than a locked study are thrown; then nothing
    // is stored or queued.
    qint64 submit(const Write &write);

    int pendingCount() const { return int(m_pending.size()); }
    bool isWaiting() const { return !m_pending.empty(); }
    // "" when everything is stored; else how many wait and why, in words for the status line.
    QString statusText() const;

    // Writes what is queued now, each write waiting up to waitMs for the lock; true when
    // nothing is left.
    bool flush(int waitMs = 0);
    // Gives up what is queued (the user chose to, knowing it is lost); returns how many writes.
    int discard();

signals:
    void pendingChanged(); // a write was queued, or the queue was written (or emptied)
    void written(qint64 id, const mp::LabelWriteQueue::Write &write); // a queued write, stored
    void failed(const QString &message); // a queued write that could not be stored: dropped

private:
    qint64 store(const Write &write); // throws
    // A label that could not be stored takes the undo queued after it along: that undo meant to
    // retract this label, and with it missing would retract the labeler's previous one. True
    // when an undo was dropped.
    bool dropUndoOf(const Write &label);
    void retry();

    QPointer<StudyStore> m_store;
    std::deque<Write> m_pending;
    QTimer m_retry;
    QString m_lockMessage; // the last StudyBusyError
};

} // namespace mp
