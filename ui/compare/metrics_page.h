#pragma once
// The HumanML3D metrics of models A and B side by side ("mean ± ci" over the evaluation's
// replications), read from each model's metrics.json: found next to the adapter or the bundle,
// or chosen by the user. A model without one gets a plain note with the CLI command that
// computes it.

#include <QString>
#include <QWidget>

class QLabel;
class QTableWidget;

namespace mp {

class ModelPicker;
struct ModelMetrics;

class MetricsPage : public QWidget {
    Q_OBJECT
public:
    MetricsPage(ModelPicker *pickerA, ModelPicker *pickerB, QWidget *parent = nullptr);
    ~MetricsPage() override;

    // Re-reads both models' files (the pickers' models, user-chosen files first).
    void refresh();
    // Uses this file for model 0 (A) or 1 (B) until that model changes; false (and the error in
    // the notes) when it cannot be read.
    bool setMetricsFile(int model, const QString &path);
    QString metricsFile(int model) const;
    QTableWidget *table() const { return m_table; }
    QString notesText() const;

private:
    void chooseFile(int model);

    ModelPicker *m_pickers[2];
    QString m_chosen[2]; // user-chosen files
    QString m_used[2];   // the files shown
    QTableWidget *m_table = nullptr;
    QLabel *m_notes = nullptr;
};

} // namespace mp
