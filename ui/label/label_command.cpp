#include "ui/label/label_command.h"

#include "app/core/error_text.h"
#include "app/study/label_session.h"
#include "app/study/label_write_queue.h"
#include "app/study/study_store.h"

#include <QCoreApplication>

namespace mp {

namespace {
QString shortText(const LabelInput &label)
{
    if (label.choice == Choice::Skipped)
        return QCoreApplication::translate("LabelCommand", "skip");
    if (label.choice == Choice::Unsure)
        return QCoreApplication::translate("LabelCommand", "unsure");
    return choiceName(label.choice) + QLatin1Char(' ') +
           (label.degree ? degreeName(*label.degree) : QString());
}
} // namespace

LabelCommand::LabelCommand(StudyStore *store, LabelSession *session, ShownChoice shown,
                           std::optional<PreferenceDegree> degree, SkipReason skipReason,
                           ErrorFn onError)
    : m_store(store), m_session(session), m_shown(shown), m_degree(degree),
      m_skipReason(skipReason), m_onError(std::move(onError))
{
    setText(QCoreApplication::translate("LabelCommand", "Label"));
}

void LabelCommand::storeFirst()
{
    const LabelSession::Item *item = m_session ? m_session->current() : nullptr;
    if (!item || !m_store || !m_store->isOpen()) {
        setObsolete(true);
        return;
    }
    const qint64 pairId = item->pairId;
    try {
        if (m_session->labelCurrent(m_shown, m_degree, m_skipReason, &m_input) == 0) {
            setObsolete(true);
            return;
        }
    } catch (const std::exception &error) {
        setObsolete(true);
        if (m_onError)
            m_onError(QCoreApplication::translate("LabelCommand", "The label was not stored: %1")
                          .arg(errorText(error)));
        return;
    }
    m_pairId = pairId;
    m_labeler = m_session->labeler();
    m_stored = true;
    setText(QCoreApplication::translate("LabelCommand", "Label of pair %1 (%2)")
                .arg(pairId)
                .arg(shortText(m_input)));
}

void LabelCommand::undo()
{
    if (!m_store || !m_store->isOpen() || !m_stored || !m_session)
        return;
    try {
        // Through the session's queue: after the label it retracts, even if that still waits.
        m_session->writeQueue()->submit({.kind = LabelWriteQueue::Write::Kind::Retraction,
                                         .pairId = m_pairId,
                                         .labeler = m_labeler});
        m_stored = false;
        if (m_session)
            m_session->revisit(m_pairId);
    } catch (const std::exception &error) {
        if (m_onError)
            m_onError(errorText(error));
    }
}

void LabelCommand::redo()
{
    if (m_pairId == 0)
        return storeFirst();
    if (m_stored || !m_store || !m_store->isOpen() || !m_session)
        return;
    try {
        m_session->writeQueue()->submit({.kind = LabelWriteQueue::Write::Kind::Label,
                                         .pairId = m_pairId,
                                         .labeler = m_labeler,
                                         .input = m_input});
        m_stored = true;
        if (m_session)
            m_session->relabeled(m_pairId);
    } catch (const std::exception &error) {
        if (m_onError)
            m_onError(errorText(error));
    }
}

} // namespace mp
