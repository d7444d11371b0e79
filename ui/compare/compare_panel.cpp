#include "ui/compare/compare_panel.h"

#include "app/compare/compare_generator.h"
#include "app/core/settings.h"
#include "ml/core/paths.h"
#include "ui/compare/blind_ab_page.h"
#include "ui/compare/leaderboard_page.h"
#include "ui/compare/metrics_page.h"
#include "ui/compare/model_picker.h"
#include "ui/compare/side_by_side_page.h"

#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QTabWidget>
#include <QVBoxLayout>

namespace mp {

ComparePanel::ComparePanel(Settings &settings, QWidget *parent)
    : QWidget(parent), m_generator(new CompareGenerator(settings.device(), this))
{
    setObjectName(QStringLiteral("comparePanel"));
    const QString defaultBundle = settings.modelDir();
    m_pickerA = new ModelPicker(tr("Model A (baseline)"), defaultBundle, this);
    m_pickerB = new ModelPicker(tr("Model B (fine-tuned)"), defaultBundle, this);
    m_pickerA->setObjectName(QStringLiteral("modelA"));
    m_pickerB->setObjectName(QStringLiteral("modelB"));
    auto *pickers = new QHBoxLayout;
    pickers->addWidget(m_pickerA, 1);
    pickers->addWidget(m_pickerB, 1);

    m_sideBySide = new SideBySidePage(m_generator, m_pickerA, m_pickerB, this);
    m_blind = new BlindAbPage(m_generator, m_pickerA, m_pickerB, defaultPromptFile(), this);
    m_metrics = new MetricsPage(m_pickerA, m_pickerB, this);
    m_modes = new QTabWidget(this);
    m_modes->setObjectName(QStringLiteral("compareModes"));
    m_modes->addTab(m_sideBySide, tr("Side by side"));
    m_modes->addTab(m_blind, tr("Blind A/B"));
    m_modes->addTab(m_metrics, tr("Metrics"));
    m_leaderboard = new LeaderboardPage(settings, this);
    m_modes->addTab(m_leaderboard, tr("Leaderboard"));
    // A blind session saved or opened here is one more source of comparisons.
    connect(m_blind, &BlindAbPage::sessionFileChosen, m_leaderboard,
            [this](const QString &path) { m_leaderboard->addAbFiles({path}); });

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(pickers);
    layout->addWidget(m_modes, 1);
}

ComparePanel::~ComparePanel()
{
    // The pages go first: the generator's last result must find no page half destroyed.
    m_generator->dropQueued(QString());
    disconnect(m_generator, nullptr, nullptr, nullptr);
}

QString ComparePanel::defaultPromptFile()
{
    const QString embedded = QStringLiteral(":/prompts/default.txt");
    if (QFileInfo::exists(embedded))
        return embedded;
    // Next to the default model in the source tree or the installed share/ directory.
    const QDir models(QString::fromStdString(defaultModelDir().string()));
    return QDir::cleanPath(models.filePath(QStringLiteral("../../prompts/default.txt")));
}

} // namespace mp
