#include "ui/panels/pending_notice.h"

#include <QLabel>
#include <QVBoxLayout>

namespace mp {

PendingNotice::PendingNotice(const QString &title, const QString &purpose,
                             const QStringList &missing, QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(32, 24, 32, 24);
    auto *heading = new QLabel(QStringLiteral("<h2>%1</h2>").arg(title.toHtmlEscaped()), this);
    auto *body = new QLabel(this);
    body->setWordWrap(true);
    body->setTextFormat(Qt::RichText);
    QString html = QStringLiteral("<p>%1</p><p><b>Not available yet in this build:</b></p><ul>")
                       .arg(purpose.toHtmlEscaped());
    for (const QString &item : missing)
        html += QStringLiteral("<li>%1</li>").arg(item.toHtmlEscaped());
    html += QStringLiteral("</ul>");
    body->setText(html);
    layout->addWidget(heading);
    layout->addWidget(body);
    layout->addStretch(1);
}

} // namespace mp
