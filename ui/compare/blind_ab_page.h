#pragma once
// The blind A/B evaluation page: a session over a prompt file at several temperatures
// (app/compare/ab_session.h); each trial shows A's and B's motion for the same prompt and seed in
// the session's random left/right order, models hidden; the rater answers left / tie / right by
// button or key (1 / 2 / 3, or L / T / R; Backspace undoes the last answer). The next trial is
// generated while the current one is watched. Results (Figure 3 chart and counts) stay hidden
// until the last answer unless asked for; the session is saved as JSON where the rater chooses,
// after every answer once a file is chosen, and reopens to resume.

#include "app/compare/ab_session.h"

#include <QHash>
#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QStackedWidget;

namespace mp {

class AbResultsView;
class CompareGenerator;
class ModelPicker;
class MotionViewport;
class PlaybackBar;
class PlaybackClock;
struct MotionPairResult;

class BlindAbPage : public QWidget {
    Q_OBJECT
public:
    BlindAbPage(CompareGenerator *generator, ModelPicker *pickerA, ModelPicker *pickerB,
                const QString &defaultPromptFile, QWidget *parent = nullptr);
    ~BlindAbPage() override;

    // A new session with the pickers' models; maxPrompts 0 takes every prompt of the file.
    // False, with the reason in the status line, for a bad file, temperature list or model.
    bool startSession(const QString &promptFile, const QString &temperatures, int seed,
                      int maxPrompts = 0);
    // Answers the trial on screen (false when none is shown yet).
    bool answer(AbAnswer answer);
    bool undoLastAnswer();
    // Saves now and after every later answer; false (status says why) when it cannot write.
    bool saveAs(const QString &path);
    // Reopens a saved session; unanswered trials are shown to answer.
    bool open(const QString &path);

    const AbSession &session() const { return m_session; }
    int currentTrial() const { return m_current; }
    bool isTrialShown() const { return m_shown; }
    QString savePath() const { return m_savePath; }
    bool resultsVisible() const;
    MotionViewport *leftViewport() const { return m_left; }
    MotionViewport *rightViewport() const { return m_right; }
    AbResultsView *resultsView() const { return m_results; }
    QString statusText() const;

signals:
    void trialShown(int index);
    void sessionCompleted();
    // The session is saved to (Save As) or was opened from this file.
    void sessionFileChosen(const QString &path);

private:
    QWidget *buildTrialSide();
    void buildAnswerRow();
    QWidget *buildSessionSide(const QString &defaultPromptFile);
    QString keyFor(int index) const;
    void requestTrial(int index);
    void showTrial(int index);
    void displayTrial(int index);
    void onResult(const MotionPairResult &result);
    void afterSessionChange();
    void showSessionSettings();
    void showComplete();
    void autosave();
    void refreshResults();
    void updateCaption();
    void updateEnabled();
    void showStatus(const QString &text, bool error);
    void chooseSave();
    void chooseOpen();
    void choosePromptFile();

    CompareGenerator *m_generator;
    ModelPicker *m_pickerA;
    ModelPicker *m_pickerB;
    AbSession m_session;
    int m_sessionNumber = 0; // tells stale results of an earlier session apart
    int m_current = -1;
    bool m_shown = false;
    QHash<int, MotionPairResult> m_generated;
    QString m_savePath;

    PlaybackClock *m_clock = nullptr;
    MotionViewport *m_left = nullptr;
    MotionViewport *m_right = nullptr;
    PlaybackBar *m_bar = nullptr;
    QLabel *m_caption = nullptr;
    QWidget *m_answers = nullptr;
    QPushButton *m_leftBetter = nullptr;
    QPushButton *m_tie = nullptr;
    QPushButton *m_rightBetter = nullptr;
    QPushButton *m_undo = nullptr;
    QLineEdit *m_promptFile = nullptr;
    QLineEdit *m_temperatures = nullptr;
    QSpinBox *m_maxPrompts = nullptr;
    QSpinBox *m_seed = nullptr;
    QPushButton *m_save = nullptr;
    QLabel *m_saveState = nullptr;
    QLabel *m_status = nullptr;
    QCheckBox *m_showResults = nullptr;
    QStackedWidget *m_resultsStack = nullptr;
    QLabel *m_resultsHidden = nullptr;
    AbResultsView *m_results = nullptr;
};

} // namespace mp
