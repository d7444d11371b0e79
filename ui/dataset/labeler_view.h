#pragma once
// The Dataset panel's Labelers tab (issue 22): one row per labeler with the measures of
// app/study/labeler_quality.h, a "Train" check per labeler (unchecked: their labels are left
// out of the training data), the rule that makes one training label of several, the shares of
// gold and repeated pairs mixed into labeling, how the pair shown for a prompt is chosen
// (app/study/active_pairs.h: rule, candidates, diversity, β) with the study's online round, and
// the reason tags of skips per model.
// The training choices are the study's own (study_split.h studyTrainingLabels), which
// `motionpref-cli study split` uses unless told otherwise.

#include <QPointer>
#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace mp {

class JobRunner;
class StudyStore;

class LabelerView : public QWidget {
    Q_OBJECT
public:
    enum Column {
        NameColumn,
        TrainColumn,
        LabelsColumn,
        GoldColumn,
        GoldBlocksColumn,
        SelfColumn,
        KappaColumn,
        AlphaWithoutColumn,
        ByDegreeColumn,
        TimeColumn,
        WatchedColumn,
        SideColumn,
        NumColumns
    };

    explicit LabelerView(QWidget *parent = nullptr);
    void setStore(StudyStore *store);
    void refresh();

    QTableWidget *labelers() const { return m_labelers; }
    QTableWidget *reasons() const { return m_reasons; }
    QComboBox *rule() const { return m_rule; }
    QDoubleSpinBox *goldRate() const { return m_goldRate; }
    QDoubleSpinBox *repeatRate() const { return m_repeatRate; }
    QComboBox *pairRule() const { return m_pairRule; }
    QSpinBox *candidates() const { return m_candidates; }
    QDoubleSpinBox *diversity() const { return m_diversity; }
    QDoubleSpinBox *selectionBeta() const { return m_selectionBeta; }
    QLabel *roundLabel() const { return m_round; }
    QPushButton *nextRoundButton() const { return m_nextRound; }
    JobRunner *roundJob() const { return m_roundJob; }

private:
    void saveTraining();
    void saveRates();
    void saveSelection();
    void startNextRound();
    void roundJobChanged();

    QPointer<StudyStore> m_store; // null once the store is gone (its destroyed() runs after)
    QTableWidget *m_labelers = nullptr;
    QTableWidget *m_reasons = nullptr;
    QComboBox *m_rule = nullptr;
    QDoubleSpinBox *m_goldRate = nullptr;
    QDoubleSpinBox *m_repeatRate = nullptr;
    QComboBox *m_pairRule = nullptr;
    QSpinBox *m_candidates = nullptr;
    QDoubleSpinBox *m_diversity = nullptr;
    QDoubleSpinBox *m_selectionBeta = nullptr;
    QLabel *m_round = nullptr;
    QPushButton *m_nextRound = nullptr;
    JobRunner *m_roundJob = nullptr;
    QLabel *m_message = nullptr;
    bool m_filling = false; // refresh() fills the widgets: their signals are not edits
};

} // namespace mp
