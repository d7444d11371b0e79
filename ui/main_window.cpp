#include "ui/main_window.h"

#include "app/core/error_text.h"
#include "app/core/settings.h"
#include "app/export/assimp_info.h"
#include "app/export/motion_io.h"
#include "app/study/label_session.h"
#include "app/study/label_write_queue.h"
#include "app/study/new_study.h"
#include "app/study/study_store.h"
#include "ml/core/device.h"
#include "ml/core/error.h"
#include "ml/core/version.h"
#include "ui/compare/compare_panel.h"
#include "ui/dataset/dataset_panel.h"
#include "ui/export/export_panel.h"
#include "ui/label/label_panel.h"
#include "ui/train/train_panel.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDate>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>
#include <QTabWidget>
#include <QUndoStack>

#include <cstdio>

namespace mp {

namespace {
// The files a study can be opened from: the Open dialog's filter and a path on the command line.
const QStringList kStudySuffixes = {QStringLiteral("mpstudy"), QStringLiteral("db"),
                                    QStringLiteral("sqlite")};
} // namespace

MainWindow::MainWindow(Settings &settings, QWidget *parent)
    : QMainWindow(parent), m_settings(settings), m_undoStack(new QUndoStack(this)),
      m_store(new StudyStore(this))
{
    setWindowTitle(tr("MotionPref Studio"));
    buildPanels();
    buildActions();
    buildStatusBar();
    if (!restoreGeometry(m_settings.windowGeometry()))
        resize(1280, 800);
    restoreState(m_settings.windowState());
    m_panels->setCurrentIndex(std::clamp(m_settings.currentPanel(), 0, m_panels->count() - 1));
    const QString lastStudy = m_settings.lastStudyPath();
    if (!lastStudy.isEmpty() &&
        (StudyStore::isConnectionString(lastStudy) || QFileInfo::exists(lastStudy)))
        openStudy(lastStudy, false);
    updateStudyStatus();
}

bool MainWindow::openStudy(const QString &location, bool create)
{
    return showStudy(tr("Open study"), [&] {
        m_store->open(location, create);
        return location;
    });
}

bool MainWindow::startLabeling()
{
    const bool started = showStudy(tr("Start labeling"), [this] {
        return createDatedStudy(*m_store, m_settings.newStudyDir(), QDate::currentDate());
    });
    if (started) {
        m_panels->setCurrentWidget(m_labelPanel);
        m_labelPanel->focusPrompt();
        statusBar()->showMessage(tr("New study %1: type a prompt and press Enter")
                                     .arg(QFileInfo(m_store->location()).fileName()),
                                 10000);
    }
    return started;
}

bool MainWindow::showStudy(const QString &title, const std::function<QString()> &open)
{
    if (!closeStudy())
        return false;
    QString location;
    try {
        location = open();
    } catch (const std::exception &error) {
        QMessageBox::warning(this, title, errorText(error));
        updateStudyStatus();
        return false;
    }
    m_settings.setLastStudyPath(location);
    updateRecentStudies();
    m_labelPanel->setStore(m_store);
    m_datasetPanel->setStore(m_store);
    updateStudyStatus();
    return true;
}

bool MainWindow::openPath(const QString &path)
{
    const QFileInfo info(path);
    const QString suffix = info.suffix().toLower();
    const auto refuse = [&](const QString &why) {
        const QString message = tr("%1: %2").arg(path, why);
        statusBar()->showMessage(message);
        std::fprintf(stderr, "motionpref: %s\n", qPrintable(message));
        return false;
    };
    if (StudyStore::isConnectionString(path) ||
        (info.isFile() && kStudySuffixes.contains(suffix))) {
        m_panels->setCurrentWidget(m_labelPanel);
        return openStudy(path, false);
    }
    if (!info.exists())
        return refuse(tr("no such file or directory"));
    if (info.isDir()) {
        m_panels->setCurrentWidget(m_trainPanel);
        return m_trainPanel->openRun(info.absoluteFilePath());
    }
    for (const MotionFormatInfo &format : kMotionFormats) {
        if (format.readable &&
            suffix == QLatin1String(format.suffix.data(), qsizetype(format.suffix.size()))) {
            m_panels->setCurrentWidget(m_exportPanel);
            return m_exportPanel->openMotion(info.absoluteFilePath());
        }
    }
    return refuse(tr("not a study, a motion file (.npy, .bvh) or a run directory"));
}

// One entry per recent study (a file that no longer exists is dropped when chosen).
void MainWindow::updateRecentStudies()
{
    if (!m_recentMenu)
        return;
    m_recentMenu->clear();
    const QStringList recent = m_settings.recentStudies();
    for (const QString &location : recent) {
        const QString name =
            StudyStore::isConnectionString(location) ? location : QFileInfo(location).fileName();
        QAction *action =
            m_recentMenu->addAction(name, this, [this, location] { openRecentStudy(location); });
        action->setStatusTip(location);
    }
    m_recentMenu->setEnabled(!recent.isEmpty());
}

// A study of the recent list (File menu or the welcome page); a file that no longer exists is
// dropped from the list.
void MainWindow::openRecentStudy(const QString &location)
{
    if (!StudyStore::isConnectionString(location) && !QFileInfo::exists(location)) {
        statusBar()->showMessage(tr("%1: no longer exists").arg(location));
        m_settings.removeRecentStudy(location);
        updateRecentStudies();
        return;
    }
    openStudy(location, false);
}

bool MainWindow::closeStudy()
{
    // Labels queued behind a lock belong to this study: saved, or given up knowingly, before it
    // closes (never written into the next study, never a 15 s wait on the GUI thread).
    if (m_store->isOpen() && !queuedLabelsStored())
        return false;
    m_undoStack->clear(); // its commands edit the study being closed
    m_labelPanel->setStore(nullptr);
    m_datasetPanel->setStore(nullptr);
    if (m_store->isOpen())
        m_store->close();
    updateStudyStatus();
    return true;
}

void MainWindow::newStudy()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("New study"), QString(),
                                                      tr("Studies (*.mpstudy);;All files (*)"));
    if (path.isEmpty())
        return;
    QString file = path;
    if (QFileInfo(file).suffix().isEmpty())
        file += QStringLiteral(".mpstudy");
    showStudy(tr("New study"), [&] {
        createStudy(*m_store, file); // an existing file is refused, never overwritten
        return file;
    });
}

void MainWindow::openStudyFile()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open study"), QString(),
        tr("Studies (%1);;All files (*)")
            .arg(QStringLiteral("*.") + kStudySuffixes.join(QStringLiteral(" *."))));
    if (!path.isEmpty())
        openStudy(path, false);
}

void MainWindow::openSharedStudy()
{
    bool ok = false;
    const QString location = QInputDialog::getText(
        this, tr("Open shared study"),
        tr("PostgreSQL connection string (postgresql://user:password@host:port/database):"),
        QLineEdit::Normal, QStringLiteral("postgresql://"), &ok);
    if (ok && StudyStore::isConnectionString(location))
        openStudy(location, true);
    else if (ok)
        QMessageBox::warning(this, tr("Open shared study"),
                             tr("'%1' is not a postgresql:// connection string.").arg(location));
}

void MainWindow::updateStudyStatus()
{
    const bool open = m_store->isOpen();
    for (QAction *action : m_studyActions)
        action->setEnabled(open);
    if (!m_studyLabel)
        return;
    if (!open) {
        m_studyLabel->setText(tr("Study: none"));
        return;
    }
    const StudyCounts counts = m_store->counts();
    const QString text = counts.pairs == 1 ? tr("Study: %1 (%2 pair, %3 labeled)")
                                           : tr("Study: %1 (%2 pairs, %3 labeled)");
    m_studyLabel->setText(text.arg(QFileInfo(m_store->location()).completeBaseName())
                              .arg(counts.pairs)
                              .arg(counts.labeledPairs));
    m_studyLabel->setToolTip(m_store->location());
}

void MainWindow::buildPanels()
{
    m_panels = new QTabWidget(this);
    m_panels->setObjectName(QStringLiteral("panels"));
    m_panels->setDocumentMode(true);
    m_labelPanel = new LabelPanel(m_settings, m_undoStack, m_panels);
    m_panels->addTab(m_labelPanel, tr("&Label"));
    connect(m_labelPanel, &LabelPanel::startLabelingRequested, this, &MainWindow::startLabeling);
    connect(m_labelPanel, &LabelPanel::recentStudyRequested, this, &MainWindow::openRecentStudy);
    connect(m_labelPanel, &LabelPanel::newStudyRequested, this, &MainWindow::newStudy);
    connect(m_labelPanel, &LabelPanel::openStudyRequested, this, &MainWindow::openStudyFile);
    m_datasetPanel = new DatasetPanel(m_settings, m_panels);
    m_panels->addTab(m_datasetPanel, tr("&Dataset"));
    m_trainPanel = new TrainPanel(m_settings, m_panels);
    m_panels->addTab(m_trainPanel, tr("&Train"));
    m_panels->addTab(new ComparePanel(m_settings, m_panels), tr("&Compare"));
    m_exportPanel = new ExportPanel(m_panels);
    m_panels->addTab(m_exportPanel, tr("E&xport"));
    setCentralWidget(m_panels);
}

void MainWindow::buildActions()
{
    // Standard keys first; the labeling keys belong to the Label panel.
    QMenu *fileMenu = menuBar()->addMenu(tr("&File"));
    QAction *newStudyAction = fileMenu->addAction(tr("&New Study..."), this, &MainWindow::newStudy);
    newStudyAction->setShortcut(QKeySequence::New);
    newStudyAction->setStatusTip(
        tr("Create a study: one SQLite file holding prompts, samples, pairs and labels"));
    QAction *openStudyAction =
        fileMenu->addAction(tr("&Open Study..."), this, &MainWindow::openStudyFile);
    openStudyAction->setShortcut(QKeySequence::Open);
    openStudyAction->setStatusTip(tr("Open a study file"));
    QAction *openShared =
        fileMenu->addAction(tr("Open &Shared Study..."), this, &MainWindow::openSharedStudy);
    openShared->setStatusTip(tr("Open a study shared by a lab on a PostgreSQL server"));
    m_recentMenu = fileMenu->addMenu(tr("Open &Recent"));
    m_recentMenu->setObjectName(QStringLiteral("recentStudies"));
    updateRecentStudies();
    QAction *closeStudyAction =
        fileMenu->addAction(tr("&Close Study"), this, &MainWindow::closeStudy);
    closeStudyAction->setStatusTip(tr("Close the open study (everything is already saved)"));
    m_studyActions << closeStudyAction;
    fileMenu->addSeparator();
    QAction *quit = fileMenu->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    quit->setStatusTip(tr("Close MotionPref Studio (labels are already saved)"));

    QMenu *editMenu = menuBar()->addMenu(tr("&Edit"));
    QAction *undo = m_undoStack->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    // Application-wide, as the labeling keys: the 3D views are native windows that take the
    // focus. Text fields still undo their own typing first.
    undo->setShortcutContext(Qt::ApplicationShortcut);
    undo->setStatusTip(
        tr("Undo the last edit (a label undo appends a retraction, nothing is deleted)"));
    QAction *redo = m_undoStack->createRedoAction(this, tr("&Redo"));
    redo->setShortcut(QKeySequence::Redo);
    redo->setShortcutContext(Qt::ApplicationShortcut);
    redo->setStatusTip(tr("Redo the last undone edit"));
    editMenu->addAction(undo);
    editMenu->addAction(redo);

    QMenu *viewMenu = menuBar()->addMenu(tr("&View"));
    auto *panelGroup = new QActionGroup(this);
    for (int index = 0; index < m_panels->count(); ++index) {
        QString name = m_panels->tabText(index);
        name.remove(QLatin1Char('&'));
        QAction *show = viewMenu->addAction(name);
        show->setCheckable(true);
        show->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + index)));
        show->setStatusTip(tr("Show the %1 panel").arg(name));
        panelGroup->addAction(show);
        connect(show, &QAction::triggered, this,
                [this, index] { m_panels->setCurrentIndex(index); });
        connect(m_panels, &QTabWidget::currentChanged, show,
                [show, index](int current) { show->setChecked(current == index); });
    }
    viewMenu->addSeparator();
    QAction *fullScreen = viewMenu->addAction(tr("&Full Screen"));
    fullScreen->setShortcut(QKeySequence::FullScreen);
    fullScreen->setCheckable(true);
    fullScreen->setStatusTip(tr("Toggle full screen"));
    connect(fullScreen, &QAction::toggled, this,
            [this](bool on) { on ? showFullScreen() : showNormal(); });

    QMenu *helpMenu = menuBar()->addMenu(tr("&Help"));
    QAction *about =
        helpMenu->addAction(tr("&About MotionPref Studio"), this, &MainWindow::showAbout);
    about->setStatusTip(tr("Versions of MotionPref Studio, Qt, LibTorch and Assimp"));
    QAction *aboutQt = helpMenu->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
    aboutQt->setStatusTip(tr("About the Qt toolkit"));
}

void MainWindow::buildStatusBar()
{
    m_deviceLabel = new QLabel(this);
    m_deviceLabel->setObjectName(QStringLiteral("deviceLabel"));
    m_modelLabel = new QLabel(this);
    m_modelLabel->setObjectName(QStringLiteral("modelLabel"));
    QString deviceText;
    try {
        deviceText = QString::fromStdString(
            describeDevice(resolveDevice(m_settings.device().toStdString())));
    } catch (const InputError &e) {
        deviceText = tr("no device: %1").arg(errorText(e));
    }
    m_deviceLabel->setText(tr("Device: %1").arg(deviceText));
    updateModelStatus();
    connect(m_labelPanel->session(), &LabelSession::modelStateChanged, this,
            &MainWindow::updateModelStatus);
    m_studyLabel = new QLabel(this);
    m_studyLabel->setObjectName(QStringLiteral("studyLabel"));
    statusBar()->addPermanentWidget(m_studyLabel);
    connect(m_store, &StudyStore::labelStored, this, &MainWindow::updateStudyStatus);
    connect(m_store, &StudyStore::studyChanged, this, &MainWindow::updateStudyStatus);
    statusBar()->addPermanentWidget(m_modelLabel);
    statusBar()->addPermanentWidget(m_deviceLabel);
    statusBar()->showMessage(tr("Ready"), 3000);
}

// The model the Label panel generates with (the embedded default unless another was chosen),
// named without its path; the tooltip has the path.
void MainWindow::updateModelStatus()
{
    const LabelSession *session = m_labelPanel->session();
    const QString dir = session->modelDir();
    const QString name = modelDisplayName(dir);
    if (dir.isEmpty())
        m_modelLabel->setText(tr("Model: none set (Label panel: Model...)"));
    else if (session->modelState() == LabelSession::ModelState::Failed ||
             !QFileInfo::exists(QDir(dir).filePath(QStringLiteral("config.json"))))
        m_modelLabel->setText(tr("Model: %1 cannot be used (Label panel: Model...)").arg(name));
    else
        m_modelLabel->setText(tr("Model: %1").arg(name));
    m_modelLabel->setToolTip(dir.isEmpty() ? QString() : QDir::toNativeSeparators(dir));
}

void MainWindow::showAbout()
{
    QMessageBox::about(
        this, tr("About MotionPref Studio"),
        tr("<h3>MotionPref Studio %1</h3>"
           "<p>Text-to-motion generation with human preference: label pairs of motions, train "
           "with DPO, IPO, KTO or RLHF, compare and export.</p>"
           "<table><tr><td>Qt</td><td>%2</td></tr><tr><td>LibTorch</td><td>%3</td></tr>"
           "<tr><td>Assimp</td><td>%4</td></tr></table>")
            .arg(QString::fromStdString(projectVersion()), QString::fromLatin1(qVersion()),
                 QString::fromStdString(torchVersion()), QString::fromStdString(assimpVersion())));
}

bool MainWindow::queuedLabelsStored()
{
    // Labels queued behind another program's lock: stored now if the lock goes within a few
    // seconds, else the user chooses between waiting and giving them up, knowingly.
    constexpr int kWaitMs = 3000;
    LabelWriteQueue *queue = m_labelPanel->session()->writeQueue();
    while (!queue->flush(kWaitMs)) {
        const auto answer = QMessageBox::warning(
            this, tr("Labels not saved yet"),
            tr("%n label(s) are not saved yet: the study %1 is locked by another program. "
               "Close that program (or let it finish) and choose Retry to save them; "
               "Discard loses them.",
               nullptr, queue->pendingCount())
                .arg(m_store->location()),
            QMessageBox::Retry | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Retry);
        if (answer == QMessageBox::Discard) {
            queue->discard();
            return true;
        }
        if (answer == QMessageBox::Cancel)
            return false;
    }
    return true;
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (!queuedLabelsStored()) {
        event->ignore();
        return;
    }
    m_settings.setWindowGeometry(saveGeometry());
    m_settings.setWindowState(saveState());
    m_settings.setCurrentPanel(m_panels->currentIndex());
    m_settings.sync();
    event->accept();
}

} // namespace mp
