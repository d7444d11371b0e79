#pragma once
// The main window: the five panels, the menus, and a status bar with device and model.

#include <QMainWindow>

class QLabel;
class QTabWidget;
class QUndoStack;

namespace mp {

class Settings;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(Settings &settings, QWidget *parent = nullptr);

    QTabWidget *panels() const { return m_panels; }
    QUndoStack *undoStack() const { return m_undoStack; }

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildPanels();
    void buildActions();
    void buildStatusBar();
    void showAbout();

    Settings &m_settings;
    QTabWidget *m_panels = nullptr;
    QUndoStack *m_undoStack = nullptr;
    QLabel *m_deviceLabel = nullptr;
    QLabel *m_modelLabel = nullptr;
};

} // namespace mp
