#include "ui/main_window.h"

#include "app/core/settings.h"
#include "app/export/assimp_info.h"
#include "ml/core/device.h"
#include "ml/core/error.h"
#include "ml/core/version.h"
#include "ui/panels/compare_panel.h"
#include "ui/panels/dataset_panel.h"
#include "ui/panels/export_panel.h"
#include "ui/panels/label_panel.h"
#include "ui/panels/train_panel.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>
#include <QTabWidget>
#include <QUndoStack>

namespace mp {

MainWindow::MainWindow(Settings &settings, QWidget *parent)
    : QMainWindow(parent), m_settings(settings), m_undoStack(new QUndoStack(this))
{
    setWindowTitle(tr("MotionPref Studio"));
    buildPanels();
    buildActions();
    buildStatusBar();
    if (!restoreGeometry(m_settings.windowGeometry()))
        resize(1280, 800);
    restoreState(m_settings.windowState());
    m_panels->setCurrentIndex(std::clamp(m_settings.currentPanel(), 0, m_panels->count() - 1));
}

void MainWindow::buildPanels()
{
    m_panels = new QTabWidget(this);
    m_panels->setObjectName(QStringLiteral("panels"));
    m_panels->setDocumentMode(true);
    m_panels->addTab(new LabelPanel(m_panels), tr("&Label"));
    m_panels->addTab(new DatasetPanel(m_panels), tr("&Dataset"));
    m_panels->addTab(new TrainPanel(m_panels), tr("&Train"));
    m_panels->addTab(new ComparePanel(m_panels), tr("&Compare"));
    m_panels->addTab(new ExportPanel(m_panels), tr("E&xport"));
    setCentralWidget(m_panels);
}

void MainWindow::buildActions()
{
    // Standard keys first; the labeling keys belong to the Label panel.
    QMenu *fileMenu = menuBar()->addMenu(tr("&File"));
    QAction *quit = fileMenu->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    quit->setStatusTip(tr("Close MotionPref Studio (labels are already saved)"));

    QMenu *editMenu = menuBar()->addMenu(tr("&Edit"));
    QAction *undo = m_undoStack->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    undo->setStatusTip(tr("Undo the last edit (a label undo appends a retraction, nothing is deleted)"));
    QAction *redo = m_undoStack->createRedoAction(this, tr("&Redo"));
    redo->setShortcut(QKeySequence::Redo);
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
        connect(show, &QAction::triggered, this, [this, index] { m_panels->setCurrentIndex(index); });
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
    QAction *about = helpMenu->addAction(tr("&About MotionPref Studio"), this, &MainWindow::showAbout);
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
        deviceText = QString::fromStdString(describeDevice(resolveDevice(m_settings.device().toStdString())));
    } catch (const InputError &e) {
        deviceText = tr("no device: %1").arg(QString::fromUtf8(e.what()));
    }
    m_deviceLabel->setText(tr("Device: %1").arg(deviceText));
    const QString modelDir = m_settings.modelDir();
    if (QFileInfo::exists(QDir(modelDir).filePath(QStringLiteral("config.json"))))
        m_modelLabel->setText(tr("Model: %1").arg(QDir(modelDir).dirName()));
    else
        m_modelLabel->setText(tr("Model: none (no bundle at %1)").arg(QDir::toNativeSeparators(modelDir)));
    m_modelLabel->setToolTip(modelDir);
    statusBar()->addPermanentWidget(m_modelLabel);
    statusBar()->addPermanentWidget(m_deviceLabel);
    statusBar()->showMessage(tr("Ready"), 3000);
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

void MainWindow::closeEvent(QCloseEvent *event)
{
    m_settings.setWindowGeometry(saveGeometry());
    m_settings.setWindowState(saveState());
    m_settings.setCurrentPanel(m_panels->currentIndex());
    m_settings.sync();
    event->accept();
}

} // namespace mp
