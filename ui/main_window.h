#pragma once
// The main window: the five panels, the menus, and a status bar with device and model.

#include <QMainWindow>

class QLabel;
class QTabWidget;
class QUndoStack;

namespace mp {

class DatasetPanel;
class LabelPanel;
class Settings;
class StudyStore;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(Settings &settings, QWidget *parent = nullptr);

    QTabWidget *panels() const { return m_panels; }
    QUndoStack *undoStack() const { return m_undoStack; }
    StudyStore *store() const { return m_store; }

    // Opens (or with create, makes) a study file or PostgreSQL connection string and hands it to
    // the panels; shows the error and returns false when it cannot.
    bool openStudy(const QString &location, bool create);
    void closeStudy();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildPanels();
    void buildActions();
    void buildStatusBar();
    void showAbout();
    void newStudy();
    void openStudyFile();
    void openSharedStudy();
    void updateStudyStatus();

    Settings &m_settings;
    QTabWidget *m_panels = nullptr;
    QUndoStack *m_undoStack = nullptr;
    QLabel *m_deviceLabel = nullptr;
    QLabel *m_modelLabel = nullptr;
    QLabel *m_studyLabel = nullptr;
    StudyStore *m_store = nullptr;
    LabelPanel *m_labelPanel = nullptr;
    DatasetPanel *m_datasetPanel = nullptr;
    QList<QAction *> m_studyActions; // enabled only while a study is open
};

} // namespace mp
