#pragma once
// The Dataset panel: the study's pairs in a filterable table, label revision, and the
// agreement and position-bias summary; a Labelers tab with each labeler's measures, the
// training-label choices and the check-pair rates (labeler_view.h).

#include <QPointer>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTabWidget;
class QTableView;
class QTextBrowser;

namespace mp {

class LabelerView;
class PairFilterProxy;
class PairTableModel;
class Settings;
class StudyStore;

class DatasetPanel : public QWidget {
    Q_OBJECT
public:
    explicit DatasetPanel(Settings &settings, QWidget *parent = nullptr);

    void setStore(StudyStore *store);
    QTableView *table() const { return m_table; }
    PairFilterProxy *filter() const { return m_filter; }
    LabelerView *labelers() const { return m_labelers; }
    QTabWidget *tabs() const { return m_tabs; }

private:
    void refreshFilters();
    void refreshAgreement();
    void reviseSelected();
    void updateButtons();

    Settings &m_settings;
    QPointer<StudyStore> m_store; // null once the store is gone (its destroyed() runs after)
    PairTableModel *m_model = nullptr;
    PairFilterProxy *m_filter = nullptr;
    QLineEdit *m_search = nullptr;
    QComboBox *m_degree = nullptr;
    QComboBox *m_labeler = nullptr;
    QComboBox *m_split = nullptr;
    QTableView *m_table = nullptr;
    QTextBrowser *m_agreement = nullptr;
    QPushButton *m_revise = nullptr;
    QLabel *m_summary = nullptr;
    QTabWidget *m_tabs = nullptr;
    LabelerView *m_labelers = nullptr;
};

} // namespace mp
