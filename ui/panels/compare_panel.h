#pragma once
// The Compare panel.

#include <QWidget>

namespace mp {

class ComparePanel : public QWidget {
    Q_OBJECT
public:
    explicit ComparePanel(QWidget *parent = nullptr);
};

} // namespace mp
