#include "ui/panels/dataset_panel.h"

#include "ui/panels/pending_notice.h"

#include <QVBoxLayout>

namespace mp {

DatasetPanel::DatasetPanel(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("datasetPanel"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new PendingNotice(
        tr("Dataset"),
        tr("Browse the study's labeled pairs, filter them, replay a pair, revise a label, and see labeler agreement."),
        {tr("the study store (SQLite/PostgreSQL)"),
         tr("pair table with filters"),
         tr("agreement and position-bias summary")},
        this));
}

} // namespace mp
