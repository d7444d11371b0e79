#include "ui/panels/compare_panel.h"

#include "ui/panels/pending_notice.h"

#include <QVBoxLayout>

namespace mp {

ComparePanel::ComparePanel(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("comparePanel"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new PendingNotice(
        tr("Compare"),
        tr("Put the baseline and a fine-tuned model side by side on the same prompt and seed, and run blind A/B evaluations."),
        {tr("side-by-side generation"),
         tr("blind A/B evaluation with win/tie charts per temperature"),
         tr("metrics table of both models")},
        this));
}

} // namespace mp
