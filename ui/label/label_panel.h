#pragma once
// The Label panel: a prompt (typed, from a prompt list, or the study's own pairs), two motions
// side by side on one playback clock, and the labeling keys. The work is done by LabelSession
// (app/study): generation in the background with the next pair prefetched, randomized sides,
// storing. Each label is an undoable command on the main window's undo stack.
//
// Keys (application-wide while the panel is visible; text fields keep their own keys):
//   1-4 left much better / better / slightly better / negligibly better
//   5   unsure            6-9 right negligibly / slightly / better / much better
//   0 or S  skip: then 1-5 choose the reason, Esc cancels.   Ctrl+Z undo (main window).

#include "app/study/study_types.h"

#include <QWidget>

#include <optional>

class QAction;
class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QLayout;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QStackedWidget;
class QToolButton;
class QUndoStack;
class QVBoxLayout;

namespace mp {

class LabelSession;
class MotionViewport;
class PlaybackBar;
class PlaybackClock;
class Settings;
class StudyStore;

class LabelPanel : public QWidget {
    Q_OBJECT
public:
    LabelPanel(Settings &settings, QUndoStack *undoStack, QWidget *parent = nullptr);
    ~LabelPanel() override;

    void setStore(StudyStore *store);
    LabelSession *session() const { return m_session; }
    MotionViewport *leftViewport() const { return m_left; }
    MotionViewport *rightViewport() const { return m_right; }
    PlaybackClock *clock() const { return m_clock; }

    // The sources, as the buttons start them.
    void generateForPrompt(const QString &prompt);
    bool openPromptList(const QString &path);
    void labelStudyPairs();
    // The model bundle directory (saved in the settings); loads it in the background.
    void setModelDir(const QString &dir);

    // The prompt box, given the keyboard focus (after "Start labeling" opened a new study).
    void focusPrompt();
    QLineEdit *promptEdit() const { return m_prompt; }

    bool isChoosingSkipReason() const { return m_skipMode; }
    // The reason tags toggled for the skip being chosen, in ReasonTag order.
    std::vector<ReasonTag> checkedTags() const;
    QString statusText() const; // progress, last reveal and errors, for tests and screenshots

signals:
    // The welcome page's buttons (shown while no study is open); the main window opens studies.
    void startLabelingRequested();
    void newStudyRequested();
    void openStudyRequested();
    void recentStudyRequested(const QString &location);

private:
    void buildKeys();
    QWidget *buildWelcomePage();
    void updateWelcome();
    QWidget *buildLabelPage();
    QLayout *buildPromptRow(QWidget *page);
    void buildPromptLabels(QWidget *page, QVBoxLayout *layout);
    QLayout *buildViews(QWidget *page);
    QWidget *buildChoiceRow(QWidget *page);
    QWidget *buildSkipRow(QWidget *page);
    QLayout *buildStatusRow(QWidget *page);
    QLayout *buildSamplingRow(QWidget *page);
    void choose(int key); // 1-9 as on the keyboard
    void startSkip();
    void skipWith(SkipReason reason);
    void cancelSkip();
    void storeLabel(ShownChoice shown, std::optional<PreferenceDegree> degree, SkipReason reason,
                    const std::vector<ReasonTag> &tags = {});
    void showCurrent();
    void updateProgress();
    void updateModelStatus();
    void updateEnabled();
    void showError(const QString &message);
    void chooseModelDir();
    void choosePromptList();
    void applySampling();

    Settings &m_settings;
    QUndoStack *m_undoStack = nullptr;
    StudyStore *m_store = nullptr;
    LabelSession *m_session = nullptr;
    PlaybackClock *m_clock = nullptr;
    QStackedWidget *m_pages = nullptr;
    QLabel *m_welcomeModel = nullptr;
    QWidget *m_recentBox = nullptr;
    QVBoxLayout *m_recentList = nullptr;
    MotionViewport *m_left = nullptr;
    MotionViewport *m_right = nullptr;
    PlaybackBar *m_bar = nullptr;
    QLineEdit *m_prompt = nullptr;
    QLineEdit *m_labeler = nullptr;
    QLabel *m_promptText = nullptr;
    QLabel *m_source = nullptr;
    QLabel *m_progress = nullptr;
    QLabel *m_reveal = nullptr;
    QLabel *m_error = nullptr;
    QLabel *m_model = nullptr;
    QDoubleSpinBox *m_temperature = nullptr;
    QSpinBox *m_topK = nullptr;
    QDoubleSpinBox *m_topP = nullptr;
    QCheckBox *m_int8 = nullptr;
    QWidget *m_choiceRow = nullptr;
    QWidget *m_skipRow = nullptr;
    QList<QPushButton *> m_choiceButtons; // keys 1-9, then skip
    QList<QAction *> m_keyActions;
    bool m_skipMode = false;
    // Reason tags of a skip (issue 22): toggled with their letter keys while the skip row shows.
    QList<QPushButton *> m_tagButtons; // in ReasonTag order
    QList<QAction *> m_tagActions;
    bool m_watchedBoth = false; // the clock reached the end of the longer motion on this pair
    int m_lastFrame = 0;
};

} // namespace mp
