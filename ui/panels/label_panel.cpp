#include "ui/panels/label_panel.h"

#include "ui/panels/pending_notice.h"

#include <QVBoxLayout>

namespace mp {

LabelPanel::LabelPanel(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("labelPanel"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new PendingNotice(
        tr("Label"),
        tr("Generate two motions per prompt from the current model, watch them side by side and record which one fits the prompt better, and by how much."),
        {tr("prompt box, prompt lists and study queue"),
         tr("two synchronized 3D viewports"),
         tr("pair generation in the background"),
         tr("left/right x degree keys, unsure, skip with reason, undo")},
        this));
}

} // namespace mp
