#include "ui/label_command.h"

#include "app/study/label_session.h"
#include "app/study/study_store.h"

#include <QCoreApplication>

namespace mp {

namespace {
QString shortText(const LabelRecord &label)
{
    if (!label.choice)
        return QCoreApplication::translate("LabelCommand", "label");
    if (*label.choice == Choice::Skipped)
        return QCoreApplication::translate("LabelCommand", "skip");
    if (*label.choice == Choice::Unsure)
        return QCoreApplication::translate("LabelCommand", "unsure");
    return choiceName(*label.choice) + QLatin1Char(' ') +
           (label.degree ? degreeName(*label.degree) : QString());
}
} // namespace

LabelCommand::LabelCommand(StudyStore *store, LabelSession *session, qint64 pairId,
                           const QString &labeler, ErrorFn onError)
    : m_store(store), m_session(session), m_pairId(pairId), m_labeler(labeler),
      m_onError(std::move(onError))
{
    QString what = QCoreApplication::translate("LabelCommand", "label");
    if (const auto label = store->currentLabel(pairId, labeler)) {
        m_input = {.choice = label->choice.value_or(Choice::Skipped),
                   .degree = label->degree,
                   .skipReason = label->skipReason,
                   .comment = label->comment,
                   .timeOnTaskMs = label->timeOnTaskMs};
        what = shortText(*label);
    }
    setText(
        QCoreApplication::translate("LabelCommand", "Label of pair %1 (%2)").arg(pairId).arg(what));
}

void LabelCommand::undo()
{
    if (!m_store || !m_store->isOpen() || !m_stored)
        return;
    try {
        m_store->retractLabel(m_pairId, m_labeler);
        m_stored = false;
        if (m_session)
            m_session->revisit(m_pairId);
    } catch (const std::exception &error) {
        if (m_onError)
            m_onError(QString::fromUtf8(error.what()));
    }
}

void LabelCommand::redo()
{
    if (m_stored || !m_store || !m_store->isOpen())
        return; // the first redo: the panel stored the label already
    try {
        m_store->addLabel(m_pairId, m_labeler, m_input);
        m_stored = true;
        if (m_session)
            m_session->relabeled(m_pairId);
    } catch (const std::exception &error) {
        if (m_onError)
            m_onError(QString::fromUtf8(error.what()));
    }
}

} // namespace mp
