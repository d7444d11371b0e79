#include "ui/train/train_panel.h"

#include "app/core/error_text.h"
#include "app/core/settings.h"
#include "app/jobs/job_runner.h"
#include "app/jobs/run_ending.h"
#include "app/jobs/run_follower.h"
#include "ml/core/error.h"
#include "ml/run/run_config.h"
#include "ml/run/study_experiment_results.h"
#include "ui/train/experiment_view.h"
#include "ui/train/study_experiment_view.h"
#include "ui/train/train_charts.h"
#include "ui/train/train_form.h"

#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QListWidget>
#include <QPixmap>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSplitter>
#include <QStandardPaths>
#include <QVBoxLayout>

namespace mp {

namespace {
constexpr int kFollowerRole = Qt::UserRole + 1;

// The run's colour on the charts, beside its name in the list (the charts' legends name only
// the metrics); none while the run is not charted.
QIcon swatch(const QColor &colour)
{
    if (!colour.isValid())
        return QIcon();
    QPixmap pixmap(14, 14);
    pixmap.fill(colour);
    return QIcon(pixmap);
}

QString defaultRunsRoot()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation))
        .filePath(QStringLiteral("runs"));
}
} // namespace

TrainPanel::TrainPanel(Settings &settings, QWidget *parent)
    : QWidget(parent), m_settings(settings), m_job(new JobRunner(this)),
      m_cliPath(JobRunner::defaultCliPath())
{
    setObjectName(QStringLiteral("trainPanel"));
    m_form = new TrainForm(this);
    if (const QString corpus = m_settings.corpusDir(); !corpus.isEmpty()) {
        RunConfig config = m_form->config();
        config.eval.motionDataset = corpus.toStdString();
        m_form->setConfig(config);
    }
    // The dataset chosen for the metrics becomes the default of the next session.
    connect(m_form, &TrainForm::changed, this, [this] {
        const RunConfig config = m_form->config();
        if (!config.eval.motionDataset.empty() && m_form->motionMetricsBlocker().isEmpty())
            m_settings.setCorpusDir(QString::fromStdString(config.eval.motionDataset));
    });
    auto *formScroll = new QScrollArea(this);
    formScroll->setWidget(m_form);
    formScroll->setWidgetResizable(true);
    // As wide as the form needs beside its vertical scroll bar: no sideways scrolling.
    formScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    formScroll->setMinimumWidth(m_form->minimumSizeHint().width() +
                                formScroll->verticalScrollBar()->sizeHint().width() +
                                2 * formScroll->frameWidth());

    m_start = new QPushButton(tr("&Start..."), this);
    m_start->setToolTip(
        tr("Write run.json into a new run directory and start training in the background"));
    m_stop = new QPushButton(tr("Sto&p"), this);
    m_stop->setToolTip(tr("Stop the job at its next step boundary; its last checkpoint is kept"));
    m_resume = new QPushButton(tr("&Resume"), this);
    m_resume->setToolTip(tr("Continue the selected stopped run from its last checkpoint"));
    auto *open = new QPushButton(tr("&Open Run..."), this);
    open->setToolTip(tr("Add a run directory (finished, running or remote) to the charts"));
    auto *openExperiment = new QPushButton(tr("Open E&xperiment..."), this);
    openExperiment->setObjectName(QStringLiteral("openExperiment"));
    openExperiment->setToolTip(tr("Show an experiment directory: of motionpref-cli experiment "
                                  "run (its table and a bar chart with 95% whiskers) or of "
                                  "study experiment (its table and each metric against the "
                                  "labeling budget, a line per arm with 95% whiskers)"));
    auto *buttons = new QHBoxLayout;
    for (QPushButton *button : {m_start, m_stop, m_resume, open, openExperiment})
        buttons->addWidget(button);

    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(formScroll, 1);
    leftLayout->addLayout(buttons);

    m_message = new QLabel(this);
    m_message->setWordWrap(true);
    m_message->setObjectName(QStringLiteral("trainMessage"));
    m_runs = new QListWidget(this);
    m_runs->setObjectName(QStringLiteral("runList"));
    m_runs->setMaximumHeight(110);
    m_runs->setToolTip(tr("Ticked runs are overlaid on the charts"));
    m_charts = new TrainCharts(this);
    m_log = new QPlainTextEdit(this);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(5000);
    m_log->setPlaceholderText(tr("The running job's output appears here."));

    auto *rightSplit = new QSplitter(Qt::Vertical, this);
    auto *top = new QWidget(this);
    auto *topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addWidget(m_message);
    topLayout->addWidget(m_runs);
    topLayout->addWidget(m_charts, 1);
    rightSplit->addWidget(top);
    rightSplit->addWidget(m_log);
    rightSplit->setStretchFactor(0, 5);
    rightSplit->setStretchFactor(1, 1);

    auto *splitter = new QSplitter(this);
    splitter->addWidget(left);
    splitter->addWidget(rightSplit);
    splitter->setStretchFactor(1, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(splitter);

    connect(m_start, &QPushButton::clicked, this, &TrainPanel::startClicked);
    connect(m_stop, &QPushButton::clicked, this, [this] { m_job->stop(); });
    connect(m_resume, &QPushButton::clicked, this, &TrainPanel::resumeClicked);
    connect(open, &QPushButton::clicked, this, &TrainPanel::openClicked);
    connect(openExperiment, &QPushButton::clicked, this, &TrainPanel::openExperimentClicked);
    connect(m_runs, &QListWidget::itemChanged, this, &TrainPanel::runToggled);
    connect(m_runs, &QListWidget::currentItemChanged, this, &TrainPanel::updateButtons);
    connect(m_job, &JobRunner::logAppended, this, [this](const QString &text) {
        m_log->moveCursor(QTextCursor::End);
        m_log->insertPlainText(text);
    });
    connect(m_job, &JobRunner::stateChanged, this, [this](JobRunner::State state) {
        if (state == JobRunner::State::Finished) {
            const RunEnding ending = readRunEnding(m_job->runDir());
            showMessage(ending.message, ending.kind != RunEnding::Kind::Finished &&
                                            ending.kind != RunEnding::Kind::Stopped);
        }
        updateButtons();
    });
    probeTrainingCommand();
    updateButtons();
}

TrainPanel::~TrainPanel()
{
    // The probe's signals must not reach a panel whose children are already gone.
    if (m_probe) {
        m_probe->disconnect(this);
        m_probe->kill();
        m_probe->waitForFinished(2000);
        delete m_probe;
    }
}

void TrainPanel::probeTrainingCommand()
{
    // The GUI trains through the CLI, so what the CLI offers decides what the panel offers.
    auto *probe = new QProcess(this);
    m_probe = probe;
    connect(
        probe, &QProcess::finished, this, [this, probe](int exitCode, QProcess::ExitStatus status) {
            m_trainingAvailable = status == QProcess::NormalExit && exitCode == 0;
            if (!m_trainingAvailable)
                showMessage(
                    tr("Training is not available in this build: %1 has no 'train' command yet. "
                       "Finished runs can still be opened and charted.")
                        .arg(m_cliPath),
                    true);
            probe->deleteLater();
            updateButtons();
            emit trainingAvailabilityKnown(m_trainingAvailable);
        });
    connect(probe, &QProcess::errorOccurred, this, [this, probe](QProcess::ProcessError error) {
        if (error != QProcess::FailedToStart)
            return;
        m_trainingAvailable = false;
        showMessage(tr("Training is not available: %1 cannot be started.").arg(m_cliPath), true);
        probe->deleteLater();
        updateButtons();
        emit trainingAvailabilityKnown(false);
    });
    probe->start(m_cliPath, {QStringLiteral("train"), QStringLiteral("--help")});
}

void TrainPanel::showMessage(const QString &text, bool error)
{
    m_message->setText(text);
    m_message->setStyleSheet(error ? QStringLiteral("color: #a00000;") : QString());
}

RunFollower *TrainPanel::followerOf(QListWidgetItem *item) const
{
    return item ? item->data(kFollowerRole).value<RunFollower *>() : nullptr;
}

bool TrainPanel::openRun(const QString &runDir)
{
    const QString absolute = QDir(runDir).absolutePath();
    for (int row = 0; row < m_runs->count(); ++row)
        if (followerOf(m_runs->item(row))->runDir() == absolute)
            return true;
    auto *follower = new RunFollower(this);
    if (!follower->follow(absolute)) {
        showMessage(follower->errorString(), true);
        delete follower;
        return false;
    }
    QString label = QFileInfo(absolute).fileName();
    try {
        const QString configPath = QDir(absolute).filePath(QStringLiteral("config.json"));
        const RunConfig config = loadRunConfig(configPath.toStdString());
        const std::string_view method = config.method == TrainMethod::Dpo
                                            ? dpoLossTypeName(config.dpo.loss)
                                            : trainMethodName(config.method);
        label +=
            QStringLiteral(" (%1)").arg(QString::fromUtf8(method.data(), qsizetype(method.size())));
    } catch (const std::exception &) {
        // A run without a readable config.json is still charted under its directory name.
    }
    auto *item = new QListWidgetItem(label, m_runs);
    item->setToolTip(absolute);
    item->setData(kFollowerRole, QVariant::fromValue(follower));
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    m_charts->addRun(follower, label);
    {
        QSignalBlocker block(m_runs);
        item->setCheckState(Qt::Checked);
        item->setIcon(swatch(m_charts->runColour(follower)));
    }
    m_runs->setCurrentItem(item);
    connect(follower, &RunFollower::statusChanged, this, &TrainPanel::updateButtons);
    updateButtons();
    return true;
}

void TrainPanel::runToggled(QListWidgetItem *item)
{
    RunFollower *follower = followerOf(item);
    if (!follower)
        return;
    const bool charted = item->checkState() == Qt::Checked;
    if (charted)
        m_charts->addRun(follower, item->text());
    else
        m_charts->removeRun(follower);
    // Changing the icon signals itemChanged again.
    QSignalBlocker block(m_runs);
    item->setIcon(swatch(charted ? m_charts->runColour(follower) : QColor()));
}

QStringList TrainPanel::processArguments() const
{
    // One process is the plain run; more are data-parallel ranks (a run resumes with any number).
    const int processes = m_form->processes();
    if (processes <= 1)
        return {};
    return {QStringLiteral("--nproc"), QString::number(processes)};
}

bool TrainPanel::startRun(const QString &runDir)
{
    if (!m_trainingAvailable) {
        showMessage(tr("Training is not available in this build."), true);
        return false;
    }
    const RunConfig config = m_form->config();
    if (config.data.source == DataSource::SemiOnline && config.data.corpus.empty()) {
        showMessage(tr("Choose a corpus for the semi-online pairs first (Data > Corpus)."), true);
        return false;
    }
    if (config.data.source == DataSource::Labeled && config.data.pairs.empty()) {
        showMessage(tr("Choose a preference pairs file first (Data > Pairs)."), true);
        return false;
    }
    if (!QDir().mkpath(runDir)) {
        showMessage(tr("%1: cannot create the run directory").arg(runDir), true);
        return false;
    }
    // The run's one configuration, complete: the job starts from it and resumes from it.
    const QString configPath = QDir(runDir).filePath(QStringLiteral("config.json"));
    try {
        saveRunConfig(config, configPath.toStdString());
    } catch (const std::exception &error) {
        showMessage(errorText(error), true);
        return false;
    }
    m_log->clear();
    if (!m_job->start(m_cliPath,
                      QStringList{QStringLiteral("train"), QStringLiteral("--config"), configPath,
                                  QStringLiteral("--out"), runDir} +
                          processArguments(),
                      runDir)) {
        showMessage(m_job->errorString(), true);
        return false;
    }
    showMessage(tr("Training in %1").arg(runDir), false);
    return openRun(runDir);
}

void TrainPanel::startClicked()
{
    const QString name = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
    const QString suggested = QDir(defaultRunsRoot()).filePath(name);
    QDir().mkpath(defaultRunsRoot());
    const QString runDir = QFileDialog::getSaveFileName(this, tr("New run directory"), suggested);
    if (!runDir.isEmpty())
        startRun(runDir);
}

void TrainPanel::resumeClicked()
{
    RunFollower *follower = followerOf(m_runs->currentItem());
    if (!follower)
        return;
    const QString runDir = follower->runDir();
    if (!m_job->start(m_cliPath,
                      QStringList{QStringLiteral("train"), QStringLiteral("--out"), runDir,
                                  QStringLiteral("--resume")} +
                          processArguments(),
                      runDir)) {
        showMessage(m_job->errorString(), true);
        return;
    }
    follower->follow(runDir);
    showMessage(tr("Resumed %1").arg(runDir), false);
}

void TrainPanel::openClicked()
{
    const QString runDir =
        QFileDialog::getExistingDirectory(this, tr("Open run directory"), defaultRunsRoot());
    if (!runDir.isEmpty())
        openRun(runDir);
}

// A window of its own, or null with the error in the panel's message.
template <typename View> View *TrainPanel::openExperimentWindow(const QString &dir, QSize size)
{
    auto *view = new View(this);
    view->setWindowFlag(Qt::Window);
    view->setAttribute(Qt::WA_DeleteOnClose);
    if (!view->open(dir)) {
        showMessage(view->errorString(), true);
        delete view;
        return nullptr;
    }
    view->resize(size);
    view->show();
    return view;
}

ExperimentView *TrainPanel::openExperiment(const QString &dir)
{
    return openExperimentWindow<ExperimentView>(dir, {900, 640});
}

StudyExperimentView *TrainPanel::openStudyExperiment(const QString &dir)
{
    return openExperimentWindow<StudyExperimentView>(dir, {1000, 720});
}

void TrainPanel::openExperimentClicked()
{
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("Open experiment directory"), defaultRunsRoot());
    if (dir.isEmpty())
        return;
    // A study experiment has results.csv with its own header and no experiment.json.
    if (isStudyExperimentDirectory(dir.toStdString()))
        openStudyExperiment(dir);
    else
        openExperiment(dir);
}

void TrainPanel::updateButtons()
{
    const bool running = m_job->state() == JobRunner::State::Running;
    m_start->setEnabled(m_trainingAvailable && !running);
    m_stop->setEnabled(running);
    RunFollower *selected = followerOf(m_runs->currentItem());
    const bool resumable =
        selected && selected->status() != RunFollower::Status::Done &&
        QFileInfo::exists(QDir(selected->runDir()).filePath(QStringLiteral("config.json")));
    m_resume->setEnabled(m_trainingAvailable && !running && resumable);
}

} // namespace mp
