#pragma once
// The undoable edit of the Label panel: one label of the pair on screen. The first redo() stores
// it through the label session (which shows the next pair) and keeps the label as stored; undo
// appends a retraction and shows the pair again; a later redo stores the kept label again.
// Nothing is ever deleted. Every write goes through the session's LabelWriteQueue, so a label,
// its undo and its redo reach a locked study in that order once the lock is gone.
// A first redo that stores nothing (no pair on screen, a store error,
// reported through ErrorFn) makes the command obsolete, so QUndoStack drops it.

#include "app/study/study_types.h"

#include <QPointer>
#include <QUndoCommand>

#include <functional>
#include <optional>

namespace mp {

class LabelSession;
class StudyStore;

class LabelCommand : public QUndoCommand {
public:
    using ErrorFn = std::function<void(const QString &)>;

    LabelCommand(StudyStore *store, LabelSession *session, ShownChoice shown,
                 std::optional<PreferenceDegree> degree, SkipReason skipReason, ErrorFn onError);

    void undo() override;
    void redo() override;
    qint64 pairId() const { return m_pairId; }

private:
    void storeFirst();

    QPointer<StudyStore> m_store;
    QPointer<LabelSession> m_session;
    ShownChoice m_shown;
    std::optional<PreferenceDegree> m_degree;
    SkipReason m_skipReason;
    ErrorFn m_onError;
    qint64 m_pairId = 0; // 0 until the first redo stored the label
    QString m_labeler;
    LabelInput m_input;    // the label as stored, in the pair's own terms
    bool m_stored = false; // the label counts in the study now
};

} // namespace mp
