#include "ui/panels/export_panel.h"

#include "ui/panels/pending_notice.h"

#include <QVBoxLayout>

namespace mp {

ExportPanel::ExportPanel(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("exportPanel"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new PendingNotice(
        tr("Export"),
        tr("Export any motion as BVH, FBX or HumanML3D .npy for Blender, Maya, Unity and Unreal."),
        {tr("BVH writer with inverse kinematics"),
         tr("FBX through Assimp"),
         tr(".npy features and joints")},
        this));
}

} // namespace mp
