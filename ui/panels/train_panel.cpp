#include "ui/panels/train_panel.h"

#include "ui/panels/pending_notice.h"

#include <QVBoxLayout>

namespace mp {

TrainPanel::TrainPanel(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("trainPanel"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new PendingNotice(
        tr("Train"),
        tr("Launch DPO (sigmoid, hinge, IPO, KTO-pair) or RLHF (reward model + PPO) jobs with LoRA as background processes and watch live charts."),
        {tr("training jobs (motionpref-cli train)"),
         tr("live charts of loss, KL, rewards and HumanML3D metrics"),
         tr("reopening a finished run directory")},
        this));
}

} // namespace mp
