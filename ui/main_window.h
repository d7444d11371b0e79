#pragma once
// The main window: the five panels, the menus, and a status bar with device and model.

#include <QMainWindow>

#include <functional>

class QLabel;
class QMenu;
class QTabWidget;
class QUndoStack;

namespace mp {

class DatasetPanel;
class ExportPanel;
class TrainPanel;
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
    // "Start labeling": a new study named by date in Settings::newStudyDir() (never over an
    // existing file), opened in the Label panel with the keyboard in the prompt box.
    bool startLabeling();
    // False when labels still wait for a locked study and the user chose to stay.
    bool queuedLabelsStored();
    bool closeStudy(); // false when the user keeps the study open (labels not saved yet)
    // A file given on the command line: a study (.mpstudy/.db/.sqlite or a PostgreSQL URL) opens
    // in the Label panel, a motion (.npy, .bvh) in the Export panel, a run directory in the Train
    // panel. Returns false (the status bar and stderr say why) for anything else.
    bool openPath(const QString &path);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildPanels();
    void buildActions();
    void buildStatusBar();
    // Runs open, which leaves a study open in m_store and returns its location, then hands the
    // study to the panels; on an error shows it under title and returns false.
    bool showStudy(const QString &title, const std::function<QString()> &open);
    void openRecentStudy(const QString &location);
    void updateModelStatus();
    void showAbout();
    void newStudy();
    void openStudyFile();
    void openSharedStudy();
    void updateStudyStatus();
    void updateRecentStudies();

    Settings &m_settings;
    QTabWidget *m_panels = nullptr;
    QUndoStack *m_undoStack = nullptr;
    QLabel *m_deviceLabel = nullptr;
    QLabel *m_modelLabel = nullptr;
    QLabel *m_studyLabel = nullptr;
    StudyStore *m_store = nullptr;
    LabelPanel *m_labelPanel = nullptr;
    DatasetPanel *m_datasetPanel = nullptr;
    TrainPanel *m_trainPanel = nullptr;
    ExportPanel *m_exportPanel = nullptr;
    QMenu *m_recentMenu = nullptr;
    QList<QAction *> m_studyActions; // enabled only while a study is open
};

} // namespace mp
