#include "ui/dataset/revise_label_dialog.h"

#include <QButtonGroup>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRadioButton>

namespace mp {

ReviseLabelDialog::ReviseLabelDialog(const QString &prompt,
                                     const std::optional<LabelRecord> &current, QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Revise label"));
    auto *form = new QFormLayout(this);
    auto *promptLabel = new QLabel(prompt, this);
    promptLabel->setWordWrap(true);
    form->addRow(tr("Prompt:"), promptLabel);

    m_choice = new QButtonGroup(this);
    auto *choices = new QHBoxLayout;
    const std::pair<Choice, QString> options[] = {{Choice::Sample1, tr("sample_1")},
                                                  {Choice::Sample2, tr("sample_2")},
                                                  {Choice::Unsure, tr("unsure")},
                                                  {Choice::Skipped, tr("skip")}};
    for (const auto &[choice, text] : options) {
        auto *button = new QRadioButton(text, this);
        m_choice->addButton(button, static_cast<int>(choice));
        choices->addWidget(button);
    }
    form->addRow(tr("Better sample:"), choices);

    m_degree = new QComboBox(this);
    for (PreferenceDegree degree : kAllDegrees)
        m_degree->addItem(degreeName(degree), static_cast<int>(degree));
    form->addRow(tr("Degree:"), m_degree);

    m_skipReason = new QComboBox(this);
    for (SkipReason reason : {SkipReason::BrokenMotion, SkipReason::PromptUnclear,
                              SkipReason::BothBad, SkipReason::Identical, SkipReason::Other})
        m_skipReason->addItem(skipReasonName(reason), static_cast<int>(reason));
    form->addRow(tr("Skip reason:"), m_skipReason);

    m_comment = new QLineEdit(this);
    form->addRow(tr("Comment:"), m_comment);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    form->addRow(buttons);

    const Choice initial = current && current->choice ? *current->choice : Choice::Sample1;
    m_choice->button(static_cast<int>(initial))->setChecked(true);
    if (current && current->degree)
        m_degree->setCurrentIndex(m_degree->findData(static_cast<int>(*current->degree)));
    if (current && current->skipReason != SkipReason::None)
        m_skipReason->setCurrentIndex(
            m_skipReason->findData(static_cast<int>(current->skipReason)));
    if (current)
        m_comment->setText(current->comment);
    connect(m_choice, &QButtonGroup::idClicked, this, &ReviseLabelDialog::updateEnabled);
    updateEnabled();
}

void ReviseLabelDialog::updateEnabled()
{
    const auto choice = static_cast<Choice>(m_choice->checkedId());
    m_degree->setEnabled(choice == Choice::Sample1 || choice == Choice::Sample2);
    m_skipReason->setEnabled(choice == Choice::Skipped);
}

LabelInput ReviseLabelDialog::label() const
{
    LabelInput input;
    input.choice = static_cast<Choice>(m_choice->checkedId());
    if (input.choice == Choice::Sample1 || input.choice == Choice::Sample2)
        input.degree = static_cast<PreferenceDegree>(m_degree->currentData().toInt());
    else if (input.choice == Choice::Unsure)
        input.degree = PreferenceDegree::Unsure;
    else
        input.skipReason = static_cast<SkipReason>(m_skipReason->currentData().toInt());
    input.comment = m_comment->text();
    return input;
}

} // namespace mp
