#pragma once
// Baseline vs fine-tuned: model A's and model B's motion for the same prompt, seed and
// temperature, side by side in two viewports on one playback clock. Generation runs on the
// shared CompareGenerator's worker thread.

#include <QWidget>

class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace mp {

class CompareGenerator;
class ModelPicker;
class MotionViewport;
class PlaybackBar;
class PlaybackClock;
struct MotionPairResult;

class SideBySidePage : public QWidget {
    Q_OBJECT
public:
    SideBySidePage(CompareGenerator *generator, ModelPicker *pickerA, ModelPicker *pickerB,
                   QWidget *parent = nullptr);

    // Starts a generation with the pickers' models; false (and the reason in the status line)
    // when a model is missing on disk, the prompt is blank or a generation is running.
    bool generate();
    void setPrompt(const QString &prompt);
    void setSeed(int seed);
    void setTemperature(double temperature);
    bool isGenerating() const { return m_pending; }

    MotionViewport *viewportA() const { return m_viewA; }
    MotionViewport *viewportB() const { return m_viewB; }
    PlaybackClock *clock() const { return m_clock; }
    QString statusText() const;

signals:
    void generated(bool ok, const QString &message);

private:
    void onResult(const MotionPairResult &result);
    void showStatus(const QString &text, bool error);
    void updateTitles();

    CompareGenerator *m_generator;
    ModelPicker *m_pickerA;
    ModelPicker *m_pickerB;
    PlaybackClock *m_clock = nullptr;
    MotionViewport *m_viewA = nullptr;
    MotionViewport *m_viewB = nullptr;
    PlaybackBar *m_bar = nullptr;
    QLineEdit *m_prompt = nullptr;
    QSpinBox *m_seed = nullptr;
    QDoubleSpinBox *m_temperature = nullptr;
    QPushButton *m_generate = nullptr;
    QLabel *m_status = nullptr;
    bool m_pending = false;
};

} // namespace mp
