#pragma once
// The Export panel.

#include <QWidget>

namespace mp {

class ExportPanel : public QWidget {
    Q_OBJECT
public:
    explicit ExportPanel(QWidget *parent = nullptr);
};

} // namespace mp
