#include "ui/export/export_panel.h"

#include "app/core/error_text.h"
#include "viewer/motion_viewport.h"
#include "viewer/playback_bar.h"
#include "viewer/playback_clock.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace mp {

namespace {
QString fromView(std::string_view text)
{
    return QString::fromUtf8(text.data(), qsizetype(text.size()));
}

// "Motions (*.bvh *.npy);;All files (*)": the formats readMotion takes.
QString openFilter()
{
    QStringList patterns;
    for (const MotionFormatInfo &info : kMotionFormats)
        if (info.readable)
            patterns << QStringLiteral("*.") + fromView(info.suffix);
    return ExportPanel::tr("Motions (%1);;All files (*)").arg(patterns.join(QLatin1Char(' ')));
}
} // namespace

ExportPanel::ExportPanel(QWidget *parent) : QWidget(parent), m_clock(new PlaybackClock(this))
{
    setObjectName(QStringLiteral("exportPanel"));
    m_viewport = new MotionViewport(this);
    m_viewport->setClock(m_clock);
    m_viewport->showMessage(
        tr("Open a motion (.npy joints or features, .bvh) or drop a file here."));
    m_bar = new PlaybackBar(this);
    m_bar->setClock(m_clock);

    auto *open = new QPushButton(tr("&Open Motion..."), this);
    open->setToolTip(
        tr("Open a .npy (HumanML3D joints or 263-d features) or a .bvh of any skeleton"));
    m_summary = new QLabel(tr("No motion loaded."), this);
    m_summary->setWordWrap(true);
    m_summary->setObjectName(QStringLiteral("motionSummary"));

    auto *options = new QGroupBox(tr("Export"), this);
    auto *form = new QFormLayout(options);
    m_format = new QComboBox(options);
    for (const MotionFormatInfo &format : kMotionFormats)
        m_format->addItem(fromView(format.label), fromView(format.suffix));
    m_units = new QComboBox(options);
    m_units->addItem(tr("metres (HumanML3D, Blender at scale 1)"),
                     static_cast<int>(LengthUnit::Metres));
    m_units->addItem(tr("centimetres (most mocap tools)"),
                     static_cast<int>(LengthUnit::Centimetres));
    m_npyContent = new QComboBox(options);
    m_npyContent->addItem(tr("joints (T, 22, 3)"), static_cast<int>(NpyContent::Joints));
    m_npyContent->addItem(tr("HumanML3D features (T-1, 263)"),
                          static_cast<int>(NpyContent::Features));
    m_fps = new QDoubleSpinBox(options);
    m_fps->setRange(1, 1000);
    m_fps->setDecimals(2);
    m_fps->setToolTip(tr("Frame rate written to the file (relabels, does not resample)"));
    form->addRow(tr("Format:"), m_format);
    form->addRow(tr("Units:"), m_units);
    form->addRow(tr(".npy holds:"), m_npyContent);
    form->addRow(tr("Frame rate:"), m_fps);
    m_export = new QPushButton(tr("E&xport..."), options);
    m_export->setObjectName(QStringLiteral("exportButton"));
    form->addRow(m_export);
    m_status = new QLabel(options);
    m_status->setWordWrap(true);
    m_status->setObjectName(QStringLiteral("exportStatus"));
    form->addRow(m_status);

    auto *side = new QVBoxLayout;
    side->addWidget(open);
    side->addWidget(m_summary);
    side->addWidget(options);
    auto *axes =
        new QLabel(tr("Joints are written Y up, the figure facing +Z at its first frame."), this);
    axes->setWordWrap(true);
    side->addWidget(axes);
    side->addStretch(1);
    auto *sideWidget = new QWidget(this);
    sideWidget->setLayout(side);
    sideWidget->setMaximumWidth(380);

    auto *view = new QVBoxLayout;
    view->addWidget(m_viewport, 1);
    view->addWidget(m_bar);
    auto *layout = new QHBoxLayout(this);
    layout->addLayout(view, 1);
    layout->addWidget(sideWidget);

    connect(open, &QPushButton::clicked, this, &ExportPanel::chooseAndOpen);
    connect(m_export, &QPushButton::clicked, this, &ExportPanel::chooseAndExport);
    connect(m_viewport, &MotionViewport::fileDropped, this, &ExportPanel::openMotion);
    connect(m_format, &QComboBox::currentIndexChanged, this, &ExportPanel::updateEnabled);
    connect(&m_writer, &QFutureWatcher<QString>::finished, this, [this] {
        const QString error = m_writer.result();
        m_exporting = false;
        updateEnabled();
        if (error.isEmpty()) {
            showStatus(tr("Written %1").arg(m_lastExportPath), false);
            emit exportFinished(true, QString());
        } else {
            showStatus(error, true);
            emit exportFinished(false, error);
        }
    });
    updateEnabled();
}

ExportPanel::~ExportPanel()
{
    m_writer.waitForFinished(); // the worker reads m_motion's copy, but finish the file first
}

void ExportPanel::chooseAndOpen()
{
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Open motion"), QString(), openFilter());
    if (!path.isEmpty())
        openMotion(path);
}

bool ExportPanel::openMotion(const QString &path)
{
    try {
        setMotion(readMotion(path.toStdString()), QFileInfo(path).fileName());
        return true;
    } catch (const std::exception &error) {
        showStatus(errorText(error), true);
        return false;
    }
}

void ExportPanel::setMotion(const LoadedMotion &motion, const QString &title)
{
    m_motion = motion;
    m_viewport->setTitle(title);
    m_viewport->setMotion(motion.clip);
    m_fps->setValue(motion.clip.fps > 0 ? motion.clip.fps : 20.0);
    m_summary->setText(
        tr("<b>%1</b><br>%2 frames at %3 fps (%4 s), %5 joints%6")
            .arg(title.toHtmlEscaped())
            .arg(motion.clip.numFrames)
            .arg(motion.clip.fps, 0, 'g', 4)
            .arg(motion.clip.durationS(), 0, 'f', 2)
            .arg(motion.clip.numJoints)
            .arg(motion.isSmpl22 ? tr(", SMPL-22") : tr(", not SMPL-22 (BVH/.npy joints only)")));
    showStatus(QString(), false);
    updateEnabled();
}

MotionWriteOptions ExportPanel::writeOptions() const
{
    MotionWriteOptions options;
    options.units = static_cast<LengthUnit>(m_units->currentData().toInt());
    options.fps = m_fps->value();
    options.npyContent = static_cast<NpyContent>(m_npyContent->currentData().toInt());
    return options;
}

bool ExportPanel::exportTo(const QString &path)
{
    if (!m_motion)
        return false;
    if (m_exporting) {
        showStatus(tr("Still writing %1: export %2 when it is done.")
                       .arg(m_lastExportPath, QFileInfo(path).fileName()),
                   true);
        return false;
    }
    m_exporting = true;
    m_lastExportPath = path;
    showStatus(tr("Writing %1...").arg(path), false);
    updateEnabled();
    const LoadedMotion motion = *m_motion;
    const MotionWriteOptions options = writeOptions();
    m_writer.setFuture(QtConcurrent::run([motion, options, path]() -> QString {
        try {
            writeMotion(path.toStdString(), motion, options);
            return QString();
        } catch (const std::exception &error) {
            return errorText(error);
        }
    }));
    return true;
}

void ExportPanel::chooseAndExport()
{
    const QString suffix = m_format->currentData().toString();
    const QString suggested =
        m_viewport->title().isEmpty()
            ? QStringLiteral("motion.%1").arg(suffix)
            : QFileInfo(m_viewport->title()).completeBaseName() + QLatin1Char('.') + suffix;
    QString path = QFileDialog::getSaveFileName(
        this, tr("Export motion"), suggested, tr("%1 (*.%2)").arg(m_format->currentText(), suffix));
    if (path.isEmpty())
        return;
    if (QFileInfo(path).suffix().isEmpty())
        path += QLatin1Char('.') + suffix;
    exportTo(path);
}

void ExportPanel::showStatus(const QString &text, bool error)
{
    m_status->setText(text);
    m_status->setStyleSheet(error ? QStringLiteral("color: #a00000;") : QString());
}

void ExportPanel::updateEnabled()
{
    const QString suffix = m_format->currentData().toString();
    const bool smpl = m_motion && m_motion->isSmpl22;
    m_export->setEnabled(m_motion.has_value() && !m_exporting);
    m_units->setEnabled(suffix != QLatin1String("npy"));
    m_npyContent->setEnabled(suffix == QLatin1String("npy") && smpl);
    if (!smpl)
        m_npyContent->setCurrentIndex(0);
}

} // namespace mp
