#pragma once
// The undoable edit of the Label panel: one stored label. The label is already in the study when
// the command is pushed (the first redo does nothing); undo appends a retraction and shows the
// pair again, redo stores the same label again. Nothing is ever deleted.

#include "app/study/study_types.h"

#include <QPointer>
#include <QUndoCommand>

#include <functional>

namespace mp {

class LabelSession;
class StudyStore;

class LabelCommand : public QUndoCommand {
public:
    using ErrorFn = std::function<void(const QString &)>;

    // Reads the labeler's current label of the pair (the one just stored) to redo it later.
    LabelCommand(StudyStore *store, LabelSession *session, qint64 pairId, const QString &labeler,
                 ErrorFn onError);

    void undo() override;
    void redo() override;
    qint64 pairId() const { return m_pairId; }

private:
    QPointer<StudyStore> m_store;
    QPointer<LabelSession> m_session;
    qint64 m_pairId = 0;
    QString m_labeler;
    LabelInput m_input;
    ErrorFn m_onError;
    bool m_stored = true; // the label counts in the study now
};

} // namespace mp
