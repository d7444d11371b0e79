#pragma once
// The Train panel.

#include <QWidget>

namespace mp {

class TrainPanel : public QWidget {
    Q_OBJECT
public:
    explicit TrainPanel(QWidget *parent = nullptr);
};

} // namespace mp
