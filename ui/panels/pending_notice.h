#pragma once
// A plain statement of what a panel cannot do yet, so no control pretends to work.

#include <QStringList>
#include <QWidget>

namespace mp {

class PendingNotice : public QWidget {
    Q_OBJECT
public:
    PendingNotice(const QString &title, const QString &purpose, const QStringList &missing,
                  QWidget *parent = nullptr);
};

} // namespace mp
