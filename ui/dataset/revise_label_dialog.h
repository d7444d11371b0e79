#pragma once
// Asks for a label in the pair's own terms (sample_1 / sample_2), to revise one in the Dataset
// panel. The store appends the revision; the old label stays in the history.

#include "app/study/study_types.h"

#include <QDialog>

class QButtonGroup;
class QComboBox;
class QLineEdit;

namespace mp {

class ReviseLabelDialog : public QDialog {
    Q_OBJECT
public:
    ReviseLabelDialog(const QString &prompt, const std::optional<LabelRecord> &current,
                      QWidget *parent = nullptr);
    LabelInput label() const;

private:
    void updateEnabled();

    QButtonGroup *m_choice = nullptr;
    QComboBox *m_degree = nullptr;
    QComboBox *m_skipReason = nullptr;
    QLineEdit *m_comment = nullptr;
};

} // namespace mp
