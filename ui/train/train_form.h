#pragma once
// The Train panel's settings form: reads and writes a RunConfig, the same structure
// `motionpref-cli train --config run.json` parses, so the GUI launches exactly what the CLI runs.

#include "ml/run/run_config.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace mp {

class TrainForm : public QWidget {
    Q_OBJECT
public:
    explicit TrainForm(QWidget *parent = nullptr);

    RunConfig config() const;
    void setConfig(const RunConfig &config);
    // Why HumanML3D metrics cannot be turned on now (no dataset, ...); empty when they can.
    QString motionMetricsBlocker() const;
    // Data-parallel ranks to start on this machine (`train --nproc`); not part of the config:
    // a run resumes with any number.
    int processes() const;
    void setProcesses(int processes);

signals:
    void changed();

private:
    void methodChanged();
    void updateEnabled();

    QComboBox *m_method = nullptr;
    QComboBox *m_loss = nullptr;
    QDoubleSpinBox *m_beta = nullptr;
    QComboBox *m_smoothing = nullptr;
    QDoubleSpinBox *m_rpoAlpha = nullptr;
    QComboBox *m_tuning = nullptr; // LoRA adapters (true) or full fine-tuning (false)
    QSpinBox *m_loraRank = nullptr;
    QDoubleSpinBox *m_loraAlpha = nullptr;
    QDoubleSpinBox *m_loraDropout = nullptr;
    QLineEdit *m_learningRate = nullptr;
    QSpinBox *m_batch = nullptr;
    QSpinBox *m_epochs = nullptr;
    QSpinBox *m_warmup = nullptr;
    QComboBox *m_schedule = nullptr;
    QCheckBox *m_degrees[4] = {};
    QSpinBox *m_percent = nullptr;
    QLineEdit *m_pairs = nullptr;
    QComboBox *m_source = nullptr; // data.source: labeled pairs or semi-online
    QLineEdit *m_corpus = nullptr;
    QSpinBox *m_candidates = nullptr;
    QLineEdit *m_model = nullptr;
    QComboBox *m_device = nullptr;
    QSpinBox *m_processes = nullptr;
    QSpinBox *m_seed = nullptr;
    QCheckBox *m_motionMetrics = nullptr;
    QSpinBox *m_motionEvery = nullptr;
    QSpinBox *m_motionReplications = nullptr;
    QSpinBox *m_motionClips = nullptr;
    QLineEdit *m_motionDataset = nullptr;
    QLabel *m_motionHint = nullptr; // why the metrics cannot be turned on, when they cannot
    RunConfig m_base;               // keys the form does not show keep their values
};

} // namespace mp
