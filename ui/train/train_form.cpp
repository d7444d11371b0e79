#include "ui/train/train_form.h"

#include <algorithm>
#include <cmath>

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QDoubleValidator>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

namespace mp {

namespace {

QLineEdit *pathEdit(QWidget *parent, const QString &placeholder, bool directory, QWidget **row)
{
    auto *container = new QWidget(parent);
    auto *layout = new QHBoxLayout(container);
    layout->setContentsMargins(0, 0, 0, 0);
    auto *edit = new QLineEdit(container);
    edit->setPlaceholderText(placeholder);
    auto *browse = new QPushButton(QObject::tr("..."), container);
    browse->setToolTip(QObject::tr("Browse"));
    browse->setFixedWidth(32);
    layout->addWidget(edit, 1);
    layout->addWidget(browse);
    QObject::connect(browse, &QPushButton::clicked, container, [container, edit, directory] {
        const QString chosen =
            directory ? QFileDialog::getExistingDirectory(container, QString(), edit->text())
                      : QFileDialog::getOpenFileName(container, QString(), edit->text());
        if (!chosen.isEmpty())
            edit->setText(chosen);
    });
    *row = container;
    return edit;
}

// The largest value a spin box offers where run.json has no upper bound.
constexpr double kUnboundedMax = 1e6;

// A spin box over run_config's bounds for the key: an exclusive lower bound starts one display
// step above it, an exclusive upper bound ends one step below.
QDoubleSpinBox *doubleSpin(QWidget *parent, const NumberBounds &bounds, double step, int decimals)
{
    auto *spin = new QDoubleSpinBox(parent);
    const double unit = std::pow(10.0, -decimals);
    const double min = bounds.min + (bounds.minExclusive ? unit : 0.0);
    const double max =
        std::isfinite(bounds.max) ? bounds.max - (bounds.maxExclusive ? unit : 0.0) : kUnboundedMax;
    spin->setDecimals(decimals);
    spin->setRange(min, max);
    spin->setSingleStep(step);
    return spin;
}

QSpinBox *intSpin(QWidget *parent, int min, int max)
{
    auto *spin = new QSpinBox(parent);
    spin->setRange(min, max);
    return spin;
}

} // namespace

TrainForm::TrainForm(QWidget *parent) : QWidget(parent), m_base(defaultRunConfig(TrainMethod::Dpo))
{
    auto *method = new QGroupBox(tr("Method"), this);
    auto *methodForm = new QFormLayout(method);
    m_method = new QComboBox(method);
    m_method->addItem(tr("DPO (direct preference optimisation)"),
                      static_cast<int>(TrainMethod::Dpo));
    m_method->addItem(tr("RLHF (reward model, then PPO)"), static_cast<int>(TrainMethod::Rlhf));
    m_method->addItem(tr("Reward model only"), static_cast<int>(TrainMethod::Rm));
    m_method->setToolTip(tr("Choosing a method loads the paper's settings for it"));
    m_loss = new QComboBox(method);
    for (const DpoLossName &loss : kDpoLossNames)
        m_loss->addItem(QString::fromUtf8(loss.name.data(), qsizetype(loss.name.size())),
                        static_cast<int>(loss.type));
    m_beta = doubleSpin(method, kDpoBetaBounds, 0.05, 3);
    m_beta->setToolTip(tr("DPO temperature β (τ for IPO)"));
    m_smoothing = new QComboBox(method);
    m_smoothing->addItem(tr("none"), static_cast<int>(LabelSmoothingMode::None));
    m_smoothing->addItem(tr("by degree (paper)"), static_cast<int>(LabelSmoothingMode::PerDegree));
    m_smoothing->setToolTip(
        tr("Sigmoid loss only: ε = 0 / 0.2 / 0.3 / 0.5 for much / better / slightly / unsure"));
    m_rpoAlpha = doubleSpin(method, kRpoAlphaBounds, 0.1, 2);
    m_rpoAlpha->setObjectName("rpoAlpha");
    m_rpoAlpha->setToolTip(
        tr("RPO: adds α × the chosen motions' token NLL to the loss, so they stay likely while the "
           "pair is pushed apart (0: plain DPO)"));
    methodForm->addRow(tr("Method:"), m_method);
    methodForm->addRow(tr("Loss:"), m_loss);
    methodForm->addRow(tr("β:"), m_beta);
    methodForm->addRow(tr("Label smoothing:"), m_smoothing);
    methodForm->addRow(tr("Chosen NLL (RPO α):"), m_rpoAlpha);

    auto *lora = new QGroupBox(tr("Fine-tuning"), this);
    auto *loraForm = new QFormLayout(lora);
    m_tuning = new QComboBox(lora);
    m_tuning->setObjectName(QStringLiteral("fineTuning"));
    m_tuning->addItem(tr("LoRA adapters"), true);
    m_tuning->addItem(tr("Full fine-tuning"), false);
    m_tuning->setToolTip(
        tr("LoRA trains small adapters beside the frozen model (the reference is the model with "
           "them disabled). Full fine-tuning trains every T5 weight against a frozen copy of the "
           "model and writes a whole model bundle (best/, model/): DPO only, one process, about "
           "five times the weights in memory (copy, gradients, optimizer moments)."));
    loraForm->addRow(tr("Train:"), m_tuning);
    m_loraRank = intSpin(lora, int(kMinLoraRank), 4096);
    m_loraAlpha = doubleSpin(lora, kLoraAlphaBounds, 1, 1);
    m_loraDropout = doubleSpin(lora, kLoraDropoutBounds, 0.05, 2);
    loraForm->addRow(tr("LoRA rank r:"), m_loraRank);
    loraForm->addRow(tr("LoRA alpha:"), m_loraAlpha);
    loraForm->addRow(tr("LoRA dropout:"), m_loraDropout);

    auto *optimisation = new QGroupBox(tr("Optimisation"), this);
    auto *optForm = new QFormLayout(optimisation);
    m_learningRate = new QLineEdit(optimisation);
    auto *lrValidator = new QDoubleValidator(1e-9, 1.0, 12, m_learningRate);
    lrValidator->setLocale(QLocale::c());
    m_learningRate->setValidator(lrValidator);
    m_batch = intSpin(optimisation, int(kMinBatchSize), 65536);
    m_epochs = intSpin(optimisation, int(kMinEpochs), 1000000);
    m_warmup = intSpin(optimisation, int(kMinWarmupSteps), 100000000);
    m_schedule = new QComboBox(optimisation);
    for (ScheduleKind kind : {ScheduleKind::Cosine, ScheduleKind::Linear, ScheduleKind::Constant})
        m_schedule->addItem(QString::fromUtf8(scheduleKindName(kind).data(),
                                              qsizetype(scheduleKindName(kind).size())),
                            static_cast<int>(kind));
    m_seed = intSpin(optimisation, 0, 2147483647);
    optForm->addRow(tr("Learning rate:"), m_learningRate);
    optForm->addRow(tr("Batch:"), m_batch);
    optForm->addRow(tr("Epochs:"), m_epochs);
    optForm->addRow(tr("Warmup steps:"), m_warmup);
    optForm->addRow(tr("Schedule:"), m_schedule);
    optForm->addRow(tr("Seed:"), m_seed);

    auto *data = new QGroupBox(tr("Data"), this);
    auto *dataForm = new QFormLayout(data);
    QWidget *pairsRow = nullptr;
    m_pairs = pathEdit(data, tr("preference pairs file (.jsonl)"), false, &pairsRow);
    auto *degreeRow = new QWidget(data);
    auto *degreeLayout = new QHBoxLayout(degreeRow);
    degreeLayout->setContentsMargins(0, 0, 0, 0);
    const QString degreeNames[4] = {tr("much"), tr("better"), tr("slightly"), tr("unsure")};
    for (int i = 0; i < 4; ++i) {
        m_degrees[i] = new QCheckBox(degreeNames[i], degreeRow);
        degreeLayout->addWidget(m_degrees[i]);
    }
    m_percent = intSpin(data, 1, 100);
    m_percent->setSuffix(QStringLiteral(" %"));
    m_source = new QComboBox(data);
    m_source->setObjectName(QStringLiteral("pairSource"));
    m_source->addItem(tr("labeled pairs"), static_cast<int>(DataSource::Labeled));
    m_source->addItem(tr("semi-online (dataset clip vs policy samples)"),
                      static_cast<int>(DataSource::SemiOnline));
    m_source->setToolTip(
        tr("Semi-online (DPO only): for each caption of the corpus's training split the chosen "
           "motion is the caption's own clip and the rejected one the policy sample that the "
           "simulated labeler (kinematics and pose error against the clip) scores lowest among "
           "K; the pairs are rebuilt from the current policy at each epoch's start "
           "(data.source semi_online)."));
    QWidget *corpusRow = nullptr;
    m_corpus =
        pathEdit(data, tr("corpus directory (motionpref-cli corpus build)"), true, &corpusRow);
    m_corpus->setObjectName(QStringLiteral("semiOnlineCorpus"));
    m_candidates = intSpin(data, int(kMinSemiOnlineCandidates), int(kMaxSemiOnlineCandidates));
    m_candidates->setObjectName(QStringLiteral("semiOnlineCandidates"));
    m_candidates->setSuffix(tr(" samples per caption"));
    dataForm->addRow(tr("Training pairs:"), m_source);
    dataForm->addRow(tr("Pairs:"), pairsRow);
    dataForm->addRow(tr("Degrees:"), degreeRow);
    dataForm->addRow(tr("Use:"), m_percent);
    dataForm->addRow(tr("Corpus:"), corpusRow);
    dataForm->addRow(tr("Candidates K:"), m_candidates);

    auto *compute = new QGroupBox(tr("Model and compute"), this);
    auto *computeForm = new QFormLayout(compute);
    QWidget *modelRow = nullptr;
    m_model = pathEdit(compute, tr("embedded default"), true, &modelRow);
    m_device = new QComboBox(compute);
    m_device->addItems({QStringLiteral("auto"), QStringLiteral("cpu"), QStringLiteral("cuda")});
    computeForm->addRow(tr("Model:"), modelRow);
    computeForm->addRow(tr("Device:"), m_device);
    m_processes = intSpin(compute, 1, std::max(1, QThread::idealThreadCount()));
    m_processes->setObjectName(QStringLiteral("processes"));
    m_processes->setToolTip(
        tr("Data-parallel processes on this machine: each takes a shard of every batch and the "
           "gradients are summed, so the result equals one process (motionpref-cli train "
           "--nproc). Each gets its share of the CPU threads."));
    computeForm->addRow(tr("Processes:"), m_processes);

    auto *motion = new QGroupBox(tr("HumanML3D metrics"), this);
    auto *motionForm = new QFormLayout(motion);
    m_motionMetrics = new QCheckBox(tr("Evaluate the policy during training"), motion);
    m_motionMetrics->setObjectName(QStringLiteral("motionMetrics"));
    m_motionMetrics->setToolTip(tr(
        "R-precision, FID, MM-Dist, Diversity of the adapter being trained, on the dataset's "
        "validation split, at the end of every N-th epoch and of the run (eval.motion_metrics)"));
    QWidget *datasetRow = nullptr;
    m_motionDataset = pathEdit(motion, tr("HumanML3D-layout directory"), true, &datasetRow);
    m_motionDataset->setObjectName(QStringLiteral("motionDataset"));
    m_motionEvery = intSpin(motion, 1, 10000);
    m_motionEvery->setPrefix(tr("every "));
    m_motionEvery->setSuffix(tr(" epoch"));
    connect(m_motionEvery, &QSpinBox::valueChanged, m_motionEvery,
            [spin = m_motionEvery](int value) {
                spin->setSuffix(value == 1 ? tr(" epoch") : tr(" epochs"));
            });
    m_motionReplications = intSpin(motion, 1, 100);
    m_motionReplications->setToolTip(tr("Each replication re-draws captions and groups; the "
                                        "interval is 1.96 std / sqrt(replications)"));
    m_motionClips = intSpin(motion, 0, 100000);
    m_motionClips->setObjectName(QStringLiteral("motionClips"));
    m_motionClips->setSingleStep(static_cast<int>(kMotionGroupSize));
    m_motionClips->setSpecialValueText(tr("whole split"));
    m_motionClips->setToolTip(tr("Motions evaluated (a multiple of 32); the generation time grows "
                                 "with clips x replications"));
    m_motionHint = new QLabel(motion);
    m_motionHint->setObjectName(QStringLiteral("motionHint"));
    m_motionHint->setWordWrap(true);
    m_motionHint->setStyleSheet(QStringLiteral("color: #666;"));
    motionForm->addRow(m_motionMetrics);
    motionForm->addRow(tr("Dataset:"), datasetRow);
    motionForm->addRow(tr("When:"), m_motionEvery);
    motionForm->addRow(tr("Replications:"), m_motionReplications);
    motionForm->addRow(tr("Clips:"), m_motionClips);
    motionForm->addRow(m_motionHint);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    for (QGroupBox *group : {method, lora, optimisation, data, compute, motion})
        layout->addWidget(group);
    layout->addStretch(1);

    setConfig(m_base);
    connect(m_method, &QComboBox::currentIndexChanged, this, &TrainForm::methodChanged);
    connect(m_loss, &QComboBox::currentIndexChanged, this, &TrainForm::updateEnabled);
    connect(m_source, &QComboBox::currentIndexChanged, this, &TrainForm::updateEnabled);
    connect(m_source, &QComboBox::currentIndexChanged, this, &TrainForm::changed);
    connect(m_corpus, &QLineEdit::textChanged, this, &TrainForm::changed);
    connect(m_candidates, &QSpinBox::valueChanged, this, &TrainForm::changed);
    connect(m_tuning, &QComboBox::currentIndexChanged, this, &TrainForm::updateEnabled);
    for (QComboBox *box : {m_loss, m_smoothing, m_schedule, m_device, m_tuning})
        connect(box, &QComboBox::currentIndexChanged, this, &TrainForm::changed);
    for (QLineEdit *edit : {m_learningRate, m_pairs, m_model, m_motionDataset})
        connect(edit, &QLineEdit::textChanged, this, &TrainForm::changed);
    connect(m_motionDataset, &QLineEdit::textChanged, this, &TrainForm::updateEnabled);
    connect(m_motionMetrics, &QCheckBox::toggled, this, &TrainForm::updateEnabled);
    connect(m_motionMetrics, &QCheckBox::toggled, this, &TrainForm::changed);
}

int TrainForm::processes() const
{
    return m_processes->value();
}

void TrainForm::setProcesses(int processes)
{
    m_processes->setValue(processes);
}

QString TrainForm::motionMetricsBlocker() const
{
    const auto method = static_cast<TrainMethod>(m_method->currentData().toInt());
    if (method == TrainMethod::Rm)
        return tr("A reward-model run trains no policy to evaluate.");
    const QString dataset = m_motionDataset->text().trimmed();
    if (dataset.isEmpty())
        return tr("Choose a HumanML3D-layout dataset (e.g. the corpus) to turn them on.");
    const QString split = QString::fromStdString(m_base.eval.motionSplit);
    if (!QFileInfo::exists(QDir(dataset).filePath(split + QStringLiteral(".txt"))))
        return tr("%1 has no %2.txt split.").arg(dataset, split);
    return QString();
}

void TrainForm::methodChanged()
{
    // A new method starts from the paper's settings for it, keeping the data and model chosen.
    RunConfig fresh = defaultRunConfig(static_cast<TrainMethod>(m_method->currentData().toInt()));
    const RunConfig current = config();
    fresh.data = current.data;
    fresh.model = current.model;
    fresh.device = current.device;
    fresh.eval.motionDataset = current.eval.motionDataset;
    fresh.eval.motionSplit = current.eval.motionSplit;
    fresh.eval.motionEveryEpochs = current.eval.motionEveryEpochs;
    fresh.eval.replications = current.eval.replications;
    fresh.eval.motionMaxClips = current.eval.motionMaxClips;
    fresh.eval.motionMetrics = current.eval.motionMetrics && fresh.method != TrainMethod::Rm;
    setConfig(fresh);
    emit changed();
}

void TrainForm::updateEnabled()
{
    const auto method = static_cast<TrainMethod>(m_method->currentData().toInt());
    const bool dpo = method == TrainMethod::Dpo;
    m_loss->setEnabled(dpo);
    m_beta->setEnabled(dpo);
    m_rpoAlpha->setEnabled(dpo);
    m_smoothing->setEnabled(dpo && static_cast<DpoLossType>(m_loss->currentData().toInt()) ==
                                       DpoLossType::Sigmoid);
    // Semi-online pairs are DPO's; they are built from a corpus, not read from a pairs file.
    m_source->setEnabled(dpo);
    if (!dpo)
        m_source->setCurrentIndex(0);
    const bool semiOnline =
        static_cast<DataSource>(m_source->currentData().toInt()) == DataSource::SemiOnline;
    // The path rows (field and browse button) and the other fields of the source not chosen.
    for (QWidget *labeled : std::initializer_list<QWidget *>{m_pairs->parentWidget(), m_percent})
        labeled->setEnabled(!semiOnline);
    for (QCheckBox *degree : m_degrees)
        degree->setEnabled(!semiOnline);
    m_corpus->parentWidget()->setEnabled(semiOnline);
    m_candidates->setEnabled(semiOnline);
    // Full fine-tuning is DPO's, in one process; the other methods train LoRA adapters.
    m_tuning->setEnabled(dpo);
    if (!dpo)
        m_tuning->setCurrentIndex(0);
    const bool full = dpo && !m_tuning->currentData().toBool();
    for (QWidget *loraSetting :
         std::initializer_list<QWidget *>{m_loraRank, m_loraAlpha, m_loraDropout})
        loraSetting->setEnabled(!full);
    // Full fine-tuning and semi-online sampling run in one process (dpo_run refuses more).
    const bool oneProcess = full || (dpo && semiOnline);
    if (oneProcess)
        m_processes->setValue(1);
    m_processes->setEnabled(!oneProcess);
    // The metrics need a dataset with the split; the checkbox says why when it cannot be ticked.
    const QString blocker = motionMetricsBlocker();
    m_motionMetrics->setEnabled(blocker.isEmpty());
    const bool on = blocker.isEmpty() && m_motionMetrics->isChecked();
    for (QSpinBox *spin : {m_motionEvery, m_motionReplications, m_motionClips})
        spin->setEnabled(on);
    const QString split = QString::fromStdString(m_base.eval.motionSplit);
    m_motionHint->setText(blocker.isEmpty()
                              ? tr("On the %1 split; one evaluation takes about as long as "
                                   "sampling clips x replications motions.")
                                    .arg(split)
                              : blocker);
}

void TrainForm::setConfig(const RunConfig &config)
{
    m_base = config;
    QSignalBlocker blockMethod(m_method);
    m_method->setCurrentIndex(std::max(0, m_method->findData(static_cast<int>(config.method))));
    m_loss->setCurrentIndex(std::max(0, m_loss->findData(static_cast<int>(config.dpo.loss))));
    m_beta->setValue(config.dpo.beta);
    m_rpoAlpha->setValue(config.dpo.rpoAlpha);
    m_smoothing->setCurrentIndex(
        config.dpo.labelSmoothingMode == LabelSmoothingMode::PerDegree ? 1 : 0);
    m_tuning->setCurrentIndex(config.lora.enabled ? 0 : 1);
    m_loraRank->setValue(static_cast<int>(config.lora.r));
    m_loraAlpha->setValue(config.lora.alpha);
    m_loraDropout->setValue(config.lora.dropout);
    const bool ppo = config.method == TrainMethod::Ppo;
    m_learningRate->setText(
        QString::number(ppo ? config.ppo.learningRate : config.optimizer.lr, 'g', 6));
    m_batch->setValue(static_cast<int>(config.batchSize));
    m_epochs->setValue(static_cast<int>(config.epochs));
    m_warmup->setValue(static_cast<int>(config.warmupSteps));
    m_schedule->setCurrentIndex(
        std::max(0, m_schedule->findData(static_cast<int>(config.schedule))));
    m_seed->setValue(static_cast<int>(config.seed));
    for (int i = 0; i < 4; ++i)
        m_degrees[i]->setChecked(std::find(config.data.degrees.begin(), config.data.degrees.end(),
                                           kAllDegrees[i]) != config.data.degrees.end());
    m_percent->setValue(static_cast<int>(std::lround(config.data.percent * 100)));
    m_pairs->setText(QString::fromStdString(config.data.pairs));
    m_source->setCurrentIndex(config.data.source == DataSource::SemiOnline ? 1 : 0);
    m_corpus->setText(QString::fromStdString(config.data.corpus));
    m_candidates->setValue(static_cast<int>(config.data.candidates));
    m_model->setText(QString::fromStdString(config.model));
    m_device->setCurrentText(QString::fromStdString(config.device));
    {
        QSignalBlocker blockDataset(m_motionDataset);
        QSignalBlocker blockMotion(m_motionMetrics);
        m_motionDataset->setText(QString::fromStdString(config.eval.motionDataset));
        m_motionMetrics->setChecked(config.eval.motionMetrics);
    }
    m_motionEvery->setValue(static_cast<int>(config.eval.motionEveryEpochs));
    m_motionReplications->setValue(static_cast<int>(config.eval.replications));
    m_motionClips->setValue(static_cast<int>(config.eval.motionMaxClips));
    updateEnabled();
}

RunConfig TrainForm::config() const
{
    RunConfig config = m_base;
    config.method = static_cast<TrainMethod>(m_method->currentData().toInt());
    config.dpo.loss = static_cast<DpoLossType>(m_loss->currentData().toInt());
    config.dpo.beta = m_beta->value();
    config.dpo.rpoAlpha = m_rpoAlpha->value();
    config.dpo.labelSmoothingMode =
        static_cast<LabelSmoothingMode>(m_smoothing->currentData().toInt());
    config.lora.enabled = config.method != TrainMethod::Dpo || m_tuning->currentData().toBool();
    config.lora.r = m_loraRank->value();
    config.lora.alpha = m_loraAlpha->value();
    config.lora.dropout = m_loraDropout->value();
    const double lr = QLocale::c().toDouble(m_learningRate->text());
    if (config.method == TrainMethod::Ppo)
        config.ppo.learningRate = lr;
    else
        config.optimizer.lr = lr;
    config.batchSize = m_batch->value();
    config.epochs = m_epochs->value();
    config.warmupSteps = m_warmup->value();
    config.schedule = static_cast<ScheduleKind>(m_schedule->currentData().toInt());
    config.seed = m_seed->value();
    config.data.degrees.clear();
    for (int i = 0; i < 4; ++i)
        if (m_degrees[i]->isChecked())
            config.data.degrees.push_back(kAllDegrees[i]);
    config.data.percent = m_percent->value() / 100.0;
    config.data.pairs = m_pairs->text().trimmed().toStdString();
    config.data.source = static_cast<DataSource>(m_source->currentData().toInt());
    config.data.corpus = m_corpus->text().trimmed().toStdString();
    config.data.candidates = m_candidates->value();
    // Each source reads its own keys; the other's are left empty (run.json refuses a pairs
    // file beside semi_online, and a labeled run does not read the corpus).
    if (config.data.source == DataSource::SemiOnline)
        config.data.pairs.clear();
    else
        config.data.corpus.clear();
    config.model = m_model->text().trimmed().toStdString();
    config.device = m_device->currentText().toStdString();
    config.eval.motionMetrics = m_motionMetrics->isChecked() && motionMetricsBlocker().isEmpty();
    config.eval.motionDataset = m_motionDataset->text().trimmed().toStdString();
    config.eval.motionEveryEpochs = m_motionEvery->value();
    config.eval.replications = m_motionReplications->value();
    // The spin box steps by 32; a typed value is rounded up to a whole number of groups (0 stays
    // the whole split).
    const std::int64_t clips = m_motionClips->value();
    config.eval.motionMaxClips =
        (clips + kMotionGroupSize - 1) / kMotionGroupSize * kMotionGroupSize;
    return config;
}

} // namespace mp
