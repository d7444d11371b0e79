#pragma once
// The Compare panel: models A (baseline) and B (fine-tuned), each a bundle directory and an
// optional LoRA adapter, compared three ways: side by side on the same prompt and seed, in a
// blind A/B evaluation over a prompt set at several temperatures (the paper's Figure 3), by
// their HumanML3D metrics, and on a leaderboard of every model a study or A/B session compared.
// Generation runs on one worker (CompareGenerator), models loaded once.

#include <QWidget>

class QTabWidget;

namespace mp {

class BlindAbPage;
class CompareGenerator;
class LeaderboardPage;
class MetricsPage;
class ModelPicker;
class Settings;
class SideBySidePage;

class ComparePanel : public QWidget {
    Q_OBJECT
public:
    explicit ComparePanel(Settings &settings, QWidget *parent = nullptr);
    ~ComparePanel() override;

    ModelPicker *pickerA() const { return m_pickerA; }
    ModelPicker *pickerB() const { return m_pickerB; }
    SideBySidePage *sideBySide() const { return m_sideBySide; }
    BlindAbPage *blind() const { return m_blind; }
    MetricsPage *metrics() const { return m_metrics; }
    LeaderboardPage *leaderboard() const { return m_leaderboard; }
    QTabWidget *modes() const { return m_modes; }
    CompareGenerator *generator() const { return m_generator; }

    // The prompt list offered for blind sessions: the embedded resources/prompts/default.txt.
    static QString defaultPromptFile();

private:
    CompareGenerator *m_generator = nullptr;
    ModelPicker *m_pickerA = nullptr;
    ModelPicker *m_pickerB = nullptr;
    QTabWidget *m_modes = nullptr;
    SideBySidePage *m_sideBySide = nullptr;
    BlindAbPage *m_blind = nullptr;
    MetricsPage *m_metrics = nullptr;
    LeaderboardPage *m_leaderboard = nullptr;
};

} // namespace mp
