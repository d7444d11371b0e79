#pragma once
// The Dataset panel.

#include <QWidget>

namespace mp {

class DatasetPanel : public QWidget {
    Q_OBJECT
public:
    explicit DatasetPanel(QWidget *parent = nullptr);
};

} // namespace mp
