#pragma once
// The Label panel.

#include <QWidget>

namespace mp {

class LabelPanel : public QWidget {
    Q_OBJECT
public:
    explicit LabelPanel(QWidget *parent = nullptr);
};

} // namespace mp
